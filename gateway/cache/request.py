"""What in a request decides whether its answer may be reused, and under which keys.

Pure functions of the parsed body and a few headers. Everything a client sends is
taken to change the output unless it is known not to (:data:`NOT_OUTPUT`), so an
unknown parameter can only split the cache, never merge answers that differ.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import orjson

from gateway.openai_schema import Endpoint, ParsedRequest

NOT_OUTPUT = frozenset(
    {"model", "messages", "prompt", "stream_options", "user", "metadata", "store", "service_tier"}
)
"""Body fields that do not change the answer (or are keyed separately)."""
SYSTEM_ROLES = frozenset({"system", "developer"})
NAMESPACE_VALUE = re.compile(r"[\x21-\x7e]{1,128}")


class Skip(StrEnum):
    """Why a request bypasses the cache."""

    NO_STORE = "no_store"
    NOT_CACHED_ENDPOINT = "endpoint"
    SAMPLED = "sampled"
    """temperature above 0 (OpenAI's default is 1) and sampled answers are not cached."""


@dataclass(frozen=True, slots=True)
class CachePlan:
    """What the cache does with one request, and the parts of its keys."""

    scope: str
    """Whose answers these are: ``team:<name>``, or ``shared:<model>``."""
    model: str
    stream: bool
    lookup: bool
    """False for ``Cache-Control: no-cache``: the answer is stored, not looked up."""
    context: bytes
    """Canonical bytes of everything but the last message (parameters included)."""
    conversation: bytes
    """Canonical bytes of the whole request content (for the exact key)."""
    text: str | None
    """The last message as text, compared by the semantic tier (None: exact tier only)."""

    def namespace(self, version: str) -> str:
        """Entries that may answer each other share a namespace; nothing crosses one."""
        parts = orjson.dumps([self.scope, self.model, version, self.stream])
        return hashlib.sha256(parts + b"\0" + self.context).hexdigest()[:32]

    def exact_key(self, namespace: str) -> str:
        """The whole conversation's key within ``namespace`` (from :meth:`namespace`)."""
        digest = hashlib.sha256(namespace.encode() + b"\0" + self.conversation)
        return digest.hexdigest()[:32]


def cache_control(headers: Mapping[str, str]) -> tuple[bool, bool]:
    """(look up, store) as the request's ``Cache-Control`` allows."""
    value = headers.get("cache-control", "").lower()
    directives = {d.strip().split("=", 1)[0] for d in value.split(",")}
    if "no-store" in directives:
        return False, False
    return "no-cache" not in directives, True


def client_namespace(headers: Mapping[str, str], header: str) -> str:
    """The client's own namespace (1 to 128 printable characters), or ``""``."""
    value = headers.get(header, "")
    return value if NAMESPACE_VALUE.fullmatch(value) else ""


def plan_for(
    parsed: ParsedRequest,
    *,
    team: str,
    headers: Mapping[str, str],
    namespace_header: str,
    shared: bool,
    cache_sampled: bool,
) -> CachePlan | Skip:
    """The cache's plan for a request, or why it bypasses the cache."""
    lookup, store = cache_control(headers)
    if not store:
        return Skip.NO_STORE
    if parsed.endpoint is Endpoint.EMBEDDINGS:
        return Skip.NOT_CACHED_ENDPOINT
    body = parsed.body
    temperature = body.get("temperature")
    if (1 if temperature is None else temperature) > 0 and not cache_sampled:
        return Skip.SAMPLED
    params = {k: v for k, v in body.items() if k not in NOT_OUTPUT}
    params["stream"] = parsed.stream
    if parsed.endpoint is Endpoint.CHAT:
        messages: list[dict[str, Any]] = body["messages"]
        earlier, last = messages[:-1], messages[-1]
        text = _message_text(last) if last.get("role") == "user" else None
        content: Any = messages
        context: Any = [params, earlier, _role_and_extras(last)]
    else:
        prompt = body["prompt"]
        text = prompt if isinstance(prompt, str) else None
        content = prompt
        context = [params, "completion"]
    scope = f"shared:{parsed.model}" if shared else f"team:{team}"
    namespace = client_namespace(headers, namespace_header)
    return CachePlan(
        scope=scope,
        model=parsed.model,
        stream=parsed.stream,
        lookup=lookup,
        context=_canonical([parsed.endpoint.value, namespace, context]),
        conversation=_canonical(content),
        text=text if text and text.strip() else None,
    )


def _canonical(value: Any) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


def _message_text(message: dict[str, Any]) -> str | None:
    """A message's text: a string, or text parts only (anything else is not compared)."""
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list) and all(
        isinstance(p, dict) and p.get("type") == "text" for p in content
    ):
        return "\n".join(p["text"] for p in content)
    return None


def _role_and_extras(message: dict[str, Any]) -> dict[str, Any]:
    """The last message without its content: role, name and anything else must match."""
    return {k: v for k, v in message.items() if k != "content"}
