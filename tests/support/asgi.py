"""An ASGI app served by uvicorn in a thread of the test process, on a free port."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import uvicorn
from starlette.types import ASGIApp

from tests.support.services import free_port


@contextlib.contextmanager
def uvicorn_in_thread(
    app: ASGIApp, *, name: str, sockets: list[socket.socket] | None = None, **options: Any
) -> Iterator[str]:
    """``app`` in uvicorn (``options`` go to its config), started; its base URL (no ``/v1``).
    With ``sockets``, it listens on them (the first one's is the URL), else on a free port."""
    port = sockets[0].getsockname()[1] if sockets else free_port()
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        access_log=False,
        log_config=None,
        lifespan="on",
        **options,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, args=(sockets,), name=name, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"the {name} did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(20)
