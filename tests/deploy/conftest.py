"""Helpers for the deployment tests: the files under deploy/, read as an operator's tools do.

Nothing here needs Docker, a cluster or the network. A missing validator skips locally and
fails under ``CI=true`` (``require_service``), as a missing database does.
"""

from __future__ import annotations

import re
import shlex
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from llmlab_jupyter.testing.services import require_service

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
KUBE = DEPLOY / "kubernetes"
COMPOSE_FILE = DEPLOY / "docker-compose.yml"
DOCKERFILE = DEPLOY / "Dockerfile"
Z2JH_VALUES = KUBE / "z2jh-values.yaml"

#: Files under deploy/ that other branches of the team deployment provide.
PROVIDED_ELSEWHERE = {
    "deploy/jupyterhub_config.py": "the Hub's config (hub branch)",
    "deploy/proxy/package.json": "the pinned configurable-http-proxy (hub tests branch)",
    "deploy/proxy/package-lock.json": "the pinned configurable-http-proxy (hub tests branch)",
}

#: Environment variables only the service and the workers may hold.
SECRET_NAMES = {
    "LLMLAB_DATABASE_URL",
    "LLMLAB_BROKER_URL",
    "LLMLAB_TOKEN_SECRET",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "OPENAI_API_KEY",
    "ANTHROPIC_API_KEY",
    "JUPYTERHUB_API_TOKEN",
    "LLMLAB_SERVICE_API_TOKEN",
}
SECRET_KEY = re.compile(r"PASSWORD|SECRET|TOKEN|KEY", re.IGNORECASE)
INTERPOLATION = re.compile(r"^\$\{[A-Za-z_][A-Za-z0-9_]*(:?[-?+][^}]*)?\}$")
URL_PASSWORD = re.compile(r"^[a-z][a-z0-9+.-]*://[^/@:]*:(?P<password>[^@]*)@", re.IGNORECASE)


def require_file(relative: str) -> Path:
    """The repository file ``relative``; when another branch provides it and it is not merged
    yet, skip (fail under CI=true)."""
    path = ROOT / relative
    if not path.exists():
        if relative in PROVIDED_ELSEWHERE:
            require_service(relative, f"{PROVIDED_ELSEWHERE[relative]} is not merged here")
        raise AssertionError(f"{relative} does not exist")
    return path


def venv_tool(name: str) -> str:
    """The path of command-line tool ``name``, from this Python's environment first."""
    candidate = Path(sys.executable).parent / name
    if candidate.exists():
        return str(candidate)
    found = shutil.which(name)
    if found is None:
        require_service(name, "install the dev extra: pip install -e '.[dev]'")
    assert found is not None
    return found


def load_yaml_documents(path: Path) -> list[dict[str, Any]]:
    """Every non-empty YAML document of ``path``."""
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def compose() -> dict[str, Any]:
    """The compose file, anchors and merge keys resolved."""
    data = yaml.safe_load(COMPOSE_FILE.read_text())
    assert isinstance(data, dict)
    return data


def hardcoded_secrets(environment: dict[str, Any]) -> list[str]:
    """The names in ``environment`` whose value hard-codes a secret: a secret-looking name
    (PASSWORD, SECRET, TOKEN, KEY) whose value is not one ``${…}`` interpolation, or a URL
    whose password is not one."""
    bad = []
    for name, value in environment.items():
        text = "" if value is None else str(value)
        if SECRET_KEY.search(name) and text and not INTERPOLATION.match(text):
            bad.append(name)
            continue
        url = URL_PASSWORD.match(text)
        if url and not INTERPOLATION.match(url.group("password")):
            bad.append(name)
    return bad


@dataclass
class Stage:
    """One ``FROM … AS name`` stage of a Dockerfile: its base and its instructions."""

    name: str
    base: str
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def last(self, keyword: str) -> str | None:
        values = [arg for key, arg in self.instructions if key == keyword]
        return values[-1] if values else None

    def all(self, keyword: str) -> list[str]:
        return [arg for key, arg in self.instructions if key == keyword]


def dockerfile_instructions(text: str) -> list[tuple[str, str]]:
    """(KEYWORD, arguments) per instruction: comments dropped, continuations joined."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line = pending + line
        pending = ""
        keyword, _, args = line.partition(" ")
        instructions.append((keyword.upper(), args.strip()))
    assert not pending, "the Dockerfile ends inside a continued line"
    return instructions


def dockerfile_stages(path: Path = DOCKERFILE) -> dict[str, Stage]:
    """The named stages of the Dockerfile, in order."""
    stages: dict[str, Stage] = {}
    current: Stage | None = None
    for keyword, args in dockerfile_instructions(path.read_text()):
        if keyword == "FROM":
            words = args.split()
            words = [w for w in words if not w.startswith("--")]
            assert len(words) == 3 and words[1].upper() == "AS", f"unnamed stage: FROM {args}"
            current = Stage(name=words[2], base=words[0])
            stages[current.name] = current
        elif current is not None:
            current.instructions.append((keyword, args))
    return stages


def stage_chain(stages: dict[str, Stage], name: str) -> list[Stage]:
    """The stage ``name`` and the stages it is built FROM, nearest first."""
    chain = [stages[name]]
    while chain[-1].base in stages:
        chain.append(stages[chain[-1].base])
    return chain


def inherited(stages: dict[str, Stage], name: str, keyword: str) -> str | None:
    """The value of ``keyword`` (USER, CMD, …) the image of stage ``name`` ends up with."""
    for stage in stage_chain(stages, name):
        value = stage.last(keyword)
        if value is not None:
            return value
    return None


def exec_form(args: str) -> list[str]:
    """A CMD/ENTRYPOINT/HEALTHCHECK argument list (exec form: JSON; shell form: split)."""
    import json

    text = args.strip()
    if text.startswith("["):
        value = json.loads(text)
        assert isinstance(value, list)
        return [str(v) for v in value]
    return shlex.split(text)


def env_pairs(args: str) -> dict[str, str]:
    """The variables of an ENV or ARG instruction (``K=V K2=V2`` or legacy ``K V``)."""
    words = shlex.split(args)
    if words and "=" not in words[0]:
        return {words[0]: " ".join(words[1:])}
    pairs = {}
    for word in words:
        key, _, value = word.partition("=")
        pairs[key] = value
    return pairs
