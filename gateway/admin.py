"""The admin API under ``/admin``: teams, keys and the audit trail, behind its own token.

A key's secret appears in exactly two responses: the one that creates it and the
one that rotates it. Every change is recorded with its actor in the audit trail.
"""

from __future__ import annotations

import hmac
import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from gateway.auth import bearer
from gateway.errors import AuthenticationFailed, InvalidRequest, PermissionDenied
from gateway.keys.store import MAX_LIMIT, UNSET, CreatedKey, KeyRecord, KeyStore, Team, Unset
from gateway.privacy import Privacy, SubjectQuery
from gateway.settings import GatewaySettings

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


class KeyCreate(_Body):
    team: Annotated[str, Field(min_length=1, max_length=128)]
    name: Annotated[str, Field(max_length=128)] | None = None
    models: Annotated[list[Annotated[str, Field(min_length=1)]], Field(min_length=1)] | None = None
    rpm: Limit | None = None
    tpm: Limit | None = None


class KeyPatch(LimitsPatch):
    models: Annotated[list[Annotated[str, Field(min_length=1)]], Field(min_length=1)] | None = None


def team_json(team: Team) -> dict[str, Any]:
    return {
        "name": team.name,
        "rpm": team.rpm,
        "tpm": team.tpm,
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
        "revoked_at": record.revoked_at.isoformat() if record.revoked_at else None,
        "rotated_from": record.rotated_from,
    }


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
        body.team, models=body.models, rpm=body.rpm, tpm=body.tpm, name=body.name, actor=actor
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
async def rotate_key(key_id: str, store: Store, actor: Actor) -> dict[str, Any]:
    return created_json(await store.rotate_key(key_id, actor=actor))


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
    """A subject's request-log rows, as stored (texts redacted)."""
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
