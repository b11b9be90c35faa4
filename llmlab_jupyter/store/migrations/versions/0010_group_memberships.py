"""memberships.kind: a project role granted to a JupyterHub group as well as to a user

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 09:00:00

``memberships`` gains ``kind`` (``user`` | ``group``, existing rows are users) and its
``user_name`` column becomes ``name``; a project grants at most one role per (kind, name).
Group grants live in the same table, so the catalogue triggers of migration 0008 move the
project's generation on every group grant too.

SQLite cannot change a table's constraints in place: the table is copied (Alembic's batch
mode), which drops the triggers on it, so the three of 0008 are made again. PostgreSQL alters
the table in place and keeps its trigger.

Downgrade deletes the group grants (the old table cannot hold them) and restores the old shape.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

#: migration 0008's triggers on memberships (SQLite), made again after each table copy
_BUMP = (
    "UPDATE catalog_generations SET generation = generation + 1 WHERE project_id = {row}.project_id"
)
_EVENTS = (("INSERT", "NEW"), ("UPDATE", "NEW"), ("DELETE", "OLD"))


def _sqlite_triggers() -> None:
    for event, row in _EVENTS:
        op.execute(
            f"CREATE TRIGGER IF NOT EXISTS catalog_generation_memberships_{event.lower()} "
            f"AFTER {event} ON memberships BEGIN {_BUMP.format(row=row)}; END"
        )


def _old_table(keys: bool = True) -> sa.Table:
    """``memberships`` as migration 0001 made it (what a SQLite copy is made from); without
    ``keys``, without its unique constraint and index (half-way down)."""
    extra: list[sa.SchemaItem] = (
        [
            sa.UniqueConstraint("project_id", "user_name", name="uq_memberships_project_user"),
            sa.Index("ix_memberships_user_name", "user_name"),
        ]
        if keys
        else []
    )
    return sa.Table(
        "memberships",
        sa.MetaData(),
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "project_id",
            sa.Integer(),
            sa.ForeignKey(
                "projects.id", name="fk_memberships_project_id_projects", ondelete="CASCADE"
            ),
            nullable=False,
        ),
        sa.Column("user_name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.CheckConstraint("role IN ('owner', 'editor', 'viewer')", name="ck_memberships_role"),
        *extra,
    )


def _new_table(keys: bool = True) -> sa.Table:
    """``memberships`` after this migration (what a SQLite copy is made from on the way
    down); without ``keys``, without its kind check, unique constraint and index (half-way
    up)."""
    extra: list[sa.SchemaItem] = (
        [
            sa.CheckConstraint("kind IN ('user', 'group')", name="ck_memberships_kind"),
            sa.UniqueConstraint(
                "project_id", "kind", "name", name="uq_memberships_project_kind_name"
            ),
            sa.Index("ix_memberships_name", "name"),
        ]
        if keys
        else []
    )
    return sa.Table(
        "memberships",
        sa.MetaData(),
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "project_id",
            sa.Integer(),
            sa.ForeignKey(
                "projects.id", name="fk_memberships_project_id_projects", ondelete="CASCADE"
            ),
            nullable=False,
        ),
        sa.Column("kind", sa.String(length=10), nullable=False, server_default="user"),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.CheckConstraint("role IN ('owner', 'editor', 'viewer')", name="ck_memberships_role"),
        *extra,
    )


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    # two steps: within one batch, a renamed column cannot be named by a new constraint yet
    with op.batch_alter_table("memberships", copy_from=_old_table() if sqlite else None) as b:
        b.drop_constraint("uq_memberships_project_user", type_="unique")
        b.drop_index("ix_memberships_user_name")
        b.alter_column("user_name", new_column_name="name", existing_type=sa.String(length=200))
        b.add_column(sa.Column("kind", sa.String(length=10), nullable=False, server_default="user"))
    with op.batch_alter_table("memberships", copy_from=_new_table(False) if sqlite else None) as b:
        b.create_unique_constraint(
            "uq_memberships_project_kind_name", ["project_id", "kind", "name"]
        )
        b.create_index("ix_memberships_name", ["name"])
        b.create_check_constraint(op.f("ck_memberships_kind"), "kind IN ('user', 'group')")
    if sqlite:
        _sqlite_triggers()


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.execute("DELETE FROM memberships WHERE kind = 'group'")
    with op.batch_alter_table("memberships", copy_from=_new_table() if sqlite else None) as b:
        b.drop_constraint(op.f("ck_memberships_kind"), type_="check")
        b.drop_constraint("uq_memberships_project_kind_name", type_="unique")
        b.drop_index("ix_memberships_name")
        b.drop_column("kind")
        b.alter_column("name", new_column_name="user_name", existing_type=sa.String(length=200))
    with op.batch_alter_table("memberships", copy_from=_old_table(False) if sqlite else None) as b:
        b.create_unique_constraint("uq_memberships_project_user", ["project_id", "user_name"])
        b.create_index("ix_memberships_user_name", ["user_name"])
    if sqlite:
        _sqlite_triggers()
