"""PostgreSQL: the ledger's append-only rule, as SQLite's triggers give it since 0003;
quota holds, which make quotas exact with several server processes.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)

APPEND_ONLY = """
CREATE OR REPLACE FUNCTION commune_usage_append_only() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION 'the usage ledger is append-only';
END;
$$ LANGUAGE plpgsql
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(APPEND_ONLY)
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER usage_append_only_{action.lower()} BEFORE {action} ON usage "
                "FOR EACH ROW EXECUTE FUNCTION commune_usage_append_only()"
            )
        # TRUNCATE skips row triggers: a statement trigger refuses it too.
        op.execute(
            "CREATE TRIGGER usage_append_only_truncate BEFORE TRUNCATE ON usage "
            "FOR EACH STATEMENT EXECUTE FUNCTION commune_usage_append_only()"
        )
    # A request admitted under a quota holds its place until its ledger row is written:
    # concurrent requests, in any process, count it.
    op.create_table(
        "quota_holds",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("member_id", sa.Integer),
        sa.Column("user_id", sa.Integer),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_index("ix_quota_holds_member", "quota_holds", ["member_id", "created_at"])


def downgrade() -> None:
    op.drop_table("quota_holds")
    if op.get_bind().dialect.name == "postgresql":
        for action in ("update", "delete", "truncate"):
            op.execute(f"DROP TRIGGER IF EXISTS usage_append_only_{action} ON usage")
        op.execute("DROP FUNCTION IF EXISTS commune_usage_append_only()")
