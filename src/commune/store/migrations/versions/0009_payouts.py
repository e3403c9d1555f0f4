"""Payout choices: a contributor's share waived to the fund, or redirected to a member.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "payout_choices",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("contributor", sa.String(200), nullable=False),
        sa.Column("choice", sa.String(20), nullable=False),
        sa.Column("target", sa.String(200)),
        sa.Column("from_month", sa.String(7), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
    )
    op.create_index("ix_payout_choices_contributor", "payout_choices", ["contributor"])


def downgrade() -> None:
    op.drop_table("payout_choices")
