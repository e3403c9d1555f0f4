"""The answer a credit row belongs to: an answer citing two documents of one contributor wrote
two rows, and `commune credits` counted two answers for that contributor.

Revision ID: 0018
Revises: 0017
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("credits", sa.Column("answer", sa.String(32), nullable=True))


def downgrade() -> None:
    op.drop_column("credits", "answer")
