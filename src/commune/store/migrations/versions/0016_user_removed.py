"""When a person was removed from the cooperative (govern/accounts.remove_user): the row
stays, because the ledger, the credits, the payouts, the revisions they contributed and the
audit log point to it; removed, it signs in with nothing and is listed nowhere.

Revision ID: 0016
Revises: 0015
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("users", sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    # Dropped in place (SQLite 3.35 and later, PostgreSQL): a batch copy of ``users`` ends
    # in DROP TABLE users, which the keys' and sessions' foreign keys refuse. Going back
    # lists the removed people again; their keys stay revoked and their password cleared.
    op.drop_column("users", "removed_at")
