"""One table written twice: `<name>.csv` and `<name>.parquet`, the same rows and columns.

CSV for anyone (`csv`, spreadsheets, `read.csv`); Parquet with real types, which
pandas (`read_parquet`) and R (`arrow::read_parquet`) read as is. In the CSV a
missing value is an empty cell and a list is its items joined by `;`; in
Parquet a missing value is null, a list is a list of strings, and every column
named `*_at` is a UTC timestamp. A column with no value at all is a string
column of nulls, so that its type is the same in every export.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

Row = dict[str, Any]


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, list):
        return ";".join(str(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _column(name: str, values: list[Any]) -> pa.Array:
    if name.endswith("_at"):
        stamps = [datetime.fromisoformat(v) if isinstance(v, str) else v for v in values]
        return pa.array(stamps, pa.timestamp("us", tz="UTC"))
    if any(isinstance(v, list) for v in values):
        return pa.array(
            [[str(i) for i in v] if isinstance(v, list) else None for v in values],
            pa.list_(pa.string()),
        )
    numbers = [v for v in values if v is not None]
    if numbers and all(isinstance(v, int | float) and not isinstance(v, bool) for v in numbers):
        kind = pa.int64() if all(isinstance(v, int) for v in numbers) else pa.float64()
        return pa.array(values, kind)
    if numbers and all(isinstance(v, bool) for v in numbers):
        return pa.array(values, pa.bool_())
    return pa.array([None if v is None else str(v) for v in values], pa.string())


def write_table(
    out: Path, name: str, columns: Sequence[str], rows: Sequence[Row]
) -> dict[str, int]:
    """Write `rows` (missing keys are missing values) as CSV and Parquet; rows per file."""
    with (out / f"{name}.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(columns))
        writer.writeheader()
        for row in rows:
            writer.writerow({c: _cell(row.get(c)) for c in columns})
    table = pa.table({c: _column(c, [row.get(c) for row in rows]) for c in columns})
    pq.write_table(table, out / f"{name}.parquet")
    return {f"{name}.csv": len(rows), f"{name}.parquet": len(rows)}
