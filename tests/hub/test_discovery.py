"""Finding the llmlab service from a kernel or a per-user server."""

from __future__ import annotations

import socket

import pytest

from llmlab_jupyter.exceptions import ServiceUnavailable
from llmlab_jupyter.hub.discovery import find_service


def test_an_explicit_service_url_wins_and_a_job_token_beats_the_hub_token() -> None:
    found = find_service(
        {
            "LLMLAB_SERVICE_URL": "http://svc:10101/services/llmlab",
            "LLMLAB_TOKEN": "job-token",
            "JUPYTERHUB_API_TOKEN": "hub-token",
        }
    )
    assert found is not None
    assert (found.url, found.token, found.source) == (
        "http://svc:10101/services/llmlab/",
        "job-token",
        "env",
    )
    assert "job-token" not in repr(found)


def test_outside_a_hub_there_is_no_service() -> None:
    assert find_service({}) is None
    assert find_service({"JUPYTERHUB_API_URL": "http://127.0.0.1:1/hub/api"}) is None  # no token


def test_an_unreachable_hub_is_an_error_naming_it_not_the_token() -> None:
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    api = f"http://127.0.0.1:{port}/hub/api"
    with pytest.raises(ServiceUnavailable) as err:
        find_service({"JUPYTERHUB_API_URL": api, "JUPYTERHUB_API_TOKEN": "secret-hub-token"})
    assert api in str(err.value)
    assert "secret-hub-token" not in str(err.value)


def test_a_hub_api_url_that_is_not_http_is_refused() -> None:
    with pytest.raises(ServiceUnavailable) as err:
        find_service({"JUPYTERHUB_API_URL": "file:///etc/passwd", "JUPYTERHUB_API_TOKEN": "t"})
    assert err.value.field == "JUPYTERHUB_API_URL"


def test_lab_names_an_unreachable_service_without_its_token(monkeypatch) -> None:
    from llmlab_jupyter import Lab

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}/services/llmlab/"
    monkeypatch.setenv("LLMLAB_SERVICE_URL", url)
    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", "secret-kernel-token")
    with pytest.raises(ServiceUnavailable) as err:
        Lab()
    assert url in str(err.value) and "secret-kernel-token" not in str(err.value)
    assert err.value.to_dict()["error_code"] == "service_unavailable"
