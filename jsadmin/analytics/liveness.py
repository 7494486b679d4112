"""Liveness over loaded frames: heartbeats, health checks, stuck jobs, stale workers (pure pandas).

Everything takes the ``dict`` of frames of ``Admin.load_all()`` (missing families are treated as
empty) and a ``now`` (default: the current UTC time) and returns a DataFrame.
:func:`grid_health` folds them into one sortable frame.

>>> frames = admin.load_all()                                 # doctest: +SKIP
>>> grid_health(frames, stale_after=120).head()               # doctest: +SKIP
  component       kind status    age  detail
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from ._common import UNFINISHED_STATES, add_jumpscript, as_utc, frame_or_empty, utc_column
from .queues import depths_from_frames

STATUSES = ("ok", "warn", "stale", "error")
STATUS_DTYPE = pd.CategoricalDtype(list(STATUSES), ordered=True)
HEALTH_COLUMNS = ("component", "kind", "status", "age", "detail")
DEFAULT_STALE_AFTER = 120.0
"""Seconds without a heartbeat before a worker queue counts as stale (idle workers beat every ~10 s)."""
DEFAULT_JOB_TIMEOUT = 600.0
HEALTH_STATUS_TTL = 300.0
"""``health.status`` is SET with ``ex=300``; its age is ``300 - TTL``."""


def _status(age: pd.Series, stale_after: float) -> pd.Series:
    status = np.where(age > stale_after, "stale", np.where(age > stale_after / 2, "warn", "ok"))
    status = np.where(age.isna().to_numpy(), "warn", status)
    return pd.Series(status, index=age.index)


def _now(now: object | None) -> pd.Timestamp:
    return as_utc(now)


def heartbeat_ages(
    frames: Mapping[str, pd.DataFrame],
    now: object | None = None,
    stale_after: float = DEFAULT_STALE_AFTER,
) -> pd.DataFrame:
    """Heartbeat age per worker queue (``workers:heartbeat``) and per JS6 worker (``workers:watchdog``).

    Columns: ``queue``, ``worker`` (watchdog only), ``source`` (``heartbeat``/``watchdog``),
    ``heartbeat``, ``age`` (seconds), ``status`` (ok / warn past ``stale_after/2`` / stale past
    ``stale_after``; a watchdog ``0`` — started, never looped — is warn with no age).

    >>> heartbeat_ages(admin.load_all(), stale_after=60)        # doctest: +SKIP
    """
    at = _now(now)
    parts = []
    hb = frame_or_empty(frames, "worker_heartbeat")
    if not hb.empty:
        parts.append(
            pd.DataFrame(
                {
                    "queue": hb["queue"].astype("string"),
                    "worker": pd.array([pd.NA] * len(hb), dtype="string"),
                    "source": "heartbeat",
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
                    "source": "watchdog",
                    "heartbeat": utc_column(wd["heartbeat"]),
                }
            )
        )
    if not parts:
        out = pd.DataFrame(
            {
                "queue": pd.array([], dtype="string"),
                "worker": pd.array([], dtype="string"),
                "source": pd.array([], dtype="string"),
                "heartbeat": pd.Series([], dtype="datetime64[ns, UTC]"),
            }
        )
    else:
        out = pd.concat(parts, ignore_index=True)
    out["source"] = out["source"].astype("string")
    out["heartbeat"] = out["heartbeat"].astype("datetime64[ns, UTC]")
    out["age"] = (at - out["heartbeat"]).dt.total_seconds().astype("float64")
    out["status"] = pd.Categorical(_status(out["age"], stale_after), dtype=STATUS_DTYPE)
    return out.sort_values("age", ascending=False, na_position="first").reset_index(drop=True)


def healthchecks(
    frames: Mapping[str, pd.DataFrame],
    now: object | None = None,
    stale_after: float = DEFAULT_STALE_AFTER,
) -> pd.DataFrame:
    """Health check state and age: legacy ``healthcheck:status``/``lastcheck`` and ``health.status``.

    Columns: ``check``, ``ok`` (boolean), ``lastcheck``, ``age``, ``status`` (error when not ok,
    stale when older than ``stale_after``), ``detail``.

    >>> healthchecks(admin.load_all())                           # doctest: +SKIP
    """
    at = _now(now)
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
    for check in sorted(set(ok_by_check) | set(last_by_check)):
        ok = ok_by_check.get(check, pd.NA)
        last = last_by_check.get(check, pd.NaT)
        age = (at - last).total_seconds() if not pd.isna(last) else np.nan
        if not pd.isna(ok) and not bool(ok):
            status = "error"
        elif pd.isna(age) or age > stale_after:
            status = "stale"
        else:
            status = "ok"
        rows.append((check, ok, last, age, status, f"healthcheck:status = {ok}"))
    hs = frame_or_empty(frames, "health_status")
    for _, row in hs.iterrows():
        text = str(row.get("status", "")).strip()
        ttl = row.get("ttl", np.nan)
        age = HEALTH_STATUS_TTL - float(ttl) if not pd.isna(ttl) else np.nan
        last = at - pd.Timedelta(seconds=age) if not pd.isna(age) else pd.NaT
        status = "ok" if text == "OK" else "error" if text == "ERROR" else "warn"
        rows.append((str(row.get("key", "health.status")), text == "OK", last, age, status, text))
    df = pd.DataFrame(rows, columns=["check", "ok", "lastcheck", "age", "status", "detail"])
    df["check"] = df["check"].astype("string")
    df["ok"] = df["ok"].astype("boolean")
    df["lastcheck"] = pd.to_datetime(df["lastcheck"], utc=True).astype("datetime64[ns, UTC]")
    df["age"] = df["age"].astype("float64")
    df["status"] = pd.Categorical(df["status"], dtype=STATUS_DTYPE)
    df["detail"] = df["detail"].astype("string")
    return df


def _pending(frames: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    parts = []
    for name in ("jobs", "command_queues", "worker_queues", "worker_jobs"):
        df = frame_or_empty(frames, name)
        if df.empty or "state" not in df.columns:
            continue
        sub = df.loc[df["state"].astype("string").isin(UNFINISHED_STATES).fillna(False).to_numpy()]
        if not sub.empty:
            parts.append(sub.assign(source=name))
    if not parts:
        return pd.DataFrame()
    return pd.concat(parts, ignore_index=True)


def stuck_jobs(frames: Mapping[str, pd.DataFrame], now: object | None = None) -> pd.DataFrame:
    """SCHEDULED or STARTED jobs older than their own ``timeout`` (600 s when unset).

    Age counts from ``timeCreate`` (legacy rows: ``timeStart``, then the creation time). One row
    per guid (the most advanced copy: STARTED over SCHEDULED), with ``age``, ``timeout``,
    ``source`` (the family it was seen in) and ``over`` (age / timeout).

    >>> stuck_jobs(admin.load_all())[["guid", "cmd", "state", "age", "source"]]   # doctest: +SKIP
    """
    at = _now(now)
    df = _pending(frames)
    if df.empty:
        return pd.DataFrame(
            columns=["guid", "cmd", "state", "nid", "age", "timeout", "source", "over"]
        )
    created = utc_column(df["timeCreate"]) if "timeCreate" in df else None
    if created is None:
        created = utc_column(df["timeStart"])
    elif "timeStart" in df:
        created = created.fillna(utc_column(df["timeStart"]))
    age = (at - created).dt.total_seconds()
    timeout = pd.to_numeric(df.get("timeout"), errors="coerce").astype("float64")
    timeout = timeout.where(timeout > 0, DEFAULT_JOB_TIMEOUT).fillna(DEFAULT_JOB_TIMEOUT)
    df = df.assign(age=age.astype("float64"), timeout=timeout)
    df["over"] = df["age"] / df["timeout"]
    df = df.loc[(df["age"] > df["timeout"]).to_numpy()]
    rank = (df["state"].astype("string") == "STARTED").astype("int64")
    df = df.assign(_rank=rank).sort_values(["_rank", "age"], ascending=False, kind="stable")
    if "guid" in df.columns:
        has_guid = df["guid"].notna().to_numpy()
        df = pd.concat([df.loc[has_guid].drop_duplicates("guid"), df.loc[~has_guid]])
    return df.drop(columns="_rank").sort_values("age", ascending=False).reset_index(drop=True)


def stale_workers(
    frames: Mapping[str, pd.DataFrame],
    now: object | None = None,
    stale_after: float = DEFAULT_STALE_AFTER,
) -> pd.DataFrame:
    """Worker registrations (``workers:worker:<q>:<wname>``) with their queue's heartbeat age.

    ``stale`` is true when the queue's heartbeat is older than ``stale_after`` or missing: the
    worker is dead or its key outlived it (jsagent only cleans them at start, spec §6.4).

    >>> stale_workers(admin.load_all()).query("stale")          # doctest: +SKIP
    """
    reg = frame_or_empty(frames, "worker_registry")
    beats = heartbeat_ages(frames, now, stale_after)
    beats = beats.loc[beats["source"] == "heartbeat", ["queue", "heartbeat", "age"]]
    beats = beats.drop_duplicates("queue")
    if reg.empty:
        return pd.DataFrame(columns=["key", "queue", "worker", "heartbeat", "age", "stale"])
    out = reg[["key", "queue", "worker"]].copy()
    out["queue"] = out["queue"].astype("string")
    beats = beats.assign(queue=beats["queue"].astype("string"))
    out = out.merge(beats, on="queue", how="left")
    out["stale"] = (out["age"].isna() | (out["age"] > stale_after)).astype("boolean")
    return out


def _rows(component, kind, status, age, detail) -> pd.DataFrame:
    return pd.DataFrame(
        {"component": component, "kind": kind, "status": status, "age": age, "detail": detail}
    )


def grid_health(
    frames: Mapping[str, pd.DataFrame],
    now: object | None = None,
    stale_after: float = DEFAULT_STALE_AFTER,
    client: Any = None,
) -> pd.DataFrame:
    """One sortable frame of everything that can be late or broken: worst first.

    Columns ``component``, ``kind`` (``heartbeat``, ``watchdog``, ``worker``, ``queue``,
    ``healthcheck``, ``job``), ``status`` (ordered category ok < warn < stale < error), ``age``
    (seconds) and ``detail``. Queues are warn when their oldest entry is older than
    ``stale_after``, stale past 5x; stuck jobs are error. A queue the load capped reports its
    true length; its oldest entry is read with ``client`` (one bounded ``LINDEX 0``) when given,
    else the queue is warn ("oldest entry not loaded").

    >>> h = grid_health(admin.load_all(), stale_after=60)          # doctest: +SKIP
    >>> h[h.status >= "stale"]                                     # doctest: +SKIP
    """
    at = _now(now)
    parts = []
    beats = heartbeat_ages(frames, at, stale_after)
    if not beats.empty:
        comp = beats["worker"].fillna(beats["queue"]).astype("string")
        detail = np.where(
            beats["heartbeat"].isna(),
            "watchdog 0: started, not looping yet",
            "last beat " + beats["heartbeat"].dt.strftime("%Y-%m-%d %H:%M:%S UTC").fillna(""),
        )
        parts.append(
            _rows(comp, beats["source"], beats["status"].astype(str), beats["age"], detail)
        )
    workers = stale_workers(frames, at, stale_after)
    if not workers.empty:
        parts.append(
            _rows(
                workers["key"].astype("string"),
                "worker",
                np.where(workers["stale"].fillna(True), "stale", "ok"),
                workers["age"],
                "queue "
                + workers["queue"].fillna("?")
                + " heartbeat "
                + np.where(
                    workers["age"].isna(), "missing", workers["age"].round(0).astype(str) + " s"
                ),
            )
        )
    depths = depths_from_frames(frames, at, client=client)
    if not depths.empty:
        age = depths["oldest_age"]
        unknown = depths["key"].isin(depths.attrs.get("oldest_unknown", [])).to_numpy(dtype=bool)
        status = np.where(age > 5 * stale_after, "stale", np.where((age > stale_after) | unknown, "warn", "ok"))
        parts.append(
            _rows(
                depths["key"],
                "queue",
                status,
                age,
                depths["length"].astype(str)
                + " queued ("
                + depths["kind"]
                + ")"
                + np.where(unknown, "; oldest entry not loaded", ""),
            )
        )
    checks = healthchecks(frames, at, stale_after)
    if not checks.empty:
        parts.append(
            _rows(
                checks["check"],
                "healthcheck",
                checks["status"].astype(str),
                checks["age"],
                checks["detail"],
            )
        )
    stuck = stuck_jobs(frames, at)
    if not stuck.empty:
        what = add_jumpscript(stuck) if "cmd" in stuck else pd.Series("?", index=stuck.index)
        parts.append(
            _rows(
                stuck["guid"].astype("string") if "guid" in stuck else "?",
                "job",
                "error",
                stuck["age"],
                stuck["state"].astype(str)
                + " "
                + what.astype(str)
                + " on nid "
                + stuck["nid"].astype("string").fillna("?")
                + ", timeout "
                + stuck["timeout"].round(0).astype(str)
                + " s ("
                + stuck["source"]
                + ")",
            )
        )
    if parts:
        out = pd.concat([p for p in parts if not p.empty], ignore_index=True)
    else:
        out = pd.DataFrame({c: [] for c in HEALTH_COLUMNS})
    out["component"] = out["component"].astype("string")
    out["kind"] = out["kind"].astype("string")
    out["status"] = pd.Categorical(out["status"], dtype=STATUS_DTYPE)
    out["age"] = pd.to_numeric(out["age"], errors="coerce").astype("float64")
    out["detail"] = out["detail"].astype("string")
    out = out.sort_values(
        ["status", "age"], ascending=[False, False], na_position="last", kind="stable"
    )
    out = out.reset_index(drop=True)
    out.attrs.update({"time": at, "stale_after": stale_after})
    return out
