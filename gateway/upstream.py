"""Calls to model replicas over pooled keep-alive connections.

Failures of the transport are translated here, once, into the gateway's errors:
a connection that cannot be made is :class:`UpstreamUnreachable` (502), one
broken later :class:`UpstreamError` (502), a timeout :class:`UpstreamTimeout` (504).
"""

from __future__ import annotations

from collections.abc import Mapping

import aiohttp

from gateway.errors import UpstreamError, UpstreamTimeout, UpstreamUnreachable
from gateway.settings import UpstreamSettings


class UpstreamClient:
    def __init__(self, settings: UpstreamSettings) -> None:
        self._settings = settings
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        connector = aiohttp.TCPConnector(
            limit=self._settings.max_connections,
            keepalive_timeout=self._settings.keepalive_seconds,
            enable_cleanup_closed=True,
        )
        timeout = aiohttp.ClientTimeout(
            total=None,
            sock_connect=self._settings.connect_timeout_seconds,
            sock_read=self._settings.read_timeout_seconds,
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            timeout=timeout,
            auto_decompress=False,
            skip_auto_headers=("User-Agent",),
        )

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def post(
        self, url: str, body: bytes, headers: Mapping[str, str]
    ) -> aiohttp.ClientResponse:
        """Send a request and wait for the status line and headers (not the body)."""
        assert self._session is not None, "UpstreamClient.start() was not awaited"
        try:
            return await self._session.post(url, data=body, headers=dict(headers))
        except TimeoutError as e:
            raise UpstreamTimeout(f"The model replica at {url} did not answer in time.") from e
        except aiohttp.ClientConnectorError as e:
            raise UpstreamUnreachable(f"The model replica at {url} is unreachable: {e}") from e
        except aiohttp.ClientError as e:
            raise UpstreamError(f"The model replica at {url} broke the connection: {e}") from e

    @staticmethod
    async def read(response: aiohttp.ClientResponse) -> bytes:
        try:
            return await response.read()
        except TimeoutError as e:
            raise UpstreamTimeout("The model replica stopped answering.") from e
        except aiohttp.ClientError as e:
            raise UpstreamError(f"The model replica broke the connection: {e}") from e
