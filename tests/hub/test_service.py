"""``llmlab serve`` on the Hub: the same API document as a single-user server, its metrics,
and nothing else of jupyter-server (kernels, files, terminals) reachable, even with a token."""

from __future__ import annotations

from hubharness.run import HubRun

from llmlab_jupyter.server.openapi import openapi_document


def test_the_service_serves_the_same_api_document_and_metrics(hub_run: HubRun) -> None:
    hub, alice = hub_run.hub, hub_run.tokens["alice"]
    served = hub.llmlab("GET", "openapi.json", alice).json()
    assert served["paths"].keys() == openapi_document("/")["paths"].keys()
    metrics = hub.client.call("GET", "services/llmlab/llmlab/metrics", alice)
    assert metrics.status_code == 200
    assert "llmlab_http_requests_total" in metrics.text
    assert hub.client.call("GET", "services/llmlab/llmlab/metrics").status_code == 403


def test_nothing_but_the_llmlab_api_is_reachable_on_the_service(hub_run: HubRun) -> None:
    hub, alice = hub_run.hub, hub_run.tokens["alice"]
    for method, path in [
        ("GET", "api/kernels"),
        ("POST", "api/kernels"),
        ("GET", "api/contents"),
        ("GET", "api/sessions"),
        ("GET", "api/terminals"),
        ("POST", "api/shutdown"),
        ("GET", "files/etc/passwd"),
        ("GET", "login"),
    ]:
        reply = hub.client.call(method, f"services/llmlab/{path}", alice)
        assert reply.status_code in (403, 404, 405), (method, path, reply.status_code)


def test_a_services_token_acts_for_nobody(hub_run: HubRun) -> None:
    # the Hub's admin service token is valid, but names a service, not a user
    reply = hub_run.hub.llmlab("GET", "projects", hub_run.hub.admin_token)
    assert reply.status_code == 403
