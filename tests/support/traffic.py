"""Synthetic traffic for drift tests: an ordinary domain, a new (longer) domain, another
topic at the same length, the ordinary questions in French or with long context, and
mixes of them; served as fast as usual or slower."""

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


DISHES = (
    "rice", "lentils", "salmon", "steak", "broccoli", "pasta", "eggs", "chicken",
    "potatoes", "tofu", "mussels", "carrots", "quinoa", "beetroot", "bread", "spinach",
)  # fmt: skip
COOKING = (
    "How long should I boil {d}?",
    "Which spices go well with {d}?",
    "Can I freeze leftover cooked {d}?",
    "How do I roast {d} properly?",
)
"""Another topic, with the ordinary questions' length."""
FRENCH = (
    "Quelle est la capitale de {c} ?",
    "Quelle langue parle-t-on en {c} ?",
    "Cite un plat célèbre de {c}.",
    "Combien de personnes vivent en {c} ?",
)
LONG_CONTEXT = (
    "I am preparing a school presentation and my teacher asked us to start with a few "
    "basic facts, so before I write the first slide I would like to check one thing. ",
    "My family is planning a long trip next summer and we keep arguing about the details "
    "over dinner, which is why I promised to settle the question tonight. ",
    "For a quiz night at the local library I am writing the questions myself, and I want "
    "to be completely sure that the answers are right before I print the sheets. ",
)


def ordinary_prompt(rng: random.Random) -> str:
    return rng.choice(ORDINARY).format(c=rng.choice(COUNTRIES))


def new_domain_prompt(rng: random.Random) -> str:
    return rng.choice(NEW_DOMAIN).format(n=rng.randint(2, 40), m=rng.randint(2, 24))


def cooking_prompt(rng: random.Random) -> str:
    return rng.choice(COOKING).format(d=rng.choice(DISHES))


def french_prompt(rng: random.Random) -> str:
    return rng.choice(FRENCH).format(c=rng.choice(COUNTRIES))


def long_prompt(rng: random.Random) -> str:
    return rng.choice(LONG_CONTEXT) + ordinary_prompt(rng)


PROMPTS = {
    "ordinary": ordinary_prompt,
    "new_domain": new_domain_prompt,
    "topic": cooking_prompt,
    "french": french_prompt,
    "long": long_prompt,
}


def records(
    n: int,
    *,
    seed: int,
    new_domain: bool = False,
    other: str | None = None,
    share: float = 1.0,
    slower: float = 1.0,
    start: datetime | None = None,
) -> list[RequestRecord]:
    """Request-log rows as the gateway writes them: ordinary traffic, the new domain
    (``new_domain``), or ``share`` of the requests of another kind (``other``, a key of
    ``PROMPTS``) mixed into the ordinary ones; ``slower`` multiplies the latencies."""
    rng = random.Random(seed)
    start = start or datetime(2026, 11, 23, 12, tzinfo=UTC)
    other = "new_domain" if new_domain else other
    out = []
    for i in range(n):
        kind = other if other is not None and rng.random() < share else "ordinary"
        prompt = PROMPTS[kind](rng)
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
                latency_ms=rng.gauss(300 + 8 * words, 30) * slower,
                ttft_ms=rng.gauss(60, 10) * slower,
                cache="bypass",
                prompt_text=prompt,
                completion_text=completion,
            )
        )
    return out
