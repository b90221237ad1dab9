"""An LLM judge behind an OpenAI-compatible endpoint (the gateway): pointwise and pairwise.

Pointwise, the judge rates one answer from 1 to 5 against a rubric; the score is
mapped to [0, 1]. Pairwise, it is shown the question and two answers and names the
better one; each pair is asked twice with the answers swapped, and the challenger
wins only if the judge prefers it in both orders (loses only if it prefers the
champion in both), so a judge that always names the first answer, or the second,
gives ties rather than a verdict. Identical answers are a tie without asking.
A reply with no verdict in it counts as no opinion (``None``), and is counted.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import aiohttp

from llmops.evaluation.errors import JudgeError
from llmops.evaluation.suite import Example, JudgeSettings

_RATING = re.compile(r"\b([1-5])\b")
_CHOICE = re.compile(r"\b(A|B)\b")
_SYSTEM = "You are a strict, fair grader of an assistant's answers. Follow the format asked."


@dataclass(frozen=True, slots=True)
class Verdict:
    """The challenger's outcome on one example (1 won, 0 lost, 0.5 tie) and what was asked."""

    outcome: float
    first: str | None
    """The judge's choice with the challenger shown first (``A``, ``B`` or ``None``)."""
    second: str | None
    """With the champion shown first."""


def rating_prompt(rubric: str, example: Example, answer: str) -> str:
    reference = (
        f"Reference answer:\n{example.reference}\n\n" if example.reference is not None else ""
    )
    return (
        f"Rubric: {rubric}\n\nQuestion:\n{example.question}\n\n{reference}"
        f"Answer to grade:\n{answer}\n\n"
        "Rate the answer against the rubric from 1 (bad) to 5 (excellent). "
        "Reply with the number only."
    )


def choice_prompt(rubric: str, example: Example, first: str, second: str) -> str:
    return (
        f"{rubric}\n\nQuestion:\n{example.question}\n\n"
        f"Answer A:\n{first}\n\nAnswer B:\n{second}\n\n"
        "Which answer is better? Reply with the letter A or B only."
    )


def parse_rating(text: str) -> float | None:
    found = _RATING.search(text)
    return (int(found.group(1)) - 1) / 4 if found else None


def parse_choice(text: str) -> str | None:
    found = _CHOICE.search(text.strip().upper())
    return found.group(1) if found else None


def combine(first: str | None, second: str | None) -> float:
    """The challenger's outcome from both orders: A first means the challenger was A."""
    challenger_first = first == "A"
    challenger_second = second == "B"
    champion_first = first == "B"
    champion_second = second == "A"
    if challenger_first and challenger_second:
        return 1.0
    if champion_first and champion_second:
        return 0.0
    return 0.5


class Judge:
    """Chat completions on one endpoint, a bounded number at a time."""

    def __init__(self, settings: JudgeSettings, environ: Mapping[str, str]) -> None:
        self.settings = settings
        key = environ.get(settings.api_key_env) if settings.api_key_env else None
        self._headers = {"Authorization": f"Bearer {key}"} if key else {}
        self._url = settings.base_url.rstrip("/") + "/chat/completions"
        self._gate = asyncio.Semaphore(settings.concurrency)
        """Replaced by each call's own: a semaphore belongs to the event loop that waited on it."""
        self.unparsed = 0
        """Replies that held no verdict."""

    async def ask(self, session: aiohttp.ClientSession, prompt: str) -> str:
        body = {
            "model": self.settings.model,
            "messages": [
                {"role": "system", "content": _SYSTEM},
                {"role": "user", "content": prompt},
            ],
            "temperature": 0,
            "max_tokens": self.settings.max_tokens,
        }
        async with self._gate:
            try:
                async with session.post(self._url, json=body, headers=self._headers) as response:
                    payload = await response.json(content_type=None)
                    if response.status != 200:
                        raise JudgeError(
                            f"the judge at {self._url} answered {response.status}: "
                            f"{_message(payload)}"
                        )
            except (aiohttp.ClientError, TimeoutError) as e:
                raise JudgeError(f"the judge at {self._url} cannot be reached: {e!r}") from e
        try:
            return str(payload["choices"][0]["message"]["content"] or "")
        except (KeyError, IndexError, TypeError) as e:
            raise JudgeError(f"the judge at {self._url} answered without a message") from e

    def session(self) -> aiohttp.ClientSession:
        """A client session, and a fresh bound on requests in flight, for one call (each
        call may run in its own event loop)."""
        self._gate = asyncio.Semaphore(self.settings.concurrency)
        timeout = aiohttp.ClientTimeout(total=self.settings.timeout_seconds)
        return aiohttp.ClientSession(timeout=timeout)

    async def rate(
        self,
        rubric: str,
        examples: Sequence[Example],
        answers: Sequence[str],
        done: Callable[[int], None] | None = None,
    ) -> list[float | None]:
        async with self.session() as session:

            async def one(example: Example, answer: str) -> float | None:
                score = parse_rating(
                    await self.ask(session, rating_prompt(rubric, example, answer))
                )
                self.unparsed += score is None
                if done is not None:
                    done(1)
                return score

            return list(await asyncio.gather(*map(one, examples, answers)))

    async def compare(
        self,
        rubric: str,
        examples: Sequence[Example],
        challenger: Sequence[str],
        champion: Sequence[str],
        done: Callable[[int], None] | None = None,
    ) -> list[Verdict]:
        async with self.session() as session:

            async def one(example: Example, ours: str, theirs: str) -> Verdict:
                if ours.strip() == theirs.strip():
                    verdict = Verdict(0.5, None, None)
                else:
                    first, second = await asyncio.gather(
                        self.ask(session, choice_prompt(rubric, example, ours, theirs)),
                        self.ask(session, choice_prompt(rubric, example, theirs, ours)),
                    )
                    a, b = parse_choice(first), parse_choice(second)
                    self.unparsed += (a is None) + (b is None)
                    verdict = Verdict(combine(a, b), a, b)
                if done is not None:
                    done(1)
                return verdict

            return list(await asyncio.gather(*map(one, examples, challenger, champion)))


def _message(payload: object) -> str:
    if isinstance(payload, dict):
        error = payload.get("error")
        if isinstance(error, dict) and "message" in error:
            return str(error["message"])
    return str(payload)[:200]
