"""Job latency over loaded frames (spec §4.7): pure pandas, no Redis.

Three durations, all float seconds:

* ``queue_wait`` = ``timeStart - timeCreate``: command-queue wait + AC->PM RPC + worker-queue wait.
  It compares the AC clock with the node clock, so it can be slightly negative under clock skew.
* ``run_time`` = ``timeStop - timeStart``, clamped at 0 (workers truncate ``timeStop`` to whole
  seconds while ``timeStart`` is a float, so sub-second jobs can look negative).
* ``end_to_end`` = ``timeStop - timeCreate``. Legacy jobs (before 2015-12) have no ``timeCreate``
  and their ``timeStart`` was the creation time: for them only ``end_to_end`` = ``timeStop - timeStart``
  is computable; ``queue_wait`` and ``run_time`` stay ``NaN``.

Jobs without the timestamps a duration needs are never given zeros: :func:`job_latency` drops them
and counts them in ``attrs["excluded"]`` by reason.

>>> lat = job_latency(jobs)                                   # doctest: +SKIP
>>> latency_summary(jobs, by=["cmd"], metric="run_time")      # doctest: +SKIP
>>> latency_series(jobs, freq="1min")                         # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..frames import JOB_COLUMNS, empty_frame
from ._common import (
    FINAL_STATES,
    JOB_FAMILIES,
    UNFINISHED_STATES,
    canonical_state,
    epoch_seconds,
    jumpscript_label,
    require_columns,
    state_in,
    state_map,
)

METRICS = ("queue_wait", "run_time", "end_to_end")
GROUP_KEYS = ("cmd", "category", "jumpscript", "nid", "role", "queue", "state", "gid", "source")
"""Columns :func:`latency_summary` is usually grouped by (any existing column works too)."""
QUANTILES = {"p50": 0.50, "p90": 0.90, "p99": 0.99}
STAT_COLUMNS = ("count", "jobs", "error_rate", "timeout_rate", "p50", "p90", "p99", "mean", "max")
EXCLUSION_REASONS = ("unfinished", "no_timeStart", "no_timeStop")

_STATE_RANK = {"OK": 3, "ERROR": 3, "TIMEOUT": 2, "NOWORK": 1}
_SOURCE_RANK = {"job_results": 2, "jobs": 1, "worker_jobs": 0}


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
    start = epoch_seconds(jobs["timeStart"])
    stop = epoch_seconds(jobs["timeStop"])
    create = epoch_seconds(jobs["timeCreate"]) if "timeCreate" in jobs.columns else np.full(n, np.nan)
    if "state" in jobs.columns:
        unfinished = state_in(jobs["state"], UNFINISHED_STATES)
    else:
        unfinished = np.zeros(n, dtype=bool)
    has_start = ~np.isnan(start)
    has_stop = ~np.isnan(stop)
    kept = has_start & has_stop
    excluded = {
        "unfinished": int((~kept & unfinished).sum()),
        "no_timeStart": int((~kept & ~unfinished & ~has_start).sum()),
        "no_timeStop": int((~kept & ~unfinished & has_start & ~has_stop).sum()),
    }
    legacy = np.isnan(create)
    modern = ~legacy & kept
    raw_run = stop - start
    with np.errstate(invalid="ignore"):
        negative = raw_run < 0
    queue_wait = np.where(modern, start - create, np.nan)
    run_time = np.where(modern, np.where(negative, 0.0, raw_run), np.nan)
    end_to_end = np.where(kept, np.where(legacy, raw_run, stop - create), np.nan)
    stats = {"legacy": int((legacy & kept).sum()), "clamped": int((negative & modern).sum())}
    return _Metrics(queue_wait, run_time, end_to_end, legacy, kept, excluded, stats)


def job_latency(jobs: pd.DataFrame) -> pd.DataFrame:
    """Add ``queue_wait``, ``run_time``, ``end_to_end`` (float seconds) and ``legacy`` to a job frame.

    Rows that lack ``timeStart`` or ``timeStop`` are dropped and counted in
    ``attrs["excluded"]`` (``{"unfinished": n, "no_timeStart": n, "no_timeStop": n}``);
    ``attrs["legacy"]`` counts kept rows without ``timeCreate`` (only ``end_to_end``), and
    ``attrs["clamped"]`` the negative run times set to 0.

    >>> lat = job_latency(admin.load("job_results"))           # doctest: +SKIP
    >>> lat[["cmd", "queue_wait", "run_time"]].head()          # doctest: +SKIP
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
    out.attrs.update(m.stats)
    out.attrs["excluded"] = m.excluded
    return out


def _group_keys(
    df: pd.DataFrame, by: str | Sequence[str] | None
) -> tuple[pd.DataFrame, list[str], list[str]]:
    """``(frame, keys as asked, keys to group by)``; ``jumpscript`` groups by category + cmd."""
    if by is None:
        return df, [], []
    keys = [by] if isinstance(by, str) else list(by)
    if "jumpscript" in keys and "jumpscript" not in df.columns:
        require_columns(df, ("category", "cmd"), "grouping by jumpscript")
        df = _fold_legacy_jumpscripts(df)
        i = keys.index("jumpscript")
        group = [*keys[:i], "category", "cmd", *keys[i + 1 :]]
        require_columns(df, group, "latency grouping")
        return df, keys, group
    require_columns(df, keys, "latency grouping")
    return df, keys, keys


def _fold_legacy_jumpscripts(df: pd.DataFrame) -> pd.DataFrame:
    """Legacy local jobs (``category "jumpscript"``, ``cmd "<org>/<name>"``, spec §4.5) as
    ``category <org>``, ``cmd <name>``, so they group with the current shape."""
    cat = df["category"]
    legacy = (cat == "jumpscript").fillna(False).to_numpy(dtype=bool)
    if not legacy.any():
        return df
    cmd = df["cmd"].astype("string")
    legacy &= cmd.str.contains("/", regex=False).fillna(False).to_numpy(dtype=bool)
    if not legacy.any():
        return df
    parts = cmd[legacy].str.split("/", n=1)
    category = df["category"].astype("string").copy()
    category[legacy] = parts.str[0]
    cmd = cmd.copy()
    cmd[legacy] = parts.str[1]
    return df.assign(category=category, cmd=cmd)


def _merge_jumpscript(res: pd.DataFrame, keys: list[str], group: list[str]) -> pd.DataFrame:
    """Fold the ``category``/``cmd`` index levels back into one ``jumpscript`` level."""
    if keys == group or (res.empty and not isinstance(res.index, pd.MultiIndex)):
        return res
    frame = res.reset_index()
    cat = frame.pop("category").tolist()
    cmd = frame.pop("cmd").tolist()
    labels = [jumpscript_label(c, n) for c, n in zip(cat, cmd, strict=True)]
    frame.insert(0, "jumpscript", pd.array(labels, dtype="string"))
    index_cols = [k for k in group if k not in ("category", "cmd")]
    index_cols.insert(group.index("category"), "jumpscript")
    return frame.set_index(index_cols).sort_index()


def _check_metric(metric: str) -> None:
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {METRICS}, got {metric!r}")


def _stats(work: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Group ``work`` (``_m``, ``_final``, ``_err``, ``_to`` + keys) into the stat columns."""
    if keys:
        grouped = work.groupby(keys, dropna=False, observed=True, sort=True)
    else:
        grouped = work.groupby(np.zeros(len(work), dtype=np.int8))
    res = grouped.agg(
        count=("_m", "count"),
        jobs=("_final", "sum"),
        errors=("_err", "sum"),
        timeouts=("_to", "sum"),
        mean=("_m", "mean"),
        max=("_m", "max"),
    )
    if len(work):
        quant = grouped["_m"].quantile(list(QUANTILES.values())).unstack()
        quant.columns = list(QUANTILES)
        res = res.join(quant)
    else:
        for name in QUANTILES:
            res[name] = np.nan
    jobs = res["jobs"].astype("float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        res["error_rate"] = (res["errors"] / jobs).where(jobs > 0)
        res["timeout_rate"] = (res["timeouts"] / jobs).where(jobs > 0)
    res["count"] = res["count"].astype("int64")
    res["jobs"] = res["jobs"].astype("int64")
    res = res[list(STAT_COLUMNS)]
    if not keys:
        res.index = pd.Index(["all"], name=None)[: len(res)]
    return res


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


def latency_summary(
    jobs: pd.DataFrame,
    by: str | Sequence[str] | None = ("cmd",),
    metric: str = "run_time",
) -> pd.DataFrame:
    """Latency statistics per group: one row per group, indexed by the ``by`` columns.

    Columns: ``count`` (jobs with a value for ``metric``: the percentile sample), ``jobs``
    (jobs in a final state OK/ERROR/TIMEOUT, timestamps or not), ``error_rate`` and
    ``timeout_rate`` (share of ``jobs``), ``p50``/``p90``/``p99``/``mean``/``max`` of ``metric``
    in seconds. ``by`` may name any column (``cmd``, ``category``, ``nid``, ``role``, ``queue``,
    ``state``, ...) and the derived ``jumpscript`` (``<category>/<cmd>``); ``None`` gives one row.
    ``attrs["excluded"]`` counts the jobs without the needed timestamps.

    >>> latency_summary(jobs, by=["cmd"], metric="run_time")          # doctest: +SKIP
    >>> latency_summary(jobs, by=["nid", "jumpscript"], metric="end_to_end")  # doctest: +SKIP
    """
    _check_metric(metric)
    m = _metrics(jobs)
    jobs, keys, group = _group_keys(jobs, by)
    res = _stats(_work_frame(jobs, group, getattr(m, metric)), group)
    res = _merge_jumpscript(res, keys, group)
    res.attrs = {"metric": metric, "excluded": m.excluded, "legacy": m.stats["legacy"]}
    return res


def latency_series(
    jobs: pd.DataFrame,
    freq: str = "1min",
    by: str | Sequence[str] | None = None,
    metric: str = "run_time",
) -> pd.DataFrame:
    """Time-bucketed latency statistics (buckets of ``freq`` by ``timeStop``) plus throughput.

    Same columns as :func:`latency_summary` plus ``throughput`` (finished jobs per second of the
    bucket). Indexed by ``time`` (bucket start, UTC), then the ``by`` columns. Without ``by``,
    empty buckets between the first and last job are filled (``jobs`` 0, ``throughput`` 0).

    >>> latency_series(jobs, freq="5min")[["p50", "p90", "throughput"]]   # doctest: +SKIP
    """
    _check_metric(metric)
    try:
        step = pd.Timedelta(pd.tseries.frequencies.to_offset(freq))
    except ValueError as exc:
        raise ValueError(f"freq must be a fixed frequency such as '1min' or '10s': {exc}") from exc
    m = _metrics(jobs)
    jobs, keys, group = _group_keys(jobs, by)
    stop = epoch_seconds(jobs["timeStop"])
    has_stop = ~np.isnan(stop)
    step_s = step.total_seconds()
    buckets = np.floor(stop[has_stop] / step_s) * step_s
    values = getattr(m, metric)
    if not has_stop.all():
        jobs, values = jobs.loc[has_stop], values[has_stop]
    work = _work_frame(jobs, group, values)
    work.insert(0, "time", pd.to_datetime(buckets, unit="s", utc=True).as_unit("ns"))
    res = _stats(work, ["time", *group])
    if group != keys:
        res = _merge_jumpscript(res, ["time", *keys], ["time", *group])
    if not keys and len(res):
        full = pd.date_range(res.index.min(), res.index.max(), freq=step, name="time")
        res = res.reindex(full)
        for col in ("count", "jobs"):
            res[col] = res[col].fillna(0).astype("int64")
    res["throughput"] = res["jobs"] / step.total_seconds()
    res.attrs = {"metric": metric, "excluded": m.excluded, "freq": freq}
    return res


def _finality(df: pd.DataFrame, source: pd.Series) -> np.ndarray:
    rank = state_map(df["state"], _STATE_RANK).astype("int64")
    has_stop = (~np.isnan(epoch_seconds(df["timeStop"]))).astype("int64")
    src = source.map(_SOURCE_RANK).fillna(0).to_numpy(dtype="int64")
    return has_stop * 100 + rank * 10 + src


def finished_jobs(frames: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Union of the final job copies (``job_results``, ``jobs``, ``worker_jobs``), one row per guid.

    Keeps rows in a final state (OK, ERROR, TIMEOUT, NOWORK) and adds ``source`` (the family a row
    came from). When a guid appears more than once the most final copy wins: one with ``timeStop``
    over one without, OK/ERROR over TIMEOUT over NOWORK, then ``job_results`` > ``jobs`` >
    ``worker_jobs``. Rows without a guid are all kept. A recorded history (``{"jobs": ...}``) is
    accepted too (it is already one row per guid).

    >>> jobs = finished_jobs(admin.load_all())                  # doctest: +SKIP
    >>> jobs = finished_jobs(jsadmin.history("rec/"))            # doctest: +SKIP
    """
    if not isinstance(frames, Mapping):
        raise TypeError("finished_jobs expects a dict of family name -> DataFrame")
    parts = []
    unique_input = False
    for name in JOB_FAMILIES:
        df = frames.get(name)
        if not isinstance(df, pd.DataFrame) or df.empty:
            continue
        require_columns(df, ("state", "timeStop"), f"finished_jobs({name})")
        final = state_in(df["state"], (*FINAL_STATES, "NOWORK"))
        sub = df if final.all() else df.loc[final]
        if "source" not in sub.columns:
            sub = sub.assign(source=name)
        unique_input = bool(df.attrs.get("unique_guids", False))
        parts.append(sub)
    if not parts:  # every job column, typed, so grouping and latency work on "no jobs" too
        empty = empty_frame(JOB_COLUMNS).assign(source=pd.array([], dtype="string"))
        empty["state"] = canonical_state(empty["state"])
        empty.attrs = {"duplicates": 0}
        return empty
    if len(parts) == 1:
        union = parts[0].reset_index(drop=True)
    else:
        union = pd.concat(parts, ignore_index=True)
        unique_input = False
    if not isinstance(union["source"].dtype, pd.StringDtype):
        union["source"] = union["source"].astype("string")
    union["state"] = canonical_state(union["state"])
    union.attrs = {"duplicates": 0}
    if "guid" not in union.columns or unique_input:
        return union
    rank = _finality(union, union["source"])
    order = np.argsort(-rank, kind="stable")
    ranked = union.iloc[order]
    no_guid = ranked["guid"].isna().to_numpy()
    dedup = ranked.loc[~no_guid].drop_duplicates("guid", keep="first")
    out = pd.concat([dedup, ranked.loc[no_guid]]).sort_index()
    out = out.reset_index(drop=True)
    out.attrs = {"duplicates": int(len(union) - len(out))}
    return out
