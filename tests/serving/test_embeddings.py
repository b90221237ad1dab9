"""An embedding replica (the bundled MiniLM) through the official SDK, and its refusals."""

from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import http.client
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import openai
import pytest

from llmops import minilm
from llmops.serving.embedder import CpuEmbeddingEngine
from llmops.serving.embedding import EmbeddingRequest
from llmops.serving.errors import ModelLoadError
from llmops.serving.openai_api import create_app
from llmops.serving.settings import ServingSettings
from tests.serving.capital import CAPITAL
from tests.serving.capital import MODEL as CHAT_MODEL
from tests.support.asgi import uvicorn_in_thread
from tests.support.http import call

GUITAR = "A man is playing a guitar."
PARAPHRASE = "Someone is strumming a guitar."
UNRELATED = "The central bank raised interest rates again."
TOO_LONG = "word " * 300  # 302 tokens with [CLS] and [SEP]; MiniLM reads 256


@pytest.fixture(scope="module")
def embedding_engine(embedding_settings: ServingSettings) -> Iterator[CpuEmbeddingEngine]:
    """One started engine for the module (its encode thread serves any event loop)."""
    engine = CpuEmbeddingEngine(embedding_settings)
    asyncio.run(engine.start())
    yield engine
    asyncio.run(engine.close())


@pytest.fixture(scope="module")
def embedding_url(embedding_engine: CpuEmbeddingEngine) -> Iterator[str]:
    app = create_app(embedding_engine, manage_engine=False)
    with uvicorn_in_thread(app, name="embedding replica") as url:
        yield url


@pytest.fixture
def client(embedding_url: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{embedding_url}/v1", api_key="unused", max_retries=0)


@pytest.fixture
def model(embedding_settings: ServingSettings) -> str:
    return embedding_settings.model


def _vectors(rows: list[list[float]]) -> npt.NDArray[np.float32]:
    return np.asarray(rows, dtype=np.float32)


def test_embeddings(client: openai.OpenAI, model: str, embedding_url: str) -> None:
    raw = client.embeddings.with_raw_response.create(
        model=model, input=[GUITAR, PARAPHRASE, UNRELATED], encoding_format="float"
    )
    answer = raw.parse()
    assert raw.headers["x-llmops-model-version"] == "1"
    assert answer.object == "list" and answer.model == model
    assert [item.index for item in answer.data] == [0, 1, 2]
    vectors = _vectors([item.embedding for item in answer.data])
    assert vectors.shape == (3, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)
    guitar, paraphrase, unrelated = vectors
    assert guitar @ paraphrase > guitar @ unrelated + 0.3
    assert answer.usage.prompt_tokens > 3
    assert answer.usage.total_tokens == answer.usage.prompt_tokens
    metrics = call("GET", f"{embedding_url}/metrics").body.decode()
    assert 'endpoint="/v1/embeddings",model="all-MiniLM-L6-v2",outcome="ok"' in metrics


def test_base64_is_the_float_vectors_bytes(
    client: openai.OpenAI, model: str, embedding_url: str
) -> None:
    floats = client.embeddings.create(
        model=model, input=[GUITAR, UNRELATED], encoding_format="float"
    )
    expected = _vectors([item.embedding for item in floats.data])
    # Without encoding_format the SDK asks for base64 and decodes it itself.
    decoded = client.embeddings.create(model=model, input=[GUITAR, UNRELATED])
    assert np.array_equal(_vectors([item.embedding for item in decoded.data]), expected)
    body = {"model": model, "input": [GUITAR, UNRELATED], "encoding_format": "base64"}
    reply = call("POST", f"{embedding_url}/v1/embeddings", body=body)
    rows = [
        np.frombuffer(base64.b64decode(item["embedding"]), dtype="<f4")
        for item in reply.json()["data"]
    ]
    assert np.array_equal(np.stack(rows), expected)


def test_one_string_and_the_model_dimensions(client: openai.OpenAI, model: str) -> None:
    alone = client.embeddings.create(model=model, input=GUITAR, dimensions=384, user="u-1")
    batched = client.embeddings.create(model=model, input=[UNRELATED, GUITAR])
    assert len(alone.data) == 1
    assert np.allclose(alone.data[0].embedding, batched.data[1].embedding, atol=1e-5)


@pytest.mark.parametrize(
    ("fields", "param"),
    [
        ({"input": []}, "input"),
        ({"input": ""}, "input"),
        ({"input": [GUITAR, ""]}, "input[1]"),
        ({"input": [101, 7592, 102]}, "input"),
        ({"input": [[101, 7592, 102]]}, "input"),
        ({"input": TOO_LONG}, "input"),
        ({"input": [GUITAR, TOO_LONG]}, "input[1]"),
        ({"input": ["hi"] * 2049}, "input"),
        ({"input": GUITAR, "dimensions": 256}, "dimensions"),
        ({"input": GUITAR, "dimensions": 0}, "dimensions"),
        ({"input": GUITAR, "encoding_format": "int8"}, "encoding_format"),
        ({"input": {"text": GUITAR}}, "input"),
    ],
)
def test_refusals_name_the_param(
    client: openai.OpenAI, model: str, fields: dict[str, Any], param: str
) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.embeddings.create(model=model, input="unused", extra_body=fields)
    error = caught.value
    assert error.status_code == 400
    assert error.param == param, error.message
    assert error.type == "invalid_request_error"
    assert error.code is None


def test_input_is_required(embedding_url: str, model: str) -> None:
    reply = call("POST", f"{embedding_url}/v1/embeddings", body={"model": model})
    assert reply.status == 400
    assert reply.json()["error"]["param"] == "input"


def test_another_model_is_not_found(client: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        client.embeddings.create(model="text-embedding-3-small", input=GUITAR)
    assert caught.value.code == "model_not_found"
    assert caught.value.param == "model"


def test_an_embedding_replica_does_not_chat(client: openai.OpenAI, model: str) -> None:
    requests: list[Callable[[], object]] = [
        lambda: client.chat.completions.create(model=model, messages=CAPITAL),
        lambda: client.completions.create(model=model, prompt="Paris is"),
    ]
    for request in requests:
        with pytest.raises(openai.NotFoundError) as caught:
            request()
        assert caught.value.code == "unsupported_endpoint"
        assert caught.value.param == "model"
        assert "/v1/embeddings" in caught.value.message


def test_a_chat_replica_does_not_embed(replica_url: str) -> None:
    client = openai.OpenAI(base_url=f"{replica_url}/v1", api_key="unused", max_retries=0)
    with pytest.raises(openai.NotFoundError) as caught:
        client.embeddings.create(model=CHAT_MODEL, input=GUITAR)
    assert caught.value.code == "unsupported_endpoint"
    assert caught.value.param == "model"


def _wait_until_running(engine: CpuEmbeddingEngine) -> None:
    deadline = time.monotonic() + 30
    while engine.stats().requests_running == 0:
        assert time.monotonic() < deadline, engine.stats()
        time.sleep(0.01)


def test_a_large_request_leaves_room_for_others(
    client: openai.OpenAI, model: str, embedding_engine: CpuEmbeddingEngine
) -> None:
    texts = [f"Sentence number {i} is about the weather in spring." for i in range(512)]
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        large = pool.submit(client.embeddings.create, model=model, input=texts)
        _wait_until_running(embedding_engine)
        small = client.embeddings.create(model=model, input=GUITAR)
        # The small request was answered between the large one's batches.
        assert not large.done()
        assert len(small.data) == 1
        assert len(large.result().data) == 512
    assert embedding_engine.stats().largest_batch >= 2


def test_a_client_leaving_stops_its_encoding(
    embedding_url: str, model: str, embedding_engine: CpuEmbeddingEngine
) -> None:
    before = embedding_engine.stats()
    host, port = embedding_url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    body = {"model": model, "input": [f"Text {i} about the sea." for i in range(512)]}
    connection.request(
        "POST", "/v1/embeddings", json.dumps(body), {"content-type": "application/json"}
    )
    _wait_until_running(embedding_engine)
    connection.close()
    deadline = time.monotonic() + 30
    while embedding_engine.stats().requests_abandoned == before.requests_abandoned:
        assert time.monotonic() < deadline, embedding_engine.stats()
        time.sleep(0.02)
    assert embedding_engine.stats().requests_running == 0


async def test_a_sentence_transformers_directory_serves_too(
    embedding_settings: ServingSettings, embedding_engine: CpuEmbeddingEngine
) -> None:
    settings = embedding_settings.model_copy(update={"source": str(minilm.model_dir())})
    engine = CpuEmbeddingEngine(settings)
    await engine.start()
    try:
        request = EmbeddingRequest((GUITAR,))
        mine, bundled = await engine.embed(request), await embedding_engine.embed(request)
    finally:
        await engine.close()
    assert np.allclose(mine.vectors, bundled.vectors, atol=1e-6)


@pytest.mark.parametrize(("name", "message"), [("nothing", "does not exist"), ("", "cannot load")])
async def test_a_directory_without_a_model_fails_the_start(
    embedding_settings: ServingSettings, tmp_path: Path, name: str, message: str
) -> None:
    settings = embedding_settings.model_copy(update={"source": str(tmp_path / name)})
    with pytest.raises(ModelLoadError, match=message):
        await CpuEmbeddingEngine(settings).start()
