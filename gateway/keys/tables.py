"""The key store's tables and the spend table (the migrations in ``gateway/migrations``
create them)."""

import sqlalchemy as sa

metadata = sa.MetaData()

teams = sa.Table(
    "teams",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(128), nullable=False, unique=True),
    sa.Column("rpm", sa.Integer, nullable=True),
    sa.Column("tpm", sa.Integer, nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("budget_nanos", sa.BigInteger, nullable=True),
    sa.Column("budget_period", sa.String(8), nullable=True),
)

api_keys = sa.Table(
    "api_keys",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("team_id", sa.Integer, sa.ForeignKey("teams.id"), nullable=False, index=True),
    sa.Column("name", sa.String(128), nullable=True),
    sa.Column("prefix", sa.String(32), nullable=False),
    sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("models", sa.JSON, nullable=True),
    sa.Column("rpm", sa.Integer, nullable=True),
    sa.Column("tpm", sa.Integer, nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("rotated_from", sa.String(32), nullable=True),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("rotated_at", sa.DateTime(timezone=True), nullable=True),
    # The first key of its rotations (its own id when null): a key's budget counts over
    # its lineage, so that rotating a key does not refill it.
    sa.Column("lineage", sa.String(32), nullable=True),
    sa.Column("budget_nanos", sa.BigInteger, nullable=True),
    sa.Column("budget_period", sa.String(8), nullable=True),
    sa.Index("ix_api_keys_lineage", "lineage"),
)

audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False, index=True),
    sa.Column("actor", sa.String(128), nullable=False),
    sa.Column("action", sa.String(64), nullable=False),
    sa.Column("target", sa.String(128), nullable=False),
    sa.Column("details", sa.JSON, nullable=False),
)

spend = sa.Table(
    "spend",
    metadata,
    # The quarter hour (UTC) the requests started in: every time zone's midnight is one.
    sa.Column("bucket", sa.DateTime(timezone=True), primary_key=True),
    sa.Column("team", sa.String(128), primary_key=True),
    sa.Column("key_id", sa.String(32), primary_key=True),
    sa.Column("model", sa.String(256), primary_key=True),
    sa.Column("version", sa.String(128), primary_key=True),
    sa.Column("requests", sa.BigInteger, nullable=False),
    sa.Column("prompt_tokens", sa.BigInteger, nullable=False),
    sa.Column("cached_tokens", sa.BigInteger, nullable=False),
    sa.Column("completion_tokens", sa.BigInteger, nullable=False),
    sa.Column("cost_nanos", sa.BigInteger, nullable=False),
    sa.Index("ix_spend_team_bucket", "team", "bucket"),
)
