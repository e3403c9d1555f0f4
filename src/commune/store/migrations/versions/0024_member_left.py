"""When a member leaves the cooperative (govern/members.leave): from then on the statement
no longer shares the fixed cost with it and its people sign in with nothing. The row stays,
as a removed person's does (0016): the ledger, the issued statements, the credits and
payouts, the collections and their documents, and the audit log point to it. NULL: a member;
a time to come: a departure recorded, which may still be undone.

Revision ID: 0024
Revises: 0023
"""

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("members", sa.Column("left_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    # Dropped in place (SQLite 3.35 and later, PostgreSQL), as 0016 drops users.removed_at: a
    # batch copy of ``members`` ends in DROP TABLE members, which the users' and collections'
    # foreign keys refuse. Going back makes a departed member a member again: its statement
    # lines come back from the month after it left, so the operator who goes back records
    # the departure again after going forward.
    op.drop_column("members", "left_at")
