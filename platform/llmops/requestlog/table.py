"""The request log's table and the plain record of one row.

The gateway's Alembic migrations create the tables (revisions 0002 to 0006); these
definitions are the ones both the writers and the readers use.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

metadata = sa.MetaData()

request_log = sa.Table(
    "request_log",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False, index=True),
    sa.Column("team", sa.String(128), nullable=False),
    sa.Column("model", sa.String(256), nullable=False),
    sa.Column("model_version", sa.String(128), nullable=True),
    sa.Column("upstream", sa.String(512), nullable=True),
    sa.Column("endpoint", sa.String(32), nullable=False),
    sa.Column("status", sa.Integer, nullable=False),
    sa.Column("prompt_tokens", sa.Integer, nullable=False),
    sa.Column("completion_tokens", sa.Integer, nullable=False),
    sa.Column("latency_ms", sa.Float, nullable=False),
    sa.Column("ttft_ms", sa.Float, nullable=True),
    sa.Column("cache", sa.String(16), nullable=False),
    sa.Column("prompt_text", sa.Text, nullable=True),
    sa.Column("completion_text", sa.Text, nullable=True),
    sa.Column("redactions", sa.Integer, nullable=False),
    sa.Column("failed_attempts", sa.JSON(none_as_null=True), nullable=True),
    sa.Column("key_id", sa.String(64), nullable=True, index=True),
    sa.Column("user_hash", sa.String(64), nullable=True, index=True),
    sa.Column("cost_nanos", sa.BigInteger, nullable=True),
    sa.Column("request_id", sa.String(64), nullable=True, index=True),
    sa.Column("shadow", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Index("ix_request_log_model_at", "model", "at"),
)

feedback = sa.Table(
    "feedback",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False, index=True),
    sa.Column("request_id", sa.String(64), nullable=False, index=True),
    sa.Column("team", sa.String(128), nullable=False),
    sa.Column("key_id", sa.String(64), nullable=True, index=True),
    sa.Column("user_hash", sa.String(64), nullable=True, index=True),
    sa.Column("model", sa.String(256), nullable=True),
    sa.Column("model_version", sa.String(128), nullable=True),
    sa.Column("score", sa.String(8), nullable=False),
    sa.Column("value", sa.Float, nullable=False),
    sa.Column("comment", sa.Text, nullable=True),
    sa.Column("correction", sa.Text, nullable=True),
    sa.Column("redactions", sa.Integer, nullable=False),
)
"""What users said of answers (``POST /v1/feedback``): a score, and optionally a comment
and the answer they wanted, redacted like the request log and erased with it."""


def subject_tags(team: str, key_id: str | None, user_hash: str | None) -> tuple[str, ...]:
    """How stored data (cache entries, exported windows) names whose it is, so that erasure
    finds it: ``team:<name>``, ``key:<id>``, ``user:<keyed hash>``."""
    tags = [f"team:{team}"]
    if key_id is not None:
        tags.append(f"key:{key_id}")
    if user_hash is not None:
        tags.append(f"user:{user_hash}")
    return tuple(tags)


@dataclass(frozen=True, slots=True)
class RequestRecord:
    """One request as the log stores it. Texts are ``None`` when not sampled."""

    at: datetime
    team: str
    model: str
    model_version: str | None
    upstream: str | None
    endpoint: str
    status: int
    prompt_tokens: int
    completion_tokens: int
    latency_ms: float
    ttft_ms: float | None
    cache: str
    prompt_text: str | None = None
    completion_text: str | None = None
    redactions: int = 0
    """PII spans replaced in the stored texts."""
    failed_attempts: tuple[tuple[str, str], ...] = ()
    """``(model, version)`` of each replica that failed this request before the gateway
    retried it elsewhere: the row itself names only the version that answered last, so
    a canary whose failures the gateway hid by retrying shows them here."""
    key_id: str | None = None
    """The key the request came with."""
    user_hash: str | None = None
    """The end user's keyed hash (``gateway.subjects``), when the client named one."""
    cost_nanos: int | None = None
    """What the request cost, in 10⁻⁹ of the gateway's currency (``None``: its model has
    no price)."""
    request_id: str | None = None
    """The id its answer carried (``x-llmops-request-id``), which feedback names."""
    shadow: bool = False
    """A shadow version's answer to a mirrored request (nobody saw it); the primary's row
    has the same ``request_id``."""

    @property
    def subjects(self) -> tuple[str, ...]:
        return subject_tags(self.team, self.key_id, self.user_hash)

    def row(self) -> dict[str, Any]:
        values = asdict(self)
        values["failed_attempts"] = [list(a) for a in self.failed_attempts] or None
        return values

    @classmethod
    def from_row(cls, row: Any) -> RequestRecord:
        values = dict(row._mapping)
        at = values["at"]
        if at.tzinfo is None:  # SQLite keeps no time zone: rows are written in UTC
            values["at"] = at.replace(tzinfo=UTC)
        values["failed_attempts"] = tuple(
            (str(m), str(v)) for m, v in values.get("failed_attempts") or ()
        )
        return cls(**{f: values[f] for f in cls.__dataclass_fields__})
