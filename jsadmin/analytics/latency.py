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

import numpy as np
import pandas as pd

from ._common import (
    FINAL_STATES,
    JOB_FAMILIES,
    UNFINISHED_STATES,
    add_jumpscript,
    require_columns,
    seconds,
    utc_column,
)

METRICS = ("queue_wait", "run_time", "end_to_end")
GROUP_KEYS = ("cmd", "category", "jumpscript", "nid", "role", "queue", "state", "gid", "source")
"""Columns :func:`latency_summary` is usually grouped by (any existing column works too)."""
QUANTILES = {"p50": 0.50, "p90": 0.90, "p99": 0.99}
STAT_COLUMNS = ("count", "jobs", "error_rate", "timeout_rate", "p50", "p90", "p99", "mean", "max")
EXCLUSION_REASONS = ("unfinished", "no_timeStart", "no_timeStop")

_STATE_RANK = {"OK": 3, "ERROR": 3, "TIMEOUT": 2, "NOWORK": 1}
_SOURCE_RANK = {"job_results": 2, "jobs": 1, "worker_jobs": 0}


def _latency_columns(jobs: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, int], pd.Series]:
    """All rows with the three metrics added (NaN where not computable), exclusions, kept mask."""
    require_columns(jobs, ("timeStart", "timeStop"), "job_latency")
    n = len(jobs)
    start = utc_column(jobs["timeStart"])
    stop = utc_column(jobs["timeStop"])
    if "timeCreate" in jobs.columns:
        create = utc_column(jobs["timeCreate"])
    else:
        create = pd.Series(pd.NaT, index=jobs.index, dtype="datetime64[ns, UTC]")
    if "state" in jobs.columns:
        unfinished = jobs["state"].astype("string").isin(UNFINISHED_STATES).fillna(False)
        unfinished = unfinished.to_numpy(dtype=bool)
    else:
        unfinished = np.zeros(n, dtype=bool)
    has_start = start.notna().to_numpy()
    has_stop = stop.notna().to_numpy()
    kept = has_start & has_stop
    excluded = {
        "unfinished": int((~kept & unfinished).sum()),
        "no_timeStart": int((~kept & ~unfinished & ~has_start).sum()),
        "no_timeStop": int((~kept & ~unfinished & has_start & ~has_stop).sum()),
    }
    legacy = create.isna().to_numpy()
    queue_wait = seconds(start - create)
    raw_run = seconds(stop - start)
    run_time = raw_run.clip(lower=0.0)
    end_to_end = seconds(stop - create)
    legacy_e2e = raw_run
    modern = ~legacy & kept
    out = jobs.assign(
        queue_wait=queue_wait.where(modern),
        run_time=run_time.where(modern),
        end_to_end=end_to_end.where(~legacy, legacy_e2e).where(kept),
        legacy=pd.array(legacy, dtype="boolean"),
    )
    stats = {
        "legacy": int((legacy & kept).sum()),
        "clamped": int(((raw_run < 0).to_numpy() & ~legacy & kept).sum()),
    }
    out.attrs = {k: v for k, v in jobs.attrs.items() if k != "problems"}
    out.attrs.update(stats)
    return out, excluded, pd.Series(kept, index=jobs.index)


def job_latency(jobs: pd.DataFrame) -> pd.DataFrame:
    """Add ``queue_wait``, ``run_time``, ``end_to_end`` (float seconds) and ``legacy`` to a job frame.

    Rows that lack ``timeStart`` or ``timeStop`` are dropped and counted in
    ``attrs["excluded"]`` (``{"unfinished": n, "no_timeStart": n, "no_timeStop": n}``);
    ``attrs["legacy"]`` counts kept rows without ``timeCreate`` (only ``end_to_end``), and
    ``attrs["clamped"]`` the negative run times set to 0.

    >>> lat = job_latency(admin.load("job_results"))           # doctest: +SKIP
    >>> lat[["cmd", "queue_wait", "run_time"]].head()          # doctest: +SKIP
    """
    out, excluded, kept = _latency_columns(jobs)
    attrs = dict(out.attrs)
    out = out.loc[kept.to_numpy()]
    out.attrs = attrs
    out.attrs["excluded"] = excluded
    return out


def _group_keys(df: pd.DataFrame, by: str | Sequence[str] | None) -> tuple[pd.DataFrame, list[str]]:
    if by is None:
        return df, []
    keys = [by] if isinstance(by, str) else list(by)
    if "jumpscript" in keys and "jumpscript" not in df.columns:
        require_columns(df, ("cmd",), "grouping by jumpscript")
        df = df.assign(jumpscript=add_jumpscript(df))
    require_columns(df, keys, "latency grouping")
    return df, keys


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


def _work_frame(lat: pd.DataFrame, keys: list[str], metric: str) -> pd.DataFrame:
    state = lat["state"].astype("string") if "state" in lat.columns else None
    work = pd.DataFrame({k: lat[k] for k in keys}, index=lat.index)
    work["_m"] = lat[metric].astype("float64")
    if state is None:
        work["_final"] = 1
        work["_err"] = 0
        work["_to"] = 0
    else:
        work["_final"] = state.isin(FINAL_STATES).fillna(False).astype("int64")
        work["_err"] = (state == "ERROR").fillna(False).astype("int64")
        work["_to"] = (state == "TIMEOUT").fillna(False).astype("int64")
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
    lat, excluded, _ = _latency_columns(jobs)
    lat, keys = _group_keys(lat, by)
    res = _stats(_work_frame(lat, keys, metric), keys)
    res.attrs = {"metric": metric, "excluded": excluded, "legacy": lat.attrs.get("legacy", 0)}
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
    lat, excluded, _ = _latency_columns(jobs)
    lat, keys = _group_keys(lat, by)
    stop = utc_column(lat["timeStop"])
    has_stop = stop.notna().to_numpy()
    lat = lat.loc[has_stop]
    try:
        step = pd.Timedelta(pd.tseries.frequencies.to_offset(freq))
    except ValueError as exc:
        raise ValueError(f"freq must be a fixed frequency such as '1min' or '10s': {exc}") from exc
    work = _work_frame(lat, keys, metric)
    work.insert(0, "time", stop.loc[has_stop].dt.floor(step))
    res = _stats(work, ["time", *keys])
    if not keys and len(res):
        full = pd.date_range(res.index.min(), res.index.max(), freq=step, name="time")
        res = res.reindex(full)
        for col in ("count", "jobs"):
            res[col] = res[col].fillna(0).astype("int64")
    res["throughput"] = res["jobs"] / step.total_seconds()
    res.attrs = {"metric": metric, "excluded": excluded, "freq": freq}
    return res


def _finality(df: pd.DataFrame, source: pd.Series) -> np.ndarray:
    state = df["state"].astype("string").fillna("")
    rank = state.map(_STATE_RANK).fillna(0).to_numpy(dtype="int64")
    has_stop = utc_column(df["timeStop"]).notna().to_numpy() if "timeStop" in df else 0
    src = source.map(_SOURCE_RANK).fillna(0).to_numpy(dtype="int64")
    return has_stop * 100 + rank * 10 + src


def finished_jobs(frames: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Union of the final job copies (``job_results``, ``jobs``, ``worker_jobs``), one row per guid.

    Keeps rows in a final state (OK, ERROR, TIMEOUT, NOWORK) and adds ``source`` (the family a row
    came from). When a guid appears more than once the most final copy wins: one with ``timeStop``
    over one without, OK/ERROR over TIMEOUT over NOWORK, then ``job_results`` > ``jobs`` >
    ``worker_jobs``. Rows without a guid are all kept. A recorded history (``{"jobs": ...}``) is
    accepted too.

    >>> jobs = finished_jobs(admin.load_all())                  # doctest: +SKIP
    >>> jobs = finished_jobs(jsadmin.history("rec/"))            # doctest: +SKIP
    """
    if not isinstance(frames, Mapping):
        raise TypeError("finished_jobs expects a dict of family name -> DataFrame")
    parts = []
    for name in JOB_FAMILIES:
        df = frames.get(name)
        if not isinstance(df, pd.DataFrame) or df.empty:
            continue
        require_columns(df, ("state", "timeStop"), f"finished_jobs({name})")
        state = df["state"].astype("string")
        sub = df.loc[state.isin((*FINAL_STATES, "NOWORK")).fillna(False).to_numpy()]
        if "source" not in sub.columns:
            sub = sub.assign(source=name)
        parts.append(sub)
    if not parts:
        return pd.DataFrame(
            columns=["guid", "state", "timeCreate", "timeStart", "timeStop", "source"]
        )
    if len(parts) == 1:
        union = parts[0].reset_index(drop=True)
    else:
        union = pd.concat(parts, ignore_index=True)
    union["source"] = union["source"].astype("string")
    states = pd.Series(union["state"].astype("string"))
    categories = ["SCHEDULED", "STARTED", "OK", "ERROR", "TIMEOUT", "NOWORK"]
    extra = sorted(set(states.dropna().unique()) - set(categories))
    union["state"] = pd.Categorical(states, categories=categories + extra)
    if "guid" not in union.columns or (len(parts) == 1 and union["guid"].is_unique):
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
