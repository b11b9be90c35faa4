"""Prompt templates: parsing, sandboxed rendering, variables, content hash and diff.

Templates are Jinja2 rendered in an immutable sandbox with strict undefined
variables. A *text* prompt is one template string; a *chat* prompt is a list of
``{"role", "content"}`` messages whose contents are templates. Nothing here
touches the database.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from typing import Any

from .exceptions import InvalidInput, TemplateError

ROLES = ("system", "user", "assistant", "tool", "developer")
_SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9._-]{0,98}[a-z0-9])?$")
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
MAX_TEMPLATE_CHARS = 200_000


def validate_slug(value: Any, field: str = "name") -> str:
    """Return ``value`` if it is a valid slug (lowercase letters, digits, ``.-_``), else raise."""
    if not isinstance(value, str) or not _SLUG.match(value) or ".." in value:
        raise InvalidInput(
            f"{field} must be 1-100 lowercase letters, digits, '.', '-' or '_', "
            f"starting and ending with a letter or digit; got {value!r}",
            field=field,
        )
    return value


@lru_cache(maxsize=1)
def _environment() -> Any:
    from jinja2 import StrictUndefined
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    return ImmutableSandboxedEnvironment(
        undefined=StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
    )


def normalize_template(template: Any, kind: str | None = None) -> tuple[str, str | list[dict]]:
    """Check the shape of a template and return ``(kind, template)`` as plain data.

    A ``str`` is a text template; a list of messages (dicts or objects with
    ``role``/``content``) is a chat template. ``kind`` must agree when given.
    """
    if hasattr(template, "model_dump"):
        template = template.model_dump()
    if isinstance(template, str):
        detected = "text"
        data: str | list[dict] = template
        if not template.strip():
            raise InvalidInput("template must not be empty", field="template")
        if len(template) > MAX_TEMPLATE_CHARS:
            raise InvalidInput("template is too long", field="template")
    elif isinstance(template, Sequence) and not isinstance(template, (bytes, bytearray)):
        detected = "chat"
        messages: list[dict] = []
        if not template:
            raise InvalidInput("a chat template needs at least one message", field="template")
        for i, raw in enumerate(template):
            msg = raw.model_dump() if hasattr(raw, "model_dump") else raw
            if not isinstance(msg, Mapping):
                raise InvalidInput(
                    f"messages[{i}] must be an object with role and content",
                    field=f"template[{i}]",
                )
            role, content = msg.get("role"), msg.get("content")
            extra = set(msg) - {"role", "content"}
            if extra:
                raise InvalidInput(
                    f"messages[{i}] has unknown keys: {', '.join(sorted(map(str, extra)))}",
                    field=f"template[{i}]",
                )
            if role not in ROLES:
                raise InvalidInput(
                    f"messages[{i}].role must be one of {', '.join(ROLES)}; got {role!r}",
                    field=f"template[{i}].role",
                )
            if not isinstance(content, str):
                raise InvalidInput(
                    f"messages[{i}].content must be a string", field=f"template[{i}].content"
                )
            messages.append({"role": role, "content": content})
        if sum(len(m["content"]) for m in messages) > MAX_TEMPLATE_CHARS:
            raise InvalidInput("template is too long", field="template")
        data = messages
    else:
        raise InvalidInput("template must be a string or a list of chat messages", field="template")
    if kind is not None and kind != detected:
        raise InvalidInput(
            f"kind {kind!r} does not match the template, which is {detected!r}", field="kind"
        )
    return detected, data


def _parts(kind: str, template: str | list[dict]) -> list[tuple[str, str]]:
    """(location, source) for each template string in a prompt."""
    if kind == "text":
        assert isinstance(template, str)
        return [("template", template)]
    assert isinstance(template, list)
    return [(f"messages[{i}].content", m["content"]) for i, m in enumerate(template)]


def _parse(location: str, source: str) -> Any:
    from jinja2 import TemplateSyntaxError, nodes

    env = _environment()
    try:
        ast = env.parse(source)
    except TemplateSyntaxError as err:
        raise TemplateError(
            f"template syntax error in {location}, line {err.lineno}: {err.message}",
            field=location,
            line=err.lineno,
        ) from err
    for node in ast.find_all((nodes.Getattr, nodes.Getitem)):
        attr = getattr(node, "attr", None)
        if attr is None and isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const):
            attr = node.arg.value
        if isinstance(attr, str) and attr.startswith("_"):
            raise TemplateError(
                f"template in {location}, line {node.lineno}: access to {attr!r} is not "
                "allowed (sandboxed template)",
                field=location,
                line=node.lineno,
            )
    return ast


def detect_variables(kind: str, template: str | list[dict]) -> list[str]:
    """Names of the variables a template uses, sorted; raises ``TemplateError`` on bad syntax."""
    from jinja2 import meta

    found: set[str] = set()
    for location, source in _parts(kind, template):
        found |= meta.find_undeclared_variables(_parse(location, source))
    return sorted(found)


def check_declared(declared: Iterable[Any] | None) -> list[str]:
    """Validate declared variable names."""
    if declared is None:
        return []
    if isinstance(declared, str):
        raise InvalidInput("variables must be a list of names", field="variables")
    names = []
    for name in declared:
        if not isinstance(name, str) or not _IDENT.match(name):
            raise InvalidInput(f"invalid variable name {name!r}", field="variables")
        names.append(name)
    return sorted(set(names))


def render(kind: str, template: str | list[dict], variables: Mapping[str, Any]) -> Any:
    """Render a template with ``variables``.

    Returns a string for text prompts and a list of ``{"role", "content"}`` for chat.
    Raises :class:`TemplateError` naming every missing variable, the line of a syntax
    error, or a refused sandbox access.
    """
    from jinja2 import UndefinedError
    from jinja2.sandbox import SecurityError

    if not isinstance(variables, Mapping):
        raise InvalidInput("variables must be a mapping of name to value", field="variables")
    env = _environment()
    rendered: list[tuple[str, str]] = []
    for location, source in _parts(kind, template):
        ast = _parse(location, source)
        try:
            text = env.from_string(ast).render(dict(variables))
        except SecurityError as err:
            raise TemplateError(
                f"template in {location} was refused by the sandbox: {err}", field=location
            ) from err
        except UndefinedError as err:
            from jinja2 import meta

            missing = sorted(meta.find_undeclared_variables(ast) - set(variables))
            if missing:
                raise TemplateError(
                    f"missing variable{'s' if len(missing) > 1 else ''}: {', '.join(missing)}",
                    field="variables",
                    missing=missing,
                ) from err
            raise TemplateError(f"template in {location}: {err.message}", field=location) from err
        except (TypeError, ValueError, ArithmeticError, LookupError) as err:
            raise TemplateError(f"template in {location} failed: {err}", field=location) from err
        rendered.append((location, text))
    if kind == "text":
        return rendered[0][1]
    assert isinstance(template, list)
    return [
        {"role": m["role"], "content": text}
        for m, (_, text) in zip(template, rendered, strict=True)
    ]


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no whitespace: the input of every content hash."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def content_hash(
    kind: str,
    template: str | list[dict],
    declared_variables: Sequence[str],
    model: str | None,
    params: Mapping[str, Any],
) -> str:
    """sha256 over everything that defines a version's behaviour (not its commit message)."""
    payload = {
        "kind": kind,
        "template": template,
        "variables": list(declared_variables),
        "model": model,
        "params": dict(params),
    }
    return "sha256:" + hashlib.sha256(canonical_json(payload).encode()).hexdigest()


def check_params(params: Any) -> dict[str, Any]:
    """Model parameters must be a JSON object of JSON values."""
    if params is None:
        return {}
    if not isinstance(params, Mapping):
        raise InvalidInput("params must be an object", field="params")
    try:
        json.dumps(params, allow_nan=False)
    except (TypeError, ValueError) as err:
        raise InvalidInput(f"params must be JSON-serialisable: {err}", field="params") from err
    for key in params:
        if not isinstance(key, str):
            raise InvalidInput("params keys must be strings", field="params")
    return dict(params)


def check_model(model: Any) -> str | None:
    """A model id in litellm's ``provider/model`` form, or ``None``."""
    if model is None or model == "":
        return None
    if not isinstance(model, str) or "/" not in model or len(model) > 200 or model.strip() != model:
        raise InvalidInput(
            f"model must look like 'provider/model' (e.g. openai/gpt-4o-mini); got {model!r}",
            field="model",
        )
    return model


def as_text(kind: str, template: str | list[dict], model: str | None, params: Mapping) -> str:
    """A readable text form of a version, the input of :func:`diff`."""
    lines: list[str] = []
    if kind == "text":
        assert isinstance(template, str)
        lines.append(template.rstrip("\n"))
    else:
        assert isinstance(template, list)
        for msg in template:
            lines.append(f"[{msg['role']}]")
            lines.append(msg["content"].rstrip("\n"))
    lines.append("---")
    lines.append(f"model: {model or '(none)'}")
    for key in sorted(params):
        lines.append(f"{key}: {json.dumps(params[key], sort_keys=True)}")
    return "\n".join(lines) + "\n"


def diff(a_text: str, b_text: str, a_name: str, b_name: str, context: int = 3) -> str:
    """Unified diff between two :func:`as_text` renderings."""
    return "".join(
        difflib.unified_diff(
            a_text.splitlines(keepends=True),
            b_text.splitlines(keepends=True),
            fromfile=a_name,
            tofile=b_name,
            n=context,
        )
    )


def parse_ref(ref: str, field: str = "ref") -> tuple[str, int | None, str | None]:
    """Split ``name``, ``name@3`` or ``name@production`` into (name, version, label)."""
    if not isinstance(ref, str) or not ref:
        raise InvalidInput(f"{field} must be a non-empty string", field=field)
    name, sep, tail = ref.partition("@")
    validate_slug(name, field)
    if not sep:
        return name, None, None
    if tail.isdigit():
        number = int(tail)
        if number < 1:
            raise InvalidInput(f"{field}: versions start at 1", field=field)
        return name, number, None
    return name, None, validate_slug(tail, field)


class CompiledPrompt:
    """A template parsed once and rendered many times (the experiment runner's hot path)."""

    __slots__ = ("_parts", "_roles", "kind", "variables")

    def __init__(self, kind: str, template: str | list[dict]) -> None:
        env = _environment()
        self.kind = kind
        self.variables = detect_variables(kind, template)
        parts = _parts(kind, template)
        self._parts = [(loc, env.from_string(_parse(loc, src))) for loc, src in parts]
        self._roles = [m["role"] for m in template] if isinstance(template, list) else []

    def messages(self, variables: Mapping[str, Any]) -> list[dict[str, str]]:
        """Rendered chat messages (a text prompt becomes one user message)."""
        from jinja2 import UndefinedError
        from jinja2.sandbox import SecurityError

        out = []
        for i, (location, compiled) in enumerate(self._parts):
            try:
                text = compiled.render(variables)
            except UndefinedError as err:
                missing = sorted(set(self.variables) - set(variables))
                detail = f"missing variables: {', '.join(missing)}" if missing else err.message
                raise TemplateError(f"{location}: {detail}", field="variables") from err
            except SecurityError as err:
                raise TemplateError(f"{location} was refused by the sandbox: {err}") from err
            except (TypeError, ValueError, ArithmeticError, LookupError) as err:
                raise TemplateError(f"template in {location} failed: {err}") from err
            out.append({"role": self._roles[i] if self._roles else "user", "content": text})
        return out
