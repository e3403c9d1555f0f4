"""The API key a web session was opened with (its prefix), so that revoking or the key's
expiry ends the session too: a leaked key turned into a session kept web access for up to
12 hours after its revocation.

Revision ID: 0013
Revises: 0012
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("web_sessions", sa.Column("key_prefix", sa.String(16), nullable=True))
    # A session opened before this column cannot say which key opened it: left open, one
    # opened with a key revoked after the upgrade went on for up to [web] session_hours
    # (walked: an upgraded home's key session still served /account after `commune key
    # revoke`). They end here; everyone signs in again once.
    sessions = sa.table(
        "web_sessions",
        sa.column("ended_at", sa.DateTime(timezone=True)),
    )
    op.execute(
        sessions.update().where(sessions.c.ended_at.is_(None)).values(ended_at=datetime.now(UTC))
    )


def downgrade() -> None:
    with op.batch_alter_table("web_sessions") as batch:
        batch.drop_column("key_prefix")
