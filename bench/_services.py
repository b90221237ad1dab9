"""What the benchmarks run beside themselves: the echo replica, Redis, gateways, the CLI.

Every process is started through a :class:`Stack`, in a session of its own, so
that leaving the ``with`` block (normally, on an error, on Ctrl-C or SIGTERM)
stops each of them and whatever it forked.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import yaml

# Our processes read their settings from the files we write, not from the caller's shell.
CLEAN_ENV = {k: v for k, v in os.environ.items() if not k.startswith("LLMOPS_")}

# The replica keeps every request body for tests to inspect; a benchmark sends millions.
_ECHO = """
import asyncio, sys, uvloop
from llmops.serving.echo import EchoServer

async def main():
    server = EchoServer(port=int(sys.argv[1]), model="echo")
    await server.start()
    while True:
        await asyncio.sleep(1)
        server.record.requests.clear()

uvloop.run(main())
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def http_get(url: str, *, timeout: float = 2.0) -> int | None:
    """The status of a GET, or ``None`` when nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            status: int = response.status
            return status
    except urllib.error.HTTPError as e:
        return e.code
    except (OSError, TimeoutError):
        return None


def post_json(url: str, body: Any, *, token: str, timeout: float = 30.0) -> tuple[int, Any]:
    """POST a JSON body; the status and the parsed reply (text when it is not JSON)."""
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        method="POST",
        headers={"content-type": "application/json", "authorization": f"Bearer {token}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as e:
        status, raw = e.code, e.read()
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, raw.decode(errors="replace")


@dataclass
class Service:
    name: str
    proc: subprocess.Popen[bytes]
    log: Path

    def tail(self, lines: int = 25) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def wait_until(self, ready: Callable[[], bool], *, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not ready():
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"{self.name} exited with {self.proc.returncode}:\n{self.tail()}"
                )
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.name} not ready after {timeout:.0f}s:\n{self.tail()}")
            time.sleep(0.1)


class Stack:
    """The processes of one benchmark run, logged under ``workdir``, stopped together."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.services: list[Service] = []
        self._taskset = shutil.which("taskset")

    def __enter__(self) -> Stack:
        # Ctrl-C even where the shell started us with SIGINT ignored; SIGTERM unwinds too.
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(
        self,
        name: str,
        argv: Sequence[str],
        *,
        env: dict[str, str] | None = None,
        cpus: Sequence[int] = (),
    ) -> Service:
        if cpus and self._taskset:
            argv = [self._taskset, "-c", ",".join(map(str, cpus)), *argv]
        log = self.workdir / f"{name}.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(
                list(argv),
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env if env is not None else CLEAN_ENV,
                cwd=self.workdir,
                start_new_session=True,
            )
        service = Service(name, proc, log)
        self.services.append(service)
        return service

    def report_logs(self, prefix: str) -> None:
        """What the services named ``prefix*`` logged (warnings and errors only), grouped."""
        for service in self.services:
            if service.name.startswith(prefix):
                seen = Counter(_gist(line) for line in service.log.read_text().splitlines() if line)
                for gist, count in seen.most_common():
                    print(f"{service.name} logged {count} x {gist}")
                if not seen:
                    print(f"{service.name} logged no warning or error")

    def stop(self) -> None:
        for service in reversed(self.services):
            _signal_group(service.proc, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for service in reversed(self.services):
            try:
                service.proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _signal_group(service.proc, signal.SIGKILL)
                service.proc.wait(5)
            _signal_group(service.proc, signal.SIGKILL)  # anything it forked and left behind
        self.services.clear()


def _gist(line: str) -> str:
    """A JSON log line as its level, message and the exception's last line."""
    try:
        entry = json.loads(line)
    except ValueError:
        return line[:200]
    exc = (entry.get("exc") or "").strip().splitlines()
    return f"{entry.get('level')}: {entry.get('msg', '').strip()}" + (
        f" ({exc[-1]})" if exc else ""
    )


def _signal_group(proc: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    # Each service leads its own session, so its group id is its pid.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, sig)


def split_cpus(pin: bool) -> tuple[list[int], list[int]]:
    """CPUs for the proxy under test, and for everything else (nothing pinned: both empty)."""
    cpus = sorted(os.sched_getaffinity(0))
    if not pin or len(cpus) < 2:
        return [], []
    return cpus[-1:], cpus[:-1]


def start_echo(stack: Stack, *, cpus: Sequence[int] = ()) -> str:
    """The echo replica in its own process; its OpenAI base URL (ends in ``/v1``)."""
    port = free_port()
    echo_on(stack, port, cpus=cpus)
    return f"http://127.0.0.1:{port}/v1"


def echo_on(stack: Stack, port: int, *, name: str = "echo", cpus: Sequence[int] = ()) -> Service:
    """The echo replica on ``port`` (again, after it was stopped), ready."""
    service = stack.start(name, [sys.executable, "-c", _ECHO, str(port)], cpus=cpus)
    service.wait_until(lambda: http_get(f"http://127.0.0.1:{port}/health") == 200, timeout=30)
    return service


def start_redis(stack: Stack, *, cpus: Sequence[int] = ()) -> str:
    port = free_port()
    redis_on(stack, port, cpus=cpus)
    return f"redis://127.0.0.1:{port}/0"


def redis_on(stack: Stack, port: int, *, cpus: Sequence[int] = ()) -> Service:
    """A redis-server without persistence on ``port`` (again, after it was stopped), ready."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("redis-server is not installed")
    argv = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    service = stack.start("redis", argv, cpus=cpus)
    service.wait_until(lambda: _listens(port), timeout=15)
    return service


def _listens(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), 0.2).close()
    except OSError:
        return False
    return True


def write_gateway_config(
    workdir: Path, *, echo_url: str, redis_url: str, migrate_on_start: bool = True
) -> Path:
    """A gateway settings file: SQLite in ``workdir``, shared Redis limits, no access log."""
    settings = {
        "database_url": f"sqlite:///{workdir / 'gateway.db'}",
        "redis_url": redis_url,
        "key_hash_secret": "bench-key-hash-secret-" + secrets.token_hex(8),
        "migrate_on_start": migrate_on_start,
        "access_log": False,
        "log_level": "warning",
        "models": [{"name": "echo", "upstreams": [echo_url]}],
    }
    path = workdir / "gateway.yaml"
    path.write_text(yaml.safe_dump(settings))
    return path


def llmops(config: Path, *args: str) -> str:
    """Run an ``llmops`` command against ``config``; its standard output."""
    argv = [sys.executable, "-m", "llmops.cli", *args, "--config", str(config)]
    done = subprocess.run(argv, capture_output=True, text=True, env=CLEAN_ENV, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"llmops {' '.join(args)} failed:\n{done.stderr}{done.stdout}")
    return done.stdout


def create_key(config: Path, team: str, *limits: str) -> str:
    """A new key for ``team`` (created if new); ``limits`` as in ``--rpm 10 --tpm 100``."""
    return llmops(config, "keys", "create", "--team", team, *limits).strip().splitlines()[-1]


def start_gateway(
    stack: Stack, config: Path, *, name: str = "gateway", cpus: Sequence[int] = ()
) -> str:
    """``llmops gateway serve`` on a free port, ready; its base URL (no ``/v1``)."""
    port = free_port()
    argv = [sys.executable, "-m", "llmops.cli", "gateway", "serve", "--config", str(config)]
    service = stack.start(name, [*argv, "--port", str(port)], cpus=cpus)
    url = f"http://127.0.0.1:{port}"
    service.wait_until(lambda: http_get(f"{url}/readyz") == 200, timeout=60)
    return url


def write_gateway_config_for(
    workdir: Path, *, models: dict[str, str], redis_url: str | None = None
) -> Path:
    """A gateway settings file routing each model name to its upstream (an OpenAI base URL)."""
    settings: dict[str, Any] = {
        "database_url": f"sqlite:///{workdir / 'gateway.db'}",
        "key_hash_secret": "bench-key-hash-secret-" + secrets.token_hex(8),
        "access_log": False,
        "log_level": "warning",
        "models": [{"name": name, "upstreams": [url]} for name, url in models.items()],
    }
    if redis_url is not None:
        settings["redis_url"] = redis_url
    path = workdir / "gateway.yaml"
    path.write_text(yaml.safe_dump(settings))
    return path
