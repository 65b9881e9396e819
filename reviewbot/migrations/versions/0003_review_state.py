"""verdict: the review state of open changes (the core queue's candidates) and the change
revision each verdict was evaluated at (evaluate touches only changes that moved)

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("verdict") as batch_op:
        batch_op.add_column(sa.Column("review_state", sa.String(), nullable=True))
        batch_op.add_column(sa.Column("review_reason", sa.String(), nullable=True))
        batch_op.add_column(sa.Column("evaluated_revision", sa.Integer(), server_default="-1",
                                      nullable=False))
    # Verdicts stored before this revision carry no review state: evaluate them again.
    op.execute("DELETE FROM sync_state WHERE key = 'evaluate.fingerprint'")


def downgrade() -> None:
    with op.batch_alter_table("verdict") as batch_op:
        batch_op.drop_column("evaluated_revision")
        batch_op.drop_column("review_reason")
        batch_op.drop_column("review_state")
    op.execute("DELETE FROM sync_state WHERE key = 'evaluate.fingerprint'")
