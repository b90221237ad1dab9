"""The admin API under ``/admin``: teams, keys and the audit trail, behind its own token.

A key's secret appears in exactly two responses: the one that creates it and the
one that rotates it. Every change is recorded with its actor in the audit trail.
"""

from __future__ import annotations

import datetime as dt
import hmac
import re
from decimal import Decimal
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from gateway.auth import bearer
from gateway.errors import AuthenticationFailed, InvalidRequest, PermissionDenied
from gateway.keys.store import (
    MAX_LIMIT,
    UNSET,
    Budget,
    CreatedKey,
    KeyRecord,
    KeyStore,
    Team,
    Unset,
)
from gateway.privacy import Privacy, SubjectQuery
from gateway.settings import GatewaySettings
from gateway.spend import money, reports
from gateway.spend.periods import PeriodKind

# Whole numbers written as 60.0 are whole numbers too (JSON does not tell them apart).
Limit = Annotated[int, Field(ge=1, le=MAX_LIMIT, strict=False)]
# What a caller may add to its token's actor (``X-LLMOps-Actor``: on whose behalf).
CLAIMED = re.compile(r"[\x20-\x7e]{1,63}")


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class TeamCreate(_Body):
    name: Annotated[str, Field(min_length=1, max_length=128)]
    rpm: Limit | None = None
    tpm: Limit | None = None


class LimitsPatch(_Body):
    rpm: Limit | None = None
    tpm: Limit | None = None


# An amount of money above 0: a decimal string ("12.50"; rounded to 10^-9) or a whole
# number. Strings are exact where a JSON number may not be.
AMOUNT_PATTERN = r"^(0*[1-9][0-9]{0,5}(\.[0-9]*)?|0*\.0{0,8}[1-9][0-9]*)$"
Amount = (
    Annotated[str, Field(pattern=AMOUNT_PATTERN, max_length=40)]
    | Annotated[int, Field(ge=1, le=999_999, strict=False)]
)
Moment = Annotated[dt.datetime, Field(strict=False)]


class BudgetBody(_Body):
    amount: Amount
    """Per period, in ``budgets.currency``: below a million, to the 10^-9."""
    period: Literal["day", "month"]

    def budget(self) -> Budget:
        return Budget(money.to_nanos(Decimal(self.amount)), PeriodKind(self.period))


class KeyCreate(_Body):
    team: Annotated[str, Field(min_length=1, max_length=128)]
    name: Annotated[str, Field(max_length=128)] | None = None
    models: Annotated[list[Annotated[str, Field(min_length=1)]], Field(min_length=1)] | None = None
    rpm: Limit | None = None
    tpm: Limit | None = None
    expires_at: Moment | None = None
    """When the key stops working (ISO 8601 with a zone)."""
    budget: BudgetBody | None = None


class KeyRotate(_Body):
    grace_seconds: Annotated[float, Field(ge=0, le=30 * 86400, strict=False)] = 0.0
    """How long the old key keeps working (0: revoked at once)."""
    expires_at: Moment | None = None
    """When the new key stops working (default: after the old key's lifetime)."""


class KeyPatch(LimitsPatch):
    models: Annotated[list[Annotated[str, Field(min_length=1)]], Field(min_length=1)] | None = None


def team_json(team: Team) -> dict[str, Any]:
    return {
        "name": team.name,
        "rpm": team.rpm,
        "tpm": team.tpm,
        "budget": team.budget.json() if team.budget else None,
        "created_at": team.created_at.isoformat(),
    }


def key_json(record: KeyRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "team": record.team,
        "name": record.name,
        "prefix": record.prefix,
        "models": record.models,
        "rpm": record.rpm,
        "tpm": record.tpm,
        "created_at": record.created_at.isoformat(),
        "revoked_at": _iso(record.revoked_at),
        "rotated_from": record.rotated_from,
        "rotated_at": _iso(record.rotated_at),
        "expires_at": _iso(record.expires_at),
        "budget": record.budget.json() if record.budget else None,
    }


def _iso(at: dt.datetime | None) -> str | None:
    return at.isoformat() if at is not None else None


def created_json(created: CreatedKey) -> dict[str, Any]:
    return {"key": created.secret, **key_json(created.record)}


def _given(body: BaseModel, name: str) -> Any:
    """A field's value if the caller sent it (``null`` included), else :data:`UNSET`."""
    return getattr(body, name) if name in body.model_fields_set else UNSET


def _store(request: Request) -> KeyStore:
    store: KeyStore = request.app.state.services.store
    return store


def _privacy(request: Request) -> Privacy:
    privacy: Privacy = request.app.state.services.privacy
    return privacy


def _actor(request: Request) -> str:
    """The actor the admin token belongs to (``admin_token``: ``admin``; ``admin_tokens``:
    its name), followed by ``:`` and ``X-LLMOps-Actor`` when the caller says on whose
    behalf it acts: the token, not the header, decides who is recorded."""
    settings: GatewaySettings = request.app.state.services.settings
    actors = settings.admin_actors()
    if not actors:
        raise PermissionDenied("The admin API is disabled: set admin_token.", code="admin_disabled")
    token = bearer(request.headers.get("authorization"))
    actor = _match(actors, token) if token is not None else None
    if actor is None:
        raise AuthenticationFailed("A valid admin token is required.", code="invalid_admin_token")
    claimed = request.headers.get("x-llmops-actor")
    if claimed is None:
        return actor
    if not CLAIMED.fullmatch(claimed):
        raise InvalidRequest(
            "X-LLMOps-Actor must be 1 to 63 printable characters.", param="x-llmops-actor"
        )
    return f"{actor}:{claimed}"


def _match(actors: dict[str, str], token: str) -> str | None:
    """The token's actor, compared in constant time against every token."""
    found = None
    for known, actor in actors.items():
        if hmac.compare_digest(token.encode(), known.encode()):
            found = actor
    return found


Actor = Annotated[str, Depends(_actor)]
Store = Annotated[KeyStore, Depends(_store)]
PrivacyDep = Annotated[Privacy, Depends(_privacy)]

router = APIRouter(prefix="/admin", tags=["admin"])


@router.post("/teams", status_code=201)
async def create_team(body: TeamCreate, store: Store, actor: Actor) -> dict[str, Any]:
    return team_json(await store.create_team(body.name, rpm=body.rpm, tpm=body.tpm, actor=actor))


@router.get("/teams")
async def list_teams(store: Store, _: Actor) -> dict[str, Any]:
    return {"object": "list", "data": [team_json(t) for t in await store.list_teams()]}


@router.patch("/teams/{name}")
async def update_team(name: str, body: LimitsPatch, store: Store, actor: Actor) -> dict[str, Any]:
    rpm: int | Unset | None = _given(body, "rpm")
    tpm: int | Unset | None = _given(body, "tpm")
    return team_json(await store.update_team(name, rpm=rpm, tpm=tpm, actor=actor))


@router.post("/keys", status_code=201)
async def create_key(body: KeyCreate, store: Store, actor: Actor) -> dict[str, Any]:
    created = await store.create_key(
        body.team,
        models=body.models,
        rpm=body.rpm,
        tpm=body.tpm,
        name=body.name,
        expires_at=body.expires_at,
        budget=body.budget.budget() if body.budget else None,
        actor=actor,
    )
    return created_json(created)


@router.get("/keys")
async def list_keys(
    store: Store, _: Actor, team: str | None = None, include_revoked: bool = False
) -> dict[str, Any]:
    keys = await store.list_keys(team=team, include_revoked=include_revoked)
    return {"object": "list", "data": [key_json(k) for k in keys]}


@router.get("/keys/{key_id}")
async def get_key(key_id: str, store: Store, _: Actor) -> dict[str, Any]:
    return key_json(await store.get_key(key_id))


@router.patch("/keys/{key_id}")
async def update_key(key_id: str, body: KeyPatch, store: Store, actor: Actor) -> dict[str, Any]:
    record = await store.update_key(
        key_id,
        models=_given(body, "models"),
        rpm=_given(body, "rpm"),
        tpm=_given(body, "tpm"),
        actor=actor,
    )
    return key_json(record)


@router.post("/keys/{key_id}/revoke")
async def revoke_key(key_id: str, store: Store, actor: Actor) -> dict[str, Any]:
    return key_json(await store.revoke_key(key_id, actor=actor))


@router.post("/keys/{key_id}/rotate", status_code=201)
async def rotate_key(
    key_id: str, store: Store, actor: Actor, body: KeyRotate | None = None
) -> dict[str, Any]:
    """A new key in the old one's place; with ``grace_seconds``, the old key works until
    then."""
    body = body or KeyRotate()
    created = await store.rotate_key(
        key_id,
        grace=dt.timedelta(seconds=body.grace_seconds),
        expires_at=_given(body, "expires_at"),
        actor=actor,
    )
    return created_json(created)


@router.put("/keys/{key_id}/budget")
async def set_key_budget(
    key_id: str, body: BudgetBody, store: Store, actor: Actor
) -> dict[str, Any]:
    return key_json(await store.set_key_budget(key_id, body.budget(), actor=actor))


@router.delete("/keys/{key_id}/budget")
async def clear_key_budget(key_id: str, store: Store, actor: Actor) -> dict[str, Any]:
    return key_json(await store.set_key_budget(key_id, None, actor=actor))


@router.put("/teams/{name}/budget")
async def set_team_budget(
    name: str, body: BudgetBody, store: Store, actor: Actor
) -> dict[str, Any]:
    """Set a team's budget (the team is created if new)."""
    return team_json(await store.set_team_budget(name, body.budget(), actor=actor))


@router.delete("/teams/{name}/budget")
async def clear_team_budget(name: str, store: Store, actor: Actor) -> dict[str, Any]:
    return team_json(await store.set_team_budget(name, None, actor=actor))


@router.get("/spend")
async def spend_report(  # noqa: PLR0917 (FastAPI reads query parameters from the signature)
    request: Request,
    store: Store,
    actor: Actor,
    team: Annotated[str, Query(min_length=1, max_length=128)],
    key_id: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    by: reports.GroupBy = reports.GroupBy.MODEL,
) -> dict[str, Any]:
    """A team's spend from ``since`` to ``until`` (to the quarter hour; by default this
    month), by model, key or day (in the budgets' time zone)."""
    settings: GatewaySettings = request.app.state.services.settings
    zone = ZoneInfo(settings.budgets.timezone)
    start, end = reports.time_range(since, until, zone, dt.datetime.now(dt.UTC))
    result = await reports.report(
        store.engine,
        team=team,
        key_id=key_id,
        since=start,
        until=end,
        by=by,
        zone=zone,
        currency=settings.budgets.currency,
    )
    await store.record_read(actor, "spend.read", team, {"key_id": key_id, "by": by.value})
    return result.json()


class SubjectBody(_Body):
    user: Annotated[str, Field(min_length=1, max_length=256)] | None = None
    key_id: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    team: Annotated[str, Field(min_length=1, max_length=128)] | None = None


class ForgetBody(SubjectBody):
    dry_run: bool = False


@router.post("/privacy/forget")
async def forget(body: ForgetBody, privacy: PrivacyDep, actor: Actor) -> dict[str, Any]:
    """Erase a subject's request-log rows (or count them, with ``dry_run``)."""
    subject = SubjectQuery(user=body.user, key_id=body.key_id, team=body.team)
    return (await privacy.forget(subject, actor=actor, dry_run=body.dry_run)).json()


@router.post("/privacy/export")
async def export(body: SubjectBody, privacy: PrivacyDep, _: Actor) -> dict[str, Any]:
    """A subject's request-log rows, as stored (texts redacted), with their feedback."""
    rows = await privacy.export(SubjectQuery(user=body.user, key_id=body.key_id, team=body.team))
    return {"object": "list", "data": rows}


@router.get("/audit")
async def audit(
    store: Store,
    _: Actor,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    entries = await store.audit_entries(limit=limit, offset=offset)
    return {
        "object": "list",
        "data": [
            {
                "id": e.id,
                "at": e.at.isoformat(),
                "actor": e.actor,
                "action": e.action,
                "target": e.target,
                "details": e.details,
            }
            for e in entries
        ],
    }
