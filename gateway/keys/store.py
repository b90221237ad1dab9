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
from gateway.keys.records import (
    MAX_LIFETIME,
    MAX_LIMIT,
    UNSET,
    AuditEntry,
    Budget,
    CreatedKey,
    KeyRecord,
    Principal,
    Team,
    Unset,
    key_record_of,
    now,
    team_of,
    utc,
    utc_expiry,
    validate_budget,
    validate_limit,
    validate_models,
)
from gateway.keys.tables import api_keys, audit_log, teams

__all__ = [
    "MAX_LIMIT",
    "UNSET",
    "AuditEntry",
    "Budget",
    "CreatedKey",
    "KeyRecord",
    "KeyStore",
    "Principal",
    "Team",
    "Unset",
]

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
    api_keys.c.expires_at,
    api_keys.c.rotated_at,
    api_keys.c.lineage,
    api_keys.c.budget_nanos,
    api_keys.c.budget_period,
)


@dataclass(frozen=True, slots=True)
class _KeySpec:
    """What a new key is made with."""

    models: list[str] | None
    rpm: int | None
    tpm: int | None
    name: str | None
    expires_at: dt.datetime | None = None
    budget: Budget | None = None
    rotated_from: str | None = None
    lineage: str | None = None


def _budget_values(budget: Budget | None) -> dict[str, Any]:
    return {
        "budget_nanos": budget.nanos if budget else None,
        "budget_period": budget.period.value if budget else None,
    }


class KeyStore:
    """Teams and keys over an async SQLAlchemy engine (SQLite or PostgreSQL)."""

    def __init__(
        self, engine: AsyncEngine, hasher: material.KeyHasher, *, timeout_seconds: float = 5.0
    ) -> None:
        self._engine = engine
        self._hasher = hasher
        self._timeout = timeout_seconds
        """A key's lookup waits this long at most (a blackholed database fails it)."""

    @property
    def engine(self) -> AsyncEngine:
        return self._engine

    async def ping(self) -> None:
        async with self._engine.connect() as conn:
            await conn.execute(sa.text("SELECT 1"))

    # -- teams ---------------------------------------------------------------------------

    async def create_team(
        self, name: str, *, rpm: int | None = None, tpm: int | None = None, actor: str
    ) -> Team:
        if not name or len(name) > 128:
            raise InvalidRequest("team must be 1 to 128 characters", param="team")
        validate_limit("rpm", rpm)
        validate_limit("tpm", tpm)
        try:
            async with self._engine.begin() as conn:
                if await self._team_id(conn, name) is not None:
                    raise Conflict(f"team {name!r} already exists", param="name")
                await self._insert_team(conn, name, rpm, tpm, actor)
        except sa.exc.IntegrityError as e:  # created meanwhile by another replica
            raise Conflict(f"team {name!r} already exists", param="name") from e
        return Team(name=name, rpm=rpm, tpm=tpm, created_at=now())

    async def update_team(
        self,
        name: str,
        *,
        rpm: int | Unset | None = UNSET,
        tpm: int | Unset | None = UNSET,
        actor: str,
    ) -> Team:
        validate_limit("rpm", rpm)
        validate_limit("tpm", tpm)
        changes = {k: v for k, v in (("rpm", rpm), ("tpm", tpm)) if not isinstance(v, Unset)}
        async with self._engine.begin() as conn:
            team_id = await self._team_id(conn, name)
            if team_id is None:
                raise NotFound(f"team {name!r} does not exist", param="team")
            if changes:
                await conn.execute(teams.update().where(teams.c.id == team_id).values(**changes))
                await self._audit(conn, actor, "team.limits_changed", name, changes)
            row = (await conn.execute(sa.select(teams).where(teams.c.id == team_id))).one()
        return team_of(row)

    async def list_teams(self) -> list[Team]:
        async with self._engine.connect() as conn:
            rows = (await conn.execute(sa.select(teams).order_by(teams.c.name))).all()
        return [team_of(r) for r in rows]

    # -- keys ----------------------------------------------------------------------------

    async def create_key(
        self,
        team: str,
        *,
        models: Sequence[str] | None = None,
        rpm: int | None = None,
        tpm: int | None = None,
        name: str | None = None,
        expires_at: dt.datetime | None = None,
        budget: Budget | None = None,
        actor: str,
    ) -> CreatedKey:
        """A new key for ``team`` (created on first use); its secret is returned only here."""
        validate_limit("rpm", rpm)
        validate_limit("tpm", tpm)
        validate_models(models)
        expires_at = utc_expiry(expires_at)
        validate_budget(budget)
        spec = _KeySpec(
            models=list(models) if models else None,
            rpm=rpm,
            tpm=tpm,
            name=name,
            expires_at=expires_at,
            budget=budget,
        )
        try:
            return await self._create_key(team, spec, actor=actor)
        except sa.exc.IntegrityError:
            # Another replica created the team at the same moment: it exists now.
            return await self._create_key(team, spec, actor=actor)

    async def _create_key(self, team: str, spec: _KeySpec, *, actor: str) -> CreatedKey:
        async with self._engine.begin() as conn:
            team_id = await self._team_id(conn, team)
            if team_id is None:
                team_id = await self._insert_team(conn, team, None, None, actor)
            created = await self._insert_key(conn, team_id=team_id, team=team, spec=spec)
            details: dict[str, Any] = {
                "team": team,
                "models": spec.models,
                "rpm": spec.rpm,
                "tpm": spec.tpm,
            }
            if spec.expires_at is not None:
                details["expires_at"] = spec.expires_at.isoformat()
            if spec.budget is not None:
                details["budget"] = spec.budget.json()
            await self._audit(conn, actor, "key.created", created.record.id, details)
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
        return [key_record_of(r) for r in rows]

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
            .values(revoked_at=now())
        )
        return result.rowcount == 1

    async def rotate_key(
        self,
        key_id: str,
        *,
        grace: dt.timedelta = dt.timedelta(0),
        expires_at: dt.datetime | Unset | None = UNSET,
        actor: str,
    ) -> CreatedKey:
        """A new secret with the old key's team, models, limits and budget. The old key
        is revoked, or with a ``grace`` period works until it ends (then expires). The new
        key expires at ``expires_at``; when not given, after the old key's lifetime (if it
        had one) from now."""
        if grace < dt.timedelta(0):
            raise InvalidRequest("grace must not be negative", param="grace_seconds")
        if not isinstance(expires_at, Unset):
            expires_at = utc_expiry(expires_at)
        at = now()
        async with self._engine.begin() as conn:
            old = await self._key(conn, key_id)
            # Changing the old key only if it is still live and not rotated yet makes
            # concurrent rotations of one key yield one new key: the loser's
            # transaction rolls back.
            if not await self._retire(conn, old, at, grace):
                raise InvalidRequest(
                    f"key {key_id} is revoked, expired or rotated already, and cannot be rotated",
                    param="key_id",
                )
            team_id = await self._team_id(conn, old.team)
            assert team_id is not None  # a key's team cannot vanish: foreign key
            if isinstance(expires_at, Unset):
                lifetime = old.expires_at - old.created_at if old.expires_at else None
                expires_at = at + min(lifetime, MAX_LIFETIME) if lifetime is not None else None
            spec = _KeySpec(
                models=old.models,
                rpm=old.rpm,
                tpm=old.tpm,
                name=old.name,
                expires_at=expires_at,
                budget=old.budget,
                rotated_from=old.id,
                lineage=old.lineage or old.id,
            )
            created = await self._insert_key(conn, team_id=team_id, team=old.team, spec=spec)
            details: dict[str, Any] = {"team": old.team, "new_key_id": created.record.id}
            if grace:
                details["grace_seconds"] = grace.total_seconds()
            await self._audit(conn, actor, "key.rotated", key_id, details)
        return created

    @staticmethod
    async def _retire(
        conn: AsyncConnection, old: KeyRecord, at: dt.datetime, grace: dt.timedelta
    ) -> bool:
        """Revoke the rotated key, or let it expire after ``grace``; ``False`` when it is
        not live, or was rotated already."""
        live = (
            api_keys.c.id == old.id,
            api_keys.c.revoked_at.is_(None),
            api_keys.c.rotated_at.is_(None),
            sa.or_(api_keys.c.expires_at.is_(None), api_keys.c.expires_at > at),
        )
        if not grace:
            values: dict[str, Any] = {"revoked_at": at, "rotated_at": at}
        else:
            ends = at + grace
            if old.expires_at is not None:
                ends = min(ends, old.expires_at)
            values = {"rotated_at": at, "expires_at": ends}
        result = await conn.execute(api_keys.update().where(*live).values(**values))
        return result.rowcount == 1

    async def set_key_budget(self, key_id: str, budget: Budget | None, *, actor: str) -> KeyRecord:
        """Set or clear (``None``) a key's budget; it holds over the key's rotations."""
        validate_budget(budget)
        async with self._engine.begin() as conn:
            record = await self._key(conn, key_id)
            lineage = record.lineage or record.id
            # Every key of the lineage (one in its grace period, the live one) holds it.
            await conn.execute(
                api_keys.update()
                .where(sa.or_(api_keys.c.id == lineage, api_keys.c.lineage == lineage))
                .values(**_budget_values(budget))
            )
            await self._audit(
                conn,
                actor,
                "key.budget_set" if budget else "key.budget_cleared",
                key_id,
                {"budget": budget.json() if budget else None},
            )
            return await self._key(conn, key_id)

    async def set_team_budget(self, name: str, budget: Budget | None, *, actor: str) -> Team:
        """Set or clear (``None``) a team's budget (the team is created if new)."""
        validate_budget(budget)
        try:
            return await self._set_team_budget(name, budget, actor)
        except sa.exc.IntegrityError:  # the team was created meanwhile by another replica
            return await self._set_team_budget(name, budget, actor)

    async def _set_team_budget(self, name: str, budget: Budget | None, actor: str) -> Team:
        if not name or len(name) > 128:
            raise InvalidRequest("team must be 1 to 128 characters", param="team")
        async with self._engine.begin() as conn:
            team_id = await self._team_id(conn, name)
            if team_id is None:
                team_id = await self._insert_team(conn, name, None, None, actor)
            await conn.execute(
                teams.update().where(teams.c.id == team_id).values(**_budget_values(budget))
            )
            await self._audit(
                conn,
                actor,
                "team.budget_set" if budget else "team.budget_cleared",
                name,
                {"budget": budget.json() if budget else None},
            )
            row = (await conn.execute(sa.select(teams).where(teams.c.id == team_id))).one()
        return team_of(row)

    async def update_key(
        self,
        key_id: str,
        *,
        models: Sequence[str] | Unset | None = UNSET,
        rpm: int | Unset | None = UNSET,
        tpm: int | Unset | None = UNSET,
        actor: str,
    ) -> KeyRecord:
        validate_limit("rpm", rpm)
        validate_limit("tpm", tpm)
        validate_models(models)
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
        """Who ``secret`` speaks for, or ``None`` when it is unknown or revoked (an expired
        key's principal says when it expired: :meth:`Principal.expired`)."""
        digest = self._hasher.digest(secret)
        query = (
            sa.select(
                api_keys.c.id,
                api_keys.c.key_hash,
                api_keys.c.models,
                api_keys.c.rpm,
                api_keys.c.tpm,
                api_keys.c.revoked_at,
                api_keys.c.expires_at,
                api_keys.c.lineage,
                api_keys.c.budget_nanos,
                api_keys.c.budget_period,
                teams.c.name.label("team"),
                teams.c.rpm.label("team_rpm"),
                teams.c.tpm.label("team_tpm"),
                teams.c.budget_nanos.label("team_budget_nanos"),
                teams.c.budget_period.label("team_budget_period"),
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
            key_lineage=row.lineage or row.id,
            key_budget=Budget.of_row(row.budget_nanos, row.budget_period),
            team_budget=Budget.of_row(row.team_budget_nanos, row.team_budget_period),
            expires_at=utc(row.expires_at),
        )

    # -- audit ---------------------------------------------------------------------------

    async def audit_entries(self, *, limit: int = 100, offset: int = 0) -> list[AuditEntry]:
        query = sa.select(audit_log).order_by(audit_log.c.id.desc()).limit(limit).offset(offset)
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [
            AuditEntry(
                id=r.id,
                at=utc(r.at) or now(),
                actor=r.actor,
                action=r.action,
                target=r.target,
                details=r.details,
            )
            for r in rows
        ]

    async def record_read(
        self, actor: str, action: str, target: str, details: dict[str, Any]
    ) -> None:
        """Record in the audit trail that ``actor`` read something sensitive (spend)."""
        async with self._engine.begin() as conn:
            await self._audit(conn, actor, action, target, details)

    async def record_many(
        self, actor: str, entries: Sequence[tuple[str, str, dict[str, Any]]]
    ) -> None:
        """Record ``(action, target, details)`` entries for ``actor`` in one transaction."""
        async with self._engine.begin() as conn:
            for action, target, details in entries:
                await self._audit(conn, actor, action, target, details)

    # -- internals -----------------------------------------------------------------------

    async def _team_id(self, conn: AsyncConnection, name: str) -> int | None:
        return (await conn.execute(sa.select(teams.c.id).where(teams.c.name == name))).scalar()

    async def _insert_team(
        self, conn: AsyncConnection, name: str, rpm: int | None, tpm: int | None, actor: str
    ) -> int:
        result = await conn.execute(
            teams.insert().values(name=name, rpm=rpm, tpm=tpm, created_at=now())
        )
        await self._audit(conn, actor, "team.created", name, {"rpm": rpm, "tpm": tpm})
        team_id = result.inserted_primary_key[0] if result.inserted_primary_key else None
        assert isinstance(team_id, int)
        return team_id

    async def _insert_key(
        self, conn: AsyncConnection, *, team_id: int, team: str, spec: _KeySpec
    ) -> CreatedKey:
        secret = material.generate()
        record = KeyRecord(
            id=material.new_key_id(),
            team=team,
            name=spec.name,
            prefix=material.display_prefix(secret),
            models=spec.models,
            rpm=spec.rpm,
            tpm=spec.tpm,
            created_at=now(),
            revoked_at=None,
            rotated_from=spec.rotated_from,
            expires_at=spec.expires_at,
            lineage=spec.lineage,
            budget=spec.budget,
        )
        await conn.execute(
            api_keys.insert().values(
                id=record.id,
                team_id=team_id,
                name=spec.name,
                prefix=record.prefix,
                key_hash=self._hasher.digest(secret),
                models=spec.models,
                rpm=spec.rpm,
                tpm=spec.tpm,
                created_at=record.created_at,
                rotated_from=spec.rotated_from,
                expires_at=spec.expires_at,
                lineage=spec.lineage,
                **_budget_values(spec.budget),
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
        return key_record_of(row)

    async def _audit(
        self, conn: AsyncConnection, actor: str, action: str, target: str, details: dict[str, Any]
    ) -> None:
        await conn.execute(
            audit_log.insert().values(
                at=now(), actor=actor, action=action, target=target, details=details
            )
        )
