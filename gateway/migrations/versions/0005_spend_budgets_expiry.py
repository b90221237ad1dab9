"""Spend and budgets: budgets on teams and keys, key expiry and rotation grace, each
request's cost in the request log, and the spend table.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("teams") as batch:
        batch.add_column(sa.Column("budget_nanos", sa.BigInteger, nullable=True))
        batch.add_column(sa.Column("budget_period", sa.String(8), nullable=True))
    with op.batch_alter_table("api_keys") as batch:
        batch.add_column(sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("rotated_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("lineage", sa.String(32), nullable=True))
        batch.add_column(sa.Column("budget_nanos", sa.BigInteger, nullable=True))
        batch.add_column(sa.Column("budget_period", sa.String(8), nullable=True))
    op.create_index("ix_api_keys_lineage", "api_keys", ["lineage"])
    with op.batch_alter_table("request_log") as batch:
        batch.add_column(sa.Column("cost_nanos", sa.BigInteger, nullable=True))
    op.create_table(
        "spend",
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
    )
    op.create_index("ix_spend_team_bucket", "spend", ["team", "bucket"])


def downgrade() -> None:
    op.drop_index("ix_spend_team_bucket", table_name="spend")
    op.drop_table("spend")
    with op.batch_alter_table("request_log") as batch:
        batch.drop_column("cost_nanos")
    op.drop_index("ix_api_keys_lineage", table_name="api_keys")
    with op.batch_alter_table("api_keys") as batch:
        for column in ("budget_period", "budget_nanos", "lineage", "rotated_at", "expires_at"):
            batch.drop_column(column)
    with op.batch_alter_table("teams") as batch:
        batch.drop_column("budget_period")
        batch.drop_column("budget_nanos")
