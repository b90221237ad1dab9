"""The official OpenAI SDK against the gateway, unchanged: the contract app teams rely on."""

from __future__ import annotations

import openai
import pytest

from llmops.serving.echo import EchoServer
from tests.support.gateways import RunningGateway


@pytest.fixture
def client(gateway: RunningGateway, api_key: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=gateway.v1, api_key=api_key, max_retries=0)


def test_chat_completion(client: openai.OpenAI) -> None:
    raw = client.chat.completions.with_raw_response.create(
        model="echo", messages=[{"role": "user", "content": "the capital of France"}]
    )
    completion = raw.parse()
    assert completion.choices[0].message.content == "the capital of France"
    assert completion.usage is not None
    assert completion.usage.completion_tokens == 4
    assert raw.headers["x-llmops-cache"] == "bypass"
    assert raw.headers["x-llmops-upstream"].startswith("replica-")
    assert raw.headers["x-llmops-model-version"] == "echo"
    assert float(raw.headers["x-llmops-overhead-ms"]) > 0


def test_chat_stream_with_usage(client: openai.OpenAI) -> None:
    stream = client.chat.completions.create(
        model="echo",
        messages=[{"role": "user", "content": "one two three four"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    pieces, usage = [], None
    for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            pieces.append(chunk.choices[0].delta.content)
        if chunk.usage is not None:
            usage = chunk.usage
    assert "".join(pieces) == "one two three four"
    assert usage is not None
    assert usage.completion_tokens == 4


def test_stream_without_usage_hides_the_usage_chunk(
    client: openai.OpenAI, echo: EchoServer
) -> None:
    chunks = list(
        client.chat.completions.create(
            model="echo", messages=[{"role": "user", "content": "a b"}], stream=True
        )
    )
    assert all(c.usage is None for c in chunks)
    assert all(c.choices for c in chunks)
    # ...though the gateway asked the replica for it, to account the tokens.
    assert echo.record.requests[-1]["stream_options"] == {"include_usage": True}


def test_completions_and_embeddings(client: openai.OpenAI) -> None:
    completion = client.completions.create(model="echo", prompt="say these words", max_tokens=2)
    assert completion.choices[0].text == "say these"
    embedding = client.embeddings.create(model="echo", input=["a", "b"])
    assert len(embedding.data) == 2
    assert embedding.usage.prompt_tokens >= 2


def test_models_lists_only_what_the_key_may_use(gateway: RunningGateway) -> None:
    from tests.support.http import new_key

    everything = openai.OpenAI(base_url=gateway.v1, api_key=new_key(gateway.url, "t1"))
    assert sorted(m.id for m in everything.models.list()) == ["echo", "other"]
    limited = openai.OpenAI(
        base_url=gateway.v1, api_key=new_key(gateway.url, "t2", models=["other"])
    )
    assert [m.id for m in limited.models.list()] == ["other"]


def test_sdk_errors_are_typed(
    gateway: RunningGateway, client: openai.OpenAI, echo: EchoServer
) -> None:
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(base_url=gateway.v1, api_key="sk-wrong", max_retries=0).models.list()
    with pytest.raises(openai.NotFoundError) as missing:
        client.chat.completions.create(model="nope", messages=[{"role": "user", "content": "x"}])
    assert missing.value.code == "model_not_found"
    with pytest.raises(openai.BadRequestError) as bad:
        client.chat.completions.create(model="echo", messages=[])
    assert bad.value.param == "messages"
    echo.behaviour.status = 422
    with pytest.raises(openai.UnprocessableEntityError):
        client.chat.completions.create(model="echo", messages=[{"role": "user", "content": "x"}])
