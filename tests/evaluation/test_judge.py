"""The judge: its verdicts combined across both orders, and the bundled SmolLM2 judging
through the real gateway."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from llmops.evaluation import judge as judging
from llmops.evaluation.errors import JudgeError
from llmops.evaluation.judge import Judge
from llmops.evaluation.suite import Example, JudgeSettings
from tests.support.gateways import RunningGateway, gateway_in_thread, settings_for
from tests.support.http import new_key

MODEL = "SmolLM2-135M-Instruct"
"""The name the session's replica serves the bundled model under."""


def test_a_verdict_counts_only_when_both_orders_agree() -> None:
    assert judging.combine("A", "B") == 1.0  # the challenger, shown first then second
    assert judging.combine("B", "A") == 0.0  # the champion, in both orders
    assert judging.combine("A", "A") == 0.5  # always the first answer: position bias
    assert judging.combine("B", "B") == 0.5
    assert judging.combine(None, "B") == 0.5


def test_replies_are_read_leniently_and_nonsense_is_no_verdict() -> None:
    assert judging.parse_choice("B") == "B"
    assert judging.parse_choice("Answer A is better.") == "A"
    assert judging.parse_choice("neither") is None
    assert judging.parse_rating("4") == 0.75
    assert judging.parse_rating("Rating: 1/5") == 0.0
    assert judging.parse_rating("great") is None


@pytest.fixture(scope="module")
def judge_gateway(
    replica_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningGateway]:
    """The gateway in front of the session's SmolLM2 replica, as a team's judge endpoint."""
    database = tmp_path_factory.mktemp("judge") / "gateway.db"
    settings = settings_for(f"sqlite:///{database}", {MODEL: [f"{replica_url}/v1"]})
    with gateway_in_thread(settings) as gateway:
        yield gateway


def _examples() -> list[Example]:
    questions = ["What is the capital of France?", "How many legs does a spider have?"]
    return [Example(messages=({"role": "user", "content": q},)) for q in questions]


def test_smollm2_rates_and_compares_answers_through_the_gateway(
    judge_gateway: RunningGateway,
) -> None:
    key = new_key(judge_gateway.url, "judges")
    # One request at a time: calls wait on the bound, each call in its own event loop.
    judge = Judge(
        JudgeSettings(
            base_url=judge_gateway.v1, model=MODEL, api_key_env="JUDGE_KEY", concurrency=1
        ),
        {"JUDGE_KEY": key},
    )
    examples = _examples()
    good = ["The capital of France is Paris.", "A spider has eight legs."]
    bad = ["The capital of France is Berlin.", "A spider has six legs."]
    ratings = asyncio.run(judge.rate("Is the answer correct?", examples, good))
    assert len(ratings) == 2
    assert all(r is None or 0.0 <= r <= 1.0 for r in ratings)
    verdicts = asyncio.run(judge.compare("Which answer is correct?", examples, good, bad))
    assert [v.outcome in (0.0, 0.5, 1.0) for v in verdicts] == [True, True]
    # Both orders were asked for each pair; what the small judge answered is counted.
    assert all(v.first in ("A", "B", None) and v.second in ("A", "B", None) for v in verdicts)
    same = asyncio.run(judge.compare("?", examples, good, good))
    assert [v.outcome for v in same] == [0.5, 0.5]
    assert [(v.first, v.second) for v in same] == [(None, None), (None, None)]


def test_a_refusing_endpoint_is_a_clear_error(judge_gateway: RunningGateway) -> None:
    judge = Judge(JudgeSettings(base_url=judge_gateway.v1, model=MODEL, api_key_env=None), {})
    with pytest.raises(JudgeError, match="answered 401"):
        asyncio.run(judge.rate("?", _examples(), ["a", "b"]))


def test_an_unreachable_judge_is_a_clear_error(tmp_path: Path) -> None:
    judge = Judge(JudgeSettings(base_url="http://127.0.0.1:9/v1", model="m", timeout_seconds=5), {})
    with pytest.raises(JudgeError, match="cannot be reached"):
        asyncio.run(judge.rate("?", _examples(), ["a", "b"]))
