"""Why a document was retired, in a word of policy.RETIRE_CATEGORIES, on the document itself
(the audit log has it too, with the curator's reason): a file added again after another
member's retirement is held for a takedown (personal data, rights), not for another member's
"outdated". And an index for the citation reports a peer's search reads (its cited documents
since retired).

Revision ID: 0017
Revises: 0016
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("documents", sa.Column("retired_category", sa.String(20), nullable=True))
    op.create_index("ix_credits_route_member", "credits", ["route", "member_id"])


def downgrade() -> None:
    op.drop_index("ix_credits_route_member", "credits")
    op.drop_column("documents", "retired_category")
