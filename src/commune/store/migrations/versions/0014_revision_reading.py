"""Which reading of its format made a revision's passages, so that a file read by a reader
that lost part of it (HTML before "html-2": the Debian handbook's boxes and examples) is read
again when it is added again, instead of being skipped as unchanged.

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("revisions", sa.Column("reading", sa.String(32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("revisions") as batch:
        batch.drop_column("reading")
