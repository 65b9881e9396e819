"""sync_hint: refresh requests (webhooks, the admin API) the web records and the worker drains

Revision ID: 0007_sync_hints
Revises: 0006_cycles
"""
import sqlalchemy as sa
from alembic import op

revision = "0007_sync_hints"
down_revision = "0006_cycles"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sync_hint",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("change_number", sa.Integer(), nullable=True),
        sa.Column("received", sa.DateTime(), nullable=False),
        sa.Column("source", sa.String(), nullable=False),
    )
    op.create_index("ix_sync_hint_change_number", "sync_hint", ["change_number"])


def downgrade() -> None:
    op.drop_table("sync_hint")
