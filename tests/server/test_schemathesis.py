"""Schemathesis over every operation of the live API: no 5xx, every error body is
``{"message", "error_code"}`` without a traceback, statuses, content types and bodies as the
OpenAPI document says. At least 2,000 generated cases in total (positive, positive aimed at
stored prompts/datasets, negative)."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from llmlab_jupyter.sdk.lab import Lab

from .live_fixtures import TOKEN, Live, live, reset_database  # noqa: F401  (fixture)

MIN_CASES = 2_000
PER_MODE = {"positive": 30, "aimed": 25, "negative": 30}
SEEDED = {"project": "default", "name": "greet", "number": 1, "label": "production"}
SEEDED_DATASET = {"project": "default", "name": "qa", "number": 1}

pytestmark = pytest.mark.slow


def _seed(live: Live) -> None:  # noqa: F811
    reset_database(live.database_url)
    with Lab(url=live.url, token=live.token) as lab:
        lab.prompts.save("greet", "Hello {{ name }}")
        lab.prompts.save("greet", [{"role": "user", "content": "Hi {{ name }}"}])
        lab.prompts.label("greet", "production", 1)
        lab.datasets.import_("qa", b"question,answer\nq1,a1\nq2,a2\n", format="csv")


def _error_body_check(response: Any) -> None:
    if response.status_code < 400:
        return
    body = response.json()
    assert isinstance(body, dict) and set(body) <= {"message", "error_code", "field"}, body
    assert isinstance(body["message"], str) and isinstance(body["error_code"], str), body
    assert "Traceback" not in response.text


@pytest.mark.parametrize(
    "live", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
def test_schemathesis_finds_no_server_errors(live):  # noqa: F811
    _seed(live)
    scale = 1.0 if live.database_url.startswith("sqlite") else 0.5  # CI time; >= 2,000 on SQLite
    auth = {"Authorization": f"token {TOKEN}"}
    request = urllib.request.Request(live.url + "llmlab/api/openapi.json", headers=auth)
    with urllib.request.urlopen(request) as response:
        document = json.load(response)
    schema = schemathesis.openapi.from_dict(document)
    base_url = live.url.rstrip("/") + "/llmlab/api"
    checks = [
        not_a_server_error,
        status_code_conformance,
        content_type_conformance,
        response_schema_conformance,
    ]
    counted = {"cases": 0, "4xx": 0, "2xx": 0}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 27
    for operation in operations:
        is_dataset = "/datasets" in operation.path
        aimed = {
            k: v
            for k, v in (SEEDED_DATASET if is_dataset else SEEDED).items()
            if "{" + k + "}" in operation.path
        }
        strategies = [
            ("positive", operation.as_strategy(GenerationMode.POSITIVE)),
            ("aimed", operation.as_strategy(GenerationMode.POSITIVE, path_parameters=aimed)),
            ("negative", operation.as_strategy(GenerationMode.NEGATIVE)),
        ]
        for mode, strategy in strategies:

            @settings(
                max_examples=max(1, int(PER_MODE[mode] * scale)),
                deadline=None,
                database=None,
                suppress_health_check=list(HealthCheck),
                phases=[Phase.generate, Phase.target, Phase.shrink],
            )
            @given(case=strategy)
            def run(case: Any) -> None:
                response = case.call(base_url=base_url, headers=auth, timeout=30)
                counted["cases"] += 1
                counted["4xx" if response.status_code >= 400 else "2xx"] += 1
                _error_body_check(response)
                case.validate_response(response, checks=checks, headers=auth)

            try:
                run()
            except Unsatisfiable:
                # nothing to negate (an operation without parameters or body)
                assert mode == "negative", (operation.label, mode)
    print(f"schemathesis: {counted}")
    assert counted["cases"] >= MIN_CASES * scale, counted
    assert counted["2xx"] > 200 * scale, counted  # the aimed cases do reach stored data
