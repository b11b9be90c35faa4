"""Which model names exist and how to reach them: :class:`ModelSpec` and :class:`ModelRegistry`.

A model is named ``provider/model`` (litellm's form). Explicit entries come from a
dict or a YAML file; names without an entry fall back to defaults:

* ``fake/...``        -> the deterministic fake provider (offline, free);
* ``local/smollm2``   -> SmolLM2-135M-Instruct in-process (needs the ``[local]`` extra);
* ``openai/...``      -> the fast OpenAI-compatible HTTP path, ``https://api.openai.com/v1``,
  key from ``$OPENAI_API_KEY``;
* any other ``provider/model`` -> litellm, which knows the provider's API and key variable.

YAML example (a mapping of name to fields, or a list of entries with ``name``)::

    models:
      myvllm/llama3:
        provider: openai            # any OpenAI-compatible server: vLLM, Ollama, ...
        base_url: http://gpu-box:8000/v1
        api_key_env: MYVLLM_KEY     # the NAME of the variable, never the key itself
        input_cost_per_million: 0.2
        output_cost_per_million: 0.6
        max_concurrency: 32
      "myvllm/*":                   # a pattern: every myvllm/<id> uses these settings
        provider: openai
        base_url: http://gpu-box:8000/v1
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ..exceptions import InvalidInput

__all__ = ["DEFAULT_OPENAI_BASE_URL", "ModelRegistry", "ModelSpec", "ProviderKind"]

ProviderKind = Literal["openai", "litellm", "fake", "local"]
DEFAULT_OPENAI_BASE_URL = "https://api.openai.com/v1"

_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*/\S+$")
_ENV_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_KEYLIKE_RE = re.compile(r"^(sk|pk|key)[-_]|^(?=.*[a-z])(?=.*[0-9]).{24,}$")


class ModelSpec(BaseModel):
    """How to reach one model and the limits that apply to it.

    Built once per model name (not per call). ``provider`` selects the code path:
    ``openai`` (fast pooled HTTP to an OpenAI-compatible ``/chat/completions``),
    ``litellm`` (any provider litellm supports), ``fake`` or ``local``.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(description="Model name in provider/model form, e.g. openai/gpt-4o-mini.")
    provider: ProviderKind = Field(description="Code path: openai, litellm, fake or local.")
    base_url: str | None = Field(
        default=None, description="API base URL (OpenAI-compatible: ends before /chat/completions)."
    )
    api_key_env: str | None = Field(
        default=None, description="NAME of the environment variable holding the API key."
    )
    api_model: str | None = Field(
        default=None,
        description="Model id sent to an OpenAI-compatible API; default: name after the first /.",
    )
    litellm_model: str | None = Field(
        default=None, description="Model string given to litellm; default: name."
    )
    input_cost_per_million: float | None = Field(
        default=None, ge=0, description="USD per million prompt tokens (overrides litellm's table)."
    )
    output_cost_per_million: float | None = Field(
        default=None, ge=0, description="USD per million completion tokens."
    )
    max_concurrency: int = Field(default=16, ge=1, description="Calls in flight at once.")
    requests_per_minute: float | None = Field(default=None, gt=0, description="Request rate cap.")
    tokens_per_minute: float | None = Field(default=None, gt=0, description="Token rate cap.")
    timeout_s: float = Field(default=60.0, gt=0, description="Timeout of one attempt, seconds.")
    max_retries: int = Field(default=3, ge=0, le=20, description="Retries after the first try.")

    @field_validator("name")
    @classmethod
    def _check_name(cls, value: str) -> str:
        if not _NAME_RE.match(value):
            raise ValueError("model names look like 'provider/model', e.g. 'openai/gpt-4o-mini'")
        return value

    @field_validator("base_url")
    @classmethod
    def _check_base_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not value.startswith(("http://", "https://")):
            raise ValueError("base_url must start with http:// or https://")
        return value.rstrip("/")

    @field_validator("api_key_env")
    @classmethod
    def _check_api_key_env(cls, value: str | None) -> str | None:
        if value is None:
            return None
        # Never echo the value: a user may have pasted the key itself here.
        if _KEYLIKE_RE.match(value) or not _ENV_RE.match(value):
            raise ValueError(
                "api_key_env must be the NAME of an environment variable (e.g. OPENAI_API_KEY), "
                "not the key itself"
            )
        return value

    @property
    def wire_model(self) -> str:
        """The model id an OpenAI-compatible API expects."""
        return self.api_model or self.name.split("/", 1)[1]

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> ModelSpec:
        """Validate ``data``; raise :class:`InvalidInput` naming the first bad field."""
        try:
            return cls.model_validate(dict(data))
        except ValidationError as err:
            first = err.errors()[0]
            loc = ".".join(str(part) for part in first["loc"]) or "model"
            # err.errors() carries the input value; build the message without it.
            raise InvalidInput(
                f"invalid model setting '{loc}': {first['msg']}", field=loc
            ) from None


def _default_spec(name: str) -> ModelSpec:
    prefix = name.split("/", 1)[0]
    if prefix == "fake":
        return ModelSpec(name=name, provider="fake", max_concurrency=1000, timeout_s=30.0)
    if prefix == "local":
        if name.split("?", 1)[0] != "local/smollm2":
            raise InvalidInput(
                f"unknown local model '{name}' (known: local/smollm2)", field="model"
            )
        return ModelSpec(name=name, provider="local", max_concurrency=1, timeout_s=120.0)
    if prefix == "openai":
        return ModelSpec(
            name=name,
            provider="openai",
            base_url=DEFAULT_OPENAI_BASE_URL,
            api_key_env="OPENAI_API_KEY",
        )
    return ModelSpec(name=name, provider="litellm")


class ModelRegistry:
    """Resolves model names to :class:`ModelSpec` objects.

    Lookup order: an explicit entry with exactly that name, then the first explicit
    pattern entry (``fnmatch`` syntax, e.g. ``myvllm/*``) that matches, then the
    defaults described in this module's docstring. Results are cached.
    """

    def __init__(self, models: Mapping[str, Any] | Iterable[Any] | None = None) -> None:
        self._exact: dict[str, ModelSpec] = {}
        self._patterns: list[tuple[str, dict[str, Any]]] = []
        self._cache: dict[str, ModelSpec] = {}
        if models is None:
            return
        if isinstance(models, Mapping):
            items: list[tuple[str, Any]] = list(models.items())
        else:
            items = []
            for index, entry in enumerate(models):
                if isinstance(entry, ModelSpec):
                    items.append((entry.name, entry))
                elif isinstance(entry, Mapping) and isinstance(entry.get("name"), str):
                    items.append((entry["name"], entry))
                else:
                    raise InvalidInput(
                        f"model entry {index} has no 'name'", field=f"models.{index}"
                    )
        for name, entry in items:
            self.register(name, entry)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ModelRegistry:
        """Build from ``{"models": {...}}`` (or a bare ``{name: fields}`` mapping)."""
        models = data.get("models", data) if isinstance(data, Mapping) else data
        if models is None:
            return cls()
        if not isinstance(models, Mapping | list):
            raise InvalidInput("'models' must be a mapping or a list", field="models")
        return cls(models)

    @classmethod
    def from_yaml(cls, path: str | Path) -> ModelRegistry:
        """Build from a YAML file (see the module docstring for the format)."""
        import yaml

        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as err:
            raise InvalidInput(
                f"cannot read model config {path}: {err.strerror}", field="path"
            ) from err
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as err:
            raise InvalidInput(f"model config {path} is not valid YAML", field="path") from err
        if data is None:
            return cls()
        if not isinstance(data, Mapping):
            raise InvalidInput("model config must be a mapping with a 'models' key", field="models")
        return cls.from_dict(data)

    def register(self, name: str, entry: ModelSpec | Mapping[str, Any]) -> None:
        """Add or replace an explicit entry (``name`` may be an fnmatch pattern)."""
        if isinstance(entry, ModelSpec):
            fields: dict[str, Any] = entry.model_dump(exclude_unset=True)
        elif isinstance(entry, Mapping):
            fields = dict(entry)
        else:
            raise InvalidInput(f"settings of model '{name}' must be a mapping", field=name)
        fields.pop("name", None)
        if "provider" not in fields:
            raise InvalidInput(f"model '{name}' needs a 'provider'", field=f"{name}.provider")
        self._cache.clear()
        if any(ch in name for ch in "*?["):
            # Validate the pattern's settings once, with a stand-in name.
            self._parse(f"{name.split('/', 1)[0]}/x", fields, name)
            self._patterns.append((name, fields))
        else:
            self._exact[name] = self._parse(name, fields, name)

    @staticmethod
    def _parse(name: str, fields: Mapping[str, Any], entry: str) -> ModelSpec:
        try:
            return ModelSpec.parse({"name": name, **fields})
        except InvalidInput as err:
            prefixed = f"{entry}.{err.field}" if err.field and err.field != "name" else entry
            raise InvalidInput(f"model '{entry}': {err.message}", field=prefixed) from None

    def resolve(self, name: str) -> ModelSpec:
        """The spec for ``name``; :class:`InvalidInput` (field ``model``) if it cannot exist."""
        spec = self._cache.get(name)
        if spec is not None:
            return spec
        if not isinstance(name, str) or not _NAME_RE.match(name):
            raise InvalidInput(
                f"invalid model name {name!r}: use 'provider/model', e.g. 'openai/gpt-4o-mini'",
                field="model",
            )
        spec = self._exact.get(name)
        if spec is None:
            for pattern, fields in self._patterns:
                if fnmatch.fnmatchcase(name, pattern):
                    spec = self._parse(name, fields, pattern)
                    break
        if spec is None:
            spec = _default_spec(name)
        self._cache[name] = spec
        return spec

    def names(self) -> list[str]:
        """Explicitly configured names and patterns."""
        return [*self._exact, *(pattern for pattern, _ in self._patterns)]
