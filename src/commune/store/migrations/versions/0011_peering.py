"""Peering between cooperatives: the collections shared outward with their usage policy,
the peers this home asks, the peers' passages its answers cited, and the passages
returned to each peer (its citation reports are credited only against those).

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "shares",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "collection_id",
            sa.Integer,
            sa.ForeignKey("collections.id"),
            nullable=False,
            unique=True,
        ),
        sa.Column("non_commercial", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("share_alike", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("tdm_reserved", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("kinds", sa.Text, nullable=False, server_default=""),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
    )
    op.create_table(
        "peers",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("api_key", sa.Text, nullable=False),
        sa.Column("added_at", TS, nullable=False),
    )
    op.create_table(
        "peer_citations",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("route", sa.String(100), nullable=False),
        sa.Column("peer", sa.String(200), nullable=False),
        sa.Column("document_id", sa.Integer, nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("licence", sa.Text),
        sa.Column("contributor", sa.String(200)),
        sa.Column("member_id", sa.Integer),
        sa.Column("user_id", sa.Integer),
        sa.Column("citations", sa.Integer, nullable=False),
    )
    op.create_index("ix_peer_citations_created_at", "peer_citations", ["created_at"])
    op.create_table(
        "peer_returns",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("member_id", sa.Integer, nullable=False),
        sa.Column("chunk_id", sa.Integer, nullable=False),
        sa.Column("cited_at", TS, nullable=True),
    )
    op.create_index("ix_peer_returns_member_chunk", "peer_returns", ["member_id", "chunk_id"])


def downgrade() -> None:
    op.drop_index("ix_peer_returns_member_chunk", "peer_returns")
    op.drop_table("peer_returns")
    op.drop_index("ix_peer_citations_created_at", "peer_citations")
    op.drop_table("peer_citations")
    op.drop_table("peers")
    op.drop_table("shares")
