"""The identity of the dataset that gave each text (its croissant.json's ``@id``), beside its
name: a dataset known by its name alone lost the documents it gave once its publisher renamed
the collection, and another publisher's dataset of the same name ("mairie") retired them.

The texts recorded before this migration keep no identity (None): their dataset is known
by its name only, as before (commons/opendata.py falls back to it).

Revision ID: 0021
Revises: 0020
"""

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("dataset_texts", sa.Column("dataset_id", sa.Text, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("dataset_texts") as batch:
        batch.drop_column("dataset_id")
