"""The SDK over HTTP: ``Lab(url=..., token=...)`` passes the same tests as the in-process ``Lab``.

Every test of ``tests/sdk/test_lab.py`` that takes the ``lab`` fixture is collected here again, with
``lab`` talking to a live single-user Jupyter server (SQLite and PostgreSQL) under a
percent-encoded base URL.
"""

from __future__ import annotations

import importlib.util
import inspect
from collections.abc import Iterator
from pathlib import Path

import pytest

from llmlab_jupyter.config import local_user_name
from llmlab_jupyter.exceptions import InvalidInput, NotFound, PermissionDenied
from llmlab_jupyter.sdk.http.services import HttpDatasets, HttpProjects, HttpPrompts, HttpServices
from llmlab_jupyter.sdk.lab import Lab

from .live_fixtures import Live, live, reset_database  # noqa: F401  (fixture)

_spec = importlib.util.spec_from_file_location(
    "llmlab_shared_sdk_tests", Path(__file__).resolve().parents[1] / "sdk" / "test_lab.py"
)
assert _spec is not None and _spec.loader is not None
_sdk = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_sdk)

#: Shared tests that need REST routes not served yet (model calls and usage come later).
HTTP_PENDING: set[str] = set()

for _name, _fn in vars(_sdk).items():
    if _name.startswith("test_") and callable(_fn) and "lab" in inspect.signature(_fn).parameters:
        if _name in HTTP_PENDING:
            _fn = pytest.mark.skip(reason="needs REST routes for model calls/usage")(_fn)
        globals()[_name] = _fn


@pytest.fixture
def lab(live: Live) -> Iterator[Lab]:  # noqa: F811
    reset_database(live.database_url)
    with Lab(url=live.url, token=live.token) as remote:
        yield remote


def test_single_user_server_needs_no_setup(lab):
    project = lab.projects.get()
    assert (project.slug, project.role, project.created_by) == (
        "default",
        "owner",
        local_user_name(),
    )


def test_errors_are_the_same_exceptions(lab):
    with pytest.raises(NotFound):
        lab.prompts.get("nope", version=1)
    with pytest.raises(InvalidInput) as info:
        lab.prompts.save("x", "{{ broken")
    assert info.value.error_code == "template_error"
    with pytest.raises(InvalidInput):
        lab.prompts.save("", "x")
    with pytest.raises(NotFound):
        lab.use("someone-elses")


def test_a_bad_token_is_refused(live):  # noqa: F811
    with pytest.raises(PermissionDenied):
        Lab(url=live.url, token="wrong")


def test_http_services_have_the_service_signatures(services):
    for remote, local in [
        (HttpProjects, type(services.projects)),
        (HttpPrompts, type(services.prompts)),
        (HttpDatasets, type(services.datasets)),
    ]:
        for name, fn in inspect.getmembers(local, inspect.isfunction):
            if name.startswith("_") or name == "page" or name not in vars(local):
                continue
            assert hasattr(remote, name), f"{remote.__name__} lacks {name}"
            assert inspect.signature(getattr(remote, name)) == inspect.signature(fn), name
    remote_services = HttpServices("http://127.0.0.1:9/")
    assert {"projects", "prompts", "datasets", "close"} <= set(dir(remote_services))
    remote_services.close()
