"""Job latency over loaded frames (spec §4.7): pure pandas, no Redis.

Three durations (float seconds per job in :func:`job_latency`; ``Timedelta`` rounded to the
millisecond in the :func:`latency_summary` / :func:`latency_series` tables):

* ``queue_wait`` = ``timeStart - timeCreate``: command-queue wait + AC->PM RPC + worker-queue wait.
  It compares the AC clock with the node clock, so it can be slightly negative under clock skew.
* ``run_time`` = ``timeStop - timeStart``, clamped at 0 (workers truncate ``timeStop`` to whole
  seconds while ``timeStart`` is a float, so sub-second jobs can look negative).
* ``end_to_end`` = ``timeStop - timeCreate``. Legacy jobs (before 2015-12) have no ``timeCreate``
  and their ``timeStart`` was the creation time: for them only ``end_to_end`` = ``timeStop - timeStart``
  is computable; ``queue_wait`` and ``run_time`` stay ``NaN``.

Jobs without the timestamps a duration needs are never given zeros: :func:`job_latency` drops them
and counts them by reason (:attr:`~jsadmin.analytics.info.JobLatencyInfo.excluded` of
:func:`job_latency_with_info`).

Every table here is defined once, as a ``*_with_info`` function returning
:class:`~jsadmin.analytics.info.Analysed` (frame + typed info); the plain name
(:func:`~jsadmin.analytics.info.mirrored` from it) returns the frame and, for one release, mirrors
the info into ``df.attrs`` (deprecated: pandas drops ``attrs`` on many operations).

Groups name a jumpscript once, as JumpScale keys it: ``by="cmd"`` and ``by="jumpscript"`` both
group by ``<organization>__<name>`` (:func:`~jsadmin.analytics.jobs.jumpscript_ids`), so legacy local
jobs (``cmd "backup/backup_dirs"``) and AC jobs (``cmd "backup_dirs"``) of one jumpscript share a row.

>>> lat = job_latency(jobs)                                   # doctest: +SKIP
>>> latency_summary(jobs, by=["cmd"], metric="run_time")      # doctest: +SKIP
>>> latency_series(jobs, freq="1min")                         # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..domain import JobState
from ..frames import JOB_COLUMNS, empty_frame
from ._common import (
    JOB_FAMILIES,
    NAT,
    canonical_state,
    epoch_nanoseconds,
    epoch_seconds,
    fold_legacy_category,
    require_columns,
    seconds_between,
    state_in,
    state_map,
    time_buckets,
)
from .history import history_infos
from .info import Analysed, FinishedInfo, HistoryInfo, JobLatencyInfo, LatencyInfo, mirrored
from .jobs import jumpscript_ids, one_row_per_job_with_info
from .lazy import BUCKET, engine_of, key_dtypes, latency_aggregates

METRICS = ("queue_wait", "run_time", "end_to_end")
GROUP_KEYS = ("cmd", "category", "jumpscript", "nid", "role", "queue", "state", "gid", "family")
"""Columns :func:`latency_summary` is usually grouped by (any existing column works too)."""
QUANTILES = {"p50": 0.50, "p90": 0.90, "p99": 0.99}
STAT_COLUMNS = ("jobs", "measured", "errors", "timeouts", "error_rate", "timeout_rate",
                "p50", "p90", "p99", "mean", "max")
DURATION_COLUMNS = ("p50", "p90", "p99", "mean", "max")
COLUMN_DOCS = {
    "jobs": "finished jobs in the group (state OK, ERROR or TIMEOUT), one per job, timestamps or not",
    "measured": "of all rows in the group, those with the timestamps the metric needs: the percentile sample",
    "errors": "jobs in state ERROR",
    "timeouts": "jobs in state TIMEOUT",
    "error_rate": "errors / jobs (3 decimals; NaN when jobs is 0)",
    "timeout_rate": "timeouts / jobs (3 decimals; NaN when jobs is 0)",
    "p50": "median of the metric over the measured jobs (Timedelta, ms)",
    "p90": "90th percentile of the metric (Timedelta, ms)",
    "p99": "99th percentile of the metric (Timedelta, ms)",
    "mean": "mean of the metric (Timedelta, ms)",
    "max": "largest value of the metric (Timedelta, ms)",
    "throughput": "finished jobs per second of the bucket (latency_series only)",
}
"""What every column of :func:`latency_summary` / :func:`latency_series` counts (also in :attr:`LatencyInfo.columns`)."""
EXCLUSION_REASONS = ("unfinished", "no_timeStart", "no_timeStop")
_JUMPSCRIPT_ALIASES = ("cmd", "jumpscript")


@dataclass
class _Metrics:
    """The three durations (float seconds, NaN where not computable) of every row, and counts."""

    queue_wait: np.ndarray
    run_time: np.ndarray
    end_to_end: np.ndarray
    legacy: np.ndarray
    kept: np.ndarray
    excluded: dict[str, int]
    stats: dict[str, int]


def _metrics(jobs: pd.DataFrame) -> _Metrics:
    require_columns(jobs, ("timeStart", "timeStop"), "job_latency")
    n = len(jobs)
    # durations from exact integer nanoseconds, converted once (ns_to_seconds): what the polars
    # engine does too, so the engines' percentiles round to the same millisecond
    start = epoch_nanoseconds(jobs["timeStart"])
    stop = epoch_nanoseconds(jobs["timeStop"])
    create = epoch_nanoseconds(jobs["timeCreate"]) if "timeCreate" in jobs.columns else np.full(n, NAT)
    if "state" in jobs.columns:
        unfinished = state_in(jobs["state"], JobState.IN_FLIGHT)
    else:
        unfinished = np.zeros(n, dtype=bool)
    has_start = start != NAT
    has_stop = stop != NAT
    kept = has_start & has_stop
    excluded = {
        "unfinished": int((~kept & unfinished).sum()),
        "no_timeStart": int((~kept & ~unfinished & ~has_start).sum()),
        "no_timeStop": int((~kept & ~unfinished & has_start & ~has_stop).sum()),
    }
    legacy = create == NAT
    modern = ~legacy & kept
    raw_run = seconds_between(stop, start)
    with np.errstate(invalid="ignore"):
        negative = raw_run < 0
    queue_wait = np.where(modern, seconds_between(start, create), np.nan)
    run_time = np.where(modern, np.where(negative, 0.0, raw_run), np.nan)
    end_to_end = np.where(kept, np.where(legacy, raw_run, seconds_between(stop, create)), np.nan)
    stats = {"legacy": int((legacy & kept).sum()), "clamped": int((negative & modern).sum())}
    return _Metrics(queue_wait, run_time, end_to_end, legacy, kept, excluded, stats)


def job_latency_with_info(jobs: pd.DataFrame) -> Analysed[JobLatencyInfo]:
    """Add ``queue_wait``, ``run_time``, ``end_to_end`` (float seconds) and ``legacy`` to a job
    frame, and say in a :class:`JobLatencyInfo` what was dropped or adjusted: ``excluded`` (rows
    dropped, by reason: ``{"unfinished": n, "no_timeStart": n, "no_timeStop": n}``), ``legacy``
    (kept rows without ``timeCreate``: only ``end_to_end``), ``clamped`` (negative run times set to 0).

    Rows that lack ``timeStart`` or ``timeStop`` are dropped.

    >>> lat, info = job_latency_with_info(admin.load("job_results"))   # doctest: +SKIP
    >>> info.excluded["no_timeStop"]                                    # doctest: +SKIP
    """
    m = _metrics(jobs)
    keep = m.kept
    out = jobs.loc[keep].assign(
        queue_wait=m.queue_wait[keep],
        run_time=m.run_time[keep],
        end_to_end=m.end_to_end[keep],
        legacy=pd.array(m.legacy[keep], dtype="boolean"),
    )
    out.attrs = {k: v for k, v in jobs.attrs.items() if k != "problems"}
    return Analysed(out, JobLatencyInfo(m.excluded, legacy=m.stats["legacy"], clamped=m.stats["clamped"]))


job_latency = mirrored(job_latency_with_info, """The frame of :func:`job_latency_with_info`
    (``excluded``, ``legacy`` and ``clamped`` mirrored in ``attrs`` for one release, deprecated).

    >>> lat = job_latency(admin.load("job_results"))           # doctest: +SKIP
    >>> lat[["cmd", "queue_wait", "run_time"]].head()          # doctest: +SKIP
    """)


def _group_keys(df: pd.DataFrame, by: str | Sequence[str] | None) -> tuple[pd.DataFrame, list[str]]:
    """``(frame, keys to group by)``: ``cmd`` and ``jumpscript`` both become the ``jumpscript``
    column (``<organization>__<name>``), and ``category`` is folded for legacy local jobs."""
    if by is None:
        return df, []
    keys = [by] if isinstance(by, str) else list(by)
    out: list[str] = []
    for key in keys:
        name = "jumpscript" if key in _JUMPSCRIPT_ALIASES else key
        if name not in out:
            out.append(name)
    if "jumpscript" in out and "jumpscript" not in df.columns:
        require_columns(df, ("cmd",), "grouping by cmd / jumpscript")
        df = df.assign(jumpscript=jumpscript_ids(df))
    if "category" in out:
        df = fold_legacy_category(df)
    require_columns(df, out, "latency grouping")
    return df, out


def seconds_of(values: pd.Series) -> np.ndarray:
    """A duration column (``Timedelta`` or float seconds) as float seconds, ``NaN`` for missing.

    >>> seconds_of(pd.Series([pd.Timedelta("1.5s"), pd.NaT])).tolist()
    [1.5, nan]
    """
    if pd.api.types.is_timedelta64_dtype(values.dtype):
        return values.dt.total_seconds().to_numpy(dtype="float64", na_value=np.nan)
    return pd.to_numeric(values, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)


def _as_durations(res: pd.DataFrame) -> pd.DataFrame:
    for col in DURATION_COLUMNS:
        if col in res.columns:
            res[col] = pd.to_timedelta(res[col].astype("float64"), unit="s").dt.round("ms")
    for col in ("error_rate", "timeout_rate"):
        if col in res.columns:
            res[col] = res[col].round(3)
    return res


def _check_metric(metric: str) -> None:
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {METRICS}, got {metric!r}")


def _aggregate(work: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Group ``work`` (``_m``, ``_final``, ``_err``, ``_to`` + keys) into counts, mean, max and percentiles."""
    if keys:
        grouped = work.groupby(keys, dropna=False, observed=True, sort=True)
    else:
        grouped = work.groupby(np.zeros(len(work), dtype=np.int8))
    res = grouped.agg(
        measured=("_m", "count"),
        jobs=("_final", "sum"),
        errors=("_err", "sum"),
        timeouts=("_to", "sum"),
        mean=("_m", "mean"),
        max=("_m", "max"),
    )
    if len(work):
        # by group number, not by key: pandas' groupby quantile orders a missing key (nid <NA>)
        # differently from agg, and a join on the keys then left that group without percentiles
        ids = grouped.ngroup().to_numpy()
        quant = work["_m"].groupby(ids).quantile(list(QUANTILES.values())).unstack()
        quant = quant.reindex(range(len(res)))
        for name, q in QUANTILES.items():
            res[name] = quant[q].to_numpy()
    else:
        for name in QUANTILES:
            res[name] = np.nan
    return res


def _rates(res: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Aggregates (eager or from a lazy engine) into the stat columns: rates, int counts, order."""
    jobs = res["jobs"].astype("float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        res["error_rate"] = (res["errors"] / jobs).where(jobs > 0)
        res["timeout_rate"] = (res["timeouts"] / jobs).where(jobs > 0)
    for col in ("measured", "jobs", "errors", "timeouts"):
        res[col] = res[col].astype("int64")
    res = res[list(STAT_COLUMNS)]
    if not keys:
        res.index = pd.Index(["all"], name=None)[: len(res)]
    return res


def _stats(work: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Group ``work`` (``_m``, ``_final``, ``_err``, ``_to`` + keys) into the stat columns."""
    return _rates(_aggregate(work, keys), keys)


def partition_work(part: pd.DataFrame, by: str | Sequence[str] | None, metric: str) -> pd.DataFrame:
    """One partition of a lazy job frame as the work frame of :func:`latency_summary` (group keys,
    ``_m`` the metric, ``_final``/``_err``/``_to``) plus the exclusion flags, by the eager code.

    >>> partition_work(pd.DataFrame({"timeStart": [pd.NaT], "timeStop": [pd.NaT]}), None, "run_time")["_no_start"].tolist()
    [1]
    """
    m = _metrics(part)
    part, group = _group_keys(part, by)
    work = _work_frame(part, group, getattr(m, metric))
    start = ~np.isnan(epoch_seconds(part["timeStart"]))
    stop = ~np.isnan(epoch_seconds(part["timeStop"]))
    unfinished = state_in(part["state"], JobState.IN_FLIGHT) if "state" in part.columns else np.zeros(len(part), bool)
    work["_unfinished"] = (~m.kept & unfinished).astype("int64")
    work["_no_start"] = (~m.kept & ~unfinished & ~start).astype("int64")
    work["_no_stop"] = (~m.kept & ~unfinished & start & ~stop).astype("int64")
    work["_legacy"] = (m.legacy & m.kept).astype("int64")
    return work.reset_index(drop=True)


def _lazy_keys(by: str | Sequence[str] | None) -> list[str]:
    """The group columns of a lazy frame (``cmd``/``jumpscript`` -> ``jumpscript``, as :func:`_group_keys`)."""
    keys = [] if by is None else [by] if isinstance(by, str) else list(by)
    return list(dict.fromkeys("jumpscript" if k in _JUMPSCRIPT_ALIASES else k for k in keys))


def _excluded(flags: dict[str, int]) -> dict[str, int]:
    """An engine's exclusion totals, as :attr:`LatencyInfo.excluded`."""
    return {"unfinished": flags["_unfinished"], "no_timeStart": flags["_no_start"], "no_timeStop": flags["_no_stop"]}


def _lazy_summary(jobs: object, by: str | Sequence[str] | None, metric: str) -> Analysed[LatencyInfo]:
    """:func:`latency_summary` of a polars/dask job frame: the engine aggregates, pandas finishes."""
    group = _lazy_keys(by)
    res, flags = latency_aggregates(jobs, group, metric, work_of=partition_work, aggregate=_aggregate)
    res = key_dtypes(res, group)
    if group:
        res = res.set_index(group).sort_index()
    res = _as_durations(_rates(res, group))
    return Analysed(res, LatencyInfo(metric, _excluded(flags), _column_docs(res), legacy=flags["_legacy"]))


def _column_docs(res: pd.DataFrame) -> dict[str, str]:
    return {str(c): COLUMN_DOCS[str(c)] for c in res.columns}


def _work_frame(jobs: pd.DataFrame, keys: list[str], metric: np.ndarray) -> pd.DataFrame:
    work = pd.DataFrame({k: jobs[k] for k in keys}, index=jobs.index)
    work["_m"] = metric
    if "state" in jobs.columns:
        code = state_map(jobs["state"], {"OK": 1, "ERROR": 2, "TIMEOUT": 3})
        work["_final"] = (code > 0).astype("int64")
        work["_err"] = (code == 2).astype("int64")
        work["_to"] = (code == 3).astype("int64")
    else:
        work["_final"] = 1
        work["_err"] = 0
        work["_to"] = 0
    return work


def latency_summary_with_info(
    jobs: pd.DataFrame,
    by: str | Sequence[str] | None = ("cmd",),
    metric: str = "run_time",
) -> Analysed[LatencyInfo]:
    """Latency statistics per group (one row per group, indexed by the ``by`` columns) and a
    :class:`LatencyInfo`: ``metric``, ``excluded`` (jobs without the timestamps it needs, by
    reason), ``legacy`` (jobs measured without ``timeCreate``), ``columns`` (what each counts).

    ``jobs`` should hold one row per job (:func:`finished_jobs` or a recorded history), so no job
    counts twice. Columns (see :data:`COLUMN_DOCS`, also in :attr:`LatencyInfo.columns`): ``jobs`` (finished
    jobs: OK/ERROR/TIMEOUT), ``measured`` (rows with the timestamps ``metric`` needs: the percentile
    sample), ``errors``, ``timeouts``, ``error_rate``/``timeout_rate`` (share of ``jobs``, 3 decimals),
    ``p50``/``p90``/``p99``/``mean``/``max`` of ``metric`` as ``Timedelta`` rounded to the millisecond
    (``.dt.total_seconds()`` for numbers).

    ``by`` may name any column (``nid``, ``role``, ``queue``, ``state``, ``category`` ...); ``"cmd"``
    and ``"jumpscript"`` both group by the jumpscript identity ``<organization>__<name>`` (index level
    ``jumpscript``), so one jumpscript is one row whatever shape its jobs have; ``None`` gives one row.
    ``jobs`` may also be a lazy recorded history (``jsadmin.history(dir).lazy()``: a polars
    ``LazyFrame`` or a dask DataFrame): the engine computes the counts and percentiles per group
    and the result is the same table (see :mod:`jsadmin.analytics.lazy`).

    >>> table, info = latency_summary_with_info(jobs, by="cmd")       # doctest: +SKIP
    >>> info.excluded                                                 # doctest: +SKIP
    {'unfinished': 0, 'no_timeStart': 0, 'no_timeStop': 2}
    """
    _check_metric(metric)
    if engine_of(jobs) is not None:
        return _lazy_summary(jobs, by, metric)
    m = _metrics(jobs)
    jobs, group = _group_keys(jobs, by)
    res = _as_durations(_stats(_work_frame(jobs, group, getattr(m, metric)), group))
    res.attrs = {}
    return Analysed(res, LatencyInfo(metric, m.excluded, _column_docs(res), legacy=m.stats["legacy"]))


latency_summary = mirrored(latency_summary_with_info, """The table of
    :func:`latency_summary_with_info` (its :class:`LatencyInfo` mirrored in ``attrs`` for one
    release, deprecated).

    >>> latency_summary(jobs, by=["cmd"], metric="run_time")          # doctest: +SKIP
    >>> latency_summary(jobs, by=["nid", "jumpscript"], metric="end_to_end")  # doctest: +SKIP
    >>> latency_summary(jsadmin.history("rec/").lazy(engine="dask"), by="cmd")   # doctest: +SKIP
    """)


def latency_series_with_info(
    jobs: pd.DataFrame,
    freq: str = "1min",
    by: str | Sequence[str] | None = None,
    metric: str = "run_time",
) -> Analysed[LatencyInfo]:
    """Time-bucketed latency statistics (buckets of ``freq`` by ``timeStop``) plus throughput,
    and a :class:`LatencyInfo` (``metric``, ``excluded``, ``freq``, ``columns``).

    Same columns as :func:`latency_summary` (durations as ``Timedelta``) plus ``throughput``
    (finished jobs per second of the bucket). Indexed by ``time`` (bucket start, UTC), then the
    ``by`` columns (``cmd``/``jumpscript`` -> ``jumpscript``). Without ``by``, empty buckets between
    the first and last job are filled (``jobs`` 0, ``throughput`` 0). A job's bucket is computed
    from its ``timeStop`` in integer nanoseconds (:func:`~jsadmin.analytics._common.time_buckets`).

    ``jobs`` may also be a lazy recorded history (``jsadmin.history(dir).lazy()``: a polars
    ``LazyFrame`` or a dask DataFrame): the engine buckets and aggregates, and the table is the
    eager one (see :mod:`jsadmin.analytics.lazy`).

    >>> series, info = latency_series_with_info(jobs, freq="5min")     # doctest: +SKIP
    >>> info.freq                                                       # doctest: +SKIP
    '5min'
    """
    _check_metric(metric)
    try:
        step = pd.Timedelta(pd.tseries.frequencies.to_offset(freq))
    except ValueError as exc:
        raise ValueError(f"freq must be a fixed frequency such as '1min' or '10s': {exc}") from exc
    if engine_of(jobs) is not None:
        return _lazy_series(jobs, step, freq, by, metric)
    m = _metrics(jobs)
    jobs, group = _group_keys(jobs, by)
    buckets = time_buckets(jobs["timeStop"], step.value)
    has_stop = buckets != NAT
    values = getattr(m, metric)
    if not has_stop.all():
        jobs, values, buckets = jobs.loc[has_stop], values[has_stop], buckets[has_stop]
    work = _work_frame(jobs, group, values)
    work.insert(0, "time", pd.to_datetime(buckets, unit="ns", utc=True).as_unit("ns"))
    res = _stats(work, ["time", *group])
    return _series_table(res, group, step, freq, metric, m.excluded)


latency_series = mirrored(latency_series_with_info, """The table of :func:`latency_series_with_info`
    (its :class:`LatencyInfo` mirrored in ``attrs`` for one release, deprecated).

    >>> latency_series(jobs, freq="5min")[["p50", "p90", "throughput"]]   # doctest: +SKIP
    >>> latency_series(jsadmin.history("rec/").lazy(engine="dask"), freq="1h", by="cmd")   # doctest: +SKIP
    """)


def _series_table(
    res: pd.DataFrame, group: list[str], step: pd.Timedelta, freq: str, metric: str, excluded: dict[str, int],
) -> Analysed[LatencyInfo]:
    """The stat columns per bucket (and group) as :func:`latency_series`' table: empty buckets
    filled when ungrouped, ``throughput``, durations, and its info (the eager and lazy paths' end)."""
    if not group and len(res):
        full = pd.date_range(res.index.min(), res.index.max(), freq=step, name="time")
        res = res.reindex(full)
        for col in ("measured", "jobs", "errors", "timeouts"):
            res[col] = res[col].fillna(0).astype("int64")
    res["throughput"] = res["jobs"] / step.total_seconds()
    res = _as_durations(res)
    res.attrs = {}
    return Analysed(res, LatencyInfo(metric, excluded, _column_docs(res), freq=freq))


def _lazy_series(
    jobs: object, step: pd.Timedelta, freq: str, by: str | Sequence[str] | None, metric: str,
) -> Analysed[LatencyInfo]:
    """:func:`latency_series` of a polars/dask job frame: the engine buckets and aggregates (the
    bucket of a ``timeStop`` in integer nanoseconds, as the eager path), pandas finishes."""
    group = _lazy_keys(by)
    res, flags = latency_aggregates(jobs, group, metric, work_of=partition_work, aggregate=_aggregate,
                                    bucket_ns=step.value)
    res = key_dtypes(res, group)
    start = pd.to_numeric(res.pop(BUCKET)).to_numpy(dtype="int64")
    res.insert(0, "time", pd.to_datetime(start, unit="ns", utc=True).as_unit("ns"))
    res = _rates(res.set_index(["time", *group]).sort_index(), ["time", *group])
    return _series_table(res, group, step, freq, metric, _excluded(flags))


def finished_jobs_with_info(
    frames: Mapping[str, pd.DataFrame], *, infos: Mapping[str, HistoryInfo] | None = None
) -> Analysed[FinishedInfo]:
    """The finished jobs Redis holds, one row per job, and a :class:`FinishedInfo`
    (``duplicates``: the final copies folded into another): :func:`~jsadmin.analytics.jobs.one_row_per_job`
    over ``job_results``, ``jobs`` and ``worker_jobs``, keeping jobs whose latest state is final
    (OK, ERROR, TIMEOUT, NOWORK).

    The copy that wins is the one :func:`~jsadmin.analytics.jobs.copy_rank` ranks highest (one with
    ``timeStop`` over one without, OK/ERROR over TIMEOUT over NOWORK, then the newest, then
    ``job_results`` > ``jobs`` > ``worker_jobs``); ``family`` names its family, ``seen_in`` every
    family holding a copy, ``jumpscript`` the ``<organization>__<name>`` identity. Rows without a
    guid are all kept. A recorded history (``jsadmin.history(dir)``, :func:`load_history`) is accepted
    too: its jobs are already one row per guid (its :class:`HistoryInfo` says so, from the history
    itself or from ``infos``, ``{table: HistoryInfo}``, when the frames were re-wrapped in a new dict).

    >>> jobs, info = finished_jobs_with_info(admin.load_all())  # doctest: +SKIP
    >>> info.duplicates                                          # doctest: +SKIP
    3
    """
    if not isinstance(frames, Mapping):
        raise TypeError("finished_jobs expects a dict of family name -> DataFrame")
    present: dict[str, pd.DataFrame] = {}
    for name in JOB_FAMILIES:
        df = frames.get(name)
        if isinstance(df, pd.DataFrame) and not df.empty:
            require_columns(df, ("state", "timeStop"), f"finished_jobs({name})")
            present[name] = df
    if not present:  # every job column, typed, so grouping and latency work on "no jobs" too
        empty = empty_frame(JOB_COLUMNS).assign(family=pd.array([], dtype="string"))
        empty["state"] = canonical_state(empty["state"])
        return Analysed(empty, FinishedInfo(duplicates=0))
    final_copies = sum(int(state_in(df["state"], JobState.FINAL).sum()) for df in present.values())
    known = history_infos(frames) if infos is None else infos
    name, df = next(iter(present.items()))
    if len(present) == 1 and name in known and known[name].unique_guids:
        out = df.loc[state_in(df["state"], JobState.FINAL)].reset_index(drop=True)
        if "family" not in out.columns:
            out = out.assign(family=name)
        out["family"] = out["family"].astype("string")
        out["state"] = canonical_state(out["state"])
        if "jumpscript" not in out.columns:
            out["jumpscript"] = jumpscript_ids(out)
        out.attrs = {}
        return Analysed(out, FinishedInfo(duplicates=0))
    jobs = one_row_per_job_with_info(present, families=JOB_FAMILIES).frame
    out = jobs.loc[state_in(jobs["state"], JobState.FINAL)].reset_index(drop=True)
    out.attrs = {}
    return Analysed(out, FinishedInfo(duplicates=final_copies - len(out)))


finished_jobs = mirrored(finished_jobs_with_info, """The frame of :func:`finished_jobs_with_info`
    (``duplicates`` mirrored in ``attrs`` for one release, deprecated).

    >>> jobs = finished_jobs(admin.load_all())                  # doctest: +SKIP
    >>> jobs = finished_jobs(jsadmin.history("rec/"))            # doctest: +SKIP
    """)
