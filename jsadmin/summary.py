"""The text of ``jsadmin summary``: the headlines an operator acts on, then the families.

Headlines, current problems first: jobs in flight by state (one per guid), the oldest entry of
each queue (the two key forms of one queue counted as one), p50/p90 run time of recently
finished jobs, stale heartbeats, errors in the last hour, and a warning when the target looks
empty or wrong. Leftovers (jobs untouched for ``leftover_after``, JumpScale 6 watchdog entries,
rows an analytics frame marks as leftover) get their own lines.

Built on the public analytics functions (``queue_depths``, ``heartbeat_ages``, ``job_latency``,
``error_summary``); ages and durations may be float seconds or ``Timedelta``.

>>> print(summarize(jsadmin.demo()))   # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from .analytics import (
    error_summary,
    finished_jobs_with_info,
    heartbeat_ages,
    job_latency_with_info,
    queue_depths,
)
from .analytics.history import history_infos
from .catalog import job_families
from .cli_text import indented_table
from .domain import JobState
from .metrics import LEFTOVER_AFTER, latest_states

JOB_FAMILIES = job_families()
RECENT = 900.0
"""Seconds: jobs that finished this recently feed the run-time percentiles."""
ERROR_WINDOW = 3600.0


def human(value: Any) -> str:
    """A duration (float seconds or ``Timedelta``) as people read it; ``-`` when unknown.

    >>> human(0.26), human(75), human(7200), human(pd.Timedelta(days=3)), human(3.96e8), human(None)
    ('0.26 s', '1.2 min', '2 h', '3 d', '12.5 y', '-')
    """
    if isinstance(value, pd.Timedelta):
        value = value.total_seconds()
    try:
        s = float(value)
    except (TypeError, ValueError):
        return "-"
    if s != s:
        return "-"
    sign, s = ("-" if s < 0 else ""), abs(s)
    if s < 10:
        text = f"{s:.2g} s" if s < 1 else f"{s:.1f} s"
    elif s < 60:
        text = f"{s:.0f} s"
    elif s < 3600:
        text = f"{s / 60:.1f} min"
    elif s < 2 * 86_400:
        text = f"{s / 3600:.1f} h"
    elif s < 365.25 * 86_400:
        text = f"{s / 86_400:.1f} d"
    else:
        text = f"{s / 31_557_600:.1f} y"
    return sign + text.replace(".0 ", " ")


def seconds(values: pd.Series) -> pd.Series:
    """Ages/durations as float seconds, whether the frame holds floats or ``Timedelta``."""
    if pd.api.types.is_timedelta64_dtype(values.dtype):
        return values.dt.total_seconds().astype("float64")
    return pd.to_numeric(values, errors="coerce").astype("float64")


def split_leftovers(df: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(current, leftover)`` rows, when the frame marks them (a boolean ``leftover`` or
    ``current`` column); otherwise every row is current.

    >>> cur, old = split_leftovers(pd.DataFrame({"x": [1, 2], "leftover": [False, True]}))
    >>> len(cur), len(old)
    (1, 1)
    """
    for col, leftover_when in (("leftover", True), ("current", False)):
        if col in df.columns:
            mark = df[col].astype("boolean").fillna(False).to_numpy(bool)
            old = mark if leftover_when else ~mark
            return df.loc[~old], df.loc[old]
    return df, df.iloc[0:0]


def _counts(states: pd.Series) -> str:
    vc = states.astype("string").fillna("(none)").value_counts()
    return ", ".join(f"{state} {n}" for state, n in vc.items())


def _is_fleet(obj: Any) -> bool:
    return hasattr(obj, "status") and hasattr(obj, "map")


def _where(admin: Any) -> tuple[str, int]:
    """``("host:port" or the socket path, db)`` of an Admin's connection."""
    kw = getattr(getattr(admin.redis, "connection_pool", None), "connection_kwargs", {}) or {}
    place = kw.get("path") or f"{kw.get('host', '?')}:{kw.get('port', '?')}"
    return str(place), int(kw.get("db") or 0)


def emptiness_warning(admin: Any) -> str:
    """The warning for a target with no key of any JumpScale family (what else is there, and where).

    >>> emptiness_warning(jsadmin.connect("redis://10.0.0.1/3"))   # doctest: +SKIP
    'WARNING: 0 keys of any JumpScale family in db 3 at 10.0.0.1:9999 — wrong host, port or db? ...'
    """
    place, db = _where(admin)
    text = f"WARNING: 0 keys of any JumpScale family in db {db} at {place} — wrong host, port or db?"
    try:
        total = int(admin.redis.dbsize())
        keyspace = admin.redis.info("keyspace")
    except Exception:  # an ACL user may not run INFO; the warning stands alone
        return text
    notes = []
    if total:
        notes.append(f"db {db} holds {total} other key(s)")
    others = {k: v.get("keys", 0) for k, v in keyspace.items() if isinstance(v, dict) and k != f"db{db}"}
    others = {k: n for k, n in others.items() if n}
    if others:
        notes.append("keys are in " + ", ".join(f"{k} ({n})" for k, n in sorted(others.items())))
    return text + (f" ({'; '.join(notes)})" if notes else "")


def _section(out: list[str], title: str, build: Callable[[], list[str]]) -> None:
    """Append a headline section; a section that cannot be computed says why instead of crashing."""
    out.append("")
    try:
        out.extend(build())
    except Exception as exc:  # odd values in Redis must not cost the whole summary
        out.append(f"{title}: could not compute ({type(exc).__name__}: {exc})")


def jobs_lines(frames: Mapping[str, pd.DataFrame], now: pd.Timestamp, leftover_after: float) -> list[str]:
    """Jobs in flight / finished by latest state, one per guid; leftovers on their own line."""
    latest = latest_states(frames)
    age = (now - latest["last_seen"]).dt.total_seconds()
    old = (age > leftover_after).fillna(False).to_numpy(bool)
    cur, left = latest.loc[~old], latest.loc[old]
    flight = cur[cur["state"].isin(JobState.IN_FLIGHT)]
    done = cur[~cur["state"].isin(JobState.IN_FLIGHT)]
    out = [f"jobs (one per guid, latest state over all its copies): {len(cur)} current"]
    out.append(f"  in flight: {len(flight)}" + (f" ({_counts(flight['state'])})" if len(flight) else ""))
    out.append(f"  finished, still in Redis: {len(done)}" + (f" ({_counts(done['state'])})" if len(done) else ""))
    if len(left):
        newest = (now - left["last_seen"]).min()
        out.append(
            f"  leftovers untouched for more than {human(leftover_after)}: {len(left)} "
            f"({_counts(left['state'])}; the newest {human(newest)} old)"
        )
    return out


def queue_lines(depths: pd.DataFrame, top: int = 15) -> list[str]:
    """The oldest entry of each queue, both key forms of one queue (``queues:commands:queue:1:4``
    and ``commands:queue:1:4``) grouped; oldest first."""
    fleet = "source" in depths.columns
    cur, left = split_leftovers(depths)
    cur = cur[cur["length"].fillna(0) > 0]
    if cur.empty:
        lines = ["queues: all empty"]
    else:
        keys = [*(["source"] if fleet else []), "kind", "queue"]
        work = cur.assign(_age=seconds(cur["oldest_age"]), key=cur["key"].astype(str))
        grouped = work.groupby(keys, sort=False, observed=True, dropna=False)
        table = grouped.agg(depth=("length", "sum"), _age=("_age", "max"), keys=("key", lambda k: ", ".join(sorted(k)))).reset_index()
        table = table.sort_values(["_age", "depth"], ascending=False, na_position="last", kind="stable")
        table["oldest"] = table["_age"].map(human)
        forms = int((grouped.size() > 1).sum())
        note = f"; {forms} queue(s) have entries under both key forms" if forms else ""
        lines = [f"oldest entry per queue ({len(table)} queues with entries, {int(table['depth'].sum())} "
                 f"entries{note}):"]
        lines.append(indented_table(table[[*keys, "depth", "oldest", "keys"]], top=top, width=80))
    left = left[left["length"].fillna(0) > 0]
    if len(left):
        lines.append(f"  leftover queue entries: {int(left['length'].sum())} in {len(left)} key(s), "
                     f"the oldest {human(seconds(left['oldest_age']).max())} old")
    return lines


def run_time_lines(frames: Mapping[str, pd.DataFrame], now: pd.Timestamp, recent: float) -> list[str]:
    """p50/p90 run time and queue wait of the jobs finished in the last ``recent`` seconds."""
    finished = finished_jobs_with_info({n: frames[n] for n in JOB_FAMILIES if n in frames}, infos=history_infos(frames))
    lat = job_latency_with_info(finished.frame).frame
    title = f"run time of jobs finished in the last {human(recent)}"
    if lat.empty:
        return [f"{title}: none (Redis keeps finished jobs about a minute; `jsadmin record` keeps history)"]
    stop = pd.to_datetime(lat["timeStop"], utc=True, errors="coerce")
    recent_rows = ((now - stop).dt.total_seconds() <= recent).fillna(False).to_numpy(bool)
    run = seconds(lat["run_time"])[recent_rows].dropna()
    wait = seconds(lat["queue_wait"])[recent_rows].dropna()
    if run.empty:
        return [f"{title}: none (Redis keeps finished jobs about a minute; `jsadmin record` keeps history)"]
    line = f"{title}: p50 {human(run.quantile(0.5))}, p90 {human(run.quantile(0.9))} ({len(run)} jobs)"
    if len(wait):
        line += f"; queue wait p50 {human(wait.quantile(0.5))}, p90 {human(wait.quantile(0.9))}"
    return [line]


def heartbeat_lines(frames: Mapping[str, pd.DataFrame], now: pd.Timestamp, stale: float) -> list[str]:
    """Current stale heartbeats (``workers:heartbeat``); JumpScale 6 watchdog entries as leftovers."""
    beats = _beats_by_node(frames, now, stale)
    current = beats[beats["beat"].astype("string") == "heartbeat"]
    current, left = split_leftovers(current)
    watchdog = beats[beats["beat"].astype("string") == "watchdog"]
    if current.empty:
        out = ["stale worker heartbeats: no workers:heartbeat entries"]
    else:
        age = seconds(current["age"])
        late = current.assign(age=age.map(human), _age=age)[age > stale]
        late = late.sort_values("_age", ascending=False)
        out = [f"stale worker heartbeats (older than {human(stale)}): {len(late)} of {len(current)} queues"]
        if len(late):
            cols = [c for c in ("source", "queue", "heartbeat", "age") if c in late.columns]
            out.append(indented_table(late[cols], top=20))
    if len(left):
        out.append(f"  leftovers: {len(left)} old heartbeat entries, the newest {human(seconds(left['age']).min())} old")
    if len(watchdog):
        out.append(f"  leftovers: {len(watchdog)} JumpScale 6 workers:watchdog entries, the newest "
                   f"{human(seconds(watchdog['age']).min())} old")
    return out


def _beats_by_node(frames: Mapping[str, pd.DataFrame], now: pd.Timestamp, stale: float) -> pd.DataFrame:
    """:func:`heartbeat_ages`, per fleet source (column ``source``) when the frames come from a fleet."""
    names = ("worker_heartbeat", "worker_watchdog")
    sources = sorted({str(x) for n in names if n in frames and "source" in frames[n] for x in frames[n]["source"]})
    if not sources:
        return heartbeat_ages(frames, now, stale_after=stale)
    parts = []
    for src in sources:
        sub = {n: frames[n][frames[n]["source"].astype(str) == src].drop(columns="source")
               for n in names if n in frames and "source" in frames[n]}
        parts.append(heartbeat_ages(sub, now, stale_after=stale).assign(source=src))
    return pd.concat(parts, ignore_index=True)


def recent_frames(frames: Mapping[str, pd.DataFrame], since: pd.Timestamp) -> dict[str, pd.DataFrame]:
    """The ECOs last seen and the job copies stopped (else created) since ``since``."""
    out: dict[str, pd.DataFrame] = {}
    ecos = frames.get("ecos")
    if ecos is not None and len(ecos):
        when = pd.Series(pd.NaT, index=ecos.index, dtype="datetime64[ns, UTC]")
        for col in ("lasttime", "epoch"):
            if col in ecos:
                when = when.fillna(_utc(ecos[col]))
        out["ecos"] = ecos.loc[(when >= since).fillna(False).to_numpy(bool)]
    for name in JOB_FAMILIES:
        df = frames.get(name)
        if df is None or not len(df):
            continue
        when = _utc(df["timeStop"]) if "timeStop" in df else pd.Series(pd.NaT, index=df.index)
        if "timeCreate" in df:
            when = when.fillna(_utc(df["timeCreate"]))
        out[name] = df.loc[(when >= since).fillna(False).to_numpy(bool)]
    return out


def _utc(values: pd.Series) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        return pd.to_datetime(values, utc=True)
    numbers = pd.to_numeric(values, errors="coerce")
    return pd.to_datetime(numbers.where(numbers > 0), unit="s", utc=True)


def error_lines(frames: Mapping[str, pd.DataFrame], now: pd.Timestamp, window: float = ERROR_WINDOW) -> list[str]:
    """ECOs and failed jobs seen in the last ``window`` seconds, the most frequent groups first."""
    errs = error_summary(recent_frames(frames, now - pd.Timedelta(seconds=window)), infos=history_infos(frames))
    title = f"errors in the last {human(window)}"
    if errs.empty:
        return [f"{title}: none"]
    eco = errs[errs["kind"] == "eco"]
    job = errs[errs["kind"] == "job"]
    out = [f"{title}: {int(eco['items'].sum())} ECOs seen ({int(eco['occurrences'].sum())} occurrences since "
           f"their first), {int(job['items'].sum())} failed jobs"]
    shown = errs.assign(message=errs["message"].astype("string").str.slice(0, 50)).astype("string").fillna("")
    out.append(indented_table(blank_groups_shown(shown)[["kind", "category", "jumpscript", "nid", "occurrences", "message"]],
                              top=8))
    return out


BLANK = "(blank)"
"""What the error table shows for a group whose category, jumpscript and message are all blank."""
_NAMING = ("category", "jumpscript", "message")


def blank_groups_shown(shown: pd.DataFrame) -> pd.DataFrame:
    """The text error table with :data:`BLANK` in the naming cells of groups that have none (ECOs
    stored with empty fields), so such a row does not read as a rendering gap. Display only: the
    ``error_summary`` frame keeps its values.

    >>> t = pd.DataFrame({"category": ["", "c"], "jumpscript": [" ", ""], "message": ["", "m"]})
    >>> blank_groups_shown(t)["category"].tolist()
    ['(blank)', 'c']
    """
    blank = pd.Series(True, index=shown.index)
    for col in _NAMING:
        blank &= shown[col].astype("string").fillna("").str.strip() == ""
    if not blank.any():
        return shown
    out = shown.copy()
    out.loc[blank, list(_NAMING)] = BLANK
    return out


def _depths(obj: Any, now: pd.Timestamp) -> pd.DataFrame:
    if not _is_fleet(obj):
        return queue_depths(obj, now=now)
    per_source = obj.map(lambda admin: queue_depths(admin, now=now), operation="queue_depths")
    parts = [df.assign(source=name) for name, df in per_source.items()]
    return pd.concat(parts, ignore_index=True) if parts else queue_depths_empty()


def queue_depths_empty() -> pd.DataFrame:
    return pd.DataFrame({"key": [], "kind": [], "queue": [], "length": [], "oldest_age": []})


def summarize(
    obj: Any,
    *,
    stale: float = 60.0,
    now: pd.Timestamp | None = None,
    recent: float = RECENT,
    leftover_after: float = LEFTOVER_AFTER,
) -> str:
    """The text of ``jsadmin summary`` for an Admin or a Fleet: headlines, then families.

    ``stale``: heartbeat age (s) counted as stale; ``recent``: window (s) of the run-time
    percentiles; ``leftover_after``: jobs untouched this long (s) are leftovers.

    >>> print(summarize(jsadmin.demo()))   # doctest: +SKIP
    """
    now = now if now is not None else pd.Timestamp.now(tz="UTC")
    fleet = _is_fleet(obj)
    where = f"fleet of {len(obj)} sources" if fleet else obj.url
    if not fleet and getattr(obj, "embedded", None) is not None:
        where += " (embedded demo grid)"
    out = [f"jsadmin summary of {where} at {now:%Y-%m-%d %H:%M:%S} UTC"]

    fams = obj.families()
    if fleet:
        status = obj.status()
        out += ["", "sources:", indented_table(status[["source", "url", "ok", "error", "elapsed"]].round({"elapsed": 3}),
                                       width=120)]
        totals = fams.groupby("family", sort=False, observed=True)[["keys", "entries"]].sum().reset_index()
        meta = fams.drop_duplicates("family")[["family", "status", "redis_type"]]
        fams = meta.merge(totals, on="family")
    present = fams[fams["keys"] > 0]
    if present.empty:
        out.append("")
        if fleet:
            out.append("WARNING: 0 keys of any JumpScale family on any source — wrong hosts, ports or dbs?")
        else:
            out.append(emptiness_warning(obj))
        out.append(f"  all {len(fams)} families are empty")
        return "\n".join(out)

    with_data = set(present["family"])
    frames = {f: obj.load(f) for f in (*JOB_FAMILIES, "worker_heartbeat", "worker_watchdog", "ecos")
              if f in with_data}

    _section(out, "jobs", lambda: jobs_lines(frames, now, leftover_after))
    _section(out, "queues", lambda: queue_lines(_depths(obj, now)))
    _section(out, "run time", lambda: run_time_lines(frames, now, recent))
    _section(out, "stale worker heartbeats", lambda: heartbeat_lines(frames, now, stale))
    _section(out, "errors", lambda: error_lines(frames, now))

    ecos = frames.get("ecos")
    n_ecos = 0 if ecos is None else len(ecos)
    stubs = int(ecos["stub"].fillna(False).sum()) if ecos is not None and "stub" in ecos else 0
    out += ["", f"ECOs: {n_ecos} in eco:objects ({stubs} processed stubs)"]

    out += ["", f"families with data ({len(present)} of {len(fams)}; keys and entries):"]
    out.append(indented_table(present[["family", "redis_type", "status", "keys", "entries"]]))
    empty = fams[fams["keys"] == 0]["family"].tolist()
    if empty:
        out.append(f"  empty: {', '.join(empty)}")
    _section(out, "job copies", lambda: copies_lines(frames))
    return "\n".join(out)


def copies_lines(frames: Mapping[str, pd.DataFrame]) -> list[str]:
    """Job entries per family and state: a job has copies in several families."""
    states = []
    for fam in JOB_FAMILIES:
        df = frames.get(fam)
        if df is not None and len(df) and "state" in df:
            states.append(df["state"].astype("string").fillna("(none)").value_counts().rename(fam))
    if not states:
        return ["job copies by family and state: (none)"]
    table = pd.concat(states, axis=1).fillna(0).astype(np.int64).T
    table["total"] = table.sum(axis=1)
    table.index.name = "copies in"
    return ["job copies by family and state (one job has copies in several families):",
            indented_table(table.reset_index())]
