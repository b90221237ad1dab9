"""Running the gateway under uvicorn."""

from __future__ import annotations

import socket

import uvicorn

from gateway import jsonlog
from gateway.app import create_app
from gateway.settings import GatewaySettings


def serve(settings: GatewaySettings) -> None:
    """Serve until interrupted (blocking): one process, one event loop, on the public
    listener and, when ``admin_port`` is set, the admin listener."""
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
    sockets = None
    if settings.admin_port is not None:
        sockets = [listening(settings.host, p) for p in (settings.port, settings.admin_port)]
    uvicorn.Server(config).run(sockets=sockets)


def listening(host: str, port: int) -> socket.socket:
    """A bound TCP socket for ``host:port`` (IPv4 or IPv6, as the host resolves)."""
    family, kind, proto, _, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError:
        sock.close()
        raise
    return sock
