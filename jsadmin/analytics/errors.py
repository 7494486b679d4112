"""What is failing: ECOs and failed jobs grouped by category, jumpscript and node (pure pandas).

>>> error_summary(admin.load_all()).head()          # doctest: +SKIP
   kind              category        jumpscript  nid  occurrences  items  first_seen  last_seen  message
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import orjson
import pandas as pd

from ..domain import JobState, jumpscript_id
from ._common import (
    DEFAULT_LEFTOVER_AFTER,
    JOB_FAMILIES,
    SIGNAL_DTYPE,
    age_column,
    as_timedelta,
    as_utc,
    frame_or_empty,
    jumpscript_ids,
    leftover_reason,
    signal_of,
    state_in,
    utc_column,
)
from .history import history_infos
from .info import HistoryInfo
from .latency import finished_jobs_with_info
from .lazy import engine_of, failed_jobs_with_info

ERROR_COLUMNS = (
    "kind",
    "category",
    "jumpscript",
    "nid",
    "occurrences",
    "items",
    "first_seen",
    "last_seen",
    "message",
    "age",
    "signal",
    "why",
)
_TAG = re.compile(r"(?:^|\s)(jsorganization|jsname):(\S+)")


def jumpscript_from_tags(tags: Any) -> str | None:
    """The jumpscript ``<organization>__<name>`` (:func:`~jsadmin.analytics.jobs.jumpscript_id`, the
    same identity as failed jobs) from an ECO ``tags`` text (``jsorganization:x jsname:y``), else ``None``.

    >>> jumpscript_from_tags("jscategory:a jsorganization:jumpscale jsname:echo")
    'jumpscale__echo'
    """
    if not isinstance(tags, str):
        return None
    found = dict(_TAG.findall(tags))
    if "jsname" not in found:
        return None
    return jumpscript_id(found.get("jsorganization", ""), found["jsname"])


def _eco_rows(ecos: pd.DataFrame) -> pd.DataFrame:
    if ecos.empty:
        return pd.DataFrame()
    n = len(ecos)

    def col(name: str) -> pd.Series:
        return ecos[name] if name in ecos.columns else pd.Series([pd.NA] * n, index=ecos.index)

    occ = pd.to_numeric(col("occurrences"), errors="coerce").fillna(0).clip(lower=1)
    first = utc_column(col("epoch"))
    last = utc_column(col("lasttime")).fillna(first)
    return pd.DataFrame(
        {
            "kind": "eco",
            "category": col("category").astype("string"),
            "jumpscript": col("tags").map(jumpscript_from_tags).astype("string"),
            "nid": pd.to_numeric(col("nid"), errors="coerce").astype("Int64"),
            "occurrences": occ.astype("int64"),
            "first_seen": first,
            "last_seen": last,
            "message": col("errormessage").astype("string"),
        }
    )


def _describe(result: Any, state: str) -> tuple[str, str | None]:
    """``(category, message)`` of a failed job from its result (an ECO dict, its JSON text, or text)."""
    if isinstance(result, str) and result.startswith("{"):
        try:
            result = orjson.loads(result)
        except orjson.JSONDecodeError:
            return f"job.{state.lower()}", result[:200]
    if isinstance(result, dict):
        cat = result.get("category")
        msg = result.get("errormessage")
        return (
            cat if isinstance(cat, str) else f"job.{state.lower()}",
            str(msg)[:200] if msg is not None else None,
        )
    return f"job.{state.lower()}", None if result is None or result is pd.NA else str(result)[:200]


_JOB_COLUMNS = ("guid", "state", "result", "timeCreate", "timeStart", "timeStop", "category", "cmd", "nid", "family")


def _job_rows(frames: Mapping[str, pd.DataFrame], infos: Mapping[str, HistoryInfo]) -> pd.DataFrame:
    slim = {}
    for name in JOB_FAMILIES:
        df = frames.get(name)
        if isinstance(df, pd.DataFrame) and not df.empty:
            slim[name] = df[[c for c in _JOB_COLUMNS if c in df.columns]]
    jobs = finished_jobs_with_info(slim, infos=infos).frame
    if jobs.empty:
        return pd.DataFrame()
    failed = jobs.loc[state_in(jobs["state"], JobState.FAILED)]
    if failed.empty:
        return pd.DataFrame()
    states = failed["state"].astype(str).tolist()
    results = failed["result"].tolist() if "result" in failed.columns else [None] * len(failed)
    cache: dict[tuple[str, str], tuple[str, str | None]] = {}
    described = []
    for result, state in zip(results, states, strict=True):
        if isinstance(result, str):
            key = (result, state)
            hit = cache.get(key)
            if hit is None:
                hit = cache[key] = _describe(result, state)
            described.append(hit)
        else:
            described.append(_describe(result, state))
    when = utc_column(failed["timeStop"])
    if "timeCreate" in failed.columns:
        when = when.fillna(utc_column(failed["timeCreate"]))
    return pd.DataFrame(
        {
            "kind": "job",
            "category": [d[0] for d in described],
            "jumpscript": jumpscript_ids(failed) if "cmd" in failed else pd.NA,
            "nid": pd.to_numeric(failed["nid"], errors="coerce").astype("Int64"),
            "occurrences": 1,
            "first_seen": when,
            "last_seen": when,
            "message": [d[1] for d in described],
        }
    )


def error_summary(
    frames: Mapping[str, pd.DataFrame] | Any,
    now: object | None = None,
    *,
    leftover_after: object = DEFAULT_LEFTOVER_AFTER,
    infos: Mapping[str, HistoryInfo] | None = None,
) -> pd.DataFrame:
    """ECOs (``ecos``) and failed jobs (ERROR/TIMEOUT final copies) grouped by kind (``eco``/``job``), category,
    jumpscript and node, most frequent first.

    ``occurrences`` sums the ECO repeat counters (at least 1 per ECO) or counts the failed jobs;
    ``items`` counts distinct ECOs/jobs; ``first_seen``/``last_seen`` span ECO ``epoch``..``lasttime``
    or the jobs' ``timeStop``; ``message`` is the latest error message. A failed job's category
    is its result ECO's category, else ``job.error``/``job.timeout``. Works on recorded history too.
    ``age`` (``Timedelta``) is how long ago ``last_seen`` was at ``now``; groups last seen more than
    ``leftover_after`` ago (default 7 days) are ``signal == "leftover"`` (``why`` says so) and sort
    after the current ones. ``infos`` (``{table: HistoryInfo}``) marks recorded jobs already one row
    per guid when ``frames`` is a new dict of a history's frames (a history itself says so).

    >>> error_summary(admin.load_all())                      # doctest: +SKIP
    A lazy recorded history (``jsadmin.history(dir).lazy()``, polars or dask) is accepted too: its
    engine selects the failed jobs (ERROR/TIMEOUT) and their columns, and only those are grouped here.

    >>> error_summary(jsadmin.history("rec/"))                # doctest: +SKIP
    >>> error_summary(jsadmin.history("rec/").lazy(engine="polars"))   # doctest: +SKIP
    """
    if engine_of(frames) is not None:
        failed = failed_jobs_with_info(frames, _JOB_COLUMNS)
        frames, infos = {"jobs": failed.frame}, {"jobs": failed.info}
    if not isinstance(frames, Mapping):
        raise TypeError("error_summary expects a dict of family name -> DataFrame")
    known = history_infos(frames) if infos is None else infos
    parts = [
        p for p in (_eco_rows(frame_or_empty(frames, "ecos")), _job_rows(frames, known)) if not p.empty
    ]
    if not parts:
        empty = pd.DataFrame({c: [] for c in ERROR_COLUMNS})
        empty = empty.astype({"kind": "string", "category": "string", "jumpscript": "string", "nid": "Int64",
                              "occurrences": "int64", "items": "int64", "first_seen": "datetime64[ns, UTC]",
                              "last_seen": "datetime64[ns, UTC]", "message": "string", "why": "string"})
        empty["age"] = empty["age"].astype("timedelta64[ns]")
        empty["signal"] = pd.Categorical([], dtype=SIGNAL_DTYPE)
        return empty
    rows = pd.concat(parts, ignore_index=True)
    keys = ["kind", "category", "jumpscript", "nid"]
    # the latest message wins; equal times (whole-second timeStops) are settled by the values, not by
    # row order, so a lazy engine that returns the rows in another order gives the same table
    rows = rows.sort_values(["last_seen", "message", *keys], kind="stable", na_position="first")
    grouped = rows.groupby(keys, dropna=False, sort=False)
    out = grouped.agg(
        occurrences=("occurrences", "sum"),
        items=("occurrences", "size"),
        first_seen=("first_seen", "min"),
        last_seen=("last_seen", "max"),
        message=("message", "last"),
    ).reset_index()
    out["kind"] = out["kind"].astype("string")
    out["category"] = out["category"].astype("string")
    out["jumpscript"] = out["jumpscript"].astype("string")
    out["occurrences"] = out["occurrences"].astype("int64")
    out["items"] = out["items"].astype("int64")
    old = as_timedelta(leftover_after, "leftover_after")
    out["age"] = age_column(as_utc(now), out["last_seen"])
    out["why"] = leftover_reason(out["age"], old)
    out["signal"] = signal_of(out["why"])
    out = out.sort_values(["signal", "occurrences", "last_seen"], ascending=[True, False, False], kind="stable")
    return out[list(ERROR_COLUMNS)].reset_index(drop=True)
