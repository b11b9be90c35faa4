"""``/projects/{project}/prompts``: versions, labels, diff, render, and the editor's preview."""

from __future__ import annotations

from typing import Any

from ... import prompts as tpl
from ...exceptions import InvalidInput
from ...models import CreatePromptVersion, Label, Prompt, PromptVersion
from ..prompt_cache import CatalogView
from ..schemas import common as s
from .base import LlmLabHandler, Reply, operation, to_int


def _valid_label(label: str | None) -> bool:
    try:
        return label is None or tpl.validate_slug(label, "label") == label
    except InvalidInput:
        return False


def _cached_list(h: LlmLabHandler, view: CatalogView, *, query: Any) -> bytes | None:
    if query.limit > h.llmlab.llmlab_config.max_page_size or not _valid_label(query.label or None):
        return None
    return view.page(
        sort=query.sort,
        search=query.search or None,
        label=query.label or None,
        limit=query.limit,
        offset=query.offset,
    )


def _cached_version(h: LlmLabHandler, view: CatalogView, name: str, number: str) -> bytes | None:
    if not (number.isascii() and number.isdigit()) or len(number) > 10:
        return None
    return view.version(name, int(number))


def _cached_resolve(h: LlmLabHandler, view: CatalogView, name: str, *, query: Any) -> bytes | None:
    if not _valid_label(query.label):
        return None
    return view.resolve(
        name,
        version=query.version,
        label=query.label,
        fallback_to_latest=query.fallback_to_latest,
    )


class PromptsHandler(LlmLabHandler):
    @operation(
        "read",
        "List prompts",
        response=s.ListPromptsResponse,
        query=s.ListPromptsQuery,
        cached=_cached_list,
    )
    def get(self, project: str, *, query: Any) -> s.ListPromptsResponse:
        items = self.services.prompts.list(
            self.caller,
            project,
            search=query.search or None,
            label=query.label or None,
            limit=query.limit,
            offset=query.offset,
            sort=query.sort,
        )
        return s.ListPromptsResponse(
            items=items, next_offset=s.next_offset(query.offset, query.limit, len(items))
        )


class PromptHandler(LlmLabHandler):
    @operation(
        "read",
        "A prompt: latest version number, labels",
        response=Prompt,
        cached=lambda h, view, name: view.prompt(name),
    )
    def get(self, project: str, name: str) -> Prompt:
        return self.services.prompts.info(self.caller, project, name)


class PromptVersionsHandler(LlmLabHandler):
    @operation(
        "read",
        "Versions of a prompt, newest first",
        response=s.ListPromptVersionsResponse,
        query=s.PageQuery,
    )
    def get(self, project: str, name: str, *, query: Any) -> s.ListPromptVersionsResponse:
        items = self.services.prompts.versions(
            self.caller, project, name, limit=query.limit, offset=query.offset
        )
        return s.ListPromptVersionsResponse(
            items=items, next_offset=s.next_offset(query.offset, query.limit, len(items))
        )

    @operation(
        "write",
        "Save a new version (201), or get the latest back unchanged (200)",
        response=s.SavePromptVersionResponse,
        status=201,
        alt_status=(200,),
        body=CreatePromptVersion,
    )
    def post(self, project: str, name: str, *, body: Any) -> Reply:
        saved = self.services.prompts.save(
            self.caller,
            project,
            name,
            body.template,
            kind=body.kind,
            variables=body.variables,
            model=body.model,
            params=body.params,
            message=body.message,
            description=body.description,
        )
        reply = s.SavePromptVersionResponse(version=saved.version, created=saved.created)
        return Reply(reply, 201 if saved.created else 200)


class PromptVersionHandler(LlmLabHandler):
    @operation("read", "One version by number", response=PromptVersion, cached=_cached_version)
    def get(self, project: str, name: str, number: str) -> PromptVersion:
        return self.services.prompts.get(
            self.caller, project, name, version=to_int(number, "number")
        )


class ResolveHandler(LlmLabHandler):
    @operation(
        "read",
        "The version a label (default production) or number points at",
        response=PromptVersion,
        query=s.ResolveQuery,
        cached=_cached_resolve,
    )
    def get(self, project: str, name: str, *, query: Any) -> PromptVersion:
        return self.services.prompts.get(
            self.caller,
            project,
            name,
            version=query.version,
            label=query.label,
            fallback_to_latest=query.fallback_to_latest,
        )


class DiffHandler(LlmLabHandler):
    @operation("read", "Unified diff of two versions", response=s.DiffResponse, query=s.DiffQuery)
    def get(self, project: str, name: str, *, query: Any) -> s.DiffResponse:
        prompts, caller = self.services.prompts, self.caller
        va = prompts.get(caller, project, name, version=query.a)
        vb = prompts.get(caller, project, name, version=query.b)
        text = prompts.diff(caller, project, name, query.a, query.b)
        return s.DiffResponse(diff=text, a=va, b=vb)


class LabelHandler(LlmLabHandler):
    @operation("write", "Move (or create) a label", response=Label, body=s.SetLabel)
    def put(self, project: str, name: str, label: str, *, body: Any) -> Label:
        return self.services.prompts.set_label(self.caller, project, name, label, body.version)

    @operation("write", "Remove a label (the move is kept in history)", status=204)
    def delete(self, project: str, name: str, label: str) -> Reply:
        self.services.prompts.remove_label(self.caller, project, name, label)
        return Reply(None, 204)


class LabelHistoryHandler(LabelHandler):
    """``labels/history``: the history on GET; PUT/DELETE still address a label so named."""

    @operation(
        "read",
        "Every label move of a prompt, oldest first",
        response=s.LabelHistoryResponse,
        query=s.LabelHistoryQuery,
    )
    def get(self, project: str, name: str, _history: str, *, query: Any) -> s.LabelHistoryResponse:
        items = self.services.prompts.label_history(self.caller, project, name, query.label)
        return s.LabelHistoryResponse(items=items)


class RenderHandler(LlmLabHandler):
    @operation(
        "read",
        "Render a stored version with variables",
        response=s.RenderResponse,
        body=s.RenderPrompt,
    )
    def post(self, project: str, name: str, *, body: Any) -> s.RenderResponse:
        rendered = self.services.prompts.render(
            self.caller,
            project,
            name,
            body.variables,
            version=body.version,
            label=body.label,
            fallback_to_latest=body.fallback_to_latest,
        )
        return s.RenderResponse(rendered=rendered)


class RenderPreviewHandler(LlmLabHandler):
    @operation(
        "read",
        "Validate an unsaved template: detected variables, rendering or the error (always 200)",
        response=s.RenderPreviewResponse,
        body=s.RenderPreview,
    )
    def post(self, project: str, *, body: Any) -> s.RenderPreviewResponse:
        self.services.projects.get(self.caller, project)  # read access, 404 for non-members
        variables: list[str] = []
        try:
            kind, data = tpl.normalize_template(body.template)
            variables = tpl.detect_variables(kind, data)
            rendered = None
            if body.variables is not None:
                rendered = tpl.render(kind, data, body.variables)
        except InvalidInput as err:
            line = err.details.get("line")
            error = s.TemplateErrorInfo(
                message=err.message,
                error_code=err.error_code,
                field=err.field,
                line=line if isinstance(line, int) else None,
            )
            return s.RenderPreviewResponse(variables=variables, error=error)
        return s.RenderPreviewResponse(variables=variables, rendered=rendered)
