"""The cooperative: members, users, API keys, collection visibility, an energy ledger.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "members",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("kind", sa.String(50), nullable=False),
        sa.Column("requests_per_day", sa.Integer),
        sa.Column("tokens_per_month", sa.Integer),
        sa.Column("wh_per_month", sa.Float),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("member_id", sa.Integer, sa.ForeignKey("members.id"), nullable=False),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("role", sa.String(30), nullable=False),
        sa.Column("requests_per_day", sa.Integer),
        sa.Column("tokens_per_month", sa.Integer),
        sa.Column("wh_per_month", sa.Float),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_table(
        "api_keys",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("prefix", sa.String(16), nullable=False, unique=True),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("label", sa.String(200), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("expires_at", TS),
        sa.Column("revoked_at", TS),
    )
    with op.batch_alter_table("collections") as batch:
        batch.add_column(
            sa.Column(
                "member_id",
                sa.Integer,
                sa.ForeignKey("members.id", name="fk_collections_member"),
            )
        )
        batch.add_column(
            sa.Column("visibility", sa.String(20), nullable=False, server_default="shared")
        )
    with op.batch_alter_table("usage") as batch:
        batch.add_column(sa.Column("member_id", sa.Integer))
        batch.add_column(sa.Column("user_id", sa.Integer))
        batch.add_column(sa.Column("cpu_seconds", sa.Float, nullable=False, server_default="0"))
        batch.add_column(sa.Column("wh", sa.Float))
        batch.add_column(sa.Column("gco2e", sa.Float))
        batch.add_column(sa.Column("energy_method", sa.String(200)))
        batch.add_column(sa.Column("estimated", sa.Boolean, nullable=False, server_default="0"))
    op.create_index("ix_usage_member_created", "usage", ["member_id", "created_at"])
    # The ledger is append-only: the database itself refuses edits and deletions.
    if op.get_bind().dialect.name == "sqlite":
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER usage_append_only_{action.lower()} BEFORE {action} ON usage "
                "BEGIN SELECT RAISE(ABORT, 'the usage ledger is append-only'); END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS usage_append_only_update")
        op.execute("DROP TRIGGER IF EXISTS usage_append_only_delete")
    op.drop_index("ix_usage_member_created", "usage")
    with op.batch_alter_table("usage") as batch:
        for col in (
            "estimated",
            "energy_method",
            "gco2e",
            "wh",
            "cpu_seconds",
            "user_id",
            "member_id",
        ):
            batch.drop_column(col)
    with op.batch_alter_table("collections") as batch:
        batch.drop_column("visibility")
        batch.drop_column("member_id")
    op.drop_table("api_keys")
    op.drop_table("users")
    op.drop_table("members")
