"""Guardrails: per-team policies on what enters the model (:mod:`.inputs`) and what leaves
it (:mod:`.outputs`, streams included), with the checks they run (:mod:`.checks`,
:mod:`.injection`) and the policies' shape and reloading (:mod:`.policy`)."""
