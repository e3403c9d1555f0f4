"""Who asked the question an answer was cached for (``answer_cache.user_id``). A cached
entry keeps the question's text beside its answer for ``[sobriety] cache_ttl_hours``, and
named nobody: a person removed from the cooperative (govern/accounts.remove_user) lost the
text of their recorded questions, but the cache kept it until it expired, up to a century
under the charter's longest lifetime. Matching their questions through the decision records
instead fails once the charter's retention, which may be shorter than the cache's lifetime,
has purged those records. NULL: the operator's question, or a request of nobody's.

The entries cached before it name no asker, so no removal could find them: they are
deleted. The cache is a saving, not a record: the next questions fill it again.

Revision ID: 0025
Revises: 0024
"""

import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("DELETE FROM answer_cache")
    # No index: only a removal looks entries up by asker, and the table holds one lifetime's
    # answers, each one an index would cost on every answer cached.
    op.add_column("answer_cache", sa.Column("user_id", sa.Integer, nullable=True))


def downgrade() -> None:
    # Dropped in place (SQLite 3.35 and later, PostgreSQL), as 0024 drops members.left_at.
    op.drop_column("answer_cache", "user_id")
