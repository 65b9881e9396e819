"""cycle: every release cycle's definition, archived at rollover (`reviewbot cycle-start`)

Revision ID: 0006_cycles
Revises: 0005
"""
import sqlalchemy as sa
from alembic import op

revision = "0006_cycles"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cycle",
        sa.Column("name", sa.String(), primary_key=True),
        sa.Column("start", sa.Date(), nullable=False),
        sa.Column("end", sa.Date(), nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("priorities", sa.JSON(), nullable=False),
        sa.Column("priority_hashtag_prefix", sa.String(), nullable=False),
        sa.Column("recorded", sa.DateTime(), nullable=False),
        sa.Column("ended", sa.DateTime(), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("cycle")
