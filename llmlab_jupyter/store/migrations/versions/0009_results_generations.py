"""catalog_generations.results_generation: a per-project counter of experiment changes

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29 08:30:00

Every insert, update or delete of a project's experiments, or of feedback on their results,
bumps the project's ``results_generation`` inside the writing transaction. Results and
scores are only written together with an update of their experiment's row (its counters, or
its status when a run starts, resumes or ends), so a finished experiment's summary cached
with the counter it was computed at is current for as long as the counter stays put.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_BUMP = (
    "UPDATE catalog_generations SET results_generation = results_generation + 1 "
    "WHERE project_id = {pid}"
)
#: table -> how a changed row names its project ({row} is NEW or OLD)
_TABLES = {
    "experiments": "{row}.project_id",
    "feedback": "(SELECT project_id FROM experiments WHERE id = {row}.experiment_id)",
}


def _sqlite_upgrade() -> None:
    for table, project in _TABLES.items():
        for event, row in (("INSERT", "NEW"), ("UPDATE", "NEW"), ("DELETE", "OLD")):
            bump = _BUMP.format(pid=project.format(row=row))
            op.execute(
                f"CREATE TRIGGER results_generation_{table}_{event.lower()} "
                f"AFTER {event} ON {table} BEGIN {bump}; END"
            )


def _postgresql_upgrade() -> None:
    for table, project in _TABLES.items():
        new, old = (
            _BUMP.format(pid=project.format(row="NEW")),
            _BUMP.format(pid=project.format(row="OLD")),
        )
        op.execute(
            f"CREATE FUNCTION results_generation_{table}() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN IF TG_OP = 'DELETE' THEN {old}; ELSE {new}; END IF; RETURN NULL; END $$"
        )
        op.execute(
            f"CREATE TRIGGER results_generation_{table} AFTER INSERT OR UPDATE OR DELETE "
            f"ON {table} FOR EACH ROW EXECUTE FUNCTION results_generation_{table}()"
        )


def upgrade() -> None:
    op.add_column(
        "catalog_generations",
        sa.Column("results_generation", sa.BigInteger(), nullable=False, server_default="0"),
    )
    if op.get_bind().dialect.name == "postgresql":
        _postgresql_upgrade()
    else:
        _sqlite_upgrade()


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for table in _TABLES:
        if postgres:
            op.execute(f"DROP TRIGGER results_generation_{table} ON {table}")
            op.execute(f"DROP FUNCTION results_generation_{table}()")
        else:
            for event in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER results_generation_{table}_{event}")
    # a plain ALTER TABLE (SQLite >= 3.35 too): no table copy that other triggers could miss
    op.execute("ALTER TABLE catalog_generations DROP COLUMN results_generation")
