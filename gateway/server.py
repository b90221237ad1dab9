"""Running the gateway under uvicorn."""

from __future__ import annotations

import uvicorn

from gateway import jsonlog
from gateway.app import create_app
from gateway.settings import GatewaySettings


def serve(settings: GatewaySettings) -> None:
    """Serve until interrupted (blocking)."""
    jsonlog.configure(settings.log_level)
    config = uvicorn.Config(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        loop="uvloop",
        http="httptools",
        access_log=False,
        log_config=None,
        timeout_graceful_shutdown=10,
    )
    uvicorn.Server(config).run()
