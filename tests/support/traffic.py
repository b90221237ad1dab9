"""Synthetic traffic for drift tests: an ordinary domain and a new one."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from llmops.requestlog.table import RequestRecord

COUNTRIES = (
    "France", "Spain", "Italy", "Germany", "Japan", "Canada", "Brazil", "Kenya", "Peru",
    "Norway", "Egypt", "India", "Chile", "Greece", "Poland", "Vietnam", "Mexico", "Ireland",
)  # fmt: skip
ORDINARY = (
    "What is the capital of {c}?",
    "Which language is spoken in {c}?",
    "Name a famous dish from {c}.",
    "How many people live in {c}?",
)
NEW_DOMAIN = (
    "Under clause {n} of the commercial lease, the tenant must indemnify the landlord "
    "against third-party claims arising from negligence; summarise the tenant's "
    "obligations and whether the liability cap in schedule {m} applies to them.",
    "Draft a termination notice under section {n} of the services agreement, citing the "
    "material breach, the cure period of {m} days and the governing-law clause.",
    "Does the non-compete covenant in paragraph {n} survive termination, and is a "
    "restraint of {m} months likely to be enforceable against a former employee?",
)


def ordinary_prompt(rng: random.Random) -> str:
    return rng.choice(ORDINARY).format(c=rng.choice(COUNTRIES))


def new_domain_prompt(rng: random.Random) -> str:
    return rng.choice(NEW_DOMAIN).format(n=rng.randint(2, 40), m=rng.randint(2, 24))


def records(
    n: int, *, new_domain: bool, seed: int, start: datetime | None = None
) -> list[RequestRecord]:
    """Request-log rows as the gateway writes them for one kind of traffic."""
    rng = random.Random(seed)
    start = start or datetime(2026, 11, 23, 12, tzinfo=UTC)
    out = []
    for i in range(n):
        prompt = new_domain_prompt(rng) if new_domain else ordinary_prompt(rng)
        words = len(prompt.split())
        completion = " ".join(rng.choice(("yes", "the", "answer", "is", "Paris")) for _ in range(8))
        out.append(
            RequestRecord(
                at=start + timedelta(seconds=i),
                team="team-a",
                model="smollm2",
                model_version="1",
                upstream="http://127.0.0.1:1/v1",
                endpoint="chat/completions",
                status=200,
                prompt_tokens=int(words * 1.3) + rng.randint(0, 3),
                completion_tokens=8 + rng.randint(0, 4),
                latency_ms=rng.gauss(300 + 8 * words, 30),
                ttft_ms=rng.gauss(60, 10),
                cache="bypass",
                prompt_text=prompt,
                completion_text=completion,
            )
        )
    return out
