"""The texts of the cooperative's own licences (SPDX ``LicenseRef-…`` identifiers): an
identifier the SPDX list does not know means nothing without the text it names.

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "licence_texts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("identifier", sa.String(200), nullable=False, unique=True),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.Text, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("licence_texts")
