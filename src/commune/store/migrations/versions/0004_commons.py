"""The commons: curation of revisions, reviews, licence terms, audit log, credits, TDM opt-out.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("revisions") as batch:
        batch.add_column(
            sa.Column("status", sa.String(30), nullable=False, server_default="published")
        )
        batch.add_column(sa.Column("hold_reason", sa.Text))
        batch.add_column(sa.Column("contributor_user_id", sa.Integer))
        batch.add_column(sa.Column("contributor_member_id", sa.Integer))
        batch.add_column(sa.Column("tdm_reserved", sa.Boolean, nullable=False, server_default="0"))
    with op.batch_alter_table("documents") as batch:
        batch.add_column(sa.Column("published_revision_id", sa.Integer))
        batch.add_column(sa.Column("tdm_reserved", sa.Boolean, nullable=False, server_default="0"))
    # Everything ingested before curation existed was published as it came.
    op.execute(
        "UPDATE documents SET published_revision_id = current_revision_id "
        "WHERE status = 'published'"
    )
    with op.batch_alter_table("collections") as batch:
        batch.add_column(
            sa.Column("approvals_required", sa.Integer, nullable=False, server_default="0")
        )
        batch.add_column(
            sa.Column("approver_role", sa.String(30), nullable=False, server_default="curator")
        )
    with op.batch_alter_table("members") as batch:
        batch.add_column(
            sa.Column(
                "declared_use", sa.String(30), nullable=False, server_default="non-commercial"
            )
        )
    op.create_table(
        "reviews",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("revision_id", sa.Integer, sa.ForeignKey("revisions.id"), nullable=False),
        sa.Column("reviewer", sa.String(200), nullable=False),
        sa.Column("reviewer_user_id", sa.Integer),
        sa.Column("decision", sa.String(30), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("created_at", sa.String(40), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("action", sa.String(50), nullable=False),
        sa.Column("subject", sa.String(300), nullable=False),
        sa.Column("details", sa.Text, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    op.create_table(
        "credits",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("route", sa.String(100), nullable=False),
        sa.Column("member_id", sa.Integer),
        sa.Column("user_id", sa.Integer),
        sa.Column("document_id", sa.Integer, nullable=False),
        sa.Column("revision_id", sa.Integer),
        sa.Column("contributor", sa.String(200)),
        sa.Column("citations", sa.Integer, nullable=False),
    )
    op.create_index("ix_credits_created_at", "credits", ["created_at"])


def downgrade() -> None:
    op.drop_table("credits")
    op.drop_table("audit_log")
    op.drop_table("reviews")
    with op.batch_alter_table("members") as batch:
        batch.drop_column("declared_use")
    with op.batch_alter_table("collections") as batch:
        batch.drop_column("approver_role")
        batch.drop_column("approvals_required")
    with op.batch_alter_table("documents") as batch:
        batch.drop_column("tdm_reserved")
        batch.drop_column("published_revision_id")
    with op.batch_alter_table("revisions") as batch:
        for col in (
            "tdm_reserved",
            "contributor_member_id",
            "contributor_user_id",
            "hold_reason",
            "status",
        ):
            batch.drop_column(col)
