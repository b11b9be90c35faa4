"""deploy/Dockerfile, checked statically (Docker does not run here): the four targets, what each
runs, who it runs as, where its packages come from, and that no secret is baked in."""

from __future__ import annotations

import re
from importlib.metadata import entry_points
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from llmlab_jupyter.executors.celery_app import CeleryExecutor

from .conftest import (
    DEPLOY,
    ROOT,
    SECRET_KEY,
    SECRET_NAMES,
    dockerfile_instructions,
    dockerfile_stages,
    env_pairs,
    exec_form,
    inherited,
    require_file,
    stage_chain,
)

TARGETS = ("hub", "service", "worker", "singleuser")
STAGES = dockerfile_stages()


def worker_command(cmd: list[str]) -> bool:
    """Whether ``cmd`` is the package's Celery worker command (CeleryExecutor.worker_argv)."""
    if cmd[:1] != ["celery"]:
        return False
    found = [a for a in cmd if a.startswith("--concurrency=")]
    if len(found) != 1:
        return False
    concurrency = int(found[0].split("=", 1)[1])
    return cmd[1:] == CeleryExecutor.worker_argv(concurrency)


def hub_config_path() -> str:
    """Where the hub target puts deploy/jupyterhub_config.py."""
    for args in STAGES["hub"].all("COPY"):
        words = args.split()
        if words[0] == "deploy/jupyterhub_config.py":
            return words[-1]
    raise AssertionError("the hub target does not COPY deploy/jupyterhub_config.py")


def test_the_four_targets_exist_and_share_one_runtime() -> None:
    assert set(TARGETS) <= set(STAGES)
    for target in TARGETS:
        assert "runtime" in [s.name for s in stage_chain(STAGES, target)], target


@pytest.mark.parametrize("target", TARGETS)
def test_each_target_runs_an_entry_point_of_the_package(target: str) -> None:
    cmd = exec_form(inherited(STAGES, target, "CMD") or "[]")
    assert inherited(STAGES, target, "ENTRYPOINT") is None  # CMD alone says what runs
    scripts = {ep.name for ep in entry_points(group="console_scripts")}
    if target == "hub":
        assert cmd == ["jupyterhub", "-f", hub_config_path()]
        assert hub_config_path() == "/srv/jupyterhub/jupyterhub_config.py"
        assert "jupyterhub" in scripts
    elif target == "service":
        assert cmd == ["llmlab", "serve"]
        assert "llmlab" in scripts
        from llmlab_jupyter.cli import main

        if "serve" not in main.commands:
            from llmlab_jupyter.testing.services import require_service

            require_service("llmlab serve", "the serve command (hub branch) is not merged here")
    elif target == "worker":
        assert worker_command(cmd), cmd
        assert "celery" in scripts
    else:
        assert cmd == ["jupyterhub-singleuser"]
        assert "jupyterhub-singleuser" in scripts


@pytest.mark.parametrize("target", TARGETS)
def test_each_target_runs_as_a_non_root_user(target: str) -> None:
    user = inherited(STAGES, target, "USER")
    assert user and user.split(":")[0] not in ("root", "0"), f"{target} runs as root"


@pytest.mark.parametrize("target", ("hub", "service", "worker"))
def test_long_running_targets_have_a_healthcheck(target: str) -> None:
    check = inherited(STAGES, target, "HEALTHCHECK")
    assert check and "CMD" in check.split(), target


def test_base_images_are_pinned_versions() -> None:
    args = {}
    for keyword, value in dockerfile_instructions((DEPLOY / "Dockerfile").read_text()):
        if keyword == "ARG" and "=" in value:
            args.update(env_pairs(value))
    for stage in STAGES.values():
        if stage.base in STAGES:
            continue
        image = re.sub(r"\$\{(\w+)\}", lambda m: args[m.group(1)], stage.base)
        name, _, tag = image.partition(":")
        assert tag and tag != "latest" and re.search(r"\d+\.\d+", tag), image
        assert name in ("python", "node"), image


def test_no_env_or_arg_bakes_in_a_secret() -> None:
    for stage in STAGES.values():
        for keyword, args in stage.instructions:
            if keyword not in ("ENV", "ARG"):
                continue
            for name, value in env_pairs(args).items():
                assert name not in SECRET_NAMES, f"{stage.name}: {keyword} {name}"
                assert not (SECRET_KEY.search(name) and value), f"{stage.name}: {name}={value}"


def test_python_packages_come_from_hashed_locks() -> None:
    installs = [
        args
        for stage in STAGES.values()
        for keyword, args in stage.instructions
        if keyword == "RUN" and "pip install" in args
    ]
    for run in installs:
        for command in run.split("&&"):
            if "pip install" not in command:
                continue
            # the locks, hashed; or the wheel built in this Dockerfile, with nothing resolved
            hashed = "--require-hashes" in command and ".lock" in command
            local = "--no-deps" in command and "--no-index" in command
            assert hashed or local, command
    for lock in ("requirements.lock", "requirements-build.lock"):
        for block in _lock_blocks(DEPLOY / lock):
            assert "--hash=sha256:" in block, block.splitlines()[0]


def _lock_blocks(path: Path) -> list[str]:
    text = path.read_text()
    return [b for b in re.split(r"\n(?=[A-Za-z0-9])", text) if "==" in b.split("\n")[0]]


def _locked(path: Path) -> dict[str, str]:
    pins = {}
    for block in _lock_blocks(path):
        name, _, version = block.split()[0].partition("==")
        pins[name.lower().replace("_", "-")] = version
    return pins


def test_the_lock_pins_every_dependency_of_the_images() -> None:
    """The lock is not stale: each dependency of llmlab-jupyter[s3,celery,redis,hub] and
    dockerspawner is pinned at a version the package accepts."""
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = list(project["dependencies"])
    for extra in ("s3", "celery", "redis", "hub"):
        wanted += project["optional-dependencies"][extra]
    wanted.append("dockerspawner")
    pins = _locked(DEPLOY / "requirements.lock")
    assert "llmlab-jupyter" not in pins  # built from the checkout, installed --no-deps
    for spec in wanted:
        req = Requirement(spec)
        name = req.name.lower().replace("_", "-")
        assert name in pins, f"{name} is not in deploy/requirements.lock: recompile it"
        assert req.specifier.contains(pins[name], prereleases=True), (
            f"{name}=={pins[name]} does not satisfy {req.specifier}: recompile the lock"
        )


def test_every_copied_file_exists() -> None:
    for stage in STAGES.values():
        for args in stage.all("COPY"):
            words = [w for w in args.split() if not w.startswith("--")]
            if "--from" in args:
                continue
            for source in words[:-1]:
                require_file(source)
    assert (DEPLOY / "Dockerfile.dockerignore").exists()
