"""Typed records returned by the services and request bodies accepted by them.

Records are immutable pydantic models: plain data that crosses process
boundaries (REST, Celery, papermill) unchanged. Request models are named
verb + noun (``CreatePromptVersion``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Role = Literal["owner", "editor", "viewer"]
#: the roles, highest first: a caller with several grants in a project has the highest one
ROLES: tuple[Role, ...] = ("owner", "editor", "viewer")
MemberKind = Literal["user", "group"]
PromptKind = Literal["text", "chat"]
ColumnType = Literal["string", "integer", "number", "boolean", "datetime", "json"]


class Record(BaseModel):
    """Base of every record: frozen, extra fields forbidden."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Message(Record):
    """One chat message; ``content`` is a sandboxed Jinja2 template."""

    role: Literal["system", "user", "assistant", "tool", "developer"]
    content: str


class Project(Record):
    slug: str
    title: str
    created_at: datetime
    created_by: str
    role: Role | None = Field(default=None, description="The caller's role in this project.")


class Membership(Record):
    """A role in a project granted to one user (``kind="user"``, ``user`` names them) or to
    every member of a JupyterHub group (``kind="group"``, ``group`` names it)."""

    project: str
    kind: MemberKind = "user"
    user: str | None = Field(default=None, description="The member user (user grants).")
    group: str | None = Field(default=None, description="The Hub group (group grants).")
    role: Role
    created_at: datetime
    created_by: str


class Prompt(Record):
    project: str
    name: str
    description: str
    kind: PromptKind
    latest_version: int
    labels: dict[str, int] = Field(default_factory=dict)
    created_at: datetime
    created_by: str
    updated_at: datetime


class PromptVersion(Record):
    """An immutable version of a prompt: template, variables, default model and parameters."""

    project: str
    prompt: str
    number: int
    kind: PromptKind
    template: str | list[Message]
    variables: list[str]
    declared_variables: list[str]
    model: str | None
    params: dict[str, Any]
    message: str
    content_hash: str
    parent: int | None
    labels: list[str] = Field(default_factory=list)
    created_at: datetime
    created_by: str

    @property
    def ref(self) -> str:
        """``name@number``, the short reference used by the CLI and experiments."""
        return f"{self.prompt}@{self.number}"

    def render(self, variables: dict[str, Any] | None = None, /, **kwargs: Any) -> Any:
        """Render this version: a string for text prompts, a list of message dicts for chat."""
        from ..prompts import render

        values = {**(variables or {}), **kwargs}
        return render(self.kind, self.template_data(), values)

    def template_data(self) -> str | list[dict[str, str]]:
        """The template as plain data (``str`` or a list of ``{"role", "content"}``)."""
        if isinstance(self.template, str):
            return self.template
        return [m.model_dump() for m in self.template]


class Label(Record):
    project: str
    prompt: str
    name: str
    version: int
    updated_at: datetime
    updated_by: str


class LabelEvent(Record):
    """One move of a label: who moved it, when, from which version to which."""

    project: str
    prompt: str
    label: str
    from_version: int | None
    to_version: int | None
    created_at: datetime
    created_by: str


class Column(Record):
    name: str
    type: ColumnType


class Dataset(Record):
    project: str
    name: str
    description: str
    latest_version: int
    created_at: datetime
    created_by: str
    updated_at: datetime


class DatasetVersion(Record):
    """An immutable version of a dataset: rows, column schema and content hash."""

    project: str
    dataset: str
    number: int
    content_hash: str
    columns: list[Column]
    row_count: int
    source_format: str
    message: str
    created_at: datetime
    created_by: str

    @property
    def ref(self) -> str:
        return f"{self.dataset}@{self.number}"

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]


class CreatePromptVersion(BaseModel):
    """Request body: save a new version of a prompt (creating the prompt if needed)."""

    model_config = ConfigDict(extra="ignore")

    template: str | list[Message]
    kind: PromptKind | None = None
    variables: list[str] | None = None
    model: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    message: str = ""
    description: str | None = None


class SaveResult(Record):
    """Outcome of a save: the version and whether it was newly created."""

    version: PromptVersion
    created: bool


ExperimentStatus = Literal[
    "created", "running", "completed", "interrupted", "failed", "cancelled", "budget_exceeded"
]


class Variant(Record):
    """One arm of an experiment, with the provenance of what made its results."""

    idx: int
    name: str
    prompt: str
    prompt_version: int
    prompt_hash: str
    model: str
    params: dict[str, Any]


class Experiment(Record):
    project: str
    name: str
    description: str
    dataset: str
    dataset_version: int
    dataset_hash: str
    status: ExperimentStatus
    variants: list[Variant]
    scorers: list[dict[str, Any]]
    settings: dict[str, Any]
    budget_usd: float | None
    spent_usd: float
    total_items: int
    completed_items: int
    error_items: int
    package_version: str
    message: str
    created_at: datetime
    created_by: str
    started_at: datetime | None
    finished_at: datetime | None
    heartbeat_at: datetime | None

    @property
    def dataset_ref(self) -> str:
        return f"{self.dataset}@{self.dataset_version}"
