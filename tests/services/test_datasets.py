"""Versioned datasets from CSV, JSONL, Parquet and DataFrames, on SQLite and PostgreSQL."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from llmlab_jupyter.exceptions import InvalidInput, NotFound

P = "default"
FRAME = pd.DataFrame(
    {
        "id": [1, 2, 3],
        "article": ["Rain in Spain", "Sun in Sudan", "Snow in Oslo"],
        "score": [0.5, 1.25, None],
        "ok": [True, False, True],
    }
)


@pytest.fixture
def project(services, alice):
    services.projects.ensure(alice, P)
    return P


def _write_all_formats(tmp_path):
    csv = tmp_path / "news.csv"
    FRAME.to_csv(csv, index=False)
    jsonl = tmp_path / "news.jsonl"
    jsonl.write_text(
        "\n".join(
            json.dumps(r)
            for r in FRAME.astype(object).where(FRAME.notna(), None).to_dict("records")
        )
    )
    parquet = tmp_path / "news.parquet"
    FRAME.to_parquet(parquet)
    return csv, jsonl, parquet


def test_every_format_gives_the_same_content_and_one_version(services, alice, project, tmp_path):
    csv, jsonl, parquet = _write_all_formats(tmp_path)
    v1, created = services.datasets.import_(alice, P, "news", csv, message="from csv")
    assert created and v1.number == 1 and v1.row_count == 3
    assert [(c.name, c.type) for c in v1.columns] == [
        ("id", "integer"),
        ("article", "string"),
        ("score", "number"),
        ("ok", "boolean"),
    ]
    for source in (jsonl, parquet, FRAME, FRAME.to_dict("records")):
        again, created = services.datasets.import_(alice, P, "news", source)
        assert (again.number, again.content_hash, created) == (1, v1.content_hash, False)
    assert len(services.datasets.versions(alice, P, "news")) == 1


def test_new_content_is_a_new_immutable_version(services, alice, project):
    v1, _ = services.datasets.import_(alice, P, "news", FRAME)
    v2, created = services.datasets.import_(alice, P, "news", FRAME.head(2), message="smaller")
    assert created and v2.number == 2 and v2.row_count == 2
    assert services.datasets.get(alice, P, "news").number == 2
    assert services.datasets.get(alice, P, "news", version=1).row_count == 3
    assert services.datasets.get_ref(alice, P, "news@1").content_hash == v1.content_hash
    frame = services.datasets.to_pandas(alice, P, "news", version=1)
    assert list(frame.columns) == ["id", "article", "score", "ok"]
    assert frame["article"].tolist() == FRAME["article"].tolist()
    assert frame["score"].tolist()[:2] == [0.5, 1.25] and pd.isna(frame["score"].tolist()[2])
    assert services.datasets.rows(alice, P, "news", version=1, offset=1, limit=1) == [
        {"id": 2, "article": "Sun in Sudan", "score": 1.25, "ok": False}
    ]


@pytest.mark.parametrize(
    ("filename", "content", "match"),
    [
        ("bad.jsonl", b'{"a": 1}\n{not json}\n', "line 2 is not valid JSON"),
        ("bad.jsonl", b'{"a": 1}\n[1, 2]\n', "line 2 must be a JSON object"),
        ("bad.parquet", b"PAR1 definitely not parquet", "cannot read the parquet data"),
        ("bad.csv", b'a,b\n1,"unterminated\n', "cannot read the csv data"),
        ("bad.csv", b"", "cannot read the csv data"),
        ("dup.csv", b"a,a\n1,2\n", "unique"),
        ("data.xlsx", b"whatever", "cannot tell the format"),
    ],
)
def test_bad_files_raise_clear_errors_and_store_nothing(
    services, alice, project, tmp_path, filename, content, match
):
    path = tmp_path / filename
    path.write_bytes(content)
    with pytest.raises(InvalidInput, match=match):
        services.datasets.import_(alice, P, "news", path)
    assert services.datasets.list(alice, P) == []


def test_missing_file_and_bad_names(services, alice, project, tmp_path):
    with pytest.raises(InvalidInput, match="no such file"):
        services.datasets.import_(alice, P, "news", tmp_path / "missing.csv")
    with pytest.raises(InvalidInput) as err:
        services.datasets.import_(alice, P, "News!", FRAME)
    assert err.value.field == "name"
    with pytest.raises(NotFound):
        services.datasets.get(alice, P, "news")
    assert services.datasets.list(alice, P) == []


def test_validation_against_a_prompt_lists_missing_columns(services, alice, project):
    dv, _ = services.datasets.import_(alice, P, "news", FRAME)
    pv = services.prompts.save(
        alice, P, "summarize", "{{ article }} in {{ language }} for {{ audience }}"
    ).version
    with pytest.raises(InvalidInput) as err:
        services.datasets.validate_for(dv, pv)
    assert err.value.details["missing"] == ["audience", "language"]
    assert "audience, language" in err.value.message
    ok = services.prompts.save(alice, P, "short", "{{ article }}").version
    services.datasets.validate_for(dv, ok)


def test_large_import_round_trips(services, alice, project):
    frame = pd.DataFrame({"i": range(20_000), "text": [f"row {i}" for i in range(20_000)]})
    dv, _ = services.datasets.import_(alice, P, "big", frame)
    assert dv.row_count == 20_000
    back = services.datasets.to_pandas(alice, P, "big")
    assert back["i"].tolist() == list(range(20_000))
    assert list(services.store.iter_dataset_rows(P, "big", 1, batch=7_000))[-1] == {
        "i": 19_999,
        "text": "row 19999",
    }
