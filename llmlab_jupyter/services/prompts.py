"""Prompts: versions, labels, diff and render."""

from __future__ import annotations

import builtins
from typing import Any

from .. import prompts as tpl
from ..exceptions import InvalidInput, NotFound
from ..models import Label, LabelEvent, Prompt, PromptVersion, SaveResult
from .access import Caller
from .base import Service

DEFAULT_LABEL = "production"
SORTS = ("name", "-name", "updated_at", "-updated_at")


def _version_number(value: Any, field: str = "version") -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidInput(f"{field} must be a positive integer; got {value!r}", field=field)
    return value


class PromptService(Service):
    """The versioned prompt library of a project."""

    def save(
        self,
        caller: Caller,
        project: str,
        name: str,
        template: Any,
        *,
        kind: str | None = None,
        variables: builtins.list[str] | None = None,
        model: str | None = None,
        params: dict[str, Any] | None = None,
        message: str = "",
        description: str | None = None,
    ) -> SaveResult:
        """Save a new version (creating the prompt on first save).

        Content identical to the latest version returns that version with
        ``created=False``. Everything is validated before anything is stored.
        """
        self.access.require(caller, project, "write")
        tpl.validate_slug(name)
        kind, data = tpl.normalize_template(template, kind)
        detected = tpl.detect_variables(kind, data)
        declared = tpl.check_declared(variables)
        model = tpl.check_model(model)
        params = tpl.check_params(params)
        if not isinstance(message, str) or len(message) > 10_000:
            raise InvalidInput(
                "message must be a string of at most 10000 characters", field="message"
            )
        if description is not None and (
            not isinstance(description, str) or len(description) > 10_000
        ):
            raise InvalidInput("description must be a string", field="description")
        version, created = self.store.save_prompt_version(
            project,
            name,
            kind=kind,
            template=data,
            variables=sorted(set(detected) | set(declared)),
            declared_variables=declared,
            model=model,
            params=params,
            message=message,
            content_hash=tpl.content_hash(kind, data, declared, model, params),
            description=description,
            user=caller.user,
        )
        return SaveResult(version=version, created=created)

    def get(
        self,
        caller: Caller,
        project: str,
        name: str,
        *,
        version: int | None = None,
        label: str | None = None,
        fallback_to_latest: bool = False,
    ) -> PromptVersion:
        """One version: by ``version``, by ``label``, or by the ``production`` label.

        Passing both ``version`` and ``label`` is an error. With neither, the
        ``production`` label is used; only when ``fallback_to_latest`` is true does a
        prompt without that label give its latest version.
        """
        with self.reading(caller, project):
            tpl.validate_slug(name)
            if version is not None and label is not None:
                raise InvalidInput("give either version or label, not both", field="version")
            if version is not None:
                return self.store.get_prompt_version(project, name, number=_version_number(version))
            if label is not None:
                return self.store.get_prompt_version(
                    project, name, label=tpl.validate_slug(label, "label")
                )
            try:
                return self.store.get_prompt_version(project, name, label=DEFAULT_LABEL)
            except NotFound as err:
                if fallback_to_latest and err.field == "label":
                    return self.store.get_prompt_version(project, name)
                raise

    def get_ref(
        self, caller: Caller, project: str, ref: str, *, fallback_to_latest: bool = False
    ) -> PromptVersion:
        """Resolve ``name``, ``name@3`` or ``name@staging``."""
        name, version, label = tpl.parse_ref(ref, "prompt")
        return self.get(
            caller,
            project,
            name,
            version=version,
            label=label,
            fallback_to_latest=fallback_to_latest,
        )

    def latest(self, caller: Caller, project: str, name: str) -> PromptVersion:
        with self.reading(caller, project):
            return self.store.get_prompt_version(project, tpl.validate_slug(name))

    def info(self, caller: Caller, project: str, name: str) -> Prompt:
        with self.reading(caller, project):
            return self.store.get_prompt(project, tpl.validate_slug(name))

    def list(
        self,
        caller: Caller,
        project: str,
        *,
        search: str | None = None,
        label: str | None = None,
        limit: int = 100,
        offset: int = 0,
        sort: str = "name",
    ) -> builtins.list[Prompt]:
        """Prompts of a project; ``sort``: ``name`` or ``updated_at``, ``-`` for descending."""
        with self.reading(caller, project):
            self.page(limit, offset)
            if sort not in SORTS:
                raise InvalidInput(f"sort must be one of {', '.join(SORTS)}", field="sort")
            if search is not None and (not isinstance(search, str) or len(search) > 200):
                raise InvalidInput(
                    "search must be a string of at most 200 characters", field="search"
                )
            if label is not None:
                tpl.validate_slug(label, "label")
            return self.store.list_prompts(
                project, search=search, label=label, limit=limit, offset=offset, sort=sort
            )

    def versions(
        self, caller: Caller, project: str, name: str, *, limit: int = 100, offset: int = 0
    ) -> builtins.list[PromptVersion]:
        """Versions, newest first."""
        with self.reading(caller, project):
            self.page(limit, offset)
            return self.store.list_prompt_versions(
                project, tpl.validate_slug(name), limit=limit, offset=offset
            )

    def set_label(self, caller: Caller, project: str, name: str, label: str, version: int) -> Label:
        """Move (or create) ``label`` to point at ``version``; the move is kept in history."""
        self.access.require(caller, project, "write")
        tpl.validate_slug(name)
        tpl.validate_slug(label, "label")
        result = self.store.set_label(project, name, label, _version_number(version), caller.user)
        assert result is not None
        return result

    def remove_label(self, caller: Caller, project: str, name: str, label: str) -> None:
        self.access.require(caller, project, "write")
        self.store.set_label(
            project, tpl.validate_slug(name), tpl.validate_slug(label, "label"), None, caller.user
        )

    def label_history(
        self, caller: Caller, project: str, name: str, label: str | None = None
    ) -> builtins.list[LabelEvent]:
        self.access.require(caller, project, "read")
        if label is not None:
            tpl.validate_slug(label, "label")
        return self.store.label_history(project, tpl.validate_slug(name), label)

    def diff(self, caller: Caller, project: str, name: str, a: int, b: int) -> str:
        """Unified diff of messages and parameters between versions ``a`` and ``b``."""
        va = self.get(caller, project, name, version=a)
        vb = self.get(caller, project, name, version=b)
        return tpl.diff(
            tpl.as_text(va.kind, va.template_data(), va.model, va.params),
            tpl.as_text(vb.kind, vb.template_data(), vb.model, vb.params),
            f"{name}@{a}",
            f"{name}@{b}",
        )

    def render(
        self,
        caller: Caller,
        project: str,
        name: str,
        variables: dict[str, Any],
        *,
        version: int | None = None,
        label: str | None = None,
        fallback_to_latest: bool = False,
    ) -> Any:
        """Render a stored version with ``variables``."""
        pv = self.get(
            caller,
            project,
            name,
            version=version,
            label=label,
            fallback_to_latest=fallback_to_latest,
        )
        return pv.render(variables)
