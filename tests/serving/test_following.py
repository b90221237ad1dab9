"""Replicas on registry aliases: the fine-tuned weights served, a promotion followed live,
and a challenger taking its canary share through the gateway."""

from __future__ import annotations

import contextlib
import json
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from llmops.registry import promotion
from llmops.registry.promotion import Actor
from llmops.registry.store import ModelRegistry
from llmops.serving.engines import build_engine
from llmops.serving.following import AliasFollowingEngine
from llmops.serving.openai_api import create_app
from llmops.serving.settings import ServingSettings
from tests.support import finetuning
from tests.support.asgi import uvicorn_in_thread
from tests.support.gateways import gateway_in_thread, settings_for
from tests.support.http import chat, new_key

QUESTION, ANSWER = finetuning.FACTS[0]


def _settings(source: str, mlflow_url: str, cache: Path) -> ServingSettings:
    return ServingSettings.model_validate(
        {
            "model": "facts",
            "source": source,
            "cache_dir": cache,
            "mlflow": {"tracking_uri": mlflow_url, "poll_seconds": 0.3},
            "cpu": {"max_batch_size": 4, "batch_wait_ms": 5},
        }
    )


@contextlib.contextmanager
def replica(settings: ServingSettings) -> Iterator[tuple[str, AliasFollowingEngine]]:
    engine = build_engine(settings)
    assert isinstance(engine, AliasFollowingEngine)
    with uvicorn_in_thread(create_app(engine), name="replica") as url:
        yield url, engine


def ask(url: str, max_tokens: int = 8) -> tuple[int, str, str]:
    """Status, ``x-llmops-model-version`` and the answer of one chat request."""
    body = {
        "model": "facts",
        "temperature": 0,
        "max_tokens": max_tokens,
        "messages": [
            {"role": "system", "content": finetuning.SYSTEM},
            {"role": "user", "content": QUESTION},
        ],
    }
    request = urllib.request.Request(
        f"{url}/v1/chat/completions",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        answer: dict[str, Any] = json.loads(response.read())
        version = response.headers["x-llmops-model-version"]
        return response.status, version, answer["choices"][0]["message"]["content"]


def _new_version_like(registry: ModelRegistry, name: str, version: str) -> str:
    """Another version of ``name`` registered from the same run (the same adapter)."""
    source = registry.version(name, version)
    assert source.run_id is not None
    return registry.register(name, run_id=source.run_id, tags=source.tags).version


@pytest.mark.timeout(240)
def test_a_replica_on_champion_follows_a_promotion_without_dropping_requests(
    finetuned: dict[str, Any], mlflow_url: str, model_cache: Path
) -> None:
    registry = ModelRegistry(mlflow_url)
    first = finetuned["version"]
    promotion.promote(
        registry, "facts", version=first, alias="champion", gates=[], actor=Actor("test")
    )
    second = _new_version_like(registry, "facts", first)

    with replica(_settings("models:/facts@champion", mlflow_url, model_cache)) as (url, engine):
        status, version, text = ask(url)
        assert (status, version) == (200, first)
        assert ANSWER.lower() in text.lower()  # the fine-tuned weights, merged from the registry

        outcomes: list[tuple[int, str, str] | Exception] = []
        stop = threading.Event()

        def client() -> None:
            while not stop.is_set():
                try:
                    outcomes.append(ask(url, max_tokens=6))
                except Exception as e:  # noqa: BLE001 - every failure is the test's finding
                    outcomes.append(e)

        clients = [threading.Thread(target=client) for _ in range(3)]
        for c in clients:
            c.start()
        try:
            time.sleep(1.0)
            promotion.promote(
                registry, "facts", version=second, alias="champion", gates=[], actor=Actor("test")
            )
            deadline = time.monotonic() + 120
            while not any(isinstance(o, tuple) and o[1] == second for o in outcomes[-3:]):
                assert time.monotonic() < deadline, "the replica never served the new champion"
                time.sleep(0.2)
            time.sleep(1.0)
        finally:
            stop.set()
            for c in clients:
                c.join(60)

    failures = [o for o in outcomes if not isinstance(o, tuple)]
    assert failures == []
    served = [o[1] for o in outcomes if isinstance(o, tuple)]
    assert {o[0] for o in outcomes if isinstance(o, tuple)} == {200}
    assert served[0] == first and served[-1] == second
    assert served.index(second) > 0
    assert all(ANSWER.lower() in o[2].lower() for o in outcomes if isinstance(o, tuple))
    assert engine.switches == 1
    promotion.rollback(registry, "facts", Actor("test"))  # leave v1 champion for other tests


@pytest.mark.timeout(240)
def test_a_challenger_takes_its_canary_share_through_the_gateway(
    finetuned: dict[str, Any], mlflow_url: str, model_cache: Path, sqlite_url: str
) -> None:
    registry = ModelRegistry(mlflow_url)
    champion = finetuned["version"]
    promotion.promote(
        registry, "facts", version=champion, alias="champion", gates=[], actor=Actor("test")
    )
    challenger = _new_version_like(registry, "facts", champion)
    promotion.promote(
        registry, "facts", version=challenger, alias="challenger", gates=[], actor=Actor("test")
    )

    with (
        replica(_settings("models:/facts@champion", mlflow_url, model_cache)) as (main, _),
        replica(_settings("models:/facts@challenger", mlflow_url, model_cache)) as (canary, _),
    ):
        split = [
            {"version": "champion", "weight": 75, "upstreams": [f"{main}/v1"]},
            {"version": "challenger", "weight": 25, "upstreams": [f"{canary}/v1"]},
        ]
        routes = settings_for(sqlite_url, {}, models=[{"name": "facts", "versions": split}])
        with gateway_in_thread(routes) as gateway:
            key = new_key(gateway.url, "canary")
            versions = []
            for _ in range(60):
                reply = chat(
                    gateway.url,
                    key,
                    {
                        "model": "facts",
                        "max_tokens": 1,
                        "messages": [{"role": "user", "content": "hi"}],
                    },
                )
                assert reply.status == 200
                versions.append(reply.headers["x-llmops-model-version"])
    share = versions.count(challenger) / len(versions)
    assert set(versions) == {champion, challenger}
    assert 0.08 <= share <= 0.45  # 25 % of 60 requests; this band holds with p > 0.999
