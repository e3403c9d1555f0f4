"""A charter may come back into force: ``charters`` is a history of what was in force when,
so the same text (the same hash) may stand in it twice. Going back to an earlier charter kept
listing the newer one as the latest, since the earlier hash was already recorded and the
unique constraint forbade recording its return.

Revision ID: 0015
Revises: 0014
"""

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

# SQLite keeps the column's inline UNIQUE unnamed: batch mode names it through this
# convention while it copies the table.
_NAMES = {"uq": "uq_%(table_name)s_%(column_0_name)s"}


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint("charters_sha256_key", "charters", type_="unique")
        return
    with op.batch_alter_table("charters", naming_convention=_NAMES, recreate="always") as batch:
        batch.drop_constraint("uq_charters_sha256", type_="unique")


def downgrade() -> None:
    # Only the latest entry of each hash can stay under the constraint.
    op.execute(
        "DELETE FROM charters WHERE id NOT IN (SELECT max(id) FROM charters GROUP BY sha256)"
    )
    if op.get_bind().dialect.name == "postgresql":
        # The name PostgreSQL gave it at 0005, which upgrade() drops again.
        op.create_unique_constraint("charters_sha256_key", "charters", ["sha256"])
        return
    with op.batch_alter_table("charters", naming_convention=_NAMES) as batch:
        batch.create_unique_constraint("uq_charters_sha256", ["sha256"])
