"""Recorded history on disk: the Parquet layout shared by the recorder and the demo generator.

Redis forgets finished jobs within a minute (spec §4.7, §7), so :class:`~jsadmin.analytics.recorder.Recorder`
keeps them in a local Parquet dataset, partitioned by day::

    out/jobs/date=2026-11-27/part-20261127T114501-1a2b3c4d.parquet        finished jobs
    out/queues/date=2026-11-27/part-....parquet                         queue depth samples
    out/heartbeats/date=2026-11-27/part-....parquet                     heartbeat age samples

:func:`~jsadmin.analytics.source.load_history` reads it back as typed frames (same job columns and
dtypes as ``Admin.load("job_results")``), so every latency function works over days of history.
This module owns the layout (tables, Arrow schemas, ``date=`` partitions); writing files
atomically, reading datasets and Arrow to pandas are :mod:`jsadmin.parquet`, shared with snapshots.

The tables come with a :class:`~jsadmin.analytics.info.HistoryInfo` each (``load_table_with_info``,
``load_history(...).infos``): how many job copies were dropped, and that the jobs are one row per guid.

>>> frames = jsadmin.analytics.load_history("rec/")     # doctest: +SKIP
>>> latency_summary(frames["jobs"], by="cmd")           # doctest: +SKIP
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np
import orjson
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as pads

from ..parquet import arrow_to_frame, json_cell, read_dataset, write_atomic
from ._common import as_utc, canonical_state, utc_now
from .info import Analysed, HistoryInfo, mirrored
from .jobs import TOP_RANK, best_first, copy_rank

TABLES = ("jobs", "queues", "heartbeats")
_TS = pa.timestamp("ns", tz="UTC")
_TYPES = {"str": pa.string(), "int": pa.int64(), "float": pa.float64(), "bool": pa.bool_(), "ts": _TS}


def _arrow_schema(spec: str) -> pa.Schema:
    """An Arrow schema from ``"name:type ..."`` (types: str, int, float, bool, ts = UTC nanoseconds).

    >>> _arrow_schema("guid:str captured:ts").names
    ['guid', 'captured']
    """
    return pa.schema([(name, _TYPES[t]) for name, t in (col.split(":") for col in spec.split())])


JSON_COLUMNS = ("roles", "args", "result", "parent", "tags", "_meta")
"""Job columns holding decoded JSON in frames; stored as JSON text in Parquet."""

JOB_SCHEMA = _arrow_schema(
    "guid:str id:int gid:int nid:int category:str cmd:str queue:str role:str state:str "
    "timeCreate:ts timeStart:ts timeStop:ts timeout:float wait:bool log:bool errorreport:bool "
    "internal:bool jscriptid:str resultcode:str sessionid:str achost:str _ckey:str roles:str "
    "args:str result:str parent:str tags:str _meta:str family:str key:str captured:ts"
)
"""One finished job per row. ``family`` is the family the copy was caught in, ``captured`` when."""

QUEUE_SCHEMA = _arrow_schema("time:ts key:str kind:str queue:str length:int oldest:ts oldest_age:float")
"""One sample of one queue: ``kind`` is ``command`` or ``worker``; ``oldest_age`` in seconds."""

HEARTBEAT_SCHEMA = _arrow_schema("time:ts queue:str worker:str beat:str heartbeat:ts age:float")
"""One sample of one heartbeat: ``beat`` is ``heartbeat`` (per queue) or ``watchdog`` (JS6 worker)."""

SCHEMAS: dict[str, pa.Schema] = {
    "jobs": JOB_SCHEMA,
    "queues": QUEUE_SCHEMA,
    "heartbeats": HEARTBEAT_SCHEMA,
}
PARTITION_COLUMN = {"jobs": "timeStop", "queues": "time", "heartbeats": "time"}
RENAMED_ON_READ: dict[str, dict[str, str]] = {"jobs": {"source": "family"}, "heartbeats": {"source": "beat"}}
"""Columns of histories recorded by earlier versions, old name -> current name (both read; the old
fills the new where the new is null, so old and new files mix in one history)."""


def _json_text(values: pd.Series) -> pa.Array:
    out: list[str | None] = []
    dumps = orjson.dumps
    opts = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS
    for value in values.tolist():
        if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
            out.append(None)
        elif isinstance(value, str) and values.name not in ("args", "result", "tags", "parent"):
            out.append(value)
        else:
            try:
                out.append(dumps(value, default=str, option=opts).decode())
            except (TypeError, orjson.JSONEncodeError):  # an int beyond 64 bits (read from NaN-style JSON)
                out.append(json.dumps(value, default=str))
    return pa.array(out, type=pa.string())


def _column(df: pd.DataFrame, name: str, typ: pa.DataType, n: int) -> pa.Array:
    if name not in df.columns:
        return pa.nulls(n, type=typ)
    col = df[name]
    if name in JSON_COLUMNS and typ == pa.string():
        return _json_text(col)
    if pa.types.is_timestamp(typ):
        col = pd.to_datetime(col, utc=True, errors="coerce").astype("datetime64[ns, UTC]")
        return pa.array(col, type=typ, from_pandas=True)
    if pa.types.is_string(typ):
        col = col.astype("string")
        return pa.array(col.astype(object).where(col.notna(), None).tolist(), type=typ)
    if pa.types.is_integer(typ):
        col = pd.to_numeric(col, errors="coerce").astype("Int64")
    elif pa.types.is_floating(typ):
        col = pd.to_numeric(col, errors="coerce").astype("Float64")
    elif pa.types.is_boolean(typ):
        col = col.astype("boolean")
    return pa.array(col, type=typ, from_pandas=True)


def to_table(df: pd.DataFrame, table: str) -> pa.Table:
    """Convert a frame to the Arrow table of ``table`` (``jobs``, ``queues`` or ``heartbeats``).

    Missing columns become nulls; JSON-valued job columns become JSON text.

    >>> to_table(pd.DataFrame({"queue": ["default"]}), "heartbeats").num_rows
    1
    """
    schema = _schema(table)
    n = len(df)
    arrays = [_column(df, f.name, f.type, n) for f in schema]
    return pa.Table.from_arrays(arrays, schema=schema)


def _schema(table: str) -> pa.Schema:
    try:
        return SCHEMAS[table]
    except KeyError:
        raise ValueError(f"unknown history table {table!r}; expected one of {TABLES}") from None


def write_table(
    out_dir: str | os.PathLike[str], table: str, data: pa.Table | pd.DataFrame
) -> list[Path]:
    """Append rows to ``out_dir/<table>/date=YYYY-MM-DD/part-*.parquet`` (one file per day touched).

    Files are written under a hidden name and renamed, so readers never see a partial file.
    Rows of ``jobs`` are partitioned by ``timeStop`` (``captured`` when missing), the others by ``time``.

    >>> write_table("rec/", "queues", frame)            # doctest: +SKIP
    """
    tbl = data if isinstance(data, pa.Table) else to_table(data, table)
    if tbl.num_rows == 0:
        return []
    base = Path(out_dir) / table
    part_col = tbl.column(PARTITION_COLUMN[table]).to_pandas()
    if table == "jobs":
        part_col = part_col.fillna(tbl.column("captured").to_pandas()).fillna(utc_now())
    days = pd.to_datetime(part_col, utc=True).dt.strftime("%Y-%m-%d").to_numpy()
    written = []
    stamp = utc_now().strftime("%Y%m%dT%H%M%S%f")
    for day in sorted(set(days.tolist())):
        mask = days == day
        sub = tbl if mask.all() else tbl.filter(pa.array(mask))
        name = f"part-{stamp}-{uuid.uuid4().hex[:8]}.parquet"
        written.append(write_atomic(sub, base / f"date={day}" / name, compression="zstd"))
    return written


def _empty(table: str) -> pa.Table:
    return _schema(table).empty_table()


_DICTIONARY_COLUMNS = {"jobs": ["state"]}
"""Columns read straight into Arrow dictionaries (they become pandas categoricals)."""


def read_table(
    history_dir: str | os.PathLike[str],
    table: str,
    *,
    columns: Sequence[str] | None = None,
    since: object | None = None,
    until: object | None = None,
) -> pa.Table:
    """Rows of one table as Arrow (an empty table with the schema when nothing was recorded).

    ``columns`` selects columns; ``since``/``until`` (UTC timestamps or epoch seconds) keep rows
    whose ``timeStop`` (jobs) or ``time`` lies in ``[since, until)`` (Parquet statistics skip the rest).
    """
    schema = _schema(table)
    names = (
        list(schema.names) if columns is None else [c for c in schema.names if c in set(columns)]
    )
    unknown = set(columns or ()) - set(schema.names)
    if unknown:
        raise KeyError(
            f"unknown {table} history column(s) {sorted(unknown)}; known: {schema.names}"
        )
    base = Path(history_dir) / table
    if not base.is_dir() or not any(base.glob("date=*/part-*.parquet")):
        return _empty(table).select(names)
    read_schema = schema
    for name in _DICTIONARY_COLUMNS.get(table, []):
        at = read_schema.get_field_index(name)
        read_schema = read_schema.set(at, pa.field(name, pa.dictionary(pa.int32(), pa.string())))
    field = pads.field(PARTITION_COLUMN[table])
    condition = None
    if since is not None:
        condition = field >= pa.scalar(as_utc(since).as_unit("ns"), type=_TS)
    if until is not None:
        upper = field < pa.scalar(as_utc(until).as_unit("ns"), type=_TS)
        condition = upper if condition is None else condition & upper
    legacy = {old: new for old, new in RENAMED_ON_READ.get(table, {}).items() if new in names}
    for old in legacy:
        read_schema = read_schema.append(pa.field(old, read_schema.field(legacy[old]).type))
    tbl = read_dataset(
        base,
        schema=read_schema,
        columns=[*names, *legacy],
        filter=condition,
        dictionary_columns=_DICTIONARY_COLUMNS.get(table, []),
    )
    for old, new in legacy.items():
        at = tbl.schema.get_field_index(new)
        tbl = tbl.set_column(at, new, pc.coalesce(tbl.column(new), tbl.column(old)))
        tbl = tbl.drop_columns([old])
    return tbl


def _decode_json(values: pd.Series) -> pd.Series:
    out = [json_cell(v) for v in values.astype(object).where(values.notna(), None)]
    return pd.Series(out, index=values.index, dtype=object)


_MAPPERS = {
    "jobs": {
        pa.string(): pd.StringDtype(),
        pa.int64(): pd.Int64Dtype(),
        pa.float64(): pd.Float64Dtype(),
        pa.bool_(): pd.BooleanDtype(),
    },
    "queues": {pa.string(): pd.StringDtype(), pa.int64(): pd.Int64Dtype()},
    "heartbeats": {pa.string(): pd.StringDtype()},
}


def _to_frame(tbl: pa.Table, table: str, decode_json: bool) -> pd.DataFrame:
    if table == "jobs" and "state" in tbl.schema.names:
        at = tbl.schema.get_field_index("state")
        if not pa.types.is_dictionary(tbl.schema.field(at).type):
            tbl = tbl.set_column(at, "state", pc.dictionary_encode(tbl.column("state")))
    df = arrow_to_frame(tbl, _MAPPERS[table])
    if table == "jobs":
        if "state" in df.columns:
            df["state"] = canonical_state(df["state"])
        if decode_json:
            for col in JSON_COLUMNS:
                if col in df.columns:
                    df[col] = _decode_json(df[col])
    return df


def frame_of(tbl: pa.Table, table: str, *, decode_json: bool = True) -> pd.DataFrame:
    """Rows of one table read as Arrow (by pyarrow, or collected by polars/dask) as the typed frame
    :func:`~jsadmin.analytics.source.load_history` gives: nullable dtypes, categorical ``state``, decoded JSON columns.

    >>> str(frame_of(pa.table({"queue": ["default"]}), "heartbeats")["queue"].dtype)
    'string'
    """
    schema = _schema(table)
    fields = [schema.field(n) for n in tbl.schema.names if n in schema.names]
    tbl = tbl.select([f.name for f in fields]).cast(pa.schema(fields))
    return _to_frame(tbl, table, decode_json)


def dedupe_jobs(jobs: pd.DataFrame) -> pd.DataFrame:
    """One row per guid: the best copy by :func:`~jsadmin.analytics.jobs.best_first` (the one ranking
    of copies: most final state, then newest timestamp incl. ``captured``, then family).

    Fast path for recorded data: the recorder writes a guid again only when it found a *more
    final* copy, so only guids that have a copy below :data:`~jsadmin.analytics.jobs.TOP_RANK`
    (no ``timeStop``, TIMEOUT, NOWORK) can be duplicated; only those are hashed against the rest.
    """
    if jobs.empty:
        return jobs
    rank = copy_rank(jobs["state"], jobs["timeStop"])
    low = rank < TOP_RANK
    if not low.any():
        return jobs
    guids = pa.chunked_array([pa.array(jobs["guid"].array)]) if len(jobs) else None
    low_guids = pa.array(jobs.loc[low, "guid"].array).drop_null()
    suspect = pc.is_in(guids, value_set=low_guids).to_numpy(zero_copy_only=False)
    suspect &= jobs["guid"].notna().to_numpy()
    if not suspect.any():
        return jobs
    sub = jobs.loc[suspect]
    winners = sub.iloc[best_first(sub)].drop_duplicates("guid").index
    drop = sub.index.difference(winners)
    return jobs.drop(index=drop)


ANALYTICS_COLUMNS = (
    "guid",
    "id",
    "gid",
    "nid",
    "category",
    "cmd",
    "queue",
    "role",
    "state",
    "timeCreate",
    "timeStart",
    "timeStop",
    "timeout",
    "result",
    "family",
    "captured",
)
"""The job columns every analytics function and plot needs (``load_history(columns=...)``)."""
_DEDUPE_COLUMNS = ("guid", "state", "timeStop", "captured")


def load_table_with_info(
    history_dir: str | os.PathLike[str],
    table: str,
    *,
    decode_json: bool = True,
    columns: Sequence[str] | None = None,
    since: object | None = None,
    until: object | None = None,
) -> Analysed[HistoryInfo]:
    """One table of a recorded history as a typed frame (the options are those of
    :func:`~jsadmin.analytics.source.load_history`) and its :class:`HistoryInfo` (for ``jobs``: ``duplicates``, the copies dropped to keep one row
    per guid, and ``unique_guids``).

    >>> jobs, info = load_table_with_info("rec/", "jobs")           # doctest: +SKIP
    >>> info.duplicates                                             # doctest: +SKIP
    0
    """
    path = Path(history_dir)
    cols = None
    if table == "jobs" and columns is not None:
        cols = [*dict.fromkeys([*_DEDUPE_COLUMNS, *columns])]
    tbl = read_table(path, table, columns=cols, since=since, until=until)
    df = _to_frame(tbl, table, decode_json)
    if table == "jobs":
        before = len(df)
        df = dedupe_jobs(df).reset_index(drop=True)
        return Analysed(df, HistoryInfo(table, str(path), duplicates=before - len(df), unique_guids=True))
    df = df.sort_values("time", kind="stable").reset_index(drop=True)
    return Analysed(df, HistoryInfo(table, str(path)))


load_table = mirrored(load_table_with_info, """The frame of :func:`load_table_with_info` (its
    :class:`HistoryInfo` mirrored in ``attrs`` for one release: ``duplicates``, ``unique_guids``,
    ``family``, ``history``; deprecated).

    >>> load_table("rec/", "queues", since="2026-11-27")           # doctest: +SKIP
    """)


@runtime_checkable
class HasHistoryInfos(Protocol):
    """A mapping of recorded tables that knows their :class:`HistoryInfo`
    (:class:`~jsadmin.analytics.source.HistoryTables`, :class:`~jsadmin.analytics.source.History`)."""

    @property
    def infos(self) -> Mapping[str, HistoryInfo]: ...


def history_infos(frames: object) -> Mapping[str, HistoryInfo]:
    """The :class:`HistoryInfo` of the tables of ``frames`` when it is a recorded history
    (:func:`~jsadmin.analytics.source.load_history`, ``jsadmin.history(dir)``), else ``{}`` (live
    or snapshot frames).

    >>> history_infos({"jobs": pd.DataFrame()})
    {}
    """
    return frames.infos if isinstance(frames, HasHistoryInfos) else {}


def check_history_dir(history_dir: str | os.PathLike[str]) -> Path:
    """``history_dir`` as a ``Path``; ``FileNotFoundError`` when it is not a directory."""
    path = Path(history_dir)
    if not path.is_dir():
        raise FileNotFoundError(
            f"no recorded history at {path} (expected jobs/, queues/, heartbeats/)"
        )
    return path


def part_files(
    history_dir: str | os.PathLike[str],
    table: str,
    *,
    since: object | None = None,
    until: object | None = None,
) -> list[Path]:
    """The Parquet files of one table, in the order :func:`read_table` reads them (sorted paths),
    skipping ``date=`` partitions wholly outside ``[since, until)``.

    >>> part_files("rec/", "jobs", since="2026-11-27")[:1]         # doctest: +SKIP
    [PosixPath('rec/jobs/date=2026-11-27/part-20261127T114501-1a2b3c4d.parquet')]
    """
    _schema(table)
    first = None if since is None else as_utc(since).strftime("%Y-%m-%d")
    last = None if until is None else as_utc(until).strftime("%Y-%m-%d")
    out = []
    for file in sorted((Path(history_dir) / table).glob("date=*/part-*.parquet")):
        day = file.parent.name.partition("=")[2]
        if (first is not None and day < first) or (last is not None and day > last):
            continue
        out.append(file)
    return out


def finality_rank(state: pd.Series, time_stop: pd.Series) -> np.ndarray:
    """Kept for callers of earlier versions: :func:`jsadmin.analytics.jobs.copy_rank`."""
    return copy_rank(state, time_stop)
