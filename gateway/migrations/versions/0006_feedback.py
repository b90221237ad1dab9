"""Feedback on answers and shadow traffic: the request log records each answer's request
id and whether a shadow version gave it, and a table keeps what users said of answers.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("request_log") as batch:
        batch.add_column(sa.Column("request_id", sa.String(64), nullable=True))
        batch.add_column(sa.Column("shadow", sa.Boolean, nullable=False, server_default=sa.false()))
    op.create_index("ix_request_log_request_id", "request_log", ["request_id"])
    op.create_table(
        "feedback",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("request_id", sa.String(64), nullable=False),
        sa.Column("team", sa.String(128), nullable=False),
        sa.Column("key_id", sa.String(64), nullable=True),
        sa.Column("user_hash", sa.String(64), nullable=True),
        sa.Column("model", sa.String(256), nullable=True),
        sa.Column("model_version", sa.String(128), nullable=True),
        sa.Column("score", sa.String(8), nullable=False),
        sa.Column("value", sa.Float, nullable=False),
        sa.Column("comment", sa.Text, nullable=True),
        sa.Column("correction", sa.Text, nullable=True),
        sa.Column("redactions", sa.Integer, nullable=False),
    )
    for column in ("at", "request_id", "key_id", "user_hash"):
        op.create_index(f"ix_feedback_{column}", "feedback", [column])


def downgrade() -> None:
    for column in ("at", "request_id", "key_id", "user_hash"):
        op.drop_index(f"ix_feedback_{column}", table_name="feedback")
    op.drop_table("feedback")
    op.drop_index("ix_request_log_request_id", table_name="request_log")
    with op.batch_alter_table("request_log") as batch:
        batch.drop_column("shadow")
        batch.drop_column("request_id")
