"""Calls to model replicas over pooled keep-alive connections.

Failures of the transport are translated here, once, into the gateway's errors:
a connection that cannot be made is :class:`UpstreamUnreachable` (502), one
broken later :class:`UpstreamError` (502), a timeout :class:`UpstreamTimeout` (504).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import AsyncGenerator, Mapping

from gateway import http1
from gateway.credentials import UpstreamCredentials
from gateway.errors import UpstreamError, UpstreamTimeout, UpstreamUnreachable
from gateway.settings import UpstreamSettings

UpstreamResponse = http1.Response
log = logging.getLogger("llmops.gateway.upstream")


def replica_id(url: str) -> str:
    """How answers and errors name a replica without telling its address: a stable,
    opaque name (``expose_upstreams: true`` shows URLs in ``x-llmops-upstream``)."""
    return "replica-" + hashlib.sha256(url.encode()).hexdigest()[:12]


class UpstreamClient:
    """Requests to replicas, with the credentials of those that want one."""

    def __init__(
        self, settings: UpstreamSettings, credentials: UpstreamCredentials | None = None
    ) -> None:
        self._settings = settings
        self._credentials = credentials or UpstreamCredentials([])
        self._pool: http1.ConnectionPool | None = None

    async def start(self) -> None:
        self._pool = http1.ConnectionPool(
            max_connections=self._settings.max_connections,
            keepalive_seconds=self._settings.keepalive_seconds,
            connect_timeout=self._settings.connect_timeout_seconds,
            read_timeout=self._settings.read_timeout_seconds,
        )

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()

    async def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> UpstreamResponse:
        """Send a request and wait for the status line and headers (not the body)."""
        assert self._pool is not None, "UpstreamClient.start() was not awaited"
        try:
            return await self._pool.post(
                url, body, {**headers, **self._credentials.headers_for(url)}
            )
        except http1.ConnectFailed as e:
            log.warning("replica unreachable", extra={"upstream": url, "error": str(e)})
            raise UpstreamUnreachable(f"The model replica {replica_id(url)} is unreachable.") from e
        except http1.ReadTimeout as e:
            raise UpstreamTimeout(
                f"The model replica {replica_id(url)} did not answer in time."
            ) from e
        except http1.HttpClientError as e:
            log.warning("replica broke the connection", extra={"upstream": url, "error": str(e)})
            raise UpstreamError(f"The model replica {replica_id(url)} broke the connection.") from e

    async def probe(self, url: str, *, seconds: float) -> bool:
        """Whether ``GET url`` answers 2xx within ``seconds`` (a health check)."""
        assert self._pool is not None, "UpstreamClient.start() was not awaited"
        headers = {"accept": "application/json", **self._credentials.headers_for(url)}
        try:
            async with asyncio.timeout(seconds):
                response = await self._pool.get(url, headers)
                try:
                    await response.read()
                finally:
                    response.release()
        except (http1.HttpClientError, TimeoutError):
            return False
        return 200 <= response.status < 300

    async def read(self, response: UpstreamResponse) -> bytes:
        """A whole (non-streamed) answer, at most ``upstream.max_response_bytes``."""
        try:
            return await response.read(self._settings.max_response_bytes)
        except http1.ResponseTooLarge as e:
            raise UpstreamError(
                "The model replica's answer is larger than this gateway accepts.",
                code="upstream_response_too_large",
            ) from e
        except http1.ReadTimeout as e:
            raise UpstreamTimeout("The model replica stopped answering.") from e
        except http1.HttpClientError as e:
            log.warning("replica broke the connection", extra={"error": str(e)})
            raise UpstreamError("The model replica broke the connection.") from e

    @staticmethod
    def chunks(response: UpstreamResponse) -> AsyncGenerator[bytes, None]:
        """The body as it arrives; transport failures raise :class:`http1.HttpClientError`."""
        return response.chunks()
