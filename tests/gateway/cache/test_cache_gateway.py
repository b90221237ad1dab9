"""The cache as clients meet it through the gateway, with the OpenAI SDK."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import openai
import pytest

from llmops.serving.echo import EchoServer
from tests.gateway.cache.conftest import GatewayFactory
from tests.support.gateways import RunningGateway
from tests.support.http import chat, metric_values, new_key

QUESTION = "How do I reverse a list in Python?"
REWORDED = "In Python, how do you reverse a list?"
NEGATED = "How do I iterate over a list in Python without reversing it?"
NUMBERED = "How do I reverse a list in Python 2?"


def client(gateway: RunningGateway, key: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=gateway.v1, api_key=key, max_retries=0)


def ask(
    gateway: RunningGateway,
    key: str,
    text: str,
    *,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Any:
    """The raw SDK response (headers and the parsed completion)."""
    with client(gateway, key) as sdk:
        response = sdk.chat.completions.with_raw_response.create(
            model="echo",
            messages=[{"role": "user", "content": text}],
            temperature=extra.pop("temperature", 0),
            extra_headers=headers,
            **extra,
        )
        response.parse()  # read whole before the client closes
        return response


@pytest.fixture
def sdk(gateway: RunningGateway, api_key: str) -> Iterator[openai.OpenAI]:
    with client(gateway, api_key) as opened:
        yield opened


def answer(response: Any) -> str:
    content: str = response.parse().choices[0].message.content
    return content


def eventually_hit(gateway: RunningGateway, key: str, text: str, **kwargs: Any) -> Any:
    """Answers are stored in the background: the next request may come a moment early."""
    deadline = time.monotonic() + 2.0
    while True:
        response = ask(gateway, key, text, **kwargs)
        if response.headers["x-llmops-cache"] == "hit" or time.monotonic() > deadline:
            return response
        time.sleep(0.05)


def test_a_repeated_question_is_answered_from_the_cache(
    gateway: RunningGateway, api_key: str, echo: EchoServer
) -> None:
    echo.behaviour.model_version = "v7"
    first = ask(gateway, api_key, QUESTION)
    assert first.headers["x-llmops-cache"] == "miss"
    assert first.headers["x-llmops-upstream"].startswith("replica-")  # no address
    second = eventually_hit(gateway, api_key, QUESTION)
    assert second.headers["x-llmops-cache"] == "hit"
    assert second.headers["x-llmops-cache-similarity"] == "1.0000"
    assert second.headers["x-llmops-upstream"] == "cache"
    assert second.headers["x-llmops-model-version"] == "v7"
    assert second.headers["x-llmops-cost"] == "0"  # no model tokens were spent
    assert answer(second) == answer(first)
    assert len(echo.record.requests) == 1  # the replica saw the question once


def test_a_reworded_question_hits_and_a_negated_one_does_not(
    gateway: RunningGateway, api_key: str, echo: EchoServer
) -> None:
    original = answer(ask(gateway, api_key, QUESTION))
    reworded = eventually_hit(gateway, api_key, REWORDED)
    assert reworded.headers["x-llmops-cache"] == "hit"
    assert 0.88 <= float(reworded.headers["x-llmops-cache-similarity"]) < 1.0
    assert answer(reworded) == original  # the cached answer, not an echo of the new wording
    negated = ask(gateway, api_key, NEGATED)
    assert negated.headers["x-llmops-cache"] == "miss"
    assert answer(negated) == NEGATED
    other_language = ask(gateway, api_key, "How do I reverse a list in JavaScript?")
    assert other_language.headers["x-llmops-cache"] == "miss"


def test_a_question_reworded_with_other_words_hits_through_the_judge(
    cached_gateway: GatewayFactory, echo: EchoServer
) -> None:
    for judged in (True, False):
        with cached_gateway(judge=judged) as running:
            key = new_key(running.url, "team-a")
            original = answer(ask(running, key, "Who wrote Hamlet?"))
            assert answer(eventually_hit(running, key, "Who wrote Hamlet?")) == original
            if judged:
                reworded = eventually_hit(running, key, "Who is the author of Hamlet?")
                assert reworded.headers["x-llmops-cache"] == "hit"
                assert answer(reworded) == original
            else:  # the rules alone: every word must pair
                reworded = ask(running, key, "Who is the author of Hamlet?")
                assert reworded.headers["x-llmops-cache"] == "miss"
            other = ask(running, key, "When was Hamlet written?")
            assert other.headers["x-llmops-cache"] == "miss"


def test_other_teams_never_hit_and_a_shared_model_is_shared(
    cached_gateway: GatewayFactory, echo: EchoServer
) -> None:
    with cached_gateway() as gateway:
        team_a = new_key(gateway.url, "team-a")
        assert answer(eventually_hit(gateway, team_a, QUESTION)) == QUESTION
        assert ask(gateway, team_a, QUESTION).headers["x-llmops-cache"] == "hit"
        # Hostile attempts, each from a team of its own: the same words, a rewording, the
        # namespace header naming the other team, a team named like the other's scope.
        attempts: list[tuple[str, str, dict[str, str] | None]] = [
            ("team-b", QUESTION, None),
            ("team-c", REWORDED, None),
            ("team-d", QUESTION, {"x-llmops-cache-namespace": "team-a"}),
            ("team:team-a", QUESTION, None),
            ("shared:echo", QUESTION, None),
        ]
        for team, text, headers in attempts:
            other = new_key(gateway.url, team)
            response = ask(gateway, other, text, headers=headers)
            assert response.headers["x-llmops-cache"] == "miss", team
            assert answer(response) == text
    with cached_gateway(shared_models=["echo"]) as gateway:
        team_a, team_b = new_key(gateway.url, "team-a"), new_key(gateway.url, "team-b")
        ask(gateway, team_a, QUESTION)
        assert eventually_hit(gateway, team_b, QUESTION).headers["x-llmops-cache"] == "hit"


def test_sampled_requests_bypass_the_cache_unless_configured(
    cached_gateway: GatewayFactory,
) -> None:
    with cached_gateway() as gateway:
        key = new_key(gateway.url, "t")
        for _ in range(2):
            with client(gateway, key) as sdk:
                sampled = sdk.chat.completions.with_raw_response.create(
                    model="echo", messages=[{"role": "user", "content": QUESTION}]
                )  # no temperature: OpenAI's default of 1
            assert sampled.headers["x-llmops-cache"] == "bypass"
            assert (
                ask(gateway, key, QUESTION, temperature=0.8).headers["x-llmops-cache"] == "bypass"
            )
    with cached_gateway(cache_sampled=True) as gateway:
        key = new_key(gateway.url, "t")
        ask(gateway, key, QUESTION, temperature=0.8)
        hit = eventually_hit(gateway, key, QUESTION, temperature=0.8)
        assert hit.headers["x-llmops-cache"] == "hit"
        assert ask(gateway, key, QUESTION, temperature=0.5).headers["x-llmops-cache"] == "miss"


def test_cache_control_and_the_namespace_header(gateway: RunningGateway, api_key: str) -> None:
    no_store = {"cache-control": "no-store"}
    assert ask(gateway, api_key, QUESTION, headers=no_store).headers["x-llmops-cache"] == "bypass"
    time.sleep(0.3)
    assert ask(gateway, api_key, QUESTION).headers["x-llmops-cache"] == "miss"  # nothing stored
    text = "What is the boiling point of water at sea level?"
    no_cache = {"cache-control": "no-cache"}
    assert ask(gateway, api_key, text, headers=no_cache).headers["x-llmops-cache"] == "bypass"
    assert eventually_hit(gateway, api_key, text).headers["x-llmops-cache"] == "hit"  # stored
    assert ask(gateway, api_key, text, headers=no_cache).headers["x-llmops-cache"] == "bypass"
    doc = {"x-llmops-cache-namespace": "doc-1"}
    assert ask(gateway, api_key, text, headers=doc).headers["x-llmops-cache"] == "miss"
    assert eventually_hit(gateway, api_key, text, headers=doc).headers["x-llmops-cache"] == "hit"


def test_a_completed_stream_is_replayed_as_a_stream(
    gateway: RunningGateway, api_key: str, echo: EchoServer, sdk: openai.OpenAI
) -> None:

    def stream(include_usage: bool) -> tuple[str, str, Any]:
        raw = sdk.chat.completions.with_raw_response.create(
            model="echo",
            messages=[{"role": "user", "content": QUESTION}],
            temperature=0,
            stream=True,
            stream_options={"include_usage": include_usage},
        )
        chunks = list(raw.parse())
        text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        return raw.headers["x-llmops-cache"], text, chunks

    result, text, _ = stream(False)
    assert (result, text.split()) == ("miss", QUESTION.split())
    deadline = time.monotonic() + 2
    while (replayed := stream(False))[0] != "hit":
        assert time.monotonic() < deadline
    assert replayed[1] == text
    assert len(replayed[2]) > 3  # chunk by chunk, as it was made
    assert all(c.usage is None for c in replayed[2])  # usage not asked for: held back
    _, _, with_usage = stream(True)
    assert with_usage[-1].usage is not None and with_usage[-1].usage.completion_tokens > 0
    assert echo.record.streams_finished == 1
    # A JSON request is not answered from a stream's entry (nor the other way round).
    assert ask(gateway, api_key, QUESTION).headers["x-llmops-cache"] == "miss"


def test_partial_streams_and_errors_are_never_cached(
    gateway: RunningGateway, api_key: str, echo: EchoServer, sdk: openai.OpenAI
) -> None:
    echo.behaviour.cut_after_tokens = 3
    with pytest.raises(openai.APIError):
        for _ in sdk.chat.completions.create(
            model="echo",
            messages=[{"role": "user", "content": QUESTION}],
            temperature=0,
            stream=True,
        ):
            pass
    echo.behaviour.cut_after_tokens = None
    echo.behaviour.status = 500
    with pytest.raises(openai.InternalServerError):
        ask(gateway, api_key, QUESTION)
    echo.behaviour.status = 400
    with pytest.raises(openai.BadRequestError):
        ask(gateway, api_key, QUESTION)
    echo.behaviour.status = None
    time.sleep(0.3)
    raw = sdk.chat.completions.with_raw_response.create(
        model="echo", messages=[{"role": "user", "content": QUESTION}], temperature=0, stream=True
    )
    assert raw.headers["x-llmops-cache"] == "miss"
    assert "".join(c.choices[0].delta.content or "" for c in raw.parse() if c.choices)
    assert ask(gateway, api_key, QUESTION).headers["x-llmops-cache"] == "miss"


def test_metrics_count_results_rejections_and_lookups(
    gateway: RunningGateway, api_key: str
) -> None:
    ask(gateway, api_key, QUESTION)
    eventually_hit(gateway, api_key, REWORDED)
    ask(gateway, api_key, NUMBERED)  # a number differs
    ask(gateway, api_key, QUESTION, temperature=1)
    results = metric_values(gateway.url, "llmops_cache_requests_total")
    assert results['llmops_cache_requests_total{result="hit"}'] == 1
    assert results['llmops_cache_requests_total{result="bypass"}'] == 1
    assert results['llmops_cache_requests_total{result="miss"}'] >= 2
    rejections = metric_values(gateway.url, "llmops_cache_rejections_total")
    assert rejections['llmops_cache_rejections_total{reason="number"}'] >= 1
    requests = metric_values(gateway.url, "llmops_gateway_requests_total")
    assert (
        requests[
            'llmops_gateway_requests_total{cache="hit",model="echo",status="200",team="team-a"}'
        ]
        == 1
    )
    lookups = metric_values(gateway.url, "llmops_cache_lookup_seconds_count")
    assert lookups['llmops_cache_lookup_seconds_count{tier="semantic"}'] >= 2
    # A hit used no model tokens.
    tokens = metric_values(gateway.url, "llmops_gateway_tokens_total")
    completion = tokens['llmops_gateway_tokens_total{kind="completion",model="echo",team="team-a"}']
    assert completion == 2 * len(QUESTION.split()) + len(NUMBERED.split())


def test_a_hit_counts_against_the_request_limit(gateway: RunningGateway) -> None:
    key = new_key(gateway.url, "limited", rpm=2, tpm=100_000)
    ask(gateway, key, QUESTION)
    time.sleep(0.5)  # the answer is stored in the background
    assert ask(gateway, key, QUESTION).headers["x-llmops-cache"] == "hit"
    body = {"model": "echo", "messages": [{"role": "user", "content": QUESTION}], "temperature": 0}
    refused = chat(gateway.url, key, body)
    assert refused.status == 429


def test_under_a_canary_split_a_miss_goes_to_the_version_it_was_looked_up_under(
    cached_gateway: GatewayFactory,
) -> None:
    """Without a session each request draws its side of the split once: a miss is
    answered by the version whose entries were searched, so a version that holds the
    answer is never asked it again."""
    replicas = [EchoServer(model="echo").start_in_thread() for _ in range(2)]
    try:
        for version, replica in zip(("1", "2"), replicas, strict=True):
            replica.behaviour.model_version = version
        split = [
            {"version": v, "weight": 50, "upstreams": [r.url]}
            for v, r in zip(("1", "2"), replicas, strict=True)
        ]
        # The exact tier alone: an answer is stored at once (no embedding to wait for).
        with cached_gateway(
            models=[{"name": "echo", "versions": split}], semantic=False
        ) as gateway:
            key = new_key(gateway.url, "team-a")
            answered: dict[str, list[str]] = {}
            for n in range(8):
                question = f"What is the capital of country number {n}?"
                for _ in range(10):
                    response = ask(gateway, key, question)
                    if response.headers["x-llmops-cache"] == "miss":
                        answered.setdefault(question, []).append(
                            response.headers["x-llmops-model-version"]
                        )
                        time.sleep(0.3)  # the answer is stored in the background
            for versions in answered.values():
                assert len(versions) == len(set(versions)), answered
            # Both sides of the split answered and were cached.
            assert {v for versions in answered.values() for v in versions} == {"1", "2"}
    finally:
        for replica in replicas:
            replica.stop_thread()


def test_a_language_the_cache_cannot_judge_never_gets_a_semantic_hit(
    gateway: RunningGateway, api_key: str
) -> None:
    italian = "Come posso invertire una lista in Python?"
    assert answer(eventually_hit(gateway, api_key, italian)) == italian  # exact: served
    for variant in (
        "come posso invertire una lista in Python",
        "Come posso invertire una lista in Python?!",
    ):
        response = ask(gateway, api_key, variant)
        assert response.headers["x-llmops-cache"] == "miss", variant
        assert answer(response) == variant
    rejections = metric_values(gateway.url, "llmops_cache_rejections_total")
    assert rejections['llmops_cache_rejections_total{reason="language"}'] >= 2
