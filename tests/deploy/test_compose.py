"""deploy/docker-compose.yml: valid against the Compose Specification, secrets only from
deploy/.env, the users' containers without any, and the wiring the services rely on."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from llmlab_jupyter.server.routes import METRICS_PATH

from .conftest import (
    COMPOSE_FILE,
    DEPLOY,
    SECRET_NAMES,
    compose,
    dockerfile_stages,
    exec_form,
    hardcoded_secrets,
    inherited,
    require_file,
    venv_tool,
)

SERVICES: dict[str, Any] = compose()["services"]


def check_compose(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [venv_tool("check-jsonschema"), "--builtin-schema", "vendor.compose-spec", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_compose_file_validates_against_the_compose_spec() -> None:
    result = check_compose(COMPOSE_FILE)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_validator_rejects_a_broken_compose_file(tmp_path: Path) -> None:
    broken = compose()
    broken["services"]["llmlab"]["depends_on"]["redis"]["condition"] = "when_ready"
    path = tmp_path / "docker-compose.yml"
    path.write_text(yaml.safe_dump(broken))
    result = check_compose(path)
    assert result.returncode != 0
    assert "when_ready" in result.stdout + result.stderr


def test_the_secret_checker_catches_literals() -> None:
    assert hardcoded_secrets({"POSTGRES_PASSWORD": "hunter2"}) == ["POSTGRES_PASSWORD"]
    assert hardcoded_secrets({"DB": "postgresql://u:hunter2@db/x"}) == ["DB"]
    assert hardcoded_secrets({"OPENAI_API_KEY": "${OPENAI_API_KEY:-}"}) == []
    assert hardcoded_secrets({"DB": "postgresql://u:${PW:?set PW}@db/x"}) == []


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_no_environment_value_hard_codes_a_secret(name: str) -> None:
    environment = SERVICES[name].get("environment", {})
    assert isinstance(environment, dict), "use the mapping form of environment:"
    assert hardcoded_secrets(environment) == []
    assert "env_file" not in SERVICES[name]  # everything a container gets is listed here


def test_the_users_containers_get_no_secret() -> None:
    """DockerSpawner starts the singleuser image; neither it nor the Hub that spawns it is
    handed the service's secrets."""
    singleuser = SERVICES["singleuser"]
    assert "environment" not in singleuser and "secrets" not in singleuser
    assert singleuser["networks"] == ["users"]
    hub_env = set(SERVICES["hub"]["environment"])
    assert hub_env & SECRET_NAMES <= {"LLMLAB_SERVICE_API_TOKEN"}
    for name in SECRET_NAMES:
        assert name not in (DEPLOY / "Dockerfile").read_text()


def test_the_users_network_reaches_no_data_store() -> None:
    on_users = {n for n, s in SERVICES.items() if "users" in s.get("networks", [])}
    assert on_users == {"hub", "llmlab", "singleuser"}
    assert (
        compose()["networks"]["users"]["name"]
        == SERVICES["hub"]["environment"]["LLMLAB_DOCKER_NETWORK"]
    )


def test_only_the_proxy_port_is_published() -> None:
    published = {n: s["ports"] for n, s in SERVICES.items() if s.get("ports")}
    assert list(published) == ["hub"]
    assert [str(p).rsplit(":", 1)[-1] for p in published["hub"]] == ["8000"]


def test_state_lives_in_named_volumes_and_mounted_files_exist() -> None:
    named = set(compose()["volumes"])
    for name, service in SERVICES.items():
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            if source.startswith("./"):
                require_file(f"deploy/{source[2:]}")
            elif not source.startswith("/var/run/docker.sock"):
                assert source in named, f"{name}: {volume} is not a named volume"


def test_waited_for_services_have_healthchecks() -> None:
    stages = dockerfile_stages()
    for name, service in SERVICES.items():
        for dependency, rule in service.get("depends_on", {}).items():
            target = SERVICES[dependency]
            if rule["condition"] == "service_completed_successfully":
                assert target.get("restart") == "no", dependency
                continue
            assert rule["condition"] == "service_healthy", (name, dependency)
            built = target.get("build", {}).get("target")
            has_check = "healthcheck" in target or (
                built is not None and inherited(stages, built, "HEALTHCHECK")
            )
            assert has_check, f"{name} waits for {dependency}, which has no healthcheck"


def test_commands_are_those_of_the_images() -> None:
    stages = dockerfile_stages()
    for name in ("llmlab", "worker"):
        target = SERVICES[name]["build"]["target"]
        assert SERVICES[name]["command"] == exec_form(inherited(stages, target, "CMD") or "")


def test_the_service_is_wired_as_an_external_hub_service() -> None:
    hub = SERVICES["hub"]["environment"]
    service = SERVICES["llmlab"]["environment"]
    worker = SERVICES["worker"]["environment"]
    assert hub["LLMLAB_SERVICE"] == "external"
    assert service["JUPYTERHUB_API_TOKEN"] == hub["LLMLAB_SERVICE_API_TOKEN"]
    assert service["JUPYTERHUB_SERVICE_URL"].endswith(":10101")
    assert hub["LLMLAB_SERVICE_INTERNAL_URL"] == "http://llmlab:10101"
    prefix = service["JUPYTERHUB_SERVICE_PREFIX"]
    assert prefix == "/services/llmlab/"
    assert worker["LLMLAB_SERVICE_URL"] == hub["LLMLAB_SERVICE_INTERNAL_URL"] + prefix
    assert service["JUPYTERHUB_OAUTH_ACCESS_SCOPES"] == "access:services!service=llmlab"
    for name in SECRET_NAMES - {"JUPYTERHUB_API_TOKEN", "LLMLAB_SERVICE_API_TOKEN"}:
        assert service[name] == worker[name], name  # the workers hold the same secrets
    config = require_file("deploy/llmlab_service_config.py").read_text()
    assert "CeleryExecutor" in config
    mounts = SERVICES["llmlab"]["volumes"]
    target = f"{service['JUPYTER_CONFIG_DIR']}/llmlab_serve_config.py"
    assert f"./llmlab_service_config.py:{target}:ro" in mounts


def test_prometheus_scrapes_the_authenticated_metrics_route() -> None:
    config = yaml.safe_load((DEPLOY / "prometheus.yml").read_text())
    job = next(j for j in config["scrape_configs"] if j["job_name"] == "llmlab")
    prefix = SERVICES["llmlab"]["environment"]["JUPYTERHUB_SERVICE_PREFIX"]
    assert job["metrics_path"] == prefix.rstrip("/") + METRICS_PATH
    assert job["static_configs"][0]["targets"] == ["llmlab:10101"]
    secret = SERVICES["prometheus"]["secrets"][0]
    assert job["authorization"]["credentials_file"] == f"/run/secrets/{secret['target']}"
    assert compose()["secrets"][secret["source"]] == {"environment": "LLMLAB_METRICS_TOKEN"}


def test_env_example_names_every_variable_the_compose_file_needs() -> None:
    import re

    needed = set(re.findall(r"\$\{([A-Z0-9_]+)", yaml.safe_dump(compose())))
    needed.add("LLMLAB_METRICS_TOKEN")  # the secret's environment source
    example = (DEPLOY / ".env.example").read_text()
    defined = set(re.findall(r"^([A-Z0-9_]+)=", example, re.MULTILINE))
    assert needed <= defined, needed - defined
