"""SQL engines for the gateway's stores, and the Alembic migrations that shape them."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

MIGRATIONS = Path(__file__).parent / "migrations"

_ASYNC_DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg"}


def async_url(database_url: str) -> sa.URL:
    """The URL with the async driver we use (``sqlite://`` and ``postgresql://`` both work)."""
    url = make_url(database_url)
    backend = url.get_backend_name()
    if backend not in _ASYNC_DRIVERS:
        raise ValueError(f"unsupported database {backend!r}: use sqlite:// or postgresql://")
    url = url.set(drivername=_ASYNC_DRIVERS[backend])
    if backend == "sqlite" and url.database not in (None, "", ":memory:"):
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    return url


def create_engine(database_url: str, *, timeout_seconds: float = 5.0) -> AsyncEngine:
    """An engine that fails fast: PostgreSQL connections, pooled-connection waits and
    statements (on the server) each time out after ``timeout_seconds``. A database that
    stops answering on an open connection is bounded by its callers' own deadlines
    (the key store's lookups, the request log's writes)."""
    url = async_url(database_url)
    if url.get_backend_name() == "sqlite":
        # Several gateway processes may share one SQLite file: wait on locks instead of failing.
        return create_async_engine(url, connect_args={"timeout": 30}, hide_parameters=True)
    # hide_parameters: an error's text never quotes the rows' values (prompts, answers).
    return create_async_engine(
        url,
        pool_pre_ping=True,
        pool_size=10,
        max_overflow=20,
        pool_timeout=timeout_seconds,
        hide_parameters=True,
        connect_args={
            "timeout": timeout_seconds,
            "server_settings": {"statement_timeout": str(int(timeout_seconds * 1000))},
        },
    )


async def without_statement_timeout(conn: AsyncConnection) -> None:
    """For long maintenance in this transaction (pruning): PostgreSQL's statement timeout
    lifted until it ends."""
    if conn.dialect.name == "postgresql":
        await conn.execute(sa.text("SET LOCAL statement_timeout = 0"))


def migrate(database_url: str, revision: str = "head") -> None:
    """Bring the database's schema to ``revision`` (blocking: call it from a thread)."""
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["database_url"] = async_url(database_url)
    command.upgrade(config, revision)
