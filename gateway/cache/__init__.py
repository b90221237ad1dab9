"""The response cache: an exact tier and a semantic tier that fail safe.

A request's answer is reused only within its *namespace*: the team (or the
model, where it is configured as shared), the model and the version that would
answer, the output-changing parameters, the system prompt, every earlier turn of
the conversation, and the client's namespace header. Within a namespace the
exact tier matches the whole request by hash; the semantic tier compares only
the last message by embedding, and a verifier then refuses near-matches that
differ in negation, numbers, named entities or dates.

Modules: :mod:`~gateway.cache.request` (what is cacheable, and the keys),
:mod:`~gateway.cache.verifier`, :mod:`~gateway.cache.embedding` (batched,
off the event loop), :mod:`~gateway.cache.index` (HNSW vector search),
:mod:`~gateway.cache.base` (the store seam), :mod:`~gateway.cache.memory` and
:mod:`~gateway.cache.redis` (the stores), :mod:`~gateway.cache.service`
(lookup and store), :mod:`~gateway.cache.replay` (answers from entries).
"""
