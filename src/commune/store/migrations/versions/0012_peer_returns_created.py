"""An index on the time each passage was returned to a peer: every /peer/search deletes
the returns older than the credit window (commons/peering/citations.py), which read the
whole table without it.

Revision ID: 0012
Revises: 0011
"""

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_peer_returns_created_at", "peer_returns", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_peer_returns_created_at", "peer_returns")
