"""Recorded history as a lazy frame: polars ``scan_parquet`` or a dask DataFrame (``read_parquet``).

A year of a busy grid is billions of jobs: more than one machine's memory. ``History.lazy()``
(:class:`~jsadmin.analytics.source.History`) hands the recorded ``jobs`` table to an engine that
reads Parquet in pieces — polars on this machine, dask on a ``distributed`` cluster — and
:func:`~jsadmin.analytics.latency.latency_summary`, :func:`~jsadmin.analytics.latency.latency_series`
and :func:`~jsadmin.analytics.errors.error_summary` accept that frame: the engine computes the
per-group (and per-bucket) counts and exact percentiles and only the small result comes back to
pandas. The numbers are those of the eager summaries over ``jsadmin.history(dir)["jobs"]`` (the
tests compare them).

Columns renamed since a history was recorded (:data:`~jsadmin.analytics.history.RENAMED_ON_READ`)
read under their current names, as the eager read gives them: polars scans every file with one
schema holding old and new names and coalesces them; dask reads each file's footer, reads each run
of files with the same columns on its own and concatenates the runs.

What stays eager, and why: one row per guid. The recorder writes a guid again only when it found a
more final copy (:func:`~jsadmin.analytics.history.dedupe_jobs`), so only guids that have a copy
below :data:`~jsadmin.domain.TOP_RANK` can be doubled. :func:`scan` reads ``guid``/``state``/``timeStop``
once and hands the copies of those guids (a few per cent at most) to the one ranking,
:func:`~jsadmin.analytics.jobs.best_first`: polars drops the losers from its plan by row number; dask
drops every copy of those guids and appends the winners as one small partition (so its row order
differs, which no summary depends on: :func:`~jsadmin.analytics.errors.error_summary` settles equal
times by value).

Neither polars nor dask is imported by ``import jsadmin``: each is imported when used, through
:func:`jsadmin.extras.require` (extras ``polars`` and ``dask``).

>>> lf = jsadmin.history("rec/").lazy(engine="polars")            # doctest: +SKIP
>>> latency_summary(lf, by="cmd", metric="run_time")              # doctest: +SKIP
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ..domain import FINAL_STATE_RANK, JobState
from ..extras import require
from ._common import (
    NAT,
    as_utc,
    canonical_state,
    fold_legacy_category,
    jumpscript_ids,
    ns_to_seconds,
    time_buckets,
)
from .history import (
    ANALYTICS_COLUMNS,
    JOB_SCHEMA,
    PARTITION_COLUMN,
    RENAMED_ON_READ,
    SCHEMAS,
    TABLES,
    frame_of,
    part_files,
)
from .info import Analysed, HistoryInfo, mirrored
from .jobs import best_first

if TYPE_CHECKING:
    import dask.dataframe as dd
    import polars as pl

ENGINES = ("polars", "dask")
"""Engines :meth:`History.lazy` hands a table to."""
BUCKET = "_time"
"""Column of the time bucket (start, ``int64`` epoch nanoseconds) in :func:`latency_aggregates`' result."""
ROW = "_row"
"""Row number of a lazy frame's row in its table (file order), used to drop the losing copies."""
_DEDUPE = ("guid", "state", "timeStop", "captured", "timeCreate", "timeStart", "family")
"""What :func:`~jsadmin.analytics.jobs.best_first` ranks copies by."""
_TOP_STATES = tuple(s for s, r in FINAL_STATE_RANK.items() if r == max(FINAL_STATE_RANK.values()))
"""States whose copy with ``timeStop`` has :data:`~jsadmin.domain.TOP_RANK`: no other copy beats it (OK, ERROR)."""
_WITH_EXTRA = {"polars": "polars", "dask": "dask"}
_FEATURE = "History.lazy(engine={!r})"


def check_engine(engine: str) -> str:
    """``engine`` if it is one of :data:`ENGINES` and its library imports.

    >>> check_engine("spark")
    Traceback (most recent call last):
    ...
    ValueError: unknown engine 'spark'; choose one of: 'polars', 'dask'
    """
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}; choose one of: {', '.join(map(repr, ENGINES))}")
    require("dask.dataframe" if engine == "dask" else engine, extra=_WITH_EXTRA[engine],
            feature=_FEATURE.format(engine))
    return engine


def engine_of(frame: object) -> str | None:
    """``"polars"`` for a polars ``LazyFrame``/``DataFrame``, ``"dask"`` for a dask DataFrame, else ``None``.

    Decided by the object's type, so neither library is imported to ask.

    >>> engine_of(pd.DataFrame()) is None
    True
    """
    kind = type(frame)
    module = kind.__module__.partition(".")[0]
    if module == "polars" and kind.__name__ in ("LazyFrame", "DataFrame"):
        return "polars"
    if module == "dask" and hasattr(frame, "map_partitions") and hasattr(frame, "columns"):
        return "dask"
    return None


def _columns(table: str, columns: Sequence[str] | None) -> list[str]:
    schema = SCHEMAS[table]
    if columns is None:
        return list(schema.names)
    unknown = set(columns) - set(schema.names)
    if unknown:
        raise KeyError(f"unknown {table} history column(s) {sorted(unknown)}; known: {schema.names}")
    wanted = set(columns) | (set(_DEDUPE) if table == "jobs" else set())
    return [c for c in schema.names if c in wanted]


def _bounds(since: object | None, until: object | None) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
    return (None if since is None else as_utc(since).as_unit("ns"),
            None if until is None else as_utc(until).as_unit("ns"))


def _losers(suspects: pd.DataFrame) -> np.ndarray:
    """Row numbers (:data:`ROW`) of the copies :func:`best_first` ranks below another copy of their guid."""
    if suspects.empty:
        return np.array([], dtype="int64")
    ordered = suspects.iloc[best_first(suspects)]
    first = ~ordered["guid"].duplicated(keep="first").to_numpy()
    return np.sort(ordered.loc[~first, ROW].to_numpy(dtype="int64"))


# --- polars ---------------------------------------------------------------------------------


def _renamed(table: str, names: list[str]) -> dict[str, str]:
    """Old name -> current name of the :data:`~jsadmin.analytics.history.RENAMED_ON_READ` columns
    among ``names``: histories recorded before a rename are read under the current names, as
    :func:`~jsadmin.analytics.history.read_table` reads them (the old fills the new where it is null)."""
    return {old: new for old, new in RENAMED_ON_READ.get(table, {}).items() if new in names}


def _polars_scan(files: list[Any], table: str, names: list[str], since: Any, until: Any) -> pl.LazyFrame:
    pl = require("polars", extra="polars", feature=_FEATURE.format("polars"))
    legacy = _renamed(table, names)
    if files:
        # one schema for every file (the current one, plus the old names): columns a file lacks
        # read as nulls, as pyarrow's dataset reads them for the eager path
        schema = SCHEMAS[table]
        for old, new in legacy.items():
            schema = schema.append(pa.field(old, schema.field(new).type))
        lf = pl.scan_parquet([str(f) for f in files], hive_partitioning=False,
                             schema=pl.from_arrow(schema.empty_table()).schema,
                             missing_columns="insert", extra_columns="ignore")
    else:
        lf = pl.from_arrow(SCHEMAS[table].empty_table()).lazy()
        legacy = {}
    when = pl.col(PARTITION_COLUMN[table])
    if since is not None:
        lf = lf.filter(when >= since)
    if until is not None:
        lf = lf.filter(when < until)
    if legacy:
        lf = lf.with_columns([pl.coalesce(new, old).alias(new) for old, new in legacy.items()])
    return lf.select(names)


def _polars_dedupe(lf: pl.LazyFrame) -> pl.LazyFrame:
    pl = require("polars", extra="polars", feature=_FEATURE.format("polars"))
    lf = lf.with_row_index(ROW)
    top = pl.col("state").is_in(list(_TOP_STATES)) & pl.col("timeStop").is_not_null()
    low = lf.filter(~top & pl.col("guid").is_not_null()).select("guid").unique()
    suspects = lf.select([ROW, *_DEDUPE]).join(low, on="guid", how="semi").collect().to_pandas()
    losers = _losers(suspects)
    if len(losers):
        lf = lf.filter(~pl.col(ROW).is_in(pl.Series(losers).cast(pl.get_index_type()).implode()))
    return lf.drop(ROW)


# --- dask -----------------------------------------------------------------------------------


def _low_copies(part: pd.DataFrame) -> pd.Series:
    top = part["state"].isin(_TOP_STATES).fillna(False).to_numpy(dtype=bool) & part["timeStop"].notna().to_numpy()
    return part.loc[~top & part["guid"].notna().to_numpy(), "guid"]


_DASK_TYPES = {pa.string(): pd.StringDtype(), pa.int64(): pd.Int64Dtype(),
               pa.float64(): pd.Float64Dtype(), pa.bool_(): pd.BooleanDtype()}
"""The dtypes of ``read_parquet(dtype_backend="numpy_nullable")`` (for a table with no file yet).
(A pyarrow ``types_mapper`` through ``arrow_to_pandas`` would keep text in Arrow, but dask cannot
send it to ``distributed`` workers: its wrapper is a local function.)"""


def _schema_runs(files: list[Any], table: str, names: list[str]) -> list[tuple[list[Any], frozenset[str]]]:
    """``files`` cut into runs of consecutive files holding the same of ``names`` and of the old
    names (:func:`_renamed`), from each file's footer. One run for a history recorded by one version."""
    wanted = set(names) | set(_renamed(table, names))
    runs: list[tuple[list[Any], frozenset[str]]] = []
    for file in files:
        present = frozenset(wanted & set(pq.read_schema(file).names))
        if runs and runs[-1][1] == present:
            runs[-1][0].append(file)
        else:
            runs.append(([file], present))
    return runs


def _dask_empty(table: str, names: list[str]) -> pd.DataFrame:
    return SCHEMAS[table].empty_table().select(names).to_pandas(types_mapper=_DASK_TYPES.get)


def _dask_run(files: list[Any], present: frozenset[str], table: str, names: list[str], filters: list[Any]) -> dd.DataFrame:
    """One run of :func:`_schema_runs` under the current names: an old name fills its new one
    (where null, or all of it when the files lack the new one), a column the files lack is null."""
    dd = require("dask.dataframe", extra="dask", feature=_FEATURE.format("dask"))
    legacy = {old: new for old, new in _renamed(table, names).items() if old in present}
    read = [c for c in names if c in present] + list(legacy)
    ddf = dd.read_parquet([str(f) for f in files], columns=read, filters=filters or None,
                          dtype_backend="numpy_nullable")
    empty = _dask_empty(table, names)
    for old, new in legacy.items():
        ddf[new] = ddf[old] if new not in present else ddf[new].fillna(ddf[old])
    for name in names:
        if name not in present and name not in legacy.values():
            ddf[name] = ddf.map_partitions(_nulls, empty[name].dtype, meta=(name, empty[name].dtype))
    return ddf[names]


def _nulls(part: pd.DataFrame, dtype: Any) -> pd.Series:
    """A column of nulls in ``dtype`` for the rows of ``part`` (a column these files lack)."""
    return pd.Series(None, index=part.index, dtype=dtype)


def _dask_scan(files: list[Any], table: str, names: list[str], since: Any, until: Any) -> dd.DataFrame:
    dd = require("dask.dataframe", extra="dask", feature=_FEATURE.format("dask"))
    when = PARTITION_COLUMN[table]
    filters = [(when, ">=", since)] if since is not None else []
    filters += [(when, "<", until)] if until is not None else []
    runs = _schema_runs(files, table, names)
    if len(runs) == 1 and runs[0][1] == frozenset(names):  # recorded by one version: read as is
        ddf = dd.read_parquet([str(f) for f in files], columns=names, filters=filters or None,
                              dtype_backend="numpy_nullable")
    elif runs:
        ddf = dd.concat([_dask_run(run, present, table, names, filters) for run, present in runs])
    else:
        ddf = dd.from_pandas(_dask_empty(table, names), npartitions=1)
    if since is not None:
        ddf = ddf[ddf[when] >= since]
    if until is not None:
        ddf = ddf[ddf[when] < until]
    return ddf


def _dask_dedupe(ddf: dd.DataFrame) -> dd.DataFrame:
    """Drop every copy of the suspect guids from the lazy frame and append their winners (a small
    pandas partition). Row order changes, which no summary depends on; column projection still
    reaches ``read_parquet`` (a ``map_partitions`` over the whole frame would stop it)."""
    dd = require("dask.dataframe", extra="dask", feature=_FEATURE.format("dask"))
    low = ddf[["guid", "state", "timeStop"]].map_partitions(_low_copies, meta=("guid", ddf["guid"].dtype))
    guids = pd.unique(low.compute().to_numpy()).tolist()  # a few per cent of the guids
    if not guids:
        return ddf
    suspects = ddf[ddf["guid"].isin(guids)].compute()
    winners = suspects.iloc[best_first(suspects)].drop_duplicates("guid").sort_index(kind="stable")
    return dd.concat([ddf[~ddf["guid"].isin(guids)], dd.from_pandas(winners.reset_index(drop=True), npartitions=1)])


def scan(
    history_dir: str | os.PathLike[str],
    table: str = "jobs",
    *,
    engine: str = "polars",
    columns: Sequence[str] | None = None,
    since: object | None = None,
    until: object | None = None,
) -> Any:
    """One recorded table as a lazy frame: a polars ``LazyFrame`` or a dask ``DataFrame``.

    Columns are the Parquet ones (``state`` is text, times UTC nanoseconds, JSON columns text);
    ``columns`` projects (the copy-ranking columns of ``jobs`` are always kept); ``since``/``until``
    keep rows finished (sampled) in ``[since, until)``, skipping ``date=`` partitions and row
    groups outside. ``jobs`` holds one row per guid, like ``History["jobs"]`` (see the module).
    Nothing else is read until the frame is collected (polars) or computed (dask; on the
    ``distributed`` client that is current, if any).

    >>> scan("rec/", engine="dask", columns=ANALYTICS_COLUMNS).npartitions   # doctest: +SKIP
    """
    check_engine(engine)
    if table not in TABLES:
        raise ValueError(f"unknown history table {table!r}; expected one of {TABLES}")
    names = _columns(table, columns)
    lo, hi = _bounds(since, until)
    files = part_files(history_dir, table, since=since, until=until)
    if engine == "polars":
        lf = _polars_scan(files, table, names, lo, hi)
        return _polars_dedupe(lf) if table == "jobs" else lf
    ddf = _dask_scan(files, table, names, lo, hi)
    return _dask_dedupe(ddf) if table == "jobs" else ddf


# --- summaries on the engine -----------------------------------------------------------------

STAT_AGGREGATES = ("measured", "jobs", "errors", "timeouts", "mean", "max", "p50", "p90", "p99")
"""What the engine computes per group; rates, units and rounding are the eager code's."""
_FLAGS = ("_unfinished", "_no_start", "_no_stop", "_legacy")
_QUANTILES = {"p50": 0.50, "p90": 0.90, "p99": 0.99}
"""The percentiles of :data:`jsadmin.analytics.latency.QUANTILES` (checked equal by the tests)."""


def _key_table(pairs: pd.DataFrame) -> pd.DataFrame:
    """Per distinct ``(category, cmd)``: the ``jumpscript`` identity and the folded ``category``."""
    out = pairs.reset_index(drop=True)
    keys = pd.DataFrame({"_category": out["category"], "_cmd": out["cmd"],
                         "jumpscript": jumpscript_ids(out)})
    keys["category"] = fold_legacy_category(out)["category"].astype("string")
    return keys


def _polars_latency(
    lf: Any, keys: list[str], metric: str, bucket_ns: int | None = None,
) -> tuple[pd.DataFrame, dict[str, int]]:
    pl = require("polars", extra="polars", feature="latency_summary(polars frame)")
    lf = lf.lazy()
    names = set(lf.collect_schema().names())
    derived = {"jumpscript", "category"} & set(keys)
    if derived:
        pairs = lf.select(["category", "cmd"]).unique().collect().to_pandas()
        table = pl.from_pandas(_key_table(pairs)).lazy().select(["_category", "_cmd", *derived])
        lf = lf.rename({k: f"_orig_{k}" for k in derived if k in names})
        lf = lf.join(table, left_on=["_orig_category" if "category" in derived else "category", "cmd"],
                     right_on=["_category", "_cmd"], how="left", nulls_equal=True, maintain_order="left")

    def nanos(name: str) -> Any:
        # durations stay integer nanoseconds on the engine (exact); they become seconds in numpy,
        # by ns_to_seconds like the eager ones (polars divides a column by a scalar through the
        # reciprocal, which differs from numpy's division in the last bit: a half-millisecond moved)
        if name not in names:
            return pl.lit(None, dtype=pl.Int64)
        return pl.col(name).dt.epoch("ns")

    start, stop, create = nanos("timeStart"), nanos("timeStop"), nanos("timeCreate")
    state = pl.col("state").cast(pl.String) if "state" in names else pl.lit(None, dtype=pl.String)
    kept = start.is_not_null() & stop.is_not_null()
    legacy = create.is_null()
    modern = ~legacy & kept
    raw_run = stop - start
    values = {
        "queue_wait": pl.when(modern).then(start - create),
        "run_time": pl.when(modern).then(pl.when(raw_run < 0).then(0).otherwise(raw_run)),
        "end_to_end": pl.when(kept).then(pl.when(legacy).then(raw_run).otherwise(stop - create)),
    }
    unfinished = state.is_in(list(JobState.IN_FLIGHT)).fill_null(False) if "state" in names else pl.lit(False)
    has_state = "state" in names
    work = lf.select(
        *[pl.col(k) for k in keys],
        values[metric].alias("_m"),
        (state.is_in(["OK", "ERROR", "TIMEOUT"]).fill_null(False) if has_state else pl.lit(True))
        .cast(pl.Int64).alias("_final"),
        (state == "ERROR").fill_null(False).cast(pl.Int64).alias("_err"),
        (state == "TIMEOUT").fill_null(False).cast(pl.Int64).alias("_to"),
        (~kept & unfinished).cast(pl.Int64).alias("_unfinished"),
        (~kept & ~unfinished & start.is_null()).cast(pl.Int64).alias("_no_start"),
        (~kept & ~unfinished & start.is_not_null() & stop.is_null()).cast(pl.Int64).alias("_no_stop"),
        (legacy & kept).cast(pl.Int64).alias("_legacy"),
        *([(stop // bucket_ns * bucket_ns).alias(BUCKET)] if bucket_ns is not None else []),
    )
    m = pl.col("_m")
    aggs = [
        m.count().alias("measured"), pl.col("_final").sum().alias("jobs"), pl.col("_err").sum().alias("errors"),
        pl.col("_to").sum().alias("timeouts"), m.mean().alias("mean"), m.max().alias("max"),
        *[m.quantile(q, interpolation=side).alias(f"{name}_{side}")
          for name, q in _QUANTILES.items() for side in ("lower", "higher")],
        pl.len().alias("_rows"),
    ]
    totals = work.select([pl.col(f).sum() for f in _FLAGS])  # over every row, bucketed or not
    if bucket_ns is not None:  # the time series buckets the jobs with a timeStop
        work, keys = work.filter(pl.col(BUCKET).is_not_null()), [BUCKET, *keys]
    grouped = work.group_by(keys).agg(aggs) if keys else work.select(aggs)
    res, tot = pl.collect_all([grouped, totals])
    out = res.to_pandas()
    out = out[out["_rows"] > 0].drop(columns="_rows").reset_index(drop=True)
    n = out["measured"].to_numpy(dtype="float64")
    for col in ("mean", "max"):
        out[col] = ns_to_seconds(out[col].to_numpy(dtype="float64", na_value=np.nan))
    for name, q in _QUANTILES.items():
        # order statistics of the integers are those of the seconds (the conversion is monotonic)
        low = ns_to_seconds(out.pop(f"{name}_lower").to_numpy(dtype="float64", na_value=np.nan))
        high = ns_to_seconds(out.pop(f"{name}_higher").to_numpy(dtype="float64", na_value=np.nan))
        out[name] = interpolate(low, high, q, n)
    return out, {f: int(tot[f][0] or 0) for f in _FLAGS}


def interpolate(low: np.ndarray, high: np.ndarray, q: float, n: np.ndarray) -> np.ndarray:
    """The ``q`` quantile of ``n`` values from the two order statistics around it, by pandas' own
    arithmetic (``low + (high - low) * frac``), so an engine's percentile rounds to the same
    millisecond as the eager one.

    >>> interpolate(np.array([1.0]), np.array([2.0]), 0.5, np.array([2.0])).tolist()
    [1.5]
    """
    with np.errstate(invalid="ignore"):
        frac = (q * (n - 1)) % 1
        return np.where(frac == 0.0, low, low + (high - low) * frac)


def _bucketed_work(
    part: pd.DataFrame, work_of: Callable[..., pd.DataFrame], by: list[str] | None, metric: str, bucket_ns: int,
) -> pd.DataFrame:
    """``work_of`` of one partition with its time bucket (:data:`BUCKET`, ``<NA>`` without ``timeStop``)."""
    work = work_of(part, by, metric)
    start = time_buckets(part["timeStop"], bucket_ns)
    work[BUCKET] = pd.arrays.IntegerArray(start, start == NAT)
    return work


def _dask_latency(
    ddf: Any, keys: list[str], metric: str, work_of: Callable[..., pd.DataFrame],
    aggregate: Callable[[pd.DataFrame, list[str]], pd.DataFrame], bucket_ns: int | None = None,
) -> tuple[pd.DataFrame, dict[str, int]]:
    import dask

    sources = {"jumpscript": ("category", "cmd"), "category": ("category", "cmd")}
    needed = {"timeCreate", "timeStart", "timeStop", "state", *[c for k in keys for c in sources.get(k, (k,))]}
    ddf = ddf[[c for c in ddf.columns if c in needed]]  # read only these (map_partitions hides its needs)
    if bucket_ns is None:
        meta = work_of(ddf._meta, keys or None, metric)
        work = ddf.map_partitions(work_of, keys or None, metric, meta=meta)
    else:
        meta = _bucketed_work(ddf._meta, work_of, keys or None, metric, bucket_ns)
        work = ddf.map_partitions(_bucketed_work, work_of, keys or None, metric, bucket_ns, meta=meta)
    totals = work[list(_FLAGS)].sum()  # over every row, bucketed or not
    if bucket_ns is not None:  # the time series buckets the jobs with a timeStop
        work, keys = work[work[BUCKET].notnull()], [BUCKET, *keys]
    group = keys or ["_all"]
    if not keys:
        meta = meta.assign(_all=np.int8(0))
        work = work.assign(_all=np.int8(0))
    one = _one_row(meta, aggregate)
    res = work.groupby(group, dropna=False, observed=True).apply(_one_row, aggregate, meta=one)
    out, tot = dask.compute(res, totals)
    if len(out):
        out = out.reset_index(level=-1, drop=True).reset_index()
    else:  # no rows: no group index to turn back into columns
        out = pd.DataFrame({**{k: meta[k] for k in group}, **{c: one[c] for c in one.columns}})
    if not keys:
        out = out.drop(columns="_all")
    return out, {f: int(tot[f]) for f in _FLAGS}


def _one_row(group: pd.DataFrame, aggregate: Callable[[pd.DataFrame, list[str]], pd.DataFrame]) -> pd.DataFrame:
    """The eager aggregation of one group (a dask ``groupby.apply`` task): one row."""
    return aggregate(group, []).reset_index(drop=True)


def latency_aggregates(
    frame: Any, keys: list[str], metric: str, *, work_of: Callable[..., pd.DataFrame],
    aggregate: Callable[[pd.DataFrame, list[str]], pd.DataFrame], bucket_ns: int | None = None,
) -> tuple[pd.DataFrame, dict[str, int]]:
    """Per group of ``keys``: :data:`STAT_AGGREGATES` of ``metric`` over a lazy job frame, computed by
    its engine; and the totals of the exclusion flags. ``keys`` columns first, unsorted.

    ``work_of`` (partition -> work frame) and ``aggregate`` (work frame -> stats) are the eager
    code of :mod:`jsadmin.analytics.latency`: dask runs them on each partition and group. With
    ``bucket_ns`` (``latency_series``), the groups are first the ``timeStop`` bucket of that many
    nanoseconds (column :data:`BUCKET`: the bucket start in ``int64`` epoch nanoseconds, by
    :func:`~jsadmin.analytics._common.time_buckets`' integer arithmetic), over the jobs that
    have a ``timeStop``; the exclusion totals still count every row.
    """
    engine = engine_of(frame)
    if engine == "polars":
        return _polars_latency(frame, keys, metric, bucket_ns)
    if engine == "dask":
        return _dask_latency(frame, keys, metric, work_of, aggregate, bucket_ns)
    raise TypeError(f"not a lazy frame: {type(frame).__name__}")


def key_dtypes(res: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """The group columns of an engine's result in the dtypes the eager frames have (``string``
    text, ``Int64`` ids, categorical ``state``)."""
    for key in keys:
        if key == "state":
            res[key] = canonical_state(res[key].astype("string"))
            continue
        if key in ("jumpscript", "category") or key not in JOB_SCHEMA.names:
            if key in ("jumpscript", "category"):
                res[key] = res[key].astype("string")
            continue
        kind = JOB_SCHEMA.field(key).type
        if str(kind) == "string":
            res[key] = res[key].astype("string")
        elif str(kind) == "int64":
            res[key] = pd.to_numeric(res[key], errors="coerce").astype("Int64")
    return res


def failed_jobs_with_info(frame: Any, columns: Sequence[str]) -> Analysed[HistoryInfo]:
    """The failed jobs (ERROR/TIMEOUT) of a lazy job frame as pandas, in the frame's order (the
    engine filters and projects, only the failures come back), and a
    :class:`~jsadmin.analytics.info.HistoryInfo` saying it is one row per guid (what
    ``finished_jobs(..., infos=...)`` needs to keep it as it is).

    >>> jobs, info = failed_jobs_with_info(jsadmin.history("rec/").lazy(), ["guid", "state"])   # doctest: +SKIP
    >>> info.unique_guids                                                                      # doctest: +SKIP
    True
    """
    engine = engine_of(frame)
    failed = list(JobState.FAILED)
    if engine == "polars":
        pl = require("polars", extra="polars", feature="error_summary(polars frame)")
        lf = frame.lazy()
        names = [c for c in columns if c in lf.collect_schema().names()]
        tbl = lf.filter(pl.col("state").cast(pl.String).is_in(failed)).select(names).collect().to_arrow()
    elif engine == "dask":
        names = [c for c in columns if c in frame.columns]
        picked = frame[frame["state"].isin(failed)][names].compute()
        tbl = pa.Table.from_pandas(picked, preserve_index=False)
    else:
        raise TypeError(f"not a lazy frame: {type(frame).__name__}")
    return Analysed(frame_of(tbl, "jobs"), HistoryInfo("jobs", None, unique_guids=True))


failed_jobs = mirrored(failed_jobs_with_info, """The frame of :func:`failed_jobs_with_info`
    (mirrored in ``attrs`` for one release).

    >>> failed_jobs(jsadmin.history("rec/").lazy(), ["guid", "state", "result"])   # doctest: +SKIP
    """)


__all__ = [
    "ANALYTICS_COLUMNS",
    "ENGINES",
    "check_engine",
    "engine_of",
    "failed_jobs",
    "failed_jobs_with_info",
    "interpolate",
    "key_dtypes",
    "latency_aggregates",
    "scan",
]
