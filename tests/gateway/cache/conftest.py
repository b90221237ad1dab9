"""The bundled embedding model, loaded once, and gateways with the cache on in front of echo."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from gateway.cache.embedding import MINILM_DIMENSIONS, BatchingEmbedder, Encode, load_minilm
from llmops.serving.echo import EchoServer
from tests.support.gateways import RunningGateway, gateway_in_thread, settings_for
from tests.support.http import new_key

GatewayFactory = Callable[..., contextlib.AbstractContextManager[RunningGateway]]


@pytest.fixture(scope="session")
def minilm() -> Encode:
    """all-MiniLM-L6-v2 from its package, offline (a few seconds, once per session).
    torch's thread count is left alone: other tests of the session run models too."""
    return load_minilm(threads=None)


@pytest.fixture
def cached_gateway(minilm: Encode, echo: EchoServer, sqlite_url: str) -> GatewayFactory:
    """Starts gateways with the cache on (``cache`` settings as keyword arguments), each
    with its own batching embedder over the one loaded model; ``models`` replaces the one
    route to ``echo``; ``request_log`` its settings. The error bound is off unless asked for (``max_wrong_rate``): these
    gateways serve every verified match at once, so that the lookup path can be tested
    alone; the bound has tests of its own."""

    @contextlib.contextmanager
    def start(
        redis_url: str | None = None,
        limits: dict[str, Any] | None = None,
        models: list[dict[str, Any]] | None = None,
        request_log: dict[str, Any] | None = None,
        **cache: Any,
    ) -> Iterator[RunningGateway]:
        settings = settings_for(
            sqlite_url,
            {"echo": [echo.url]},
            redis_url=redis_url,
            limits=limits or {},
            request_log=request_log or {},
            cache={"enabled": True, "max_wrong_rate": None, **cache},
            **({"models": models} if models is not None else {}),
        )
        embedder = BatchingEmbedder(minilm, dimensions=MINILM_DIMENSIONS)
        try:
            with gateway_in_thread(settings, embedder=embedder) as running:
                yield running
        finally:
            asyncio.run(embedder.close())

    return start


@pytest.fixture
def gateway(cached_gateway: GatewayFactory) -> Iterator[RunningGateway]:
    """One gateway with the in-process cache."""
    with cached_gateway() as running:
        yield running


@pytest.fixture
def api_key(gateway: RunningGateway) -> str:
    return new_key(gateway.url, "team-a")
