"""The replica as a Ray Serve application, answering the official SDK; Ray leaves nothing behind."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import openai
import pytest
import ray
from ray import serve

from gateway.upstream import replica_id
from llmops.serving.ray_app import LocalRayServe, build_app, deployment_options, ray_environment
from llmops.serving.settings import ServingSettings
from tests.serving.capital import CAPITAL, MODEL, stream_with_usage, streamed_text
from tests.support.gateways import gateway_in_thread, settings_for
from tests.support.http import new_key
from tests.support.services import free_port


@pytest.fixture(scope="module")
def ray_serve(serving_settings: ServingSettings) -> Iterator[LocalRayServe]:
    settings = ServingSettings.model_validate(
        {
            **serving_settings.model_dump(),
            "port": free_port(),
            "version": "ray-test",
            "ray": {"num_cpus": 2},
        }
    )
    with pytest.MonkeyPatch.context() as env:
        for name, value in ray_environment(settings.ray).items():
            env.setenv(name, value)
        with LocalRayServe(settings) as running:
            yield running
    assert not ray.is_initialized()


@pytest.fixture
def client(ray_serve: LocalRayServe) -> openai.OpenAI:
    return openai.OpenAI(base_url=ray_serve.url, api_key="unused", max_retries=0)


@pytest.mark.timeout(300)  # starting Ray and a replica that loads the model takes a while
def test_chat_through_ray_serve(client: openai.OpenAI) -> None:
    raw = client.chat.completions.with_raw_response.create(
        model=MODEL, messages=CAPITAL, temperature=0, max_tokens=32
    )
    assert raw.headers["x-llmops-model-version"] == "ray-test"
    assert "Paris" in (raw.parse().choices[0].message.content or "")


def test_stream_through_ray_serve(client: openai.OpenAI) -> None:
    chunks = stream_with_usage(client)
    assert "Paris" in streamed_text(chunks)
    assert chunks[-1].usage is not None


def test_client_mistakes_through_ray_serve(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model=MODEL, messages=[], max_tokens=2)
    assert caught.value.status_code == 400


@pytest.mark.timeout(300)  # a second replica loads torch and MiniLM
def test_embeddings_through_ray_serve(
    ray_serve: LocalRayServe, embedding_settings: ServingSettings
) -> None:
    settings = embedding_settings.model_copy(update={"version": "ray-embed"})
    serve.run(build_app(settings), name=settings.app_name, route_prefix="/embed")
    try:
        base_url = f"http://{ray_serve.settings.host}:{ray_serve.settings.port}/embed/v1"
        client = openai.OpenAI(base_url=base_url, api_key="unused", max_retries=0)
        raw = client.embeddings.with_raw_response.create(model=settings.model, input=["a", "b"])
        assert raw.headers["x-llmops-model-version"] == "ray-embed"
        vectors = np.asarray([item.embedding for item in raw.parse().data])
        assert vectors.shape == (2, 384)
        assert np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)
        with pytest.raises(openai.BadRequestError) as caught:
            client.embeddings.create(model=settings.model, input="a", dimensions=8)
        assert caught.value.param == "dimensions"
    finally:
        serve.delete(settings.app_name)


def test_deployment_options() -> None:
    settings = ServingSettings.model_validate(
        {
            "model": "bot",
            "version": "3",
            "autoscaling": {"min_replicas": 1, "max_replicas": 4, "target_ongoing_requests": 6},
            "ray": {"replica_num_cpus": 2, "replica_num_gpus": 1},
        }
    )
    options = deployment_options(settings)
    assert options["name"] == "bot-v3"
    assert options["autoscaling_config"] == {
        "min_replicas": 1,
        "max_replicas": 4,
        "target_ongoing_requests": 6,
    }
    assert options["ray_actor_options"]["num_cpus"] == 2
    assert options["ray_actor_options"]["num_gpus"] == 1
    assert options["ray_actor_options"]["runtime_env"]["env_vars"]["HF_HUB_OFFLINE"] == "1"


def test_the_gateway_routes_to_the_ray_replica(ray_serve: LocalRayServe, sqlite_url: str) -> None:
    settings = settings_for(sqlite_url, {MODEL: [ray_serve.url]})
    with gateway_in_thread(settings) as gateway:
        key = new_key(gateway.url, "team-a")
        client = openai.OpenAI(base_url=gateway.v1, api_key=key, max_retries=0)
        raw = client.chat.completions.with_raw_response.create(
            model=MODEL, messages=CAPITAL, temperature=0, max_tokens=32
        )
        assert raw.headers["x-llmops-model-version"] == "ray-test"
        assert raw.headers["x-llmops-upstream"] == replica_id(ray_serve.url)
        reply = raw.parse()
        assert "Paris" in (reply.choices[0].message.content or "")
        assert reply.usage is not None and reply.usage.completion_tokens > 0
        chunks = stream_with_usage(client)
        assert "Paris" in streamed_text(chunks)
        assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens > 0
