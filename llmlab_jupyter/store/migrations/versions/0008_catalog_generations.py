"""catalog_generations: a per-project change counter kept by triggers

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29 05:00:00

Every insert, update or delete of a project's prompts, prompt versions, labels or memberships
bumps the project's counter inside the writing transaction. A reader that remembers the
counter it built a cache from knows, by reading one row, whether the cache is still current.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_BUMP = "UPDATE catalog_generations SET generation = generation + 1 WHERE project_id = {pid}"
_BY_PROMPT = "(SELECT project_id FROM prompts WHERE id = {row}.prompt_id)"
#: table -> how a changed row names its project ({row} is NEW or OLD)
_TABLES = {
    "memberships": "{row}.project_id",
    "prompts": "{row}.project_id",
    "prompt_versions": _BY_PROMPT,
    "labels": _BY_PROMPT,
}


def _sqlite_upgrade() -> None:
    op.execute(
        "CREATE TRIGGER catalog_generation_new_project AFTER INSERT ON projects BEGIN "
        "INSERT INTO catalog_generations (project_id, generation) VALUES (NEW.id, 0); END"
    )
    for table, project in _TABLES.items():
        for event, row in (("INSERT", "NEW"), ("UPDATE", "NEW"), ("DELETE", "OLD")):
            bump = _BUMP.format(pid=project.format(row=row))
            op.execute(
                f"CREATE TRIGGER catalog_generation_{table}_{event.lower()} "
                f"AFTER {event} ON {table} BEGIN {bump}; END"
            )


def _postgresql_upgrade() -> None:
    op.execute(
        "CREATE FUNCTION catalog_generation_new_project() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN INSERT INTO catalog_generations (project_id, generation) VALUES (NEW.id, 0); "
        "RETURN NULL; END $$"
    )
    op.execute(
        "CREATE TRIGGER catalog_generation_new_project AFTER INSERT ON projects "
        "FOR EACH ROW EXECUTE FUNCTION catalog_generation_new_project()"
    )
    for table, project in _TABLES.items():
        new, old = (
            _BUMP.format(pid=project.format(row="NEW")),
            _BUMP.format(pid=project.format(row="OLD")),
        )
        op.execute(
            f"CREATE FUNCTION catalog_generation_{table}() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN IF TG_OP = 'DELETE' THEN {old}; ELSE {new}; END IF; RETURN NULL; END $$"
        )
        op.execute(
            f"CREATE TRIGGER catalog_generation_{table} AFTER INSERT OR UPDATE OR DELETE "
            f"ON {table} FOR EACH ROW EXECUTE FUNCTION catalog_generation_{table}()"
        )


def upgrade() -> None:
    op.create_table(
        "catalog_generations",
        sa.Column(
            "project_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
        ),
        sa.Column("generation", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_catalog_generations_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("project_id", name=op.f("pk_catalog_generations")),
    )
    op.execute(
        "INSERT INTO catalog_generations (project_id, generation) SELECT id, 0 FROM projects"
    )
    if op.get_bind().dialect.name == "postgresql":
        _postgresql_upgrade()
    else:
        _sqlite_upgrade()


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    names = ["new_project"] + [
        f"{table}_{event}" if not postgres else table
        for table in _TABLES
        for event in (("insert", "update", "delete") if not postgres else ("",))
    ]
    for name in dict.fromkeys(names):
        if postgres:
            on = "projects" if name == "new_project" else name
            op.execute(f"DROP TRIGGER catalog_generation_{name} ON {on}")
            op.execute(f"DROP FUNCTION catalog_generation_{name}()")
        else:
            op.execute(f"DROP TRIGGER catalog_generation_{name}")
    op.drop_table("catalog_generations")
