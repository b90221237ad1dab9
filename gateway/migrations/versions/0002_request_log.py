"""The request log: one row per request, texts redacted (read by drift monitoring).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "request_log",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
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
    )
    op.create_index("ix_request_log_at", "request_log", ["at"])
    op.create_index("ix_request_log_model_at", "request_log", ["model", "at"])


def downgrade() -> None:
    op.drop_table("request_log")
