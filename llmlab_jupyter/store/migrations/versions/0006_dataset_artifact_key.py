"""dataset_versions.artifact_key: rows of large datasets kept in the artifact store

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 02:05:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("dataset_versions") as batch:
        batch.add_column(sa.Column("artifact_key", sa.String(length=500), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("dataset_versions") as batch:
        batch.drop_column("artifact_key")
