"""The one Parquet layer under snapshots (:mod:`jsadmin.snapshot`) and recorded history
(:mod:`jsadmin.analytics.history`): frames to Parquet files and datasets back to typed frames.

* :func:`encode_frame` / :func:`decode_frame`: a frame whose dtypes (``Int64``, ``string``,
  ``category``, ``boolean``, ``datetime64[ns, UTC]``, object columns of JSON values) survive a
  round trip exactly; the schema entry it returns is what a snapshot manifest stores.
* :class:`ParquetSink`: appends frames, batch by batch, to one Parquet file (one row group each).
* :func:`write_atomic`: one Arrow table to a file under a hidden name, then renamed.
* :func:`read_dataset` (a :mod:`pyarrow.dataset`, Hive-partitioned, filtered and projected),
  :func:`read_frame` (a file back through :func:`decode_frame`) and :func:`arrow_to_frame`
  (Arrow to pandas with nullable dtypes and UTC nanosecond datetimes).
* :func:`json_text` / :func:`json_cell`: JSON text of a cell and back (``NaN`` and big ints included).

>>> df = pd.DataFrame({"gid": pd.array([1, None], dtype="Int64"), "args": [{"a": 1}, None]})
>>> encoded, schema = encode_frame(df)
>>> schema["json_columns"], schema["dtypes"]["gid"]
(['args'], {'dtype': 'Int64'})
>>> decode_frame(encoded, schema).equals(df)
True
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import orjson
import pandas as pd
import pyarrow as pa
import pyarrow.dataset as pads
import pyarrow.parquet as pq

from .decode import DecodeError, loads

# --- JSON cells -----------------------------------------------------------------------------


def json_default(value: Any) -> Any:
    """What :func:`json_text` writes for values JSON has no form for (bytes, sets, timestamps, NA).

    >>> json_default({1, 2}), json_default(b"x"), json_default(pd.NA)
    ([1, 2], 'x', None)
    """
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("utf-8", errors="replace")
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (pd.Timestamp, dt.datetime, dt.date)):
        return value.isoformat()
    return str(value)


def json_text(value: Any) -> str:
    """Compact JSON text that keeps NaN/Infinity (Python json writes them, so JumpScale data holds them).

    >>> json_text({"t": float("nan"), "m": "é"})
    '{"t":NaN,"m":"é"}'
    """
    return json.dumps(value, default=json_default, ensure_ascii=False, separators=(",", ":"))


def json_cell(text: str | None) -> Any:
    """A JSON cell read back (``NaN``, ``Infinity`` and big ints included); text that is not JSON stays text.

    >>> json_cell('{"t":NaN}'), json_cell("not json"), json_cell(None)
    ({'t': nan}, 'not json', None)
    """
    if text is None:
        return None
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        try:
            return loads(text)
        except DecodeError:
            return text


def is_missing(value: Any) -> bool:
    """A scalar missing value (None, NaN, NA, NaT); containers and text never are.

    >>> is_missing(float("nan")), is_missing([]), is_missing("")
    (True, False, False)
    """
    if isinstance(value, (dict, list, tuple, set, bytes, str)):
        return False
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


# --- frames <-> Parquet-ready frames --------------------------------------------------------


def _needs_json(series: pd.Series) -> bool:
    """Object columns whose values are not all text (or all bytes) are stored as JSON text."""
    if series.dtype != object:
        return False
    kinds = {type(v) for v in series.dropna()}
    return not (kinds <= {str} or kinds <= {bytes})


def encode_frame(df: pd.DataFrame, *, all_json: bool = False) -> tuple[pd.DataFrame, dict[str, Any]]:
    """A Parquet-ready copy of ``df`` and the schema entry that lets :func:`decode_frame` undo it.

    ``all_json`` stores every object column as JSON text, whatever its values, so that every
    batch of a streamed family encodes the same way (a column of plain strings in one batch
    may hold dicts in the next).

    >>> encode_frame(pd.DataFrame({"x": [[1]]}))[0]["x"].tolist()
    ['[1]']
    """
    out = df.copy(deep=False)
    out.attrs = {}
    dtypes: dict[str, Any] = {}
    json_columns: list[str] = []
    for col in out.columns:
        dtype = out[col].dtype
        if isinstance(dtype, pd.CategoricalDtype):
            dtypes[str(col)] = {
                "dtype": "category",
                "categories": [json_default(c) if not isinstance(c, str) else c for c in dtype.categories],
                "ordered": bool(dtype.ordered),
            }
            continue
        dtypes[str(col)] = {"dtype": str(dtype)}
        if (all_json and out[col].dtype == object) or _needs_json(out[col]):
            json_columns.append(str(col))
            out[col] = pd.Series(
                [None if is_missing(v) else json_text(v) for v in out[col]], index=out.index, dtype=object
            )
    return out, {"columns": [str(c) for c in out.columns], "dtypes": dtypes, "json_columns": json_columns}


def decode_frame(df: pd.DataFrame, schema: Mapping[str, Any]) -> pd.DataFrame:
    """Undo :func:`encode_frame`: JSON text back to objects, dtypes as they were written.

    >>> decode_frame(pd.DataFrame({"n": [1]}), {"dtypes": {"n": {"dtype": "Int64"}}})["n"].dtype
    Int64Dtype()
    """
    df = df.copy()
    for col in schema.get("json_columns", []):
        if col in df.columns:
            df[col] = pd.Series(
                [None if v is None or is_missing(v) else json.loads(v) for v in df[col]],
                index=df.index,
                dtype=object,
            )
    for col, spec in schema.get("dtypes", {}).items():
        if col not in df.columns:
            continue
        if spec["dtype"] == "category":
            wanted = pd.CategoricalDtype(spec["categories"], ordered=spec.get("ordered", False))
            have = df[col].dtype  # unordered dtypes compare equal in any category order: compare the lists
            if not isinstance(have, pd.CategoricalDtype) or have != wanted or list(have.categories) != list(wanted.categories):
                df[col] = df[col].astype(object).astype(wanted)
        elif spec["dtype"] != "object" and str(df[col].dtype) != spec["dtype"]:
            df[col] = df[col].astype(spec["dtype"])
    order = [c for c in schema.get("columns", []) if c in df.columns]
    return df[order + [c for c in df.columns if c not in order]]


def merge_schema(a: dict[str, Any] | None, b: dict[str, Any]) -> dict[str, Any]:
    """Two schema entries of :func:`encode_frame` as one: columns and JSON columns united, categories too.

    >>> merge_schema(None, {"columns": ["x"], "dtypes": {}, "json_columns": []})["columns"]
    ['x']
    """
    if a is None:
        return b
    out: dict[str, Any] = {
        "columns": list(a["columns"]), "dtypes": dict(a["dtypes"]), "json_columns": list(a["json_columns"])
    }
    out["renamed"] = {**a.get("renamed", {}), **b.get("renamed", {})}
    out["columns"] += [c for c in b["columns"] if c not in out["columns"]]
    out["json_columns"] += [c for c in b["json_columns"] if c not in out["json_columns"]]
    for col, spec in b["dtypes"].items():
        mine = out["dtypes"].get(col)
        if mine is None:
            out["dtypes"][col] = spec
        elif mine["dtype"] == "category" and spec["dtype"] == "category":
            cats = list(mine["categories"]) + [c for c in spec["categories"] if c not in mine["categories"]]
            out["dtypes"][col] = {**mine, "categories": cats}
    return out


# --- writing --------------------------------------------------------------------------------


class ParquetSink:
    """Writes the frames of one dataset, batch by batch, into one Parquet file (one row group each).

    The Arrow schema is fixed by the first batch (JSON and all-null columns as text, categorical
    codes as int32), later batches are cast to it; :meth:`close` returns the schema entry that
    merges every batch's dtypes, with categories in the order one whole load gives them
    (``known_categories``, then sorted). ``rename`` renames columns on the way in (recorded under
    ``"renamed"``, new name to old, so readers can undo it).

    >>> sink = ParquetSink(Path("out/part-0.parquet"))     # doctest: +SKIP
    >>> sink.write(batch); schema = sink.close()           # doctest: +SKIP
    """

    def __init__(
        self,
        file: Path,
        known_categories: Mapping[str, Sequence[str]] | None = None,
        *,
        all_json: bool = True,
        rename: Mapping[str, str] | None = None,
    ) -> None:
        self.file = file
        self.all_json = all_json
        self.known = dict(known_categories or {})
        self.rename = dict(rename or {})
        self.writer: pq.ParquetWriter | None = None
        self.arrow_schema: pa.Schema | None = None
        self.schema: dict[str, Any] | None = None
        self.renamed: dict[str, str] = {}
        self.rows = 0

    def write(self, frame: pd.DataFrame) -> None:
        """Append one frame (one row group)."""
        moved = {old: new for old, new in self.rename.items() if old in frame.columns}
        if moved:
            frame = frame.rename(columns=moved)
            self.renamed = {new: old for old, new in moved.items()}
        encoded, schema = encode_frame(frame, all_json=self.all_json)
        table = pa.Table.from_pandas(encoded, preserve_index=False)
        if self.writer is None:
            self.arrow_schema = stable_schema(table.schema)
            self.file.parent.mkdir(parents=True, exist_ok=True)
            self.writer = pq.ParquetWriter(self.file, self.arrow_schema)
        assert self.arrow_schema is not None
        self.writer.write_table(table.cast(self.arrow_schema))
        self.schema = merge_schema(self.schema, schema)
        self.rows += len(frame)

    def close(self) -> dict[str, Any]:
        """Finish the file; the schema entry of everything written."""
        if self.writer is not None:
            self.writer.close()
        assert self.schema is not None, "a dataset gets at least one (possibly empty) frame"
        for col, spec in self.schema["dtypes"].items():
            if spec["dtype"] == "category":
                known = [c for c in self.known.get(col, ()) if c in spec["categories"]]
                rest = sorted((c for c in spec["categories"] if c not in known), key=str)
                spec["categories"] = known + rest
        self.schema["renamed"] = self.renamed
        return self.schema


def write_frame(frame: pd.DataFrame, file: Path, *, rename: Mapping[str, str] | None = None) -> dict[str, Any]:
    """One whole frame to ``file`` (bytes columns stay bytes); its schema entry.

    >>> write_frame(df, Path("snap/_families/source=a/part-0.parquet"))   # doctest: +SKIP
    """
    sink = ParquetSink(file, all_json=False, rename=rename)
    sink.write(frame)
    return sink.close()


def stable_schema(schema: pa.Schema) -> pa.Schema:
    """The first batch's Arrow schema with types every later batch can be cast to.

    >>> stable_schema(pa.schema([("a", pa.null())])).field("a").type
    DataType(large_string)
    """
    fields = []
    for f in schema:
        kind = f.type
        if pa.types.is_null(kind):
            kind = pa.large_string()  # an all-missing JSON or text column
        elif pa.types.is_string(kind):
            kind = pa.large_string()
        elif pa.types.is_binary(kind):
            kind = pa.large_binary()
        elif pa.types.is_dictionary(kind):
            kind = pa.dictionary(pa.int32(), pa.large_string())
        fields.append(pa.field(f.name, kind, nullable=True))
    return pa.schema(fields, metadata=schema.metadata)


def write_atomic(table: pa.Table, file: Path, **options: Any) -> Path:
    """Write ``table`` to ``file`` under a hidden name and rename it, so readers never see a partial file.

    ``options`` go to :func:`pyarrow.parquet.write_table` (e.g. ``compression="zstd"``).

    >>> write_atomic(table, Path("rec/jobs/date=2026-11-27/part-1.parquet"))   # doctest: +SKIP
    """
    file.parent.mkdir(parents=True, exist_ok=True)
    tmp = file.parent / f".{file.name}.tmp"
    try:
        pq.write_table(table, tmp, **options)
        os.replace(tmp, file)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return file


# --- reading --------------------------------------------------------------------------------


def read_dataset(
    path: str | os.PathLike[str],
    *,
    schema: pa.Schema | None = None,
    columns: Sequence[str] | None = None,
    filter: pads.Expression | None = None,  # the name pyarrow.dataset uses
    dictionary_columns: Sequence[str] = (),
    partitioning: str | None = "hive",
) -> pa.Table:
    """A Parquet file or Hive-partitioned directory as one Arrow table (:mod:`pyarrow.dataset`).

    ``schema`` unifies the files (missing columns read as nulls); ``columns`` and ``filter``
    are pushed down, so Parquet statistics skip row groups; ``dictionary_columns`` read as
    dictionaries (pandas categoricals). The table keeps the files' pandas metadata.

    >>> read_dataset("rec/queues", filter=pads.field("time") >= start)   # doctest: +SKIP
    """
    fmt = pads.ParquetFileFormat(read_options=pads.ParquetReadOptions(dictionary_columns=list(dictionary_columns)))
    dataset = pads.dataset(Path(path), format=fmt, schema=schema, partitioning=partitioning)
    return dataset.to_table(columns=None if columns is None else list(columns), filter=filter)


def read_frame(file: str | os.PathLike[str], schema: Mapping[str, Any]) -> pd.DataFrame:
    """One file written by :class:`ParquetSink`, back in the dtypes of its schema entry.

    >>> read_frame("snap/jobs/source=a/part-0.parquet", manifest["families"]["jobs"])   # doctest: +SKIP
    """
    return decode_frame(read_dataset(file, partitioning=None).to_pandas(), schema)


def arrow_to_frame(table: pa.Table, types: Mapping[pa.DataType, Any] | None = None) -> pd.DataFrame:
    """``table`` as pandas: Arrow types mapped by ``types`` (e.g. string -> ``string``), timestamps as ``ns``.

    >>> arrow_to_frame(pa.table({"n": [1, None]}), {pa.int64(): pd.Int64Dtype()})["n"].dtype
    Int64Dtype()
    """
    mapper: Callable[[pa.DataType], Any] | None = dict(types).get if types else None
    df = table.to_pandas(types_mapper=mapper)
    for f in table.schema:
        if pa.types.is_timestamp(f.type) and f.type.tz is not None and str(df[f.name].dtype) != "datetime64[ns, UTC]":
            df[f.name] = df[f.name].astype("datetime64[ns, UTC]")
    return df


__all__ = [
    "ParquetSink",
    "arrow_to_frame",
    "decode_frame",
    "encode_frame",
    "is_missing",
    "json_cell",
    "json_default",
    "json_text",
    "merge_schema",
    "read_dataset",
    "read_frame",
    "stable_schema",
    "write_atomic",
    "write_frame",
]
