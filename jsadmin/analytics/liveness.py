"""Liveness over loaded frames: heartbeats, health checks, stuck jobs, stale workers (pure pandas).

Everything takes the ``dict`` of frames of ``Admin.load_all()`` (missing families are treated as
empty) and a ``now`` (default: the current UTC time) and returns a DataFrame whose ages are
``Timedelta`` columns. :func:`grid_health` folds them into one sortable frame.

**Current problems vs leftovers.** A production Redis keeps JumpScale 6 keys and decade-old job
copies for years. Every frame here carries ``signal`` (``current``/``leftover``, current sorts
first) and ``why`` (empty for current rows): a row is a leftover when its family is not
``current`` in the catalog (``workers:watchdog``, ``healthcheck:status``/``lastcheck``,
``workers:sessions``, ...) or when it is older than ``leftover_after`` (default 7 days,
:data:`DEFAULT_LEFTOVER_AFTER`; seconds or a ``Timedelta``).

>>> frames = admin.load_all()                                 # doctest: +SKIP
>>> grid_health(frames, stale_after=120).query("signal == 'current'")   # doctest: +SKIP
  component       kind status   signal            age why  detail
>>> leftovers(grid_health(frames))                             # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeAlias

import numpy as np
import pandas as pd

from ..domain import JobState
from ..loadinfo import LoadInfo
from ._common import (
    DEFAULT_LEFTOVER_AFTER,
    SIGNAL_DTYPE,
    age_column,
    as_timedelta,
    as_utc,
    family_leftover,
    frame_or_empty,
    human_duration,
    jumpscript_ids,
    leftover_reason,
    signal_of,
    utc_column,
)
from .info import Analysed, HealthInfo, mirrored
from .queues import depths_from_frames_with_info

STATUSES = ("ok", "warn", "stale", "error")
STATUS_DTYPE = pd.CategoricalDtype(list(STATUSES), ordered=True)
HEALTH_COLUMNS = ("component", "kind", "status", "signal", "age", "why", "detail")
DEFAULT_STALE_AFTER = 120.0
"""Seconds without a heartbeat before a worker queue counts as stale (idle workers beat every ~10 s)."""
DEFAULT_JOB_TIMEOUT = 600.0
DEAD_AFTER = 10
"""In :func:`grid_health` a heartbeat older than ``DEAD_AFTER * stale_after`` is an error (a dead worker)."""
KIND_RANK = {"heartbeat": 0, "worker": 1, "queue": 2, "healthcheck": 3, "job": 4, "watchdog": 5}
"""Within one status, causes (a dead worker, a backed-up queue) come before symptoms (its stuck jobs)."""
HEALTH_STATUS_TTL = 300.0
"""``health.status`` is SET with ``ex=300``; its age is ``300 - TTL``."""
Duration: TypeAlias = float | int | str | pd.Timedelta
"""Seconds, ``"7D"``-style text or a ``Timedelta``."""


def _status(age: pd.Series, stale_after: pd.Timedelta) -> np.ndarray:
    stale = (age > stale_after).fillna(False).to_numpy(dtype=bool)
    warn = (age > stale_after / 2).fillna(False).to_numpy(dtype=bool)
    status = np.where(stale, "stale", np.where(warn, "warn", "ok"))
    return np.where(age.isna().to_numpy(), "warn", status)


def _now(now: object | None) -> pd.Timestamp:
    return as_utc(now)


def _current_first(df: pd.DataFrame, by: list[str], ascending: list[bool]) -> pd.DataFrame:
    """Sort ``current`` rows before ``leftover`` ones, then by ``by``."""
    return df.sort_values(["signal", *by], ascending=[True, *ascending], na_position="first", kind="stable")


def _timedeltas(values: pd.Series) -> pd.Series:
    """A column of ages as ``timedelta64[ns]``; pandas infers an all-``NaT`` column as datetime."""
    if pd.api.types.is_timedelta64_dtype(values.dtype):
        return values.astype("timedelta64[ns]")
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        return pd.Series(pd.NaT, index=values.index, dtype="timedelta64[ns]")
    out = [v if isinstance(v, pd.Timedelta) else pd.NaT for v in values]
    return pd.Series(out, index=values.index, dtype="timedelta64[ns]")


def _mark(df: pd.DataFrame, why: pd.Series) -> pd.DataFrame:
    df["why"] = why.astype("string").to_numpy()
    df["signal"] = signal_of(df["why"])
    return df


def heartbeat_ages(
    frames: Mapping[str, pd.DataFrame], now: object | None = None,
    stale_after: Duration = DEFAULT_STALE_AFTER, *, leftover_after: Duration = DEFAULT_LEFTOVER_AFTER,
) -> pd.DataFrame:
    """Heartbeat age per worker queue (``workers:heartbeat``) and per JS6 worker (``workers:watchdog``).

    Columns: ``queue``, ``worker`` (watchdog only), ``beat`` (``heartbeat``/``watchdog``),
    ``heartbeat`` (UTC), ``age`` (``Timedelta``), ``status`` (ok / warn past ``stale_after/2`` /
    stale past ``stale_after``; a watchdog ``0`` — started, never looped — is warn with no age),
    ``signal`` (``current``/``leftover``) and ``why``. Watchdog rows are always leftovers (no
    JumpScale 7 process writes ``workers:watchdog``), heartbeats older than ``leftover_after`` too.
    Current rows come first, oldest first.

    >>> heartbeat_ages(admin.load_all(), stale_after=60)        # doctest: +SKIP
    """
    at = _now(now)
    stale = as_timedelta(stale_after, "stale_after")
    old = as_timedelta(leftover_after, "leftover_after")
    parts = []
    hb = frame_or_empty(frames, "worker_heartbeat")
    if not hb.empty:
        parts.append(
            pd.DataFrame(
                {
                    "queue": hb["queue"].astype("string"),
                    "worker": pd.array([pd.NA] * len(hb), dtype="string"),
                    "beat": "heartbeat",
                    "heartbeat": utc_column(hb["heartbeat"]),
                }
            )
        )
    wd = frame_or_empty(frames, "worker_watchdog")
    if not wd.empty:
        parts.append(
            pd.DataFrame(
                {
                    "queue": wd["queue"].astype("string") if "queue" in wd else pd.NA,
                    "worker": wd["worker"].astype("string"),
                    "beat": "watchdog",
                    "heartbeat": utc_column(wd["heartbeat"]),
                }
            )
        )
    if not parts:
        out = pd.DataFrame(
            {
                "queue": pd.array([], dtype="string"),
                "worker": pd.array([], dtype="string"),
                "beat": pd.array([], dtype="string"),
                "heartbeat": pd.Series([], dtype="datetime64[ns, UTC]"),
            }
        )
    else:
        out = pd.concat(parts, ignore_index=True)
    out["beat"] = out["beat"].astype("string")
    out["heartbeat"] = out["heartbeat"].astype("datetime64[ns, UTC]")
    out["age"] = age_column(at, out["heartbeat"])
    out["status"] = pd.Categorical(_status(out["age"], stale), dtype=STATUS_DTYPE)
    why = leftover_reason(out["age"], old)
    watchdog = family_leftover("worker_watchdog") or ""
    why = why.where(out["beat"].to_numpy() != "watchdog", watchdog)
    _mark(out, why)
    out = _current_first(out, ["age"], [False])
    return out.reset_index(drop=True)


def healthchecks(
    frames: Mapping[str, pd.DataFrame], now: object | None = None,
    stale_after: Duration = DEFAULT_STALE_AFTER, *, leftover_after: Duration = DEFAULT_LEFTOVER_AFTER,
) -> pd.DataFrame:
    """Health check state and age: legacy ``healthcheck:status``/``lastcheck`` and ``health.status``.

    Columns: ``check``, ``ok`` (boolean), ``lastcheck``, ``age`` (``Timedelta``), ``status``
    (error when not ok, stale when older than ``stale_after``), ``signal``, ``why`` and
    ``detail``. The JumpScale 6 checks are leftovers (legacy families); ``health.status`` is
    current unless older than ``leftover_after``.

    >>> healthchecks(admin.load_all())                           # doctest: +SKIP
    """
    at = _now(now)
    stale = as_timedelta(stale_after, "stale_after")
    old = as_timedelta(leftover_after, "leftover_after")
    status_df = frame_or_empty(frames, "healthcheck_status")
    last_df = frame_or_empty(frames, "healthcheck_lastcheck")
    rows = []
    ok_by_check = {}
    if not status_df.empty:
        ok_by_check = dict(zip(status_df["check"].astype(str), status_df["ok"], strict=False))
    last_by_check = {}
    if not last_df.empty:
        last_by_check = dict(
            zip(last_df["check"].astype(str), utc_column(last_df["lastcheck"]), strict=False)
        )
    legacy = family_leftover("healthcheck_status") or family_leftover("healthcheck_lastcheck") or ""
    for check in sorted(set(ok_by_check) | set(last_by_check)):
        ok = ok_by_check.get(check, pd.NA)
        last = last_by_check.get(check, pd.NaT)
        age = at - last if not pd.isna(last) else pd.NaT
        if not pd.isna(ok) and not bool(ok):
            status = "error"
        elif pd.isna(age) or age > stale:
            status = "stale"
        else:
            status = "ok"
        rows.append((check, ok, last, age, status, legacy, f"healthcheck:status = {ok}"))
    hs = frame_or_empty(frames, "health_status")
    for _, row in hs.iterrows():
        text = str(row.get("status", "")).strip()
        ttl = row.get("ttl", np.nan)
        age = pd.Timedelta(seconds=HEALTH_STATUS_TTL - float(ttl)) if not pd.isna(ttl) else pd.NaT
        last = at - age if not pd.isna(age) else pd.NaT
        status = "ok" if text == "OK" else "error" if text == "ERROR" else "warn"
        why = ""
        if not pd.isna(age) and age > old:
            why = f"untouched for more than {human_duration(old)} (leftover_after)"
        rows.append((str(row.get("key", "health.status")), text == "OK", last, age, status, why, text))
    df = pd.DataFrame(rows, columns=["check", "ok", "lastcheck", "age", "status", "why", "detail"])
    df["check"] = df["check"].astype("string")
    df["ok"] = df["ok"].astype("boolean")
    df["lastcheck"] = pd.to_datetime(df["lastcheck"], utc=True).astype("datetime64[ns, UTC]")
    df["age"] = _timedeltas(df["age"]).dt.round("ms")
    df["status"] = pd.Categorical(df["status"], dtype=STATUS_DTYPE)
    _mark(df, df["why"].fillna(""))
    df["detail"] = df["detail"].astype("string")
    cols = ["check", "ok", "lastcheck", "age", "status", "signal", "why", "detail"]
    return _current_first(df[cols], [], []).reset_index(drop=True)


def _pending(frames: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    parts = []
    for name in ("jobs", "command_queues", "worker_queues", "worker_jobs"):
        df = frame_or_empty(frames, name)
        if df.empty or "state" not in df.columns:
            continue
        sub = df.loc[df["state"].astype("string").isin(JobState.IN_FLIGHT).fillna(False).to_numpy()]
        if not sub.empty:
            parts.append(sub.assign(family=name))
    if not parts:
        return pd.DataFrame()
    return pd.concat(parts, ignore_index=True)


STUCK_COLUMNS = ("guid", "cmd", "state", "nid", "age", "timeout", "family", "over", "signal", "why")


def stuck_jobs(
    frames: Mapping[str, pd.DataFrame],
    now: object | None = None,
    *,
    leftover_after: Duration = DEFAULT_LEFTOVER_AFTER,
) -> pd.DataFrame:
    """SCHEDULED or STARTED jobs older than their own ``timeout`` (600 s when unset).

    Age counts from ``timeCreate`` (legacy rows: ``timeStart``, then the creation time). One row
    per guid (the most advanced copy: STARTED over SCHEDULED), with ``age`` and ``timeout``
    (``Timedelta``), ``family`` (the family it was seen in), ``over`` (age / timeout), and
    ``signal``/``why``: a job older than ``leftover_after`` (default 7 days) is a leftover (a
    copy nothing will ever finish), not a current problem. Current jobs come first.

    >>> stuck_jobs(admin.load_all()).query("signal == 'current'")   # doctest: +SKIP
    """
    at = _now(now)
    old = as_timedelta(leftover_after, "leftover_after")
    df = _pending(frames)
    if df.empty:
        empty = pd.DataFrame({c: [] for c in STUCK_COLUMNS})
        empty = empty.astype({"guid": "string", "cmd": "string", "state": pd.CategoricalDtype(JobState.ALL),
                              "nid": "Int64", "family": "string",
                              "over": "float64", "why": "string"})
        empty["age"] = empty["age"].astype("timedelta64[ns]")
        empty["timeout"] = empty["timeout"].astype("timedelta64[ns]")
        empty["signal"] = pd.Categorical([], dtype=SIGNAL_DTYPE)
        return empty
    created = utc_column(df["timeCreate"]) if "timeCreate" in df else None
    if created is None:
        created = utc_column(df["timeStart"])
    elif "timeStart" in df:
        created = created.fillna(utc_column(df["timeStart"]))
    age = age_column(at, created)
    timeout = pd.to_numeric(df.get("timeout"), errors="coerce").astype("float64")
    timeout = timeout.where(timeout > 0, DEFAULT_JOB_TIMEOUT).fillna(DEFAULT_JOB_TIMEOUT)
    df = df.assign(age=age, timeout=pd.to_timedelta(timeout, unit="s"))
    df["over"] = (df["age"] / df["timeout"]).astype("float64").round(1)
    df = df.loc[(df["age"] > df["timeout"]).fillna(False).to_numpy(dtype=bool)]
    rank = (df["state"].astype("string") == "STARTED").astype("int64")
    df = df.assign(_rank=rank).sort_values(["_rank", "age"], ascending=False, kind="stable")
    if "guid" in df.columns:
        has_guid = df["guid"].notna().to_numpy()
        df = pd.concat([df.loc[has_guid].drop_duplicates("guid"), df.loc[~has_guid]])
    df = df.drop(columns="_rank")
    _mark(df, leftover_reason(df["age"], old))
    return _current_first(df, ["age"], [False]).reset_index(drop=True)


def stale_workers(
    frames: Mapping[str, pd.DataFrame],
    now: object | None = None,
    stale_after: Duration = DEFAULT_STALE_AFTER,
    *,
    leftover_after: Duration = DEFAULT_LEFTOVER_AFTER,
) -> pd.DataFrame:
    """Worker registrations (``workers:worker:<q>:<wname>``) with their queue's heartbeat age.

    ``stale`` is true when the queue's heartbeat is older than ``stale_after`` or missing: the
    worker is dead or its key outlived it (jsagent only cleans them at start, spec §6.4).
    ``age`` is a ``Timedelta``; a registration whose heartbeat is older than ``leftover_after``
    is a leftover (``signal``/``why``).

    >>> stale_workers(admin.load_all()).query("stale")          # doctest: +SKIP
    """
    reg = frame_or_empty(frames, "worker_registry")
    stale = as_timedelta(stale_after, "stale_after")
    beats = heartbeat_ages(frames, now, stale_after, leftover_after=leftover_after)
    beats = beats.loc[beats["beat"] == "heartbeat", ["queue", "heartbeat", "age", "why"]]
    beats = beats.drop_duplicates("queue")
    if reg.empty:
        out = pd.DataFrame({c: [] for c in ("key", "queue", "worker", "heartbeat", "age", "stale", "why")})
        out["age"] = out["age"].astype("timedelta64[ns]")
        out["signal"] = pd.Categorical([], dtype=SIGNAL_DTYPE)
        return out
    out = reg[["key", "queue", "worker"]].copy()
    out["queue"] = out["queue"].astype("string")
    beats = beats.assign(queue=beats["queue"].astype("string"))
    out = out.merge(beats, on="queue", how="left")
    out["stale"] = (out["age"].isna() | (out["age"] > stale)).astype("boolean")
    _mark(out, out["why"].fillna(""))
    return out


_Cells: TypeAlias = "pd.Series | np.ndarray | str"
"""One health column: a Series, an array, or one value for every row."""


def _rows(component: _Cells, kind: _Cells, status: _Cells, age: _Cells, why: _Cells, detail: _Cells) -> pd.DataFrame:
    return pd.DataFrame(
        {"component": component, "kind": kind, "status": status, "age": age, "why": why, "detail": detail}
    )


def _seconds_text(age: pd.Series) -> pd.Series:
    return pd.Series([human_duration(a) for a in age], index=age.index, dtype="string")


def grid_health_with_info(
    frames: Mapping[str, pd.DataFrame],
    now: object | None = None,
    stale_after: Duration = DEFAULT_STALE_AFTER,
    *,
    leftover_after: Duration = DEFAULT_LEFTOVER_AFTER,
    client: Any = None,
    infos: Mapping[str, LoadInfo] | None = None,
) -> Analysed[HealthInfo]:
    """One sortable frame of everything that can be late or broken, current problems first, and
    the :class:`~jsadmin.analytics.info.HealthInfo` it was judged by (``time``, ``stale_after`` and
    ``leftover_after`` as ``Timedelta``: what ``plot_heartbeat_age`` draws).

    Columns ``component``, ``kind`` (``heartbeat``, ``watchdog``, ``worker``, ``queue``,
    ``healthcheck``, ``job``), ``status`` (ordered category ok < warn < stale < error),
    ``signal`` (``current`` < ``leftover``), ``age`` (``Timedelta``), ``why`` (what makes a row a
    leftover: a legacy/dead family, or older than ``leftover_after``, default 7 days) and
    ``detail``. Rows sort by signal, then worst status, then kind (heartbeats and workers before
    queues, health checks and jobs: causes before symptoms), then oldest. A heartbeat older than
    ``DEAD_AFTER`` (10) x ``stale_after`` is an error (a dead worker); queues are warn when their
    oldest entry is older than ``stale_after``, stale past 5x; stuck jobs are error. A queue the
    load capped (``infos``: ``{family: LoadInfo}`` of the loads, see ``load_all_with_info``)
    reports its true length; its oldest entry is read with ``client`` (one bounded
    ``LINDEX 0``) when given, else the queue is warn ("oldest entry not loaded").
    :func:`leftovers` summarises the leftover rows (count and age per kind and reason).

    >>> health = grid_health_with_info(admin.load_all(), stale_after=60)   # doctest: +SKIP
    >>> plot_heartbeat_age(health)                  # threshold drawn at 60 s     # doctest: +SKIP
    """
    at = _now(now)
    stale = as_timedelta(stale_after, "stale_after")
    old = as_timedelta(leftover_after, "leftover_after")
    parts = []
    beats = heartbeat_ages(frames, at, stale, leftover_after=old)
    if not beats.empty:
        comp = beats["worker"].fillna(beats["queue"]).astype("string")
        detail = np.where(
            beats["heartbeat"].isna(),
            "watchdog 0: started, not looping yet",
            "last beat " + beats["heartbeat"].dt.strftime("%Y-%m-%d %H:%M:%S UTC").fillna(""),
        )
        dead = (beats["age"] > DEAD_AFTER * stale).fillna(False).to_numpy(dtype=bool)
        status = np.where(dead, "error", beats["status"].astype(str))
        detail = np.where(dead, "dead: no beat for " + _seconds_text(beats["age"]) + "; " + detail, detail)
        parts.append(_rows(comp, beats["beat"], status, beats["age"], beats["why"], detail))
    workers = stale_workers(frames, at, stale, leftover_after=old)
    if not workers.empty:
        parts.append(
            _rows(
                workers["key"].astype("string"),
                "worker",
                np.where(workers["stale"].fillna(True), "stale", "ok"),
                workers["age"],
                workers["why"],
                "queue "
                + workers["queue"].fillna("?")
                + " heartbeat "
                + np.where(workers["age"].isna(), "missing", _seconds_text(workers["age"]) + " ago"),
            )
        )
    sampled = depths_from_frames_with_info(frames, at, client=client, infos=infos)
    depths = sampled.frame
    if not depths.empty:
        age = depths["oldest_age"]
        unknown = depths["key"].isin(list(sampled.info.oldest_unknown or ())).to_numpy(dtype=bool)
        status = np.where(
            (age > 5 * stale).fillna(False),
            "stale",
            np.where((age > stale).fillna(False).to_numpy(dtype=bool) | unknown, "warn", "ok"),
        )
        why = pd.Series(np.where((age > old).fillna(False), f"oldest entry older than {human_duration(old)} "
                                 "(leftover_after)", ""), index=depths.index)
        parts.append(
            _rows(
                depths["key"],
                "queue",
                status,
                age,
                why,
                depths["length"].astype(str)
                + " queued ("
                + depths["kind"]
                + ")"
                + np.where(unknown, "; oldest entry not loaded", ""),
            )
        )
    checks = healthchecks(frames, at, stale, leftover_after=old)
    if not checks.empty:
        parts.append(
            _rows(
                checks["check"],
                "healthcheck",
                checks["status"].astype(str),
                checks["age"],
                checks["why"],
                checks["detail"],
            )
        )
    stuck = stuck_jobs(frames, at, leftover_after=old)
    if not stuck.empty:
        what = jumpscript_ids(stuck) if "cmd" in stuck else pd.Series("?", index=stuck.index)
        parts.append(
            _rows(
                stuck["guid"].astype("string") if "guid" in stuck else "?",
                "job",
                "error",
                stuck["age"],
                stuck["why"],
                stuck["state"].astype(str)
                + " "
                + what.astype(str)
                + " on nid "
                + stuck["nid"].astype("string").fillna("?")
                + ", timeout "
                + _seconds_text(stuck["timeout"])
                + " ("
                + stuck["family"]
                + ")",
            )
        )
    nonempty = [p for p in parts if not p.empty]
    out = pd.concat(nonempty, ignore_index=True) if nonempty else pd.DataFrame({c: [] for c in HEALTH_COLUMNS})
    out["component"] = out["component"].astype("string")
    out["kind"] = out["kind"].astype("string")
    out["status"] = pd.Categorical(out["status"], dtype=STATUS_DTYPE)
    out["age"] = _timedeltas(out["age"])
    out["why"] = out["why"].astype("string").fillna("")
    out["signal"] = signal_of(out["why"])
    out["detail"] = out["detail"].astype("string")
    rank = out["kind"].map(KIND_RANK).fillna(len(KIND_RANK)).astype("int64")
    out = out.assign(_rank=rank).sort_values(
        ["signal", "status", "_rank", "age"], ascending=[True, False, True, False], na_position="last", kind="stable"
    )
    out = out[list(HEALTH_COLUMNS)].reset_index(drop=True)
    return Analysed(out, HealthInfo(at, stale_after=stale, leftover_after=old))


grid_health = mirrored(grid_health_with_info, """The frame of :func:`grid_health_with_info` (its
    :class:`~jsadmin.analytics.info.HealthInfo` mirrored in ``attrs`` for one release, deprecated).

    >>> h = grid_health(admin.load_all(), stale_after=60)          # doctest: +SKIP
    >>> h[(h.signal == "current") & (h.status >= "stale")]          # doctest: +SKIP
    """)


def leftovers(health: pd.DataFrame) -> pd.DataFrame:
    """The leftover section of a :func:`grid_health` frame: one row per ``kind`` and ``why``
    with ``count``, ``newest`` and ``oldest`` age (``Timedelta``), most numerous first.

    >>> leftovers(grid_health(admin.load_all()))                    # doctest: +SKIP
           kind                                              why  count   newest   oldest
    """
    cols = ["kind", "why", "count", "newest", "oldest"]
    if health.empty or "signal" not in health:
        return pd.DataFrame({c: [] for c in cols})
    left = health[health["signal"].astype(str) == "leftover"]
    if left.empty:
        return pd.DataFrame({c: [] for c in cols})
    out = (
        left.groupby(["kind", "why"], observed=True, sort=False)["age"]
        .agg(count="size", newest="min", oldest="max")
        .reset_index()
    )
    out["count"] = out["count"].astype("int64")
    return out.sort_values(["count", "oldest"], ascending=False, kind="stable").reset_index(drop=True)
