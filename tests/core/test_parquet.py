"""jsadmin.parquet, the one Parquet layer under snapshots and history: exact round trips, appends,
atomic writes and dataset reads, on real files (no Redis needed)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.dataset as pads
import pytest

from jsadmin.parquet import (
    ParquetSink,
    arrow_to_frame,
    json_cell,
    json_text,
    read_dataset,
    read_frame,
    write_atomic,
    write_frame,
)

UTC = "datetime64[ns, UTC]"


def _batch(ids: list[int | None], states: list[str], values: list[object]) -> pd.DataFrame:
    n = len(ids)
    return pd.DataFrame(
        {
            "id": pd.array(ids, dtype="Int64"),
            "cmd": pd.array([f"cmd{i}" if i is not None else None for i in ids], dtype="string"),
            "state": pd.Series(states, dtype="category"),
            "wait": pd.array([True, None, False][:n], dtype="boolean"),
            "timeStop": pd.Series(pd.to_datetime([1_700_000_000.123456789 + i for i in range(n)], unit="s", utc=True)).astype(UTC),
            "args": pd.Series(values, dtype=object),
            "source": pd.Series(["code"] * n, dtype=object),
        }
    )


def _same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    """Equal frames, dtypes included; object cells compared as JSON text (NaN equals NaN there)."""
    assert list(a.columns) == list(b.columns)
    assert [str(t) for t in a.dtypes] == [str(t) for t in b.dtypes]
    for col in a.columns:
        if a[col].dtype == object:
            assert [json_text(v) for v in a[col]] == [json_text(v) for v in b[col]], col
        else:
            pd.testing.assert_series_equal(a[col], b[col], check_exact=True)


def test_sink_appends_batches_and_reads_back_exact_dtypes(tmp_path: Path) -> None:
    first = _batch([1, None], ["OK", "ERROR"], [{"n": float("nan"), "big": 2**70}, None])
    second = _batch([3, 4, 5], ["SCHEDULED", "OK", "OK"], ["plain text", [1, {"a": None}], {"é": "ü"}])
    sink = ParquetSink(tmp_path / "jobs" / "part-0.parquet", {"state": ["SCHEDULED", "OK"]}, rename={"source": "source_code"})
    sink.write(first)
    sink.write(second)
    schema = sink.close()
    assert sink.rows == 5
    assert schema["renamed"] == {"source_code": "source"}
    assert schema["dtypes"]["state"]["categories"] == ["SCHEDULED", "OK", "ERROR"]  # known first, then sorted
    assert "args" in schema["json_columns"]

    back = read_frame(tmp_path / "jobs" / "part-0.parquet", schema).rename(columns=schema["renamed"])
    whole = pd.concat([first, second], ignore_index=True)
    whole["state"] = whole["state"].astype(object).astype(pd.CategoricalDtype(["SCHEDULED", "OK", "ERROR"]))
    _same(back, whole)
    assert back["args"][0]["big"] == 2**70


def test_whole_frame_keeps_bytes_and_text(tmp_path: Path) -> None:
    frame = pd.DataFrame({"raw": [b"\xff\x00", None], "key": pd.array(["a", None], dtype="string")})
    schema = write_frame(frame, tmp_path / "p.parquet")
    assert schema["json_columns"] == []
    _same(read_frame(tmp_path / "p.parquet", schema), frame)


def test_pyarrow_alone_restores_dtypes_from_pandas_metadata(tmp_path: Path) -> None:
    """Without jsadmin's schema entry the files still open typed (JSON columns then stay text)."""
    frame = _batch([1, 2], ["OK", "ERROR"], [{"a": 1}, None])
    write_frame(frame, tmp_path / "date=x" / "part-0.parquet")
    back = pd.read_parquet(tmp_path)
    assert {c: str(back[c].dtype) for c in ("id", "cmd", "wait", "timeStop", "date")} == {
        "id": "Int64", "cmd": "string", "wait": "boolean", "timeStop": UTC, "date": "category"
    }
    assert isinstance(back["state"].dtype, pd.CategoricalDtype)
    assert back["args"][0] == '{"a":1}' and pd.isna(back["args"][1])


def test_write_atomic_leaves_no_partial_file(tmp_path: Path) -> None:
    table = pa.table({"x": [1, 2]})
    target = tmp_path / "date=2026-11-27" / "part-1.parquet"
    assert write_atomic(table, target, compression="zstd") == target
    assert sorted(p.name for p in target.parent.iterdir()) == ["part-1.parquet"]
    (target.parent / "part-2.parquet").mkdir()  # the rename fails after the hidden file was written
    with pytest.raises(IsADirectoryError):
        write_atomic(table, target.parent / "part-2.parquet")
    assert sorted(p.name for p in target.parent.iterdir()) == ["part-1.parquet", "part-2.parquet"]


def test_read_dataset_unifies_partitions_filters_and_projects(tmp_path: Path) -> None:
    schema = pa.schema([("t", pa.int64()), ("state", pa.dictionary(pa.int32(), pa.string())), ("late", pa.float64())])
    write_atomic(pa.table({"t": [1, 2], "state": ["OK", "ERROR"]}), tmp_path / "date=a" / "part-1.parquet")
    write_atomic(pa.table({"t": [3], "state": ["OK"], "late": [0.5]}), tmp_path / "date=b" / "part-1.parquet")
    tbl = read_dataset(tmp_path, schema=schema, columns=["t", "state", "late"], filter=pads.field("t") >= 2, dictionary_columns=["state"])
    frame = arrow_to_frame(tbl, {pa.int64(): pd.Int64Dtype(), pa.float64(): pd.Float64Dtype()})
    assert sorted(frame["t"].tolist()) == [2, 3]
    assert str(frame["t"].dtype) == "Int64" and isinstance(frame["state"].dtype, pd.CategoricalDtype)
    assert frame.sort_values("t")["late"].isna().tolist() == [True, False]


def test_json_cells_round_trip_what_json_cannot_say() -> None:
    value = {"nan": float("nan"), "inf": float("inf"), "big": 2**80, "text": "é"}
    back = json_cell(json_text(value))
    assert json_text(back) == json_text(value)
    assert json_cell("not json {") == "not json {"
