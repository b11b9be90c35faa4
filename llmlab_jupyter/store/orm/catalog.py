"""Tables of the prompt catalogue: projects, memberships, prompts, versions, labels."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from .base import Audited, Base, BigId, utcnow


class ProjectRow(Audited, Base):
    __tablename__ = "projects"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    title: Mapped[str] = mapped_column(String(300), default="")


class MembershipRow(Audited, Base):
    """A role in a project granted to a user (``kind="user"``) or to every member of a
    JupyterHub group (``kind="group"``), named ``name`` (migration 0010)."""

    __tablename__ = "memberships"
    __table_args__ = (
        UniqueConstraint("project_id", "kind", "name", name="uq_memberships_project_kind_name"),
        CheckConstraint("role IN ('owner', 'editor', 'viewer')", name="role"),
        CheckConstraint("kind IN ('user', 'group')", name="kind"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(10), default="user", server_default="user")
    name: Mapped[str] = mapped_column(String(200), index=True)
    role: Mapped[str] = mapped_column(String(20))


class PromptRow(Audited, Base):
    __tablename__ = "prompts"
    __table_args__ = (UniqueConstraint("project_id", "name", name="uq_prompts_project_name"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[str] = mapped_column(String(10))
    latest_version: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class PromptVersionRow(Audited, Base):
    __tablename__ = "prompt_versions"
    __table_args__ = (
        UniqueConstraint("prompt_id", "number", name="uq_prompt_versions_prompt_number"),
        Index("ix_prompt_versions_prompt_hash", "prompt_id", "content_hash"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    prompt_id: Mapped[int] = mapped_column(ForeignKey("prompts.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(10))
    template: Mapped[Any] = mapped_column(JSON)
    variables: Mapped[list[Any]] = mapped_column(JSON)
    declared_variables: Mapped[list[Any]] = mapped_column(JSON)
    model: Mapped[str | None] = mapped_column(String(200), nullable=True)
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    message: Mapped[str] = mapped_column(Text, default="")
    content_hash: Mapped[str] = mapped_column(String(80))
    parent: Mapped[int | None] = mapped_column(Integer, nullable=True)


class LabelRow(Audited, Base):
    __tablename__ = "labels"
    __table_args__ = (UniqueConstraint("prompt_id", "name", name="uq_labels_prompt_name"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    prompt_id: Mapped[int] = mapped_column(ForeignKey("prompts.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    version: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(200))


class CatalogGenerationRow(Base):
    """Counters per project that every change to its prompts, labels or members (and, for
    ``results_generation``, to its experiments or feedback) moves on.

    Database triggers (migration 0008) bump it in the writing transaction, whichever process
    or code path writes, so a cached copy of a project's prompt catalogue is known to be
    current by reading one row (see ``server/prompt_cache.py``).
    """

    __tablename__ = "catalog_generations"
    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )
    generation: Mapped[int] = mapped_column(BigInteger, default=0)
    #: moved on by every change to the project's experiments or feedback (migration 0009)
    results_generation: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")


class LabelEventRow(Audited, Base):
    __tablename__ = "label_events"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    prompt_id: Mapped[int] = mapped_column(ForeignKey("prompts.id", ondelete="CASCADE"), index=True)
    label: Mapped[str] = mapped_column(String(100))
    from_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    to_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
