"""A checksum of every row that belongs to one project, read straight from the database.

Tables are reflected from the live schema; each table's path to ``projects`` follows its
foreign keys, so a new table is covered without editing this file. Tables that reach no
project (shared caches) are left out.
"""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy import MetaData, Table, create_engine, select


def _path_to_projects(table: Table) -> list[Any] | None:
    """The shortest chain of foreign keys from ``table`` to ``projects`` (breadth first)."""
    queue: list[tuple[Table, list[Any]]] = [(table, [])]
    seen = {table.name}
    while queue:
        current, path = queue.pop(0)
        if current.name == "projects":
            return path
        for fk in sorted(current.foreign_keys, key=lambda fk: fk.column.table.name != "projects"):
            parent = fk.column.table
            if parent.name not in seen:
                seen.add(parent.name)
                queue.append((parent, [*path, (fk.parent, fk.column)]))
    return None


def project_checksums(url: str, project: str) -> dict[str, str]:
    """``{table: sha256 of its rows in project}`` for every table that reaches a project."""
    engine = create_engine(url)
    try:
        meta = MetaData()
        meta.reflect(engine)
        projects = meta.tables["projects"]
        found: dict[str, str] = {}
        with engine.connect() as conn:
            for name, table in sorted(meta.tables.items()):
                path = _path_to_projects(table)
                if path is None or name == "alembic_version":
                    continue
                query = select(table)
                for child, parent in path:
                    query = query.join(parent.table, child == parent)
                query = query.where(projects.c.slug == project)
                rows = sorted(repr(tuple(row)) for row in conn.execute(query))
                found[name] = hashlib.sha256("\n".join(rows).encode()).hexdigest() + f":{len(rows)}"
        return found
    finally:
        engine.dispose()
