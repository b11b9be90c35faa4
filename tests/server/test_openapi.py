"""The OpenAPI document is valid and true: every registered route is documented, and vice versa;
every route is also in docs/rest-api.md."""

from __future__ import annotations

import re
from pathlib import Path

from openapi_spec_validator import validate

from llmlab_jupyter.server.openapi import METHODS, openapi_document
from llmlab_jupyter.server.routes import API_PREFIX, METRICS_PATH

from .test_auth_coverage import implemented, llmlab_rules

DOCS = Path(__file__).resolve().parents[2] / "docs" / "rest-api.md"
CATCH_ALL = "(/.*)?"


def registered(jp_serverapp) -> dict[str, set[str]]:
    """Registered API routes: regex (relative to the API prefix) -> implemented methods."""
    out: dict[str, set[str]] = {}
    for pattern, handler in llmlab_rules(jp_serverapp.web_app):
        rel = pattern.rstrip("$").split(API_PREFIX, 1)
        if len(rel) != 2 or rel[1] == CATCH_ALL:
            continue
        out[rel[1]] = {m.lower() for m in implemented(handler)}
    return out


def documented_regex(path: str) -> str:
    """The regex a documented path must be served under."""
    regex = re.escape(re.sub(r"\{[a-z_]+\}", "PARAM", path)).replace("PARAM", "([^/]+)")
    return regex.removesuffix("/labels/history") + (
        "/labels/(history)" if path.endswith("/labels/history") else ""
    )


async def test_served_document_is_valid_and_current(api, jp_base_url):
    reply = await api("GET", "openapi.json")
    assert reply.status == 200
    doc = reply.body
    validate(doc)
    assert doc == openapi_document(jp_base_url, max_page_size=500)
    assert doc["servers"][0]["url"] == jp_base_url.rstrip("/") + "/llmlab/api"


async def test_every_route_documented_and_every_documented_route_served(jp_serverapp):
    doc = openapi_document("/")
    served = registered(jp_serverapp)
    documented = {
        documented_regex(path): {m for m in item if m in METHODS}
        for path, item in doc["paths"].items()
    }
    assert served == documented


def test_every_operation_has_errors_and_responses():
    doc = openapi_document("/")
    for path, item in doc["paths"].items():
        for method, op in item.items():
            codes = set(op["responses"])
            assert "403" in codes, (method, path)
            assert any(c.startswith("2") for c in codes), (method, path)
            for code in {c for c in codes if not c.startswith("2")}:
                schema = op["responses"][code]["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/Error"}


def test_every_route_is_in_the_docs():
    text = DOCS.read_text()
    doc = openapi_document("/")
    missing = [
        f"{method.upper()} {path}"
        for path, item in doc["paths"].items()
        for method in item
        if f"`{method.upper()} {path}`" not in text
    ]
    assert not missing, f"undocumented in docs/rest-api.md: {missing}"
    assert f"`GET {METRICS_PATH}`" in text
