"""The request log records whose request each row is: the key, and the end user's keyed hash.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("request_log") as batch:
        batch.add_column(sa.Column("key_id", sa.String(64), nullable=True))
        batch.add_column(sa.Column("user_hash", sa.String(64), nullable=True))
    op.create_index("ix_request_log_user_hash", "request_log", ["user_hash"])
    op.create_index("ix_request_log_key_id", "request_log", ["key_id"])


def downgrade() -> None:
    op.drop_index("ix_request_log_key_id", table_name="request_log")
    op.drop_index("ix_request_log_user_hash", table_name="request_log")
    with op.batch_alter_table("request_log") as batch:
        batch.drop_column("user_hash")
        batch.drop_column("key_id")
