"""The output stage: what the model wrote, checked before the client sees it.

A JSON answer is checked whole. A stream is checked as it passes: each choice's text is
held back until ``stream_window_chars`` more characters have come after it (or the choice
ends), so that a pattern split across chunks is still whole when it is checked; masked
finds are replaced in the chunks that carry them, and a block ends the stream with an
error event (``content_policy_violation``), never a silent stop. The checks run in
worker threads; a stream is checked once per window's worth of text, not per chunk."""

from __future__ import annotations

import asyncio
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any

import orjson

from gateway.errors import ContentPolicyViolation
from gateway.guardrails.checks import Finding, TextChecks, masked
from gateway.guardrails.policy import Action


def blocked_error(team: str, findings: list[Finding]) -> ContentPolicyViolation:
    names = sorted({f.policy for f in findings if f.action is Action.BLOCK})
    return ContentPolicyViolation(
        f"The answer was blocked by team '{team}'s guardrail policy (output: {', '.join(names)})."
    )


def answer_texts(answer: dict[str, Any]) -> list[tuple[dict[str, Any], str]]:
    """(holder, key) of each choice's text in a JSON answer."""
    found = []
    for choice in answer.get("choices") or ():
        if not isinstance(choice, dict):
            continue
        message = choice.get("message")
        if isinstance(message, dict) and isinstance(message.get("content"), str):
            found.append((message, "content"))
        elif isinstance(choice.get("text"), str):
            found.append((choice, "text"))
    return found


def check_answer(checks: TextChecks, answer: Any) -> tuple[list[Finding], bytes | None]:
    """The finds in a JSON answer, and the answer re-encoded with its masks (``None`` when
    nothing was masked). Blocking: call it in a worker thread."""
    if not isinstance(answer, dict):
        return [], None
    found: list[Finding] = []
    changed = False
    for holder, key in answer_texts(answer):
        finds = checks.find(holder[key])
        found += finds
        if any(f.action is Action.MASK for f in finds):
            holder[key] = masked(holder[key], finds)
            changed = True
    return found, orjson.dumps(answer) if changed else None


@dataclass
class _Choice:
    held: str = ""
    """Text received, not yet sent."""


@dataclass
class StreamGuard:
    """One stream's held-back text per choice, and what was found in what was sent."""

    checks: TextChecks
    window: int
    executor: Executor
    choices: dict[int, _Choice] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    blocked: bool = False
    template: dict[str, Any] = field(default_factory=dict)
    """The last chunk's identity (id, model, created...), for the event :meth:`flush` adds."""

    async def event(self, chunk: dict[str, Any]) -> bytes | None:
        """The event to send for ``chunk`` (its texts replaced by what may go now), or
        ``None`` to send nothing; :attr:`blocked` says when to end the stream instead."""
        self.template = {k: v for k, v in chunk.items() if k not in ("choices", "usage")}
        sent_any = False
        for choice in chunk.get("choices") or ():
            if not isinstance(choice, dict):
                continue
            holder, key = _delta_text(choice)
            if holder is None:
                continue
            state = self.choices.setdefault(int(choice.get("index") or 0), _Choice())
            state.held += holder[key] or ""
            final = choice.get("finish_reason") is not None
            holder[key] = await self._release(state, final=final)
            sent_any = sent_any or bool(holder[key]) or final
            if self.blocked:
                return None
        other = chunk.get("usage") or any(
            isinstance(c, dict) and (c.get("delta") or {}).get("tool_calls")
            for c in chunk.get("choices") or ()
        )
        if not sent_any and not other and _only_text(chunk):
            return None  # nothing may go yet: the text waits in the window
        return b"data: " + orjson.dumps(chunk) + b"\n\n"

    async def flush(self) -> bytes | None:
        """What is still held when the stream ends without a finish reason."""
        parts = []
        for index, state in sorted(self.choices.items()):
            if state.held:
                text = await self._release(state, final=True)
                if self.blocked:
                    return None
                parts.append({"index": index, "delta": {"content": text}, "finish_reason": None})
        if not parts:
            return None
        return (
            b"data: "
            + orjson.dumps({"object": "chat.completion.chunk", "choices": parts})
            + b"\n\n"
        )

    async def _release(self, state: _Choice, *, final: bool) -> str:
        if not final and len(state.held) < 2 * self.window:
            return ""  # checked once per window's worth of text
        if self.checks.cheap(len(state.held)):
            finds = self.checks.find(state.held)
        else:
            loop = asyncio.get_running_loop()
            finds = await loop.run_in_executor(self.executor, self.checks.find, state.held)
        cut = len(state.held) if final else len(state.held) - self.window
        for f in finds:
            if f.start < cut < f.end:
                cut = f.start  # a find across the cut waits whole for the next release
        going = [f for f in finds if f.end <= cut]
        self.findings += going
        if any(f.action is Action.BLOCK for f in finds if f.start < cut or final):
            self.blocked = True
            return ""
        text, state.held = state.held[:cut], state.held[cut:]
        return masked(text, going)


def _delta_text(choice: dict[str, Any]) -> tuple[dict[str, Any] | None, str]:
    """Where a stream chunk's choice holds its text (a finishing choice gets an empty text,
    to carry what is still held)."""
    delta = choice.get("delta")
    if isinstance(delta, dict):
        text = delta.get("content")
        if isinstance(text, str) or (text is None and choice.get("finish_reason") is not None):
            delta["content"] = text or ""
            return delta, "content"
        return None, ""
    if isinstance(choice.get("text"), str):
        return choice, "text"
    return None, ""


def _only_text(chunk: dict[str, Any]) -> bool:
    """Whether the chunk carries nothing but text (no role, tool call or finish)."""
    for choice in chunk.get("choices") or ():
        if not isinstance(choice, dict) or choice.get("finish_reason") is not None:
            return False
        delta = choice.get("delta") or {}
        if any(k not in ("content",) for k in delta):
            return False
    return True
