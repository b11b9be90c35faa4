"""deploy/kubernetes/: every manifest valid for Kubernetes (kubernetes-validate's bundled,
offline schemas, strict), hardened pods, no secret values, and Zero to JupyterHub values
with the keys the chart reads.

The Z2JH chart ships no schema usable offline, so the values are checked here against the
structure its jupyterhub_config.py reads: hub.services.<name> (url; apiToken read from the
chart's Secret "hub" as hub.services.<name>.apiToken), hub.loadRoles.<name>.scopes,
singleuser.image.{name,tag}, singleuser.extraEnv.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml

from .conftest import (
    DEPLOY,
    KUBE,
    SECRET_NAMES,
    Z2JH_VALUES,
    dockerfile_stages,
    exec_form,
    inherited,
    load_yaml_documents,
)

MANIFESTS = sorted(p for p in KUBE.glob("*.yaml") if p.name not in ("z2jh-values.yaml",))
RESOURCES = [p for p in MANIFESTS if p.name != "kustomization.yaml"]
DOCS = [(p.name, doc) for p in RESOURCES for doc in load_yaml_documents(p)]
VALUES: dict[str, Any] = yaml.safe_load(Z2JH_VALUES.read_text())


def kubernetes_validate() -> Any:
    try:
        import kubernetes_validate as kv
    except ImportError as err:
        from llmlab_jupyter.testing.services import require_service

        require_service("kubernetes-validate", f"install the dev extra ({err})")
    return kv


def by_kind(kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for _, d in DOCS if d["kind"] == kind}


def pod_specs() -> dict[str, dict[str, Any]]:
    return {name: d["spec"]["template"]["spec"] for name, d in by_kind("Deployment").items()}


@pytest.mark.parametrize(
    ("filename", "doc"), DOCS, ids=[f"{f}:{d['kind']}/{d['metadata']['name']}" for f, d in DOCS]
)
def test_each_manifest_is_valid_for_the_newest_kubernetes_bundled(
    filename: str, doc: dict[str, Any]
) -> None:
    kv = kubernetes_validate()
    kv.validate(doc, kv.latest_version(), strict=True)  # raises ValidationError


def test_the_validator_rejects_a_misspelt_field() -> None:
    kv = kubernetes_validate()
    deployment = copy.deepcopy(by_kind("Deployment")["llmlab"])
    deployment["spec"]["template"]["spec"]["containers"][0]["imagePullPolcy"] = "Always"
    with pytest.raises(kv.ValidationError):
        kv.validate(deployment, kv.latest_version(), strict=True)


def test_kustomization_lists_every_manifest() -> None:
    kustomization = yaml.safe_load((KUBE / "kustomization.yaml").read_text())
    assert sorted(kustomization["resources"]) == sorted(p.name for p in RESOURCES)


def test_no_secret_value_is_in_a_manifest() -> None:
    assert by_kind("Secret") == {}  # the Secret is created with kubectl (README.md)
    for name, spec in pod_specs().items():
        for container in spec["containers"]:
            for env in container.get("env", []):
                if env["name"] in SECRET_NAMES:
                    assert "secretKeyRef" in env.get("valueFrom", {}), (name, env["name"])
                    assert "value" not in env
            sources = [s for s in container.get("envFrom", []) if "secretRef" in s]
            assert [s["secretRef"]["name"] for s in sources] == ["llmlab-secrets"]
    for config_map in by_kind("ConfigMap").values():
        assert not set(config_map["data"]) & SECRET_NAMES


@pytest.mark.parametrize("name", ["llmlab", "llmlab-worker"])
def test_pods_are_hardened_and_bounded(name: str) -> None:
    spec = pod_specs()[name]
    assert spec["securityContext"]["runAsNonRoot"] is True
    assert spec["securityContext"]["runAsUser"] != 0
    assert spec["automountServiceAccountToken"] is False
    for container in spec["containers"]:
        ctx = container["securityContext"]
        assert ctx["readOnlyRootFilesystem"] is True
        assert ctx["allowPrivilegeEscalation"] is False
        assert ctx["capabilities"]["drop"] == ["ALL"]
        assert {"cpu", "memory"} <= set(container["resources"]["requests"])
        assert {"cpu", "memory"} <= set(container["resources"]["limits"])
        assert "livenessProbe" in container
        # a read-only root: every place the process writes is a volume
        mounted = {m["mountPath"] for m in container["volumeMounts"]}
        assert {"/tmp", "/home/llmlab", "/var/lib/llmlab"} <= mounted
    if name == "llmlab":
        assert "readinessProbe" in spec["containers"][0]


def test_containers_run_the_images_commands() -> None:
    stages = dockerfile_stages()
    specs = pod_specs()
    for name, target in (("llmlab", "service"), ("llmlab-worker", "worker")):
        command = specs[name]["containers"][0]["command"]
        assert command == exec_form(inherited(stages, target, "CMD") or "")


def test_the_service_config_map_is_the_compose_config() -> None:
    config_map = by_kind("ConfigMap")["llmlab-service-config"]
    text = (DEPLOY / "llmlab_service_config.py").read_text()
    assert config_map["data"]["llmlab_serve_config.py"] == text
    env = by_kind("ConfigMap")["llmlab-env"]["data"]
    mount = next(
        m for m in pod_specs()["llmlab"]["containers"][0]["volumeMounts"] if m["name"] == "config"
    )
    assert mount["mountPath"] == env["JUPYTER_CONFIG_DIR"]
    assert env["JUPYTERHUB_SERVICE_PREFIX"] == "/services/llmlab/"
    assert env["JUPYTERHUB_API_URL"] == "http://hub:8081/hub/api"


def test_z2jh_registers_the_service_with_the_charts_token() -> None:
    llmlab = VALUES["hub"]["services"]["llmlab"]
    service = by_kind("Service")["llmlab"]
    port = service["spec"]["ports"][0]["port"]
    assert llmlab["url"] == f"http://{service['metadata']['name']}:{port}"
    assert "apiToken" not in llmlab  # generated by the chart, kept in its Secret "hub"
    token = next(
        e
        for e in pod_specs()["llmlab"]["containers"][0]["env"]
        if e["name"] == "JUPYTERHUB_API_TOKEN"
    )
    assert token["valueFrom"]["secretKeyRef"] == {
        "name": "hub",
        "key": "hub.services.llmlab.apiToken",
    }


def test_z2jh_gives_every_user_the_llmlab_scopes() -> None:
    roles = VALUES["hub"]["loadRoles"]
    scopes = set(roles["user"]["scopes"])  # "user": the role every user has
    assert {"self", "access:services!service=llmlab", "read:services!service=llmlab"} <= scopes


def test_z2jh_spawns_the_singleuser_image_without_secrets() -> None:
    singleuser = VALUES["singleuser"]
    assert singleuser["image"]["name"].endswith("/singleuser")
    assert isinstance(singleuser["image"]["tag"], str) and singleuser["image"]["tag"]
    assert [singleuser["cmd"]] == exec_form(
        inherited(dockerfile_stages(), "singleuser", "CMD") or ""
    )
    env = singleuser["extraEnv"]
    assert not set(env) & SECRET_NAMES
    for name, value in env.items():
        assert isinstance(value, str), f"{name}: extraEnv values here are plain strings"
        assert "secretKeyRef" not in str(value)


def test_network_policies_select_the_service_pods() -> None:
    labels = by_kind("Deployment")["llmlab"]["spec"]["template"]["metadata"]["labels"]
    assert labels["hub.jupyter.org/network-access-hub"] == "true"
    for path in (("hub",), ("proxy", "chp"), ("singleuser",)):
        section: Any = VALUES
        for key in path:
            section = section[key]
        rule = section["networkPolicy"]["egress"][0]
        selector = rule["to"][0]["podSelector"]["matchLabels"]
        assert selector.items() <= labels.items(), path
        assert rule["ports"][0]["port"] == 10101
