"""digest_log: every planned, sent or failed digest (daily core digest, weekly PTL summary)

Revision ID: 0005
Revises: 0004
"""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "digest_log",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("digest_id", sa.String(), nullable=False),
        sa.Column("username", sa.String(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("kinds", sa.String(), nullable=False),
        sa.Column("channel", sa.String(), nullable=False),
        sa.Column("destination", sa.String(), nullable=False),
        sa.Column("result", sa.String(), nullable=False),
        sa.Column("reason", sa.String(), nullable=False),
        sa.Column("error", sa.String(), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("created", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_digest_log_digest_id", "digest_log", ["digest_id"])
    op.create_index("ix_digest_log_username", "digest_log", ["username"])
    op.create_index("ix_digest_log_day", "digest_log", ["day"])
    op.create_index("ix_digest_log_created", "digest_log", ["created"])


def downgrade() -> None:
    op.drop_table("digest_log")
