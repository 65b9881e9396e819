"""indexes for the everyday answers: the comment-only messages by change and date (the
leaderboard's comment counts), and the changes' revision beside `updated` (the stale check)

Revision ID: 0008_answer_indexes
Revises: 0007_sync_hints
"""
import sqlalchemy as sa
from alembic import op

revision = "0008_answer_indexes"
down_revision = "0007_sync_hints"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_message_comment_only", "message",
                    ["change_number", "date", "author_id", "tag", "id"],
                    sqlite_where=sa.text("changes_votes = 0"),
                    postgresql_where=sa.text("NOT changes_votes"))
    # (updated, revision) serves every read (updated) alone did.
    op.create_index("ix_change_updated_revision", "change", ["updated", "revision"])
    op.drop_index("ix_change_updated", table_name="change")


def downgrade() -> None:
    op.create_index("ix_change_updated", "change", ["updated"])
    op.drop_index("ix_change_updated_revision", table_name="change")
    op.drop_index("ix_message_comment_only", table_name="message")
