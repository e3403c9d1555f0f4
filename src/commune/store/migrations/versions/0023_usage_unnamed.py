"""The ledger forgets who made a request past the charter's retention: the purge that
deletes the decision records and the ended web sessions, and forgets the asker on the
credits, sets ``usage.user_id`` to 0 (store/schema.UNNAMED) on the rows older than the
retention. The append-only triggers (0003 on SQLite, 0007 on PostgreSQL) refused every
UPDATE, so the ledger kept each person's requests for good. They now let exactly that
change through: a person's id to 0, every other column as it was; anything else is
refused as before. NULL stays what marks ingestion's rows (store/schema.INGESTION), so a
forgotten request is never counted as ingestion.

Revision ID: 0023
Revises: 0022
"""

from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

# The ledger's columns at this revision, but user_id: a later migration adding one adds it
# here too (in a migration of its own), or the trigger would let an UPDATE change it.
COLUMNS = (
    "id",
    "created_at",
    "route",
    "mode",
    "model",
    "collection",
    "input_tokens",
    "output_tokens",
    "duration_ms",
    "fallback",
    "member_id",
    "cpu_seconds",
    "wh",
    "gco2e",
    "energy_method",
    "estimated",
)

_UNNAMING = "OLD.user_id IS NOT NULL AND OLD.user_id <> 0 AND NEW.user_id = 0"

SQLITE_UPDATE = (
    "CREATE TRIGGER usage_append_only_update BEFORE UPDATE ON usage "
    f"WHEN NOT ({_UNNAMING} AND "
    + " AND ".join(f"NEW.{c} IS OLD.{c}" for c in COLUMNS)
    + ") BEGIN SELECT RAISE(ABORT, 'the usage ledger is append-only'); END"
)
SQLITE_UPDATE_BEFORE = (
    "CREATE TRIGGER usage_append_only_update BEFORE UPDATE ON usage "
    "BEGIN SELECT RAISE(ABORT, 'the usage ledger is append-only'); END"
)

# On PostgreSQL the row is compared whole, but for the person's id: a column added later
# is covered without a new migration.
POSTGRESQL_UPDATE = f"""
CREATE OR REPLACE FUNCTION commune_usage_unnamed_only() RETURNS trigger AS $$
DECLARE
  kept usage%ROWTYPE;
BEGIN
  IF {_UNNAMING} THEN
    kept := NEW;
    kept.user_id := OLD.user_id;
    IF to_jsonb(kept) = to_jsonb(OLD) THEN
      RETURN NEW;
    END IF;
  END IF;
  RAISE EXCEPTION 'the usage ledger is append-only';
END;
$$ LANGUAGE plpgsql
"""


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS usage_append_only_update")
        op.execute(SQLITE_UPDATE)
    elif dialect == "postgresql":
        op.execute(POSTGRESQL_UPDATE)
        op.execute("DROP TRIGGER IF EXISTS usage_append_only_update ON usage")
        op.execute(
            "CREATE TRIGGER usage_append_only_update BEFORE UPDATE ON usage "
            "FOR EACH ROW EXECUTE FUNCTION commune_usage_unnamed_only()"
        )


def downgrade() -> None:
    # The rows already unnamed stay so: who made them is not kept anywhere to put back.
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS usage_append_only_update")
        op.execute(SQLITE_UPDATE_BEFORE)
    elif dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS usage_append_only_update ON usage")
        op.execute(
            "CREATE TRIGGER usage_append_only_update BEFORE UPDATE ON usage "
            "FOR EACH ROW EXECUTE FUNCTION commune_usage_append_only()"
        )
        op.execute("DROP FUNCTION IF EXISTS commune_usage_unnamed_only()")
