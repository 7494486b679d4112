"""Record what Redis forgets: finished jobs, queue depths and heartbeat ages, to local Parquet.

A finished job's final copy lives in Redis for about a minute (``queues:jobqueue:<guid>`` 60 s,
``workers:jobs:<id>`` 60 s for failed and node-local jobs, ``jobs:<gid>`` until the next cleanup;
spec §4.7, §7). The :class:`Recorder` polls with bounded, read-only commands — one
``SCAN … COUNT`` pass per poll, ``HSCAN``/windowed ``LRANGE``/``GET`` through ``Admin.load(…, keys=…)``
and pipelined ``LLEN`` + ``LINDEX 0`` — and appends what it has not seen yet to the Parquet
dataset of :mod:`jsadmin.analytics.history`. It never writes to Redis.

Caveat (the real protocol, not the recorder): an OK job with ``wait=false`` and ``log=false`` leaves
no final copy in Redis at all (spec §6.4), so no poller can see it.

>>> rec = Recorder(admin, "rec/", interval=1.0).start()    # notebook: background thread   # doctest: +SKIP
>>> rec.stop(); jsadmin.history("rec/")["jobs"].shape                                          # doctest: +SKIP
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pandas as pd

from .. import keys
from ..catalog import classify, families_of, queue_families
from ..domain import JobState
from ..scan import raw_client, scan_keys
from ._common import JOB_FAMILIES, as_seconds, utc_now
from .history import read_table, write_table
from .jobs import best_first, copy_rank
from .liveness import heartbeat_ages
from .queues import depth_frame, sample_queues

log = logging.getLogger("jsadmin")

FORGET_AFTER = 900.0
"""Seconds after which a guid no longer present in Redis is dropped from the recorder's memory."""
_QUEUE_FAMILIES = tuple(queue_families())
_BEAT_FAMILIES = families_of("heartbeat")


def _check_admin(admin: Any) -> Any:
    if isinstance(admin, str | os.PathLike):
        raise TypeError(
            "Recorder needs an Admin, not a URL: jsadmin.connect(url, readonly=True).record(out) opens one"
        )
    if not hasattr(admin, "load") or not hasattr(admin, "redis"):
        raise TypeError("Recorder needs a jsadmin Admin")
    return admin


class Recorder:
    """Poll one JumpScale Redis and append finished jobs, queue depths and heartbeats to Parquet.

    ``admin``: an ``Admin`` (a URL is opened by ``jsadmin.connect(url, readonly=True)``, or
    ``jsadmin record --url``, not here: analytics sit below ``admin.py``). ``out_dir``: the history
    directory (created). ``interval``: seconds between polls. Use :meth:`poll` for one poll,
    :meth:`run` to block, or :meth:`start`/:meth:`stop` for a background thread (notebooks).
    A restarted recorder reads the guids it already wrote, so nothing is recorded twice.

    >>> with Recorder(jsadmin.connect("redis://master", readonly=True), "rec/", interval=2).start() as rec:   # doctest: +SKIP
    ...     time.sleep(60)
    >>> rec.stats                                                            # doctest: +SKIP
    {'polls': 30, 'jobs': 412, 'queue_samples': 240, 'heartbeat_samples': 120, 'errors': 0, ...}
    """

    def __init__(
        self,
        admin: Any,
        out_dir: str | os.PathLike[str],
        interval: float = 1.0,
        *,
        scan_count: int = 1000,
    ) -> None:
        if not interval > 0:
            raise ValueError(f"interval must be > 0 seconds, got {interval!r}")
        self.admin = _check_admin(admin)
        self.out_dir = Path(out_dir)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.interval = float(interval)
        self.scan_count = scan_count
        self.stats: dict[str, Any] = {
            "polls": 0,
            "jobs": 0,
            "queue_samples": 0,
            "heartbeat_samples": 0,
            "errors": 0,
            "last_error": None,
            "last_poll_seconds": None,
        }
        self._seen: dict[str, tuple[int, float]] = self._known_guids()
        self._queue_keys: set[str] = set()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ state
    def _known_guids(self) -> dict[str, tuple[int, float]]:
        tbl = read_table(self.out_dir, "jobs")
        if tbl.num_rows == 0:
            return {}
        df = tbl.select(["guid", "state", "timeStop", "captured"]).to_pandas()
        recent = df["captured"] >= utc_now() - pd.Timedelta(seconds=FORGET_AFTER)
        df = df.loc[recent.to_numpy()]
        ranks = copy_rank(df["state"], df["timeStop"])
        now = time.monotonic()
        seen: dict[str, tuple[int, float]] = {}
        for guid, rank in zip(df["guid"].tolist(), ranks.tolist(), strict=True):
            if guid is not None and rank > seen.get(guid, (-1, 0.0))[0]:
                seen[guid] = (rank, now)
        return seen

    @property
    def running(self) -> bool:
        """True while the background thread is polling."""
        return self._thread is not None and self._thread.is_alive()

    # ------------------------------------------------------------------ one poll
    def _classified_keys(self) -> dict[str, list[bytes]]:
        raw = raw_client(self.admin.redis)
        wanted = set(JOB_FAMILIES) | set(_QUEUE_FAMILIES) | set(_BEAT_FAMILIES)
        found: dict[str, list[bytes]] = {name: [] for name in wanted}
        for key in scan_keys(raw, count=self.scan_count):
            name = classify(key)
            if name in wanted:
                found[name].append(key)
        return found

    def _load(self, name: str, key_list: list[bytes]) -> pd.DataFrame:
        if not key_list:
            return pd.DataFrame()
        return self.admin.load(name, keys=key_list)

    def _new_jobs(self, found: dict[str, list[bytes]], now: pd.Timestamp) -> pd.DataFrame:
        parts = []
        for name in JOB_FAMILIES:
            df = self._load(name, found[name])
            if df.empty:
                continue
            final = df["state"].astype("string").isin(JobState.FINAL).fillna(False)
            df = df.loc[final.to_numpy() & df["guid"].notna().to_numpy()]
            if not df.empty:
                parts.append(df.assign(family=name))
        if not parts:
            return pd.DataFrame()
        jobs = pd.concat(parts, ignore_index=True)
        jobs = jobs.iloc[best_first(jobs)].drop_duplicates("guid")
        jobs["_rank"] = copy_rank(jobs["state"], jobs["timeStop"])
        tick = time.monotonic()
        keep = []
        for i, (guid, rank) in enumerate(
            zip(jobs["guid"].tolist(), jobs["_rank"].tolist(), strict=True)
        ):
            known = self._seen.get(guid)
            if known is None or rank > known[0]:
                keep.append(i)
                self._seen[guid] = (rank, tick)
            else:
                self._seen[guid] = (known[0], tick)
        jobs = jobs.iloc[keep].drop(columns="_rank")
        return jobs.assign(captured=now)

    def _forget(self) -> None:
        cutoff = time.monotonic() - FORGET_AFTER
        stale = [g for g, (_, seen) in self._seen.items() if seen < cutoff]
        for guid in stale:
            del self._seen[guid]

    def _depths(
        self, found: dict[str, list[bytes]], beat_frames: dict[str, pd.DataFrame], now: pd.Timestamp
    ) -> pd.DataFrame:
        """Depth of every queue seen now or before (Redis deletes empty lists: those are 0)."""
        for name in _QUEUE_FAMILIES:
            self._queue_keys.update(k.decode() if isinstance(k, bytes) else k for k in found[name])
        beats = beat_frames.get("worker_heartbeat")
        if beats is not None and not beats.empty:
            self._queue_keys.update(keys.worker_queue(str(q)) for q in beats["queue"].dropna())
        samples = sample_queues(self.admin.redis, sorted(self._queue_keys))
        return depth_frame(samples, now=now)

    def poll(self) -> dict[str, int]:
        """One read-only poll; append what is new. Returns the rows written per table.

        >>> Recorder(admin, "rec/").poll()     # doctest: +SKIP
        {'jobs': 12, 'queues': 9, 'heartbeats': 4}
        """
        with self._lock:
            started = time.perf_counter()
            now = utc_now()
            found = self._classified_keys()
            jobs = self._new_jobs(found, now)
            beat_frames = {n: self._load(n, found[n]) for n in _BEAT_FAMILIES}
            depths = self._depths(found, beat_frames, now)
            beats = heartbeat_ages(beat_frames, now=now).assign(time=now)
            # history tables keep ages in float seconds (QUEUE_SCHEMA / HEARTBEAT_SCHEMA)
            beats = beats.assign(age=as_seconds(beats["age"]))[["queue", "worker", "beat", "heartbeat", "age", "time"]]
            depths = depths.assign(oldest_age=as_seconds(depths["oldest_age"]))
            written = {"jobs": len(jobs), "queues": len(depths), "heartbeats": len(beats)}
            if len(jobs):
                write_table(self.out_dir, "jobs", jobs)
            if len(depths):
                write_table(self.out_dir, "queues", depths.assign(time=now))
            if len(beats):
                write_table(self.out_dir, "heartbeats", beats)
            self._forget()
            self.stats["polls"] += 1
            self.stats["jobs"] += written["jobs"]
            self.stats["queue_samples"] += written["queues"]
            self.stats["heartbeat_samples"] += written["heartbeats"]
            self.stats["last_poll_seconds"] = round(time.perf_counter() - started, 4)
            return written

    # ------------------------------------------------------------------ loops
    def run(self, duration: float | None = None) -> dict[str, Any]:
        """Poll every ``interval`` seconds until :meth:`stop` or ``duration`` seconds; return stats.

        A failing poll (e.g. a connection blip) is logged and counted in ``stats["errors"]``;
        the loop goes on.
        """
        deadline = None if duration is None else time.monotonic() + float(duration)
        while not self._stop.is_set():
            tick = time.monotonic()
            try:
                self.poll()
            except Exception as exc:  # keep recording through transient failures
                self.stats["errors"] += 1
                self.stats["last_error"] = f"{type(exc).__name__}: {exc}"
                log.warning("jsadmin recorder: poll failed: %s", self.stats["last_error"])
            if deadline is not None and time.monotonic() >= deadline:
                break
            pause = self.interval - (time.monotonic() - tick)
            if deadline is not None:
                pause = min(pause, deadline - time.monotonic())
            if pause > 0:
                self._stop.wait(pause)
        return dict(self.stats)

    def start(self, duration: float | None = None) -> Recorder:
        """Run in a daemon thread (returns ``self``; call :meth:`stop` to end it)."""
        if self.running:
            raise RuntimeError("this Recorder is already running")
        self._stop.clear()
        self._thread = threading.Thread(
            target=self.run, args=(duration,), name="jsadmin-recorder", daemon=True
        )
        self._thread.start()
        return self

    def stop(self, timeout: float | None = 30.0) -> dict[str, Any]:
        """Stop the background thread (after its current poll) and return the stats."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        return dict(self.stats)

    def close(self) -> None:
        """Stop the background thread (the Admin stays open: it belongs to the caller)."""
        self.stop()

    def __enter__(self) -> Recorder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        url = getattr(self.admin, "url", "?")
        return (
            f"Recorder({url} -> {self.out_dir}, every {self.interval:g}s, {state}, "
            f"{self.stats['polls']} polls, {self.stats['jobs']} jobs)"
        )


def run_recorder(
    admin: Any,
    out: str | os.PathLike[str],
    interval: float = 1.0,
    duration: float | None = None,
) -> int:
    """CLI entry point of ``jsadmin record``: record ``admin`` into ``out`` until Ctrl-C or ``duration``.

    ``admin`` is opened read-only by the caller (the CLI: ``--url``, ``$JSADMIN_URL``, else the
    embedded demo grid) and closed here. Prints one summary line to stderr and returns the process
    exit status (0; 1 when every poll failed).

    >>> run_recorder(jsadmin.connect("redis://master:9999", readonly=True), "rec/", duration=60)   # doctest: +SKIP
    0
    """
    recorder = Recorder(admin, out, interval)
    try:
        recorder.run(duration)
    except KeyboardInterrupt:
        pass
    finally:
        recorder.stop()
        admin.close()
    s = recorder.stats
    print(
        f"jsadmin record: {s['polls']} polls, {s['jobs']} finished jobs, "
        f"{s['queue_samples']} queue samples, {s['heartbeat_samples']} heartbeat samples "
        f"-> {recorder.out_dir} ({s['errors']} failed polls)",
        file=sys.stderr,
    )
    return 1 if s["polls"] == 0 and s["errors"] else 0
