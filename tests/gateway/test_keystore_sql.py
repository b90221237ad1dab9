"""The key store on both SQL backends, from an empty database through the migrations."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import sqlalchemy as sa

from gateway import db
from gateway.errors import Conflict, InvalidRequest, NotFound
from gateway.keys.material import KeyHasher
from gateway.keys.store import KeyStore


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, sqlite_url: str) -> str:
    if request.param == "sqlite":
        return sqlite_url
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[KeyStore]:
    await asyncio.to_thread(db.migrate, database_url)
    engine = db.create_engine(database_url)
    store = KeyStore(engine, KeyHasher("a-secret-of-sixteen+"))
    yield store
    async with engine.begin() as conn:
        for table in ("audit_log", "api_keys", "teams"):
            await conn.execute(sa.text(f"DELETE FROM {table}"))
    await engine.dispose()


async def test_migrations_create_the_schema_from_empty(database_url: str) -> None:
    await asyncio.to_thread(db.migrate, database_url)
    await asyncio.to_thread(db.migrate, database_url)  # idempotent
    engine = db.create_engine(database_url)
    async with engine.connect() as conn:
        tables = await conn.run_sync(lambda c: set(sa.inspect(c).get_table_names()))
        version = (await conn.execute(sa.text("SELECT version_num FROM alembic_version"))).scalar()
    await engine.dispose()
    assert {"teams", "api_keys", "audit_log", "request_log", "spend", "feedback"} <= tables
    assert version == "0006"


async def test_store_round_trip(store: KeyStore) -> None:
    created = await store.create_key("t", models=["m"], rpm=10, tpm=100, actor="test")
    await store.update_team("t", tpm=1000, actor="test")
    principal = await store.principal(created.secret)
    assert principal is not None
    assert (principal.team, principal.models, principal.key_rpm, principal.key_tpm) == (
        "t",
        frozenset({"m"}),
        10,
        100,
    )
    assert principal.team_tpm == 1000 and principal.team_rpm is None
    assert await store.principal(created.secret + "x") is None

    await store.update_key(created.record.id, models=None, actor="test")
    principal = await store.principal(created.secret)
    assert principal is not None and principal.models is None

    rotated = await store.rotate_key(created.record.id, actor="test")
    assert await store.principal(created.secret) is None
    assert await store.principal(rotated.secret) is not None
    with pytest.raises(InvalidRequest):
        await store.rotate_key(created.record.id, actor="test")
    with pytest.raises(NotFound):
        await store.revoke_key("key_nope", actor="test")

    actions = [e.action for e in await store.audit_entries()]
    assert actions[0] == "key.rotated" and "team.created" in actions
    timestamps = [e.at for e in await store.audit_entries()]
    assert all(t.tzinfo is not None for t in timestamps)


async def test_concurrent_rotations_leave_one_live_key(store: KeyStore) -> None:
    created = await store.create_key("racers", actor="test")
    results = await asyncio.gather(
        *(store.rotate_key(created.record.id, actor=f"r{i}") for i in range(4)),
        return_exceptions=True,
    )
    rotated = [r for r in results if not isinstance(r, BaseException)]
    assert len(rotated) == 1
    assert all(isinstance(r, InvalidRequest) for r in results if isinstance(r, BaseException))
    live = await store.list_keys(team="racers")
    assert [k.id for k in live] == [rotated[0].record.id]
    assert await store.principal(created.secret) is None
    assert await store.principal(rotated[0].secret) is not None


async def test_concurrent_creations_of_a_team(store: KeyStore) -> None:
    results = await asyncio.gather(
        *(store.create_team("twins", actor="test") for _ in range(3)), return_exceptions=True
    )
    assert sum(not isinstance(r, BaseException) for r in results) == 1
    assert all(isinstance(r, Conflict) for r in results if isinstance(r, BaseException))
    keys = await asyncio.gather(*(store.create_key("fresh", actor="test") for _ in range(3)))
    assert {k.record.team for k in keys} == {"fresh"}
