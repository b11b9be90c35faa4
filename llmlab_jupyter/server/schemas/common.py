"""Request, query and response models of the REST API (beyond the records in ``models``).

Request bodies ignore unknown fields, so ``created_by``, ``role`` or ``project`` sent by a
client change nothing. Query models describe the query string of each operation; the OpenAPI
document is generated from these models and the route table.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ...models import (
    Dataset,
    DatasetVersion,
    LabelEvent,
    Membership,
    Message,
    Project,
    Prompt,
    PromptVersion,
    Role,
)

PAGE_DEFAULT = 100
#: Largest number accepted for offsets and version numbers (a 32-bit database integer).
MAX_INT = 2**31 - 1


class Body(BaseModel):
    """Base of request bodies: unknown fields are ignored."""

    model_config = ConfigDict(extra="ignore")


class Query(BaseModel):
    """Base of query-string models: unknown parameters are ignored (e.g. ``token``)."""

    model_config = ConfigDict(extra="ignore")


# -- errors ------------------------------------------------------------------------------
class Error(BaseModel):
    """Every 4xx/5xx body: a message, a stable code, and the offending field if any."""

    message: str
    error_code: str
    field: str | None = None


class TemplateErrorInfo(Error):
    """A template problem found by ``render-preview`` (``line`` for syntax errors)."""

    line: int | None = None


# -- query strings -----------------------------------------------------------------------
class PageQuery(Query):
    limit: int = Field(
        PAGE_DEFAULT, ge=1, le=MAX_INT, description="Page size (capped by max_page_size)."
    )
    offset: int = Field(0, ge=0, le=MAX_INT)


class SearchPageQuery(PageQuery):
    search: str | None = Field(None, max_length=200, description="Substring of the name.")


class ListPromptsQuery(SearchPageQuery):
    label: str | None = Field(None, description="Only prompts carrying this label.")
    sort: Literal["name", "-name", "updated_at", "-updated_at"] = "name"


class ResolveQuery(Query):
    label: str | None = None
    version: int | None = Field(None, ge=1, le=MAX_INT)
    fallback_to_latest: bool = False


class DiffQuery(Query):
    a: int = Field(ge=1, le=MAX_INT)
    b: int = Field(ge=1, le=MAX_INT)


class LabelHistoryQuery(Query):
    label: str | None = None


class UploadQuery(Query):
    format: Literal["csv", "jsonl", "parquet"] | None = Field(
        None, description="Required for a raw body; taken from the file name for multipart."
    )
    # kept short enough for the query string to fit the server's header size limit
    message: str = Field("", max_length=2_000)
    description: str | None = Field(None, max_length=2_000)


# -- bodies ------------------------------------------------------------------------------
class CreateProject(Body):
    slug: str
    title: str = ""


class SetMember(Body):
    role: Role


class GrantMember(Body):
    """A role for one user or for every member of one JupyterHub group: exactly one of
    ``user`` and ``group``."""

    user: str | None = Field(None, description="The user to grant the role to.")
    group: str | None = Field(None, description="The Hub group to grant the role to.")
    role: Role


class SetLabel(Body):
    version: int = Field(ge=1, le=MAX_INT)


class RenderPrompt(Body):
    variables: dict[str, Any] = Field(default_factory=dict)
    version: int | None = Field(None, ge=1, le=MAX_INT)
    label: str | None = None
    fallback_to_latest: bool = False


class RenderPreview(Body):
    template: str | list[Message]
    variables: dict[str, Any] | None = Field(
        None, description="Values to render with; without them only variables are detected."
    )


# -- responses ---------------------------------------------------------------------------
class MeResponse(BaseModel):
    user: str = Field(description="Who the server says is calling (never from the client).")
    default_project: str = Field(description="The project this caller starts in.")
    groups: list[str] = Field(default_factory=list, description="The caller's Hub groups.")
    admin: bool = Field(False, description="Whether the caller is a Hub admin.")


class ListProjectsResponse(BaseModel):
    items: list[Project]
    next_offset: int | None


class ListMembersResponse(BaseModel):
    items: list[Membership]


class ListPromptsResponse(BaseModel):
    items: list[Prompt]
    next_offset: int | None


class ListPromptVersionsResponse(BaseModel):
    items: list[PromptVersion]
    next_offset: int | None


class SavePromptVersionResponse(BaseModel):
    version: PromptVersion
    created: bool


class DiffResponse(BaseModel):
    diff: str
    a: PromptVersion
    b: PromptVersion


class LabelHistoryResponse(BaseModel):
    items: list[LabelEvent]


class RenderResponse(BaseModel):
    rendered: str | list[Message]


class RenderPreviewResponse(BaseModel):
    variables: list[str]
    rendered: str | list[Message] | None = None
    error: TemplateErrorInfo | None = None


class ListDatasetsResponse(BaseModel):
    items: list[Dataset]
    next_offset: int | None


class ListDatasetVersionsResponse(BaseModel):
    items: list[DatasetVersion]
    next_offset: int | None


class DatasetRowsResponse(BaseModel):
    items: list[dict[str, Any]]
    next_offset: int | None
    total: int


class SaveDatasetVersionResponse(BaseModel):
    version: DatasetVersion
    created: bool


def next_offset(offset: int, limit: int, count: int, total: int | None = None) -> int | None:
    """The offset of the next page, or ``None`` when this page is the last one."""
    nxt = offset + count
    if total is not None:
        return nxt if nxt < total else None
    return nxt if count >= limit else None
