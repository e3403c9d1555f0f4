"""The texts an imported dataset gave this home, and their publisher's retirements: a
dataset's retirement retired any document of the collection holding the same bytes, this
home's own original too, and a text its publisher retired came back with an older export.

Every revision a home held before this migration is recorded as given by an unknown
dataset (origin ""): which ones an import brought was never kept, and a retirement must
keep reaching the documents it reached before.

Revision ID: 0020
Revises: 0019
"""

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "dataset_texts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("collection_id", sa.Integer, nullable=True),
        sa.Column("document_id", sa.Integer, nullable=True),
        sa.Column("content_hash", sa.String(64), nullable=True),
        sa.Column("salt", sa.String(32), nullable=True),
        sa.Column("keyed", sa.String(64), nullable=True),
        sa.Column("origin", sa.Text, nullable=False),
        sa.Column("given_at", TS, nullable=False),
        sa.Column("retired_at", TS, nullable=True),
        sa.Column("category", sa.String(20), nullable=True),
    )
    op.create_index("ix_dataset_texts_hash", "dataset_texts", ["content_hash"])
    op.execute(
        "INSERT INTO dataset_texts (collection_id, document_id, content_hash, origin, given_at)"
        " SELECT DISTINCT d.collection_id, r.document_id, r.content_hash, '', d.added_at"
        " FROM revisions r JOIN documents d ON d.id = r.document_id"
    )


def downgrade() -> None:
    op.drop_index("ix_dataset_texts_hash", "dataset_texts")
    op.drop_table("dataset_texts")
