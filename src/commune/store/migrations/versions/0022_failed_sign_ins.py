"""Wrong keys and passwords, counted in the database: each server process counted them in
its own memory, so that behind a proxy sharing requests among N processes a guesser was
allowed N times the limit. Each row is one wrong credential under one count (an address's,
a claimed key's or account's), named by its SHA-256 only; rows past the window are deleted.

Revision ID: 0022
Revises: 0021
"""

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "failed_sign_ins",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("at", sa.Float, nullable=False),
    )
    op.create_index("ix_failed_sign_ins_name_at", "failed_sign_ins", ["name", "at"])
    op.create_index("ix_failed_sign_ins_at", "failed_sign_ins", ["at"])


def downgrade() -> None:
    op.drop_table("failed_sign_ins")
