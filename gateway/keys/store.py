"""The key store: teams, API keys and the audit trail of every admin action, in SQL."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gateway.errors import Conflict, InvalidRequest, NotFound, ServiceUnavailable
from gateway.keys import material
from gateway.keys.tables import api_keys, audit_log, teams


class Unset:
    """Marks an update field the caller did not give (``None`` clears a limit)."""


UNSET = Unset()

MAX_LIMIT = 2**31 - 1
"""The largest requests or tokens per minute a limit may hold (a SQL ``INTEGER``)."""


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a valid key speaks for, and the limits that hold them."""

    key_id: str
    team: str
    models: frozenset[str] | None
    key_rpm: int | None
    key_tpm: int | None
    team_rpm: int | None
    team_tpm: int | None

    def may_use(self, model: str) -> bool:
        return self.models is None or model in self.models


@dataclass(frozen=True, slots=True)
class Team:
    name: str
    rpm: int | None
    tpm: int | None
    created_at: dt.datetime


@dataclass(frozen=True, slots=True)
class KeyRecord:
    id: str
    team: str
    name: str | None
    prefix: str
    models: list[str] | None
    rpm: int | None
    tpm: int | None
    created_at: dt.datetime
    revoked_at: dt.datetime | None
    rotated_from: str | None


@dataclass(frozen=True, slots=True)
class CreatedKey:
    """A new key: the only moment its secret exists outside the caller's hands."""

    secret: str
    record: KeyRecord


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    at: dt.datetime
    actor: str
    action: str
    target: str
    details: dict[str, Any]


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    # SQLite hands timestamps back without a zone; they were written in UTC.
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=dt.UTC)


def _validate_limit(name: str, value: int | Unset | None) -> None:
    if isinstance(value, int) and not 1 <= value <= MAX_LIMIT:
        raise InvalidRequest(f"{name} must be an integer from 1 to {MAX_LIMIT}", param=name)


def _validate_models(models: Sequence[str] | Unset | None) -> None:
    if isinstance(models, Unset) or models is None:
        return
    if not models or any(not m for m in models):
        raise InvalidRequest("models must be a non-empty list of model names", param="models")


_KEY_COLUMNS = (
    api_keys.c.id,
    teams.c.name.label("team"),
    api_keys.c.name,
    api_keys.c.prefix,
    api_keys.c.models,
    api_keys.c.rpm,
    api_keys.c.tpm,
    api_keys.c.created_at,
    api_keys.c.revoked_at,
    api_keys.c.rotated_from,
)


def _team(row: Any) -> Team:
    return Team(name=row.name, rpm=row.rpm, tpm=row.tpm, created_at=_utc(row.created_at) or _now())


def _key_record(row: Any) -> KeyRecord:
    return KeyRecord(
        id=row.id,
        team=row.team,
        name=row.name,
        prefix=row.prefix,
        models=row.models,
        rpm=row.rpm,
        tpm=row.tpm,
        created_at=_utc(row.created_at) or _now(),
        revoked_at=_utc(row.revoked_at),
        rotated_from=row.rotated_from,
    )


class KeyStore:
    """Teams and keys over an async SQLAlchemy engine (SQLite or PostgreSQL)."""

    def __init__(
        self, engine: AsyncEngine, hasher: material.KeyHasher, *, timeout_seconds: float = 5.0
    ) -> None:
        self._engine = engine
        self._hasher = hasher
        self._timeout = timeout_seconds
        """A key's lookup waits this long at most (a blackholed database fails it)."""

    async def ping(self) -> None:
        async with self._engine.connect() as conn:
            await conn.execute(sa.text("SELECT 1"))

    # -- teams ---------------------------------------------------------------------------

    async def create_team(
        self, name: str, *, rpm: int | None = None, tpm: int | None = None, actor: str
    ) -> Team:
        if not name or len(name) > 128:
            raise InvalidRequest("team must be 1 to 128 characters", param="team")
        _validate_limit("rpm", rpm)
        _validate_limit("tpm", tpm)
        try:
            async with self._engine.begin() as conn:
                if await self._team_id(conn, name) is not None:
                    raise Conflict(f"team {name!r} already exists", param="name")
                await self._insert_team(conn, name, rpm, tpm, actor)
        except sa.exc.IntegrityError as e:  # created meanwhile by another replica
            raise Conflict(f"team {name!r} already exists", param="name") from e
        return Team(name=name, rpm=rpm, tpm=tpm, created_at=_now())

    async def update_team(
        self,
        name: str,
        *,
        rpm: int | Unset | None = UNSET,
        tpm: int | Unset | None = UNSET,
        actor: str,
    ) -> Team:
        _validate_limit("rpm", rpm)
        _validate_limit("tpm", tpm)
        changes = {k: v for k, v in (("rpm", rpm), ("tpm", tpm)) if not isinstance(v, Unset)}
        async with self._engine.begin() as conn:
            team_id = await self._team_id(conn, name)
            if team_id is None:
                raise NotFound(f"team {name!r} does not exist", param="team")
            if changes:
                await conn.execute(teams.update().where(teams.c.id == team_id).values(**changes))
                await self._audit(conn, actor, "team.limits_changed", name, changes)
            row = (await conn.execute(sa.select(teams).where(teams.c.id == team_id))).one()
        return _team(row)

    async def list_teams(self) -> list[Team]:
        async with self._engine.connect() as conn:
            rows = (await conn.execute(sa.select(teams).order_by(teams.c.name))).all()
        return [_team(r) for r in rows]

    # -- keys ----------------------------------------------------------------------------

    async def create_key(
        self,
        team: str,
        *,
        models: Sequence[str] | None = None,
        rpm: int | None = None,
        tpm: int | None = None,
        name: str | None = None,
        actor: str,
    ) -> CreatedKey:
        """A new key for ``team`` (created on first use); its secret is returned only here."""
        _validate_limit("rpm", rpm)
        _validate_limit("tpm", tpm)
        _validate_models(models)
        try:
            return await self._create_key(team, models, rpm, tpm, name=name, actor=actor)
        except sa.exc.IntegrityError:
            # Another replica created the team at the same moment: it exists now.
            return await self._create_key(team, models, rpm, tpm, name=name, actor=actor)

    async def _create_key(
        self,
        team: str,
        models: Sequence[str] | None,
        rpm: int | None,
        tpm: int | None,
        *,
        name: str | None,
        actor: str,
    ) -> CreatedKey:
        async with self._engine.begin() as conn:
            team_id = await self._team_id(conn, team)
            if team_id is None:
                team_id = await self._insert_team(conn, team, None, None, actor)
            created = await self._insert_key(
                conn,
                team_id=team_id,
                team=team,
                models=list(models) if models else None,
                rpm=rpm,
                tpm=tpm,
                name=name,
                rotated_from=None,
            )
            await self._audit(
                conn,
                actor,
                "key.created",
                created.record.id,
                {"team": team, "models": created.record.models, "rpm": rpm, "tpm": tpm},
            )
        return created

    async def list_keys(
        self, *, team: str | None = None, include_revoked: bool = False
    ) -> list[KeyRecord]:
        query = sa.select(*_KEY_COLUMNS).join(teams, teams.c.id == api_keys.c.team_id)
        if team is not None:
            query = query.where(teams.c.name == team)
        if not include_revoked:
            query = query.where(api_keys.c.revoked_at.is_(None))
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query.order_by(api_keys.c.created_at, api_keys.c.id))).all()
        return [_key_record(r) for r in rows]

    async def get_key(self, key_id: str) -> KeyRecord:
        async with self._engine.connect() as conn:
            return await self._key(conn, key_id)

    async def revoke_key(self, key_id: str, *, actor: str) -> KeyRecord:
        async with self._engine.begin() as conn:
            record = await self._key(conn, key_id)
            if await self._revoke(conn, key_id):
                await self._audit(conn, actor, "key.revoked", key_id, {"team": record.team})
            return await self._key(conn, key_id)

    @staticmethod
    async def _revoke(conn: AsyncConnection, key_id: str) -> bool:
        """Revoke a live key; ``False`` if it was revoked already (perhaps a moment ago)."""
        result = await conn.execute(
            api_keys.update()
            .where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None))
            .values(revoked_at=_now())
        )
        return result.rowcount == 1

    async def rotate_key(self, key_id: str, *, actor: str) -> CreatedKey:
        """A new secret with the old key's team, models and limits; the old key is revoked."""
        async with self._engine.begin() as conn:
            old = await self._key(conn, key_id)
            # Revoking first, only if still live, makes concurrent rotations of one key
            # yield one new key: the loser's transaction rolls back.
            if not await self._revoke(conn, key_id):
                raise InvalidRequest(
                    f"key {key_id} is revoked and cannot be rotated", param="key_id"
                )
            team_id = await self._team_id(conn, old.team)
            assert team_id is not None  # a key's team cannot vanish: foreign key
            created = await self._insert_key(
                conn,
                team_id=team_id,
                team=old.team,
                models=old.models,
                rpm=old.rpm,
                tpm=old.tpm,
                name=old.name,
                rotated_from=old.id,
            )
            await self._audit(
                conn,
                actor,
                "key.rotated",
                key_id,
                {"team": old.team, "new_key_id": created.record.id},
            )
        return created

    async def update_key(
        self,
        key_id: str,
        *,
        models: Sequence[str] | Unset | None = UNSET,
        rpm: int | Unset | None = UNSET,
        tpm: int | Unset | None = UNSET,
        actor: str,
    ) -> KeyRecord:
        _validate_limit("rpm", rpm)
        _validate_limit("tpm", tpm)
        _validate_models(models)
        changes: dict[str, Any] = {
            k: v for k, v in (("rpm", rpm), ("tpm", tpm)) if not isinstance(v, Unset)
        }
        if not isinstance(models, Unset):
            changes["models"] = list(models) if models is not None else None
        async with self._engine.begin() as conn:
            await self._key(conn, key_id)
            if changes:
                await conn.execute(
                    api_keys.update().where(api_keys.c.id == key_id).values(**changes)
                )
                await self._audit(conn, actor, "key.limits_changed", key_id, changes)
            return await self._key(conn, key_id)

    async def principal(self, secret: str) -> Principal | None:
        """Who ``secret`` speaks for, or ``None`` when it is unknown or revoked."""
        digest = self._hasher.digest(secret)
        query = (
            sa.select(
                api_keys.c.id,
                api_keys.c.key_hash,
                api_keys.c.models,
                api_keys.c.rpm,
                api_keys.c.tpm,
                api_keys.c.revoked_at,
                teams.c.name.label("team"),
                teams.c.rpm.label("team_rpm"),
                teams.c.tpm.label("team_tpm"),
            )
            .join(teams, teams.c.id == api_keys.c.team_id)
            .where(api_keys.c.key_hash == digest)
        )
        try:
            async with asyncio.timeout(self._timeout):
                async with self._engine.connect() as conn:
                    row = (await conn.execute(query)).first()
        except (sa.exc.OperationalError, sa.exc.InterfaceError, OSError, TimeoutError) as e:
            raise ServiceUnavailable("The key store is unreachable.", code="key_store_down") from e
        if row is None or row.revoked_at is not None:
            return None
        if not material.KeyHasher.matches(row.key_hash, digest):
            return None
        return Principal(
            key_id=row.id,
            team=row.team,
            models=frozenset(row.models) if row.models is not None else None,
            key_rpm=row.rpm,
            key_tpm=row.tpm,
            team_rpm=row.team_rpm,
            team_tpm=row.team_tpm,
        )

    # -- audit ---------------------------------------------------------------------------

    async def audit_entries(self, *, limit: int = 100, offset: int = 0) -> list[AuditEntry]:
        query = sa.select(audit_log).order_by(audit_log.c.id.desc()).limit(limit).offset(offset)
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [
            AuditEntry(
                id=r.id,
                at=_utc(r.at) or _now(),
                actor=r.actor,
                action=r.action,
                target=r.target,
                details=r.details,
            )
            for r in rows
        ]

    # -- internals -----------------------------------------------------------------------

    async def _team_id(self, conn: AsyncConnection, name: str) -> int | None:
        return (await conn.execute(sa.select(teams.c.id).where(teams.c.name == name))).scalar()

    async def _insert_team(
        self, conn: AsyncConnection, name: str, rpm: int | None, tpm: int | None, actor: str
    ) -> int:
        result = await conn.execute(
            teams.insert().values(name=name, rpm=rpm, tpm=tpm, created_at=_now())
        )
        await self._audit(conn, actor, "team.created", name, {"rpm": rpm, "tpm": tpm})
        team_id = result.inserted_primary_key[0] if result.inserted_primary_key else None
        assert isinstance(team_id, int)
        return team_id

    async def _insert_key(
        self,
        conn: AsyncConnection,
        *,
        team_id: int,
        team: str,
        models: list[str] | None,
        rpm: int | None,
        tpm: int | None,
        name: str | None,
        rotated_from: str | None,
    ) -> CreatedKey:
        secret = material.generate()
        record = KeyRecord(
            id=material.new_key_id(),
            team=team,
            name=name,
            prefix=material.display_prefix(secret),
            models=models,
            rpm=rpm,
            tpm=tpm,
            created_at=_now(),
            revoked_at=None,
            rotated_from=rotated_from,
        )
        await conn.execute(
            api_keys.insert().values(
                id=record.id,
                team_id=team_id,
                name=name,
                prefix=record.prefix,
                key_hash=self._hasher.digest(secret),
                models=models,
                rpm=rpm,
                tpm=tpm,
                created_at=record.created_at,
                rotated_from=rotated_from,
            )
        )
        return CreatedKey(secret=secret, record=record)

    async def _key(self, conn: AsyncConnection, key_id: str) -> KeyRecord:
        query = (
            sa.select(*_KEY_COLUMNS)
            .join(teams, teams.c.id == api_keys.c.team_id)
            .where(api_keys.c.id == key_id)
        )
        row = (await conn.execute(query)).first()
        if row is None:
            raise NotFound(f"key {key_id!r} does not exist", param="key_id")
        return _key_record(row)

    async def _audit(
        self, conn: AsyncConnection, actor: str, action: str, target: str, details: dict[str, Any]
    ) -> None:
        await conn.execute(
            audit_log.insert().values(
                at=_now(), actor=actor, action=action, target=target, details=details
            )
        )
