"""Which model version an alias names, asked of the MLflow registry's REST API."""

from __future__ import annotations

from typing import Protocol

import aiohttp

from operators.errors import ResolveError


class VersionResolver(Protocol):
    async def resolve(self, model: str, alias: str) -> str:
        """The version ``alias`` names; raises :class:`ResolveError`."""
        ...


class MlflowResolver:
    """``GET /api/2.0/mlflow/registered-models/alias`` on the tracking server."""

    def __init__(self, tracking_uri: str, *, timeout_seconds: float = 10.0) -> None:
        self._base = tracking_uri.rstrip("/")
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        self._session: aiohttp.ClientSession | None = None

    async def open(self) -> None:
        self._session = aiohttp.ClientSession(timeout=self._timeout)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def resolve(self, model: str, alias: str) -> str:
        assert self._session is not None, "MlflowResolver.open() first"
        url = f"{self._base}/api/2.0/mlflow/registered-models/alias"
        try:
            async with self._session.get(url, params={"name": model, "alias": alias}) as response:
                body = await response.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as e:
            raise ResolveError(f"the registry at {self._base} is unreachable: {e}") from e
        if response.status == 404 or (body or {}).get("error_code") == "RESOURCE_DOES_NOT_EXIST":
            raise ResolveError(f"model {model!r} has no alias {alias!r} in the registry")
        if response.status >= 400:
            raise ResolveError(
                f"the registry answered {response.status} for {model}@{alias}: "
                f"{(body or {}).get('message', '')}"
            )
        try:
            return str(body["model_version"]["version"])
        except (KeyError, TypeError) as e:
            raise ResolveError(f"unexpected registry answer for {model}@{alias}") from e
