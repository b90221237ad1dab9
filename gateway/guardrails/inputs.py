"""The input stage: a request's messages checked against its team's policy before the
model sees them; blocked (400 ``content_policy_violation``), masked (the body rewritten)
or flagged. Checks that cost more than a fraction of a millisecond run in worker threads,
never on the event loop; the injection detector (a model: milliseconds per message) in a
thread of its own, beside them, so that its load never holds other teams' checks back."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any, Protocol

import orjson

from gateway import content
from gateway.errors import ContentPolicyViolation
from gateway.guardrails.checks import Finding, masked
from gateway.guardrails.compiled import Policies, TeamGuard
from gateway.guardrails.policy import Action
from gateway.openai_schema import Endpoint, ParsedRequest

log = logging.getLogger("llmops.gateway.guardrails")

INJECTION_ROLES = frozenset({"user", "tool", "function"})
"""Whose messages may carry an attack: users, and the documents and tool results they
bring. The system prompt and the assistant's turns are the application's."""
SCORED_CHARS = 16_000
"""The injection detector reads at most this much of a request, its latest messages first."""


class InjectionScorer(Protocol):
    threshold: float

    def scores(self, texts: Sequence[str]) -> list[float]:
        """The probability that each text is an injection attempt (blocking)."""
        ...


@dataclass(frozen=True, slots=True)
class Inspection:
    findings: tuple[Finding, ...]
    body: dict[str, Any] | None
    """The body with the masked finds replaced, if any was."""


def _pieces(parsed: ParsedRequest) -> list[tuple[int | None, str | None, Any]]:
    """(message index, role, content) of what is checked: every message but the system
    prompt, or the prompt of a completion (index ``None``)."""
    if parsed.endpoint is Endpoint.CHAT:
        return [
            (i, m.get("role"), m.get("content"))
            for i, m in enumerate(parsed.body["messages"])
            if isinstance(m, dict) and m.get("role") not in ("system", "developer")
        ]
    prompt = parsed.body.get("prompt")
    return [(None, "user", prompt if isinstance(prompt, str | list) else None)]


def inspect(guard: TeamGuard, parsed: ParsedRequest) -> Inspection:
    """Every find of ``guard`` in ``parsed`` but the injection detector's (blocking: call
    it in a worker thread unless ``guard.inputs.cheap``)."""
    found: list[Finding] = []
    pieces = _pieces(parsed)
    chat = parsed.endpoint is Endpoint.CHAT
    if (
        guard.max_messages is not None
        and chat
        and len(parsed.body["messages"]) > guard.max_messages
    ):
        found.append(Finding("max_messages", Action.BLOCK))
    if guard.max_chars is not None:
        size = sum(len(t) for _, _, c in pieces for t in content.texts_of(c))
        if parsed.endpoint is Endpoint.CHAT:
            size += sum(
                len(t)
                for m in parsed.body["messages"]
                if isinstance(m, dict) and m.get("role") in ("system", "developer")
                for t in content.texts_of(m.get("content"))
            )
        if size > guard.max_chars:
            found.append(Finding("max_chars", Action.BLOCK))
    body = _masked_body(guard, parsed, pieces, found) if guard.inputs.active else None
    return Inspection(tuple(found), body)


def scored_texts(parsed: ParsedRequest) -> list[str]:
    """What the injection detector reads: users' messages and tool results, the latest
    first, ``SCORED_CHARS`` in all."""
    texts: list[str] = []
    budget = SCORED_CHARS
    for _, role, value in reversed(_pieces(parsed)):
        if budget <= 0:
            break
        if role not in INJECTION_ROLES:
            continue
        text = content.text_of(value)
        if text:
            texts.append(text[-budget:])
            budget -= len(texts[-1])
    return texts


def injection_scores(parsed: ParsedRequest, scorer: InjectionScorer) -> list[float]:
    """The detector's score of each text it reads in ``parsed`` (blocking)."""
    texts = scored_texts(parsed)
    return scorer.scores(texts) if texts else []


def _masked_body(
    guard: TeamGuard,
    parsed: ParsedRequest,
    pieces: list[tuple[int | None, str | None, Any]],
    found: list[Finding],
) -> dict[str, Any] | None:
    """Run the span checks and deny rules on each text; the body with masks applied, or
    ``None`` when nothing was masked (then nothing is copied)."""
    finds: dict[str, list[Finding]] = {}
    for _, _, value in pieces:
        for text in content.texts_of(value):
            if text not in finds:
                finds[text] = guard.inputs.find(text)
                found.extend(finds[text])
    if not any(f.action is Action.MASK for fs in finds.values() for f in fs):
        return None

    def mask(text: str) -> str:
        return masked(text, finds.get(text, []))

    body = dict(parsed.body)
    if parsed.endpoint is Endpoint.CHAT:
        messages = list(body["messages"])
        for index, _, value in pieces:
            assert index is not None
            messages[index] = {**messages[index], "content": content.rewritten(value, mask)}
        body["messages"] = messages
    else:
        body["prompt"] = content.rewritten(body.get("prompt"), mask)
    return body


async def _awaited(scoring: asyncio.Future[list[float]] | None, team: str) -> list[float]:
    """The detector's scores; none when it failed (logged: the other checks still hold,
    and the request goes on without the detector's verdict)."""
    if scoring is None:
        return []
    try:
        return await scoring
    except Exception:
        log.exception("injection detector failed (team %s): the request goes on unscored", team)
        return []


class InputGuard:
    def __init__(
        self,
        policies: Callable[[], Policies],
        scorer: InjectionScorer | None,
        *,
        on_findings: Callable[[str, str, tuple[Finding, ...]], None],
        pool: Executor,
        model_pool: Executor,
    ) -> None:
        self._policies = policies
        self._scorer = scorer
        self._on_findings = on_findings
        self._pool = pool
        self._model_pool = model_pool

    async def check(self, parsed: ParsedRequest, team: str, key_id: str) -> ParsedRequest:
        """``parsed`` as the model may see it (masked), or the refusal raised."""
        guard = self._policies().for_team(team)
        if parsed.endpoint is Endpoint.EMBEDDINGS or not guard.checks_input:
            return parsed
        loop = asyncio.get_running_loop()
        scorer, check = self._scorer, guard.injection
        scoring = None
        if check is not None and scorer is not None:  # the texts are read in its thread too
            scoring = loop.run_in_executor(self._model_pool, injection_scores, parsed, scorer)
        try:
            if guard.inputs.cheap(len(parsed.raw)):
                result = inspect(guard, parsed)
            else:  # recognizers that cost milliseconds: in a worker thread
                result = await loop.run_in_executor(self._pool, inspect, guard, parsed)
        except BaseException:  # a failure or a cancelled request: the detector need not read
            if scoring is not None:
                scoring.cancel()
            raise
        scores = await _awaited(scoring, team)
        findings = result.findings
        if (
            check is not None
            and scorer is not None
            and scores
            and max(scores) >= (check.threshold or scorer.threshold)
        ):
            findings += (Finding("injection", check.action),)
        if findings:
            self._on_findings(team, key_id, findings)
        blocked = sorted({f.policy for f in findings if f.action is Action.BLOCK})
        if blocked:
            raise ContentPolicyViolation(
                f"The request was blocked by team '{team}'s guardrail policy "
                f"(input: {', '.join(blocked)}).",
                param="messages" if parsed.endpoint is Endpoint.CHAT else "prompt",
            )
        if result.body is None:
            return parsed
        return dataclasses.replace(parsed, body=result.body, raw=orjson.dumps(result.body))
