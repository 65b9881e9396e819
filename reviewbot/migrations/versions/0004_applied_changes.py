"""applied_change: what the apply step last settled per open change (apply plans only the
changes that moved since)

Revision ID: 0004
Revises: 0003
"""
import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "applied_change",
        sa.Column("change_number", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("gate_state", sa.String(), nullable=False),
        sa.Column("priorities", sa.String(), nullable=False),
        sa.Column("gate_certain", sa.Boolean(), nullable=False),
        sa.Column("pending_writes", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("change_number"),
    )


def downgrade() -> None:
    # The fingerprint describes the rows dropped here.
    op.execute("DELETE FROM sync_state WHERE key = 'apply.fingerprint'")
    op.drop_table("applied_change")
