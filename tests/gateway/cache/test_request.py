"""What must match before an answer is reused: the request plan and its keys, on plain data."""

from __future__ import annotations

import json
from typing import Any

import pytest

from gateway.cache.request import CachePlan, Skip, plan_for
from gateway.openai_schema import Endpoint, parse

HEADER = "x-llmops-cache-namespace"


def chat(*messages: tuple[str, str], **extra: Any) -> dict[str, Any]:
    return {
        "model": "m",
        "messages": [{"role": r, "content": c} for r, c in messages],
        "temperature": 0,
        **extra,
    }


def plan(
    body: dict[str, Any],
    *,
    team: str = "a",
    headers: dict[str, str] | None = None,
    shared: bool = False,
    cache_sampled: bool = False,
    endpoint: Endpoint = Endpoint.CHAT,
) -> CachePlan | Skip:
    return plan_for(
        parse(endpoint, json.dumps(body).encode()),
        team=team,
        headers=headers or {},
        namespace_header=HEADER,
        shared=shared,
        cache_sampled=cache_sampled,
    )


def planned(body: dict[str, Any], **kwargs: Any) -> CachePlan:
    result = plan(body, **kwargs)
    assert isinstance(result, CachePlan), result
    return result


BASE = chat(("system", "Be brief."), ("user", "What is the capital of France?"))


def namespace(body: dict[str, Any], version: str = "1", **kwargs: Any) -> str:
    return planned(body, **kwargs).namespace(version)


def test_sampled_requests_are_not_cached_unless_configured() -> None:
    no_temperature = {k: v for k, v in BASE.items() if k != "temperature"}
    assert plan(no_temperature) is Skip.SAMPLED  # OpenAI's default temperature is 1
    assert plan({**BASE, "temperature": 0.7}) is Skip.SAMPLED
    assert isinstance(plan({**BASE, "temperature": 0.7}, cache_sampled=True), CachePlan)
    assert isinstance(plan(BASE), CachePlan)


def test_cache_control_no_store_skips_both_and_no_cache_skips_the_lookup() -> None:
    assert plan(BASE, headers={"cache-control": "no-store"}) is Skip.NO_STORE
    assert plan(BASE, headers={"cache-control": "max-age=0, No-Store"}) is Skip.NO_STORE
    no_cache = planned(BASE, headers={"cache-control": "no-cache"})
    assert not no_cache.lookup
    assert planned(BASE).lookup


def test_embeddings_are_not_cached() -> None:
    body = {"model": "m", "input": "hello"}
    assert plan(body, endpoint=Endpoint.EMBEDDINGS) is Skip.NOT_CACHED_ENDPOINT


def test_teams_never_share_a_namespace_unless_the_model_is_shared() -> None:
    assert namespace(BASE, team="a") != namespace(BASE, team="b")
    a, b = planned(BASE, team="a"), planned(BASE, team="b")
    assert a.exact_key(a.namespace("1")) != b.exact_key(b.namespace("1"))
    assert namespace(BASE, team="a", shared=True) == namespace(BASE, team="b", shared=True)
    # A team named like the shared scope cannot reach it.
    assert namespace(BASE, team="shared:m") != namespace(BASE, team="x", shared=True)


def test_model_version_splits_the_cache() -> None:
    assert namespace(BASE, "7") != namespace(BASE, "8")
    other_model = {**BASE, "model": "n"}
    assert namespace(BASE) != namespace(other_model)


@pytest.mark.parametrize(
    "change",
    [
        {"max_tokens": 5},
        {"top_p": 0.5},
        {"seed": 3},
        {"stop": ["."]},
        {"n": 2},
        {"response_format": {"type": "json_object"}},
        {"tools": [{"type": "function", "function": {"name": "f"}}]},
        {"some_future_parameter": True},
        {"stream": True},
    ],
)
def test_parameters_that_change_the_output_split_the_cache(change: dict[str, Any]) -> None:
    assert namespace(BASE) != namespace({**BASE, **change})


@pytest.mark.parametrize(
    "change", [{"user": "u-1"}, {"metadata": {"k": "v"}}, {"stream_options": None}]
)
def test_parameters_that_do_not_change_the_output_keep_the_cache(change: dict[str, Any]) -> None:
    assert namespace(BASE) == namespace({**BASE, **change})


def test_the_system_prompt_and_every_earlier_turn_must_match() -> None:
    other_system = chat(("system", "Answer in French."), ("user", "What is the capital of France?"))
    assert namespace(BASE) != namespace(other_system)
    history_1 = chat(
        ("user", "Talk about Spain."), ("assistant", "Spain..."), ("user", "And its capital?")
    )
    history_2 = chat(
        ("user", "Talk about Peru."), ("assistant", "Peru..."), ("user", "And its capital?")
    )
    assert namespace(history_1) != namespace(history_2)
    # The last message is what the semantic tier compares; the rest is in the namespace.
    assert planned(history_1).text == "And its capital?"


def test_the_client_namespace_header_splits_the_cache() -> None:
    assert namespace(BASE, headers={HEADER: "doc-1"}) != namespace(BASE, headers={HEADER: "doc-2"})
    assert namespace(BASE, headers={HEADER: "doc-1"}) != namespace(BASE)
    # A value no header may carry counts as none.
    assert namespace(BASE, headers={HEADER: "a b"}) == namespace(BASE)


def test_only_a_user_text_is_compared_semantically() -> None:
    assert planned(BASE).text == "What is the capital of France?"
    parts = chat(("user", "x"))
    parts["messages"][0]["content"] = [
        {"type": "text", "text": "Hello"},
        {"type": "text", "text": "there"},
    ]
    assert planned(parts).text == "Hello\nthere"
    image = chat(("user", "x"))
    image["messages"][0]["content"] = [{"type": "image_url", "image_url": {"url": "http://i"}}]
    assert planned(image).text is None  # exact tier only
    assistant_last = chat(("user", "hi"), ("assistant", "Hello"))
    assert planned(assistant_last).text is None


def test_completions_are_keyed_on_the_prompt() -> None:
    body = {"model": "m", "prompt": "Once upon a time", "temperature": 0}
    completion = planned(body, endpoint=Endpoint.COMPLETIONS)
    assert completion.text == "Once upon a time"
    assert completion.namespace("1") != namespace(chat(("user", "Once upon a time")))
    tokens = planned({**body, "prompt": [1, 2, 3]}, endpoint=Endpoint.COMPLETIONS)
    assert tokens.text is None


def test_the_exact_key_covers_the_whole_conversation() -> None:
    a = planned(chat(("user", "What is the capital of France?")))
    b = planned(chat(("user", "What is the capital of France? ")))
    assert a.namespace("1") == b.namespace("1")
    assert a.exact_key(a.namespace("1")) != b.exact_key(b.namespace("1"))
