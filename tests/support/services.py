"""Real Redis and PostgreSQL servers for tests: the machine's own when it runs them, else ours.

Each test session gets a private Redis (started on a free port) and a private
PostgreSQL database (on the local server when one answers, else in a cluster
started with initdb as an unprivileged user).
"""

from __future__ import annotations

import asyncio
import contextlib
import glob
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import asyncpg


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait_for_port(port: int, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on port {port} after {timeout}s")


@contextlib.contextmanager
def redis_server() -> Iterator[str]:
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("redis-server is not installed")
    port = free_port()
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(10)


async def _try_create_database(dsn: str, name: str) -> bool:
    try:
        conn = await asyncpg.connect(dsn, timeout=2)
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return False
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return True


async def _drop_database(dsn: str, name: str) -> None:
    conn = await asyncpg.connect(dsn, timeout=5)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


def _pg_bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}")) or [shutil.which(name) or ""]
    if not found[-1]:
        raise RuntimeError(f"PostgreSQL's {name} is not installed")
    return found[-1]


@contextlib.contextmanager
def _own_postgres() -> Iterator[str]:
    """A throwaway cluster; initdb refuses root, so it runs as the postgres (or nobody) user."""
    user = "postgres" if _has_user("postgres") else "nobody"
    workdir = Path(tempfile.mkdtemp(prefix="llmops-pg-"))
    data, sock = workdir / "data", workdir / "sock"
    sock.mkdir()
    entry = pwd.getpwnam(user)
    if os.geteuid() == 0:
        for path in (workdir, sock):
            os.chown(path, entry.pw_uid, entry.pw_gid)
    as_user = ["runuser", "-u", user, "--"] if os.geteuid() == 0 else []
    port = free_port()
    subprocess.run(
        [*as_user, _pg_bin("initdb"), "-D", str(data), "-U", "postgres", "-A", "trust"],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    options = f"-p {port} -k {sock} -c listen_addresses=127.0.0.1 -c fsync=off"
    pg_ctl = [*as_user, _pg_bin("pg_ctl"), "-D", str(data), "-l", str(workdir / "log")]
    subprocess.run([*pg_ctl, "-o", options, "-w", "start"], check=True, stdout=subprocess.DEVNULL)
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*pg_ctl, "-m", "immediate", "stop"], check=False, stdout=subprocess.DEVNULL)
        shutil.rmtree(workdir, ignore_errors=True)


def _has_user(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


@contextlib.contextmanager
def postgres_database(admin_dsn: str | None = None) -> Iterator[str]:
    """A fresh, empty database; its URL is ``postgresql://...``."""
    name = f"llmops_test_{secrets.token_hex(4)}"
    dsn = admin_dsn or os.environ.get(
        "LLMOPS_TEST_POSTGRES_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres"
    )
    with contextlib.ExitStack() as stack:
        if not asyncio.run(_try_create_database(dsn, name)):
            dsn = stack.enter_context(_own_postgres())
            assert asyncio.run(_try_create_database(dsn, name))
        try:
            yield dsn.rsplit("/", 1)[0] + f"/{name}"
        finally:
            asyncio.run(_drop_database(dsn, name))
