"""SQLAlchemy tables of the domain. Only the ``store`` package imports SQLAlchemy.

Every row carries ``created_at`` and ``created_by``. Schema changes go through
Alembic migrations in ``store/migrations``; a test fails if these models and the
migrations disagree.

This package assembles the metadata: importing it defines every table on
:data:`Base.metadata` (the tables live in one module per area: :mod:`.catalog`,
:mod:`.datasets`, :mod:`.experiments`, :mod:`.jobs`), so Alembic's ``env.py`` and the
tests need only ``from llmlab_jupyter.store.orm import Base``.
"""

from __future__ import annotations

from . import catalog, datasets, experiments, jobs
from .base import Base

__all__ = ["Base", "catalog", "datasets", "experiments", "jobs"]
