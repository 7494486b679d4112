"""Pure pandas behind the job browser: one row per job, filters, one page, the copies of a job.

The browser lists :func:`job_rows` (one row per guid over every family, see
:func:`jsadmin.analytics.jobs.one_row_per_job`), so "N matching" counts jobs; :func:`union_jobs`
(every copy, with its ``family``) backs the detail view and the write actions.
No widgets and no Redis here, so the browser's logic is testable on hand-built frames.

>>> q = JobQuery(states=("ERROR",), text="disk")
>>> page = page_of(filter_jobs(job_rows(frames), q), page=0, size=50)   # doctest: +SKIP
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import pandas as pd

from ..analytics.jobs import best_first, jumpscript_ids, one_row_per_job_with_info
from ..catalog import job_families
from ..domain import JobState

JOB_FAMILIES: tuple[str, ...] = job_families("authority")
"""Job-bearing families, most authoritative copy first (the order used to label rows)."""

PAGE_SIZE = 50

_JSON_COLUMNS = ("args", "result")
_SEARCH = "_search"
_RELATIVE = re.compile(r"^\s*-\s*(\d+(?:\.\d+)?)\s*(s|sec|min|m|h|d)\s*$", re.IGNORECASE)
_UNITS = {"s": "s", "sec": "s", "min": "min", "m": "min", "h": "h", "d": "D"}


def _search_text(df: pd.DataFrame) -> pd.Series:
    text = pd.Series("", index=df.index, dtype=object)
    for col in _JSON_COLUMNS:
        if col in df.columns:
            text = text + " " + df[col].map(_as_text)
    return text.str.lower()


def _as_text(value: object) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, default=str, ensure_ascii=False)
    except (TypeError, ValueError):
        return str(value)


def union_jobs(frames: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Stack job frames into one, with a ``family`` column first and a lowercase search text.

    Rows keep their provenance columns (``key``, ``field``, ``position``, ...); the original
    row label of each family frame is kept in ``row`` so a selection maps back exactly.

    >>> union_jobs({"jobs": admin.load("jobs")})   # doctest: +SKIP
    """
    parts = []
    for name in JOB_FAMILIES:
        df = frames.get(name)
        if df is None or df.empty:
            continue
        part = df.copy()
        part.insert(0, "family", name)
        part.insert(1, "row", df.index.to_numpy())
        parts.append(part.reset_index(drop=True))
    if not parts:
        return pd.DataFrame(columns=["family", "row", "guid", "state", _SEARCH])
    out = pd.concat(parts, ignore_index=True, sort=False)
    out[_SEARCH] = _search_text(out)
    out["family"] = out["family"].astype("string")
    return out


def job_rows(frames: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """One row per job over the family frames (:func:`~jsadmin.analytics.jobs.one_row_per_job`):
    ``state`` is the latest, ``seen_in``/``copies`` say where its copies are, ``family``/``row``
    name the copy shown, plus the lowercase search text.

    >>> job_rows(admin.load_all())[["guid", "state", "seen_in", "copies"]]   # doctest: +SKIP
    """
    present = {name: df for name, df in frames.items() if name in JOB_FAMILIES}
    out = one_row_per_job_with_info(present, families=JOB_FAMILIES).frame
    out[_SEARCH] = _search_text(out) if len(out) else pd.Series([], dtype=object)
    return out


def copies_of_job(copies: pd.DataFrame, job: Mapping[str, object]) -> pd.DataFrame:
    """The copies (rows of :func:`union_jobs`) of one job row of :func:`job_rows`, best first.

    Matched by guid; a job without a guid is only its own copy (``family``/``row``).
    """
    if copies.empty:
        return copies
    guid = job.get("guid")
    if isinstance(guid, str) and guid:
        hit = copies.loc[(copies["guid"].astype("string") == guid).fillna(False).to_numpy()]
    else:
        hit = copies.loc[((copies["family"] == job.get("family"))
                          & (copies["row"] == job.get("row"))).fillna(False).to_numpy()]
    return hit.iloc[best_first(hit, family="family")]


def parse_time(value: str | pd.Timestamp | None, *, now: pd.Timestamp | None = None) -> pd.Timestamp | None:
    """``""``/None -> None; ``"-15min"``/``"-2h"``/``"-1d"`` relative to ``now``; else ISO (UTC).

    >>> parse_time("-1h", now=pd.Timestamp("2026-01-01T12:00Z"))
    Timestamp('2026-01-01 11:00:00+0000', tz='UTC')
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, pd.Timestamp):
        return value.tz_localize("UTC") if value.tzinfo is None else value.tz_convert("UTC")
    match = _RELATIVE.match(value)
    if match:
        now = now if now is not None else pd.Timestamp.now(tz="UTC")
        return now - pd.Timedelta(float(match.group(1)), unit=_UNITS[match.group(2).lower()])
    try:
        ts = pd.Timestamp(value.strip())
    except ValueError as exc:
        raise ValueError(
            f"cannot read time {value!r}: use ISO like 2026-01-01T12:00 or relative like -15min, -2h, -1d"
        ) from exc
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def _opt_int(value: object, name: str) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        return int(str(value).strip())
    except ValueError as exc:
        raise ValueError(f"{name} must be an integer, got {value!r}") from exc


@dataclass(frozen=True)
class JobQuery:
    """What the job browser filters on; empty values mean "any".

    ``cmd`` matches the jumpscript ``<organization>__<name>``, or ``category/cmd`` (substring,
    case-insensitive); ``text`` searches inside ``args`` and ``result``; times apply to
    ``timeCreate``; ``families`` keeps jobs with a copy in one of them (``seen_in``).
    """

    states: tuple[str, ...] = ()
    gid: int | str | None = None
    nid: int | str | None = None
    role: str = ""
    cmd: str = ""
    since: str | pd.Timestamp | None = None
    until: str | pd.Timestamp | None = None
    text: str = ""
    families: tuple[str, ...] = field(default=())


def filter_jobs(jobs: pd.DataFrame, query: JobQuery, *, now: pd.Timestamp | None = None) -> pd.DataFrame:
    """Rows of a :func:`job_rows` (or :func:`union_jobs`) frame that match ``query``, newest first.

    Bad filter values raise ``ValueError`` with a message meant for the user.

    >>> filter_jobs(union_jobs(frames), JobQuery(nid=2, states=("OK",)))   # doctest: +SKIP
    """
    if jobs.empty:
        return jobs
    mask = pd.Series(True, index=jobs.index)
    if query.families:
        if "seen_in" in jobs.columns:
            seen = jobs["seen_in"].astype("string").fillna("").str.split("+")
            families = set(query.families)
            hit = [any(part.split("×")[0] in families for part in parts) for parts in seen.tolist()]
            mask &= pd.Series(hit, index=jobs.index, dtype=bool)
        else:
            mask &= jobs["family"].isin(list(query.families)).fillna(False).astype(bool)
    if query.states and "state" in jobs.columns:
        mask &= jobs["state"].astype("string").isin(list(query.states)).fillna(False).astype(bool)
    for name in ("gid", "nid"):
        wanted = _opt_int(getattr(query, name), name)
        if wanted is not None:
            col = jobs[name] if name in jobs.columns else pd.Series(pd.NA, index=jobs.index)
            mask &= (col == wanted).fillna(False).astype(bool)
    if query.role.strip():
        col = jobs["role"] if "role" in jobs.columns else pd.Series(pd.NA, index=jobs.index)
        mask &= (col.astype("string").str.lower() == query.role.strip().lower()).fillna(False).astype(bool)
    if query.cmd.strip():
        needle = query.cmd.strip().lower()
        cat = jobs.get("category", pd.Series("", index=jobs.index)).astype("string").fillna("")
        cmd = jobs.get("cmd", pd.Series("", index=jobs.index)).astype("string").fillna("")
        both = (cat + "/" + cmd).str.lower()
        ident = jobs["jumpscript"] if "jumpscript" in jobs.columns else jumpscript_ids(jobs)
        hit = both.str.contains(needle, regex=False) | ident.astype("string").str.lower().str.contains(needle, regex=False)
        mask &= hit.fillna(False).astype(bool)
    since, until = parse_time(query.since, now=now), parse_time(query.until, now=now)
    if (since is not None or until is not None) and "timeCreate" in jobs.columns:
        created = jobs["timeCreate"]
        if since is not None:
            mask &= (created >= since).fillna(False).astype(bool)
        if until is not None:
            mask &= (created <= until).fillna(False).astype(bool)
    if query.text.strip():
        mask &= jobs[_SEARCH].str.contains(query.text.strip().lower(), regex=False).fillna(False).astype(bool)
    out = jobs[mask]
    if "timeCreate" in out.columns:
        out = out.sort_values("timeCreate", ascending=False, na_position="last", kind="stable")
    return out


def page_count(total: int, size: int = PAGE_SIZE) -> int:
    """Number of pages for ``total`` rows (at least 1)."""
    return max(1, -(-total // size))


def page_of(jobs: pd.DataFrame, *, page: int, size: int = PAGE_SIZE) -> pd.DataFrame:
    """Rows of page ``page`` (0-based, clamped to the last page).

    >>> page_of(pd.DataFrame({"a": range(120)}), page=9, size=50)["a"].tolist()[:2]
    [100, 101]
    """
    if size <= 0:
        raise ValueError("page size must be positive")
    page = min(max(0, page), page_count(len(jobs), size) - 1)
    return jobs.iloc[page * size : (page + 1) * size]


SUMMARY_COLUMNS = ("state", "jumpscript", "id", "gid", "nid", "role", "seen_in", "copies", "timeCreate", "guid")


def row_label(row: Mapping[str, object]) -> str:
    """One line naming a job row, used in selection lists."""
    def text(name: str) -> str:
        value = row.get(name)
        return "" if value is None or value is pd.NA or (isinstance(value, float) and pd.isna(value)) else str(value)

    target = f"nid {text('nid')}" if text("nid") else f"role {text('role')}"
    name = text("jumpscript") or f"{text('category')}/{text('cmd')}"
    where = text("seen_in") or text("family")
    return f"{text('state'):<9} #{text('id'):<6} {name} {target} {text('guid')[:12]} [{where}]"


def job_record(row: Mapping[str, object]) -> dict[str, object]:
    """A loaded job row as plain JSON-able data (datetimes ISO, NA -> None), internal columns removed."""
    out: dict[str, object] = {}
    for name, value in row.items():
        if name in (_SEARCH, "row"):
            continue
        if isinstance(value, pd.Timestamp):
            out[name] = value.isoformat()
        elif value is pd.NA or value is pd.NaT or (isinstance(value, float) and pd.isna(value)):
            out[name] = None
        elif hasattr(value, "item") and not isinstance(value, (list, dict, str)):
            out[name] = value.item()
        else:
            out[name] = value
    return out


def job_timings(row: Mapping[str, object]) -> dict[str, float | None]:
    """Queue wait, run time (clamped at 0, spec §4.7) and end to end, in seconds (None if unknown)."""
    def ts(name: str) -> pd.Timestamp | None:
        value = row.get(name)
        return value if isinstance(value, pd.Timestamp) and not pd.isna(value) else None

    created, started, stopped = ts("timeCreate"), ts("timeStart"), ts("timeStop")
    wait = (started - created).total_seconds() if created is not None and started is not None else None
    run = max(0.0, (stopped - started).total_seconds()) if started is not None and stopped is not None else None
    e2e = (stopped - created).total_seconds() if created is not None and stopped is not None else None
    return {"queue_wait_s": wait, "run_time_s": run, "end_to_end_s": e2e}


ECO_HINTS = ("errormessage", "backtrace", "uniquekey")


def job_eco(row: Mapping[str, object], ecos: pd.DataFrame | None = None) -> dict[str, object] | None:
    """The ECO of a failed job: the ECO dict in ``result`` (spec §4.8), else the ``ecos`` row whose ``jid`` is its guid."""
    result = row.get("result")
    if isinstance(result, dict) and any(k in result for k in ECO_HINTS):
        return result
    guid = row.get("guid")
    if ecos is not None and not ecos.empty and "jid" in ecos.columns and isinstance(guid, str):
        hit = ecos[ecos["jid"].astype("string") == guid]
        if not hit.empty:
            return job_record(hit.iloc[0].to_dict())
    return None


def states_in(jobs: pd.DataFrame) -> list[str]:
    """State values present (plus the standard ones), for the state filter."""
    standard = list(JobState.ALL)
    seen: Iterable[str] = jobs["state"].dropna().astype(str).unique() if "state" in jobs.columns else []
    return standard + sorted(set(seen) - set(standard))
