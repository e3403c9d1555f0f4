"""An index on the audit log's action and subject: every /peer/search reads the subjects of
the reinstatements (commons/peering/citations.reinstated_cited), and the retirement of a
document, the statement or the payouts of a month are looked up by the same two columns
(curation, opendata, account/statement, commons/payouts). Without it each read the whole
log, which only grows: it is hash-chained and never purged.

Revision ID: 0026
Revises: 0025
"""

from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_audit_log_action_subject", "audit_log", ["action", "subject"])


def downgrade() -> None:
    op.drop_index("ix_audit_log_action_subject", "audit_log")
