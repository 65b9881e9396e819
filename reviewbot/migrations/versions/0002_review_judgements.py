"""review judgements: one stored row per counted review, what each change was judged on, and
a per-change write revision to recognise it by

Revision ID: 0002
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("change") as batch_op:
        batch_op.add_column(sa.Column("revision", sa.Integer(), server_default="0",
                                      nullable=False))
    op.create_table(
        "review",
        sa.Column("change_number", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("patch_set", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("account_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("owner_id", sa.BigInteger(), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.Column("date", sa.DateTime(), nullable=False),
        sa.Column("month", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.String(), nullable=False),
        sa.Column("core_at_time", sa.Boolean(), nullable=False),
        sa.Column("priority", sa.Boolean(), nullable=False),
        sa.Column("thoughtful", sa.Boolean(), nullable=False),
        sa.Column("judged", sa.Boolean(), nullable=False),
        sa.Column("disagrees", sa.Boolean(), nullable=False),
        sa.Column("caught", sa.Boolean(), nullable=False),
        sa.Column("gate_open", sa.Boolean(), nullable=False),
        sa.Column("gate_open_confirmed", sa.Boolean(), nullable=False),
        sa.Column("first_crack", sa.Boolean(), nullable=False),
        sa.Column("quick_large_plus1", sa.Boolean(), nullable=False),
        sa.Column("verdict_account_id", sa.BigInteger(), nullable=True),
        sa.Column("verdict_value", sa.Integer(), nullable=True),
        sa.Column("verdict_date", sa.DateTime(), nullable=True),
        sa.Column("verdict_message_id", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("change_number", "patch_set", "account_id"),
    )
    op.create_index("ix_review_account_date", "review", [
        "account_id", "date", "change_number", "month", "value", "owner_id", "judged",
        "disagrees", "caught", "thoughtful", "gate_open", "gate_open_confirmed",
        "first_crack", "priority", "quick_large_plus1"])
    op.create_table(
        "judged_change",
        sa.Column("change_number", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("priority", sa.Boolean(), nullable=False),
        sa.Column("exempt", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("change_number"),
    )


def downgrade() -> None:
    # The judging state describes the tables dropped here.
    op.execute("DELETE FROM sync_state WHERE key LIKE 'reviews.%'")
    op.drop_table("judged_change")
    op.drop_index("ix_review_account_date", table_name="review")
    op.drop_table("review")
    with op.batch_alter_table("change") as batch_op:
        batch_op.drop_column("revision")
