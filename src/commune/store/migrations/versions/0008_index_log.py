"""The index log: which document's passages changed at each generation, for incremental
indexing.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "index_log",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("generation", sa.Integer, nullable=False),
        sa.Column("document_id", sa.Integer),
    )
    op.create_index("ix_index_log_generation", "index_log", ["generation"])


def downgrade() -> None:
    op.drop_table("index_log")
