"""Dataset import: CSV, JSONL, Parquet, a pandas DataFrame or a list of dicts.

Everything becomes JSON-safe rows plus a column schema and a content hash, so
identical content always hashes the same whatever file it came from. Nothing
here touches the database; pandas and pyarrow are imported on first use.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from .exceptions import InvalidInput
from .prompts import canonical_json

FORMATS = ("csv", "jsonl", "parquet")
MAX_COLUMNS = 1_000


@dataclass(frozen=True)
class LoadedDataset:
    """Rows ready to store: JSON-safe values, schema and content hash."""

    rows: list[dict[str, Any]]
    columns: list[dict[str, str]]
    content_hash: str
    source_format: str

    @property
    def row_count(self) -> int:
        return len(self.rows)


def _format_of(path: Path, fmt: str | None) -> str:
    if fmt is not None:
        if fmt not in FORMATS:
            raise InvalidInput(f"format must be one of {', '.join(FORMATS)}", field="format")
        return fmt
    suffix = path.suffix.lower().lstrip(".")
    mapping = {
        "csv": "csv",
        "jsonl": "jsonl",
        "ndjson": "jsonl",
        "parquet": "parquet",
        "pq": "parquet",
    }
    if suffix not in mapping:
        raise InvalidInput(
            f"cannot tell the format of {path.name!r}: use a .csv, .jsonl or .parquet file "
            "or pass format=",
            field="format",
        )
    return mapping[suffix]


def _read_jsonl(stream: Iterable[str | bytes]) -> list[dict[str, Any]]:
    rows = []
    for lineno, line in enumerate(stream, start=1):
        text = line.decode("utf-8") if isinstance(line, bytes) else line
        if not text.strip():
            continue
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as err:
            raise InvalidInput(
                f"line {lineno} is not valid JSON: {err.msg}", field="source"
            ) from err
        if not isinstance(obj, dict):
            raise InvalidInput(f"line {lineno} must be a JSON object", field="source")
        rows.append(obj)
    return rows


def _frame_from(source: Any, fmt: str | None) -> tuple[Any, str]:
    import pandas as pd

    if isinstance(source, pd.DataFrame):
        return source, "dataframe"
    if isinstance(source, (bytes, bytearray)):
        if fmt is None:
            raise InvalidInput("format is required when importing bytes", field="format")
        return _read_bytes(bytes(source), _format_of(Path("x"), fmt)), fmt
    if isinstance(source, (str, os.PathLike)):
        path = Path(source).expanduser()
        if not path.is_file():
            raise InvalidInput(f"no such file: {str(path)!r}", field="source")
        fmt = _format_of(path, fmt)
        return _read_bytes(path.read_bytes(), fmt), fmt
    if isinstance(source, Sequence) and all(isinstance(r, Mapping) for r in source):
        return pd.DataFrame.from_records([dict(r) for r in source]), "records"
    raise InvalidInput(
        "source must be a file path, bytes, a pandas DataFrame or a list of dicts", field="source"
    )


def _read_bytes(data: bytes, fmt: str) -> Any:
    import pandas as pd

    try:
        if fmt == "csv":
            _check_csv_header(data)
            return pd.read_csv(io.BytesIO(data), keep_default_na=False, na_values=[""])
        if fmt == "jsonl":
            return pd.DataFrame.from_records(_read_jsonl(io.BytesIO(data)))
        return pd.read_parquet(io.BytesIO(data))
    except InvalidInput:
        raise
    except (ValueError, UnicodeDecodeError, OSError, pd.errors.ParserError) as err:
        raise InvalidInput(f"cannot read the {fmt} data: {err}", field="source") from err
    except Exception as err:  # pyarrow raises its own tree for corrupt files
        if type(err).__module__.startswith("pyarrow"):
            raise InvalidInput(f"cannot read the {fmt} data: {err}", field="source") from err
        raise


def _check_csv_header(data: bytes) -> None:
    import csv

    first = data.split(b"\n", 1)[0].decode("utf-8-sig", errors="replace")
    try:
        header = next(csv.reader([first]), [])
    except csv.Error as err:  # e.g. a lone carriage return in the header line
        raise InvalidInput(f"cannot read the csv header: {err}", field="source") from err
    names = [h.strip() for h in header]
    if len(set(names)) != len(names):
        dupes = sorted({n for n in names if names.count(n) > 1})
        raise InvalidInput(
            f"column names must be unique; repeated: {', '.join(dupes)}", field="source"
        )


def _column_type(series: Any) -> str:
    import pandas.api.types as t

    if t.is_bool_dtype(series):
        return "boolean"
    if t.is_integer_dtype(series):
        return "integer"
    if t.is_float_dtype(series):
        non_null = series.dropna()
        if len(non_null) and (non_null == non_null.round()).all() and len(non_null) == len(series):
            return "integer"
        return "number"
    if t.is_datetime64_any_dtype(series):
        return "datetime"
    values = [v for v in series.tolist() if v is not None and not _is_nan(v)]
    if values and all(isinstance(v, bool) for v in values):
        return "boolean"
    if values and all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return "integer"
    if values and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        return "number"
    if any(isinstance(v, (dict, list, tuple)) for v in values):
        return "json"
    return "string"


def _is_nan(value: Any) -> bool:
    return isinstance(value, float) and math.isnan(value)


def _json_safe(value: Any, kind: str) -> Any:
    if value is None or _is_nan(value):
        return None
    if hasattr(value, "item") and not isinstance(value, (list, dict)):
        with contextlib.suppress(ValueError, AttributeError):
            value = value.item()  # numpy scalars
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):
        value = value.tolist()  # numpy arrays from parquet lists
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if kind == "integer" and isinstance(value, float):
        return int(value)
    if isinstance(value, float) and math.isinf(value):
        raise InvalidInput("infinite numbers cannot be stored", field="source")
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, tuple):
        return list(value)
    return value


def load(source: Any, *, format: str | None = None) -> LoadedDataset:
    """Read ``source`` into rows, schema and content hash; ``InvalidInput`` on bad data."""
    frame, source_format = _frame_from(source, format)
    names = [str(c) for c in frame.columns]
    if not names:
        raise InvalidInput("the dataset has no columns", field="source")
    if len(names) > MAX_COLUMNS:
        raise InvalidInput(f"the dataset has more than {MAX_COLUMNS} columns", field="source")
    if len(set(names)) != len(names) or any(not n.strip() for n in names):
        raise InvalidInput("column names must be unique and non-empty", field="source")
    if any(n.startswith("Unnamed: ") for n in names):
        raise InvalidInput("every column needs a name in the header row", field="source")
    kinds = [_column_type(frame[c]) for c in frame.columns]
    columns = [{"name": n, "type": k} for n, k in zip(names, kinds, strict=True)]
    rows = [
        {n: _json_safe(v, k) for n, k, v in zip(names, kinds, values, strict=True)}
        for values in frame.itertuples(index=False, name=None)
    ]
    return LoadedDataset(
        rows=rows,
        columns=columns,
        content_hash=rows_hash(columns, rows),
        source_format=source_format,
    )


def rows_hash(columns: Sequence[Mapping[str, str]], rows: Iterable[Mapping[str, Any]]) -> str:
    """sha256 over the schema and every row, in order."""
    digest = hashlib.sha256()
    digest.update(canonical_json(list(columns)).encode())
    for row in rows:
        digest.update(b"\n")
        digest.update(canonical_json(row).encode())
    return "sha256:" + digest.hexdigest()


def missing_columns(required: Iterable[str], available: Iterable[str]) -> list[str]:
    """Required names that are not among the available columns, sorted."""
    return sorted(set(required) - set(available))


def to_frame(rows: list[dict[str, Any]], columns: Sequence[str]) -> Any:
    """Rows as a pandas DataFrame with the stored column order."""
    import pandas as pd

    return pd.DataFrame.from_records(rows, columns=list(columns))
