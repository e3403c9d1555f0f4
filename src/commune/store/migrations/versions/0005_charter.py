"""The charter: its versions, decision records, the answer cache, evaluation scores.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "charters",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("sha256", sa.String(64), nullable=False, unique=True),
        sa.Column("version", sa.String(100), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("in_force_from", TS, nullable=False),
    )
    op.create_table(
        "decisions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("route", sa.String(100), nullable=False),
        sa.Column("member_id", sa.Integer),
        sa.Column("user_id", sa.Integer),
        sa.Column("question", sa.Text),
        sa.Column("question_sha256", sa.String(64), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("collection", sa.String(200)),
        sa.Column("outcome", sa.String(30), nullable=False),
        sa.Column("model", sa.String(200)),
        sa.Column("steps", sa.Text, nullable=False),
        sa.Column("charter_sha256", sa.String(64), nullable=False),
        sa.Column("wh", sa.Float),
    )
    op.create_index("ix_decisions_created_at", "decisions", ["created_at"])
    op.create_table(
        "answer_cache",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("scope", sa.String(64), nullable=False),
        sa.Column("generation", sa.Integer, nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("vector", sa.LargeBinary),
        sa.Column("embedder", sa.String(100)),
        sa.Column("answer", sa.Text, nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_index("ix_answer_cache_key", "answer_cache", ["key", "generation"])
    op.create_index("ix_answer_cache_scope", "answer_cache", ["scope", "generation"])
    op.create_table(
        "eval_scores",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("suite", sa.String(200), nullable=False),
        sa.Column("suite_sha256", sa.String(64), nullable=False),
        sa.Column("split", sa.String(20), nullable=False),
        sa.Column("collection", sa.String(200), nullable=False),
        sa.Column("mode", sa.String(20), nullable=False),
        sa.Column("model", sa.String(200)),
        sa.Column("questions", sa.Integer, nullable=False),
        sa.Column("correct", sa.Float, nullable=False),
        sa.Column("fact_containment", sa.Float),
        sa.Column("wh_per_correct_answer", sa.Float),
        sa.Column("generation", sa.Integer, nullable=False),
    )
    op.create_index("ix_eval_scores_collection", "eval_scores", ["collection", "mode", "model"])


def downgrade() -> None:
    op.drop_table("eval_scores")
    op.drop_table("answer_cache")
    op.drop_table("decisions")
    op.drop_table("charters")
