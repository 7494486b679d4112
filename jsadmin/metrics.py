"""Prometheus metrics of one grid's Redis: ``jsadmin metrics --url URL --port 9760``.

A custom collector reads Redis on every scrape (nothing is cached or polled in between), only
with jsadmin's read path, and within a budget: one ``SCAN`` pass over at most ``max_scan`` keys,
at most ``max_keys`` keys per family and ``max_entries`` entries per key. When a cap is hit the
scrape says so (``jsadmin_scrape_truncated{family}``) instead of silently under-counting.

Metrics (gauges unless noted; ages and durations in seconds):

- ``jsadmin_up``: 1 when the scrape could read Redis, else 0 (the rest is then absent).
- ``jsadmin_queue_length{key,kind}``, ``jsadmin_queue_oldest_age_seconds{key,kind}``: every command
  queue and worker queue (``kind`` = command/worker), LLEN and the age of its first entry.
- ``jsadmin_heartbeat_age_seconds{queue,worker,beat}``: ``workers:heartbeat`` per worker queue
  (``worker`` empty) and ``workers:watchdog`` per JS6 worker (``beat`` = watchdog, legacy).
- ``jsadmin_job_copies{family,state}``: job entries per family and state (one job can have copies
  in several families); ``jsadmin_jobs{state}``: distinct jobs (by guid) in their latest state;
  ``jsadmin_leftover_jobs{state}``: the same for jobs nothing touched for ``leftover_after`` seconds
  (7 days; JumpScale leaves worker copies of unfinished jobs forever), kept out of ``jsadmin_jobs``.
- ``jsadmin_ecos{category}``, ``jsadmin_eco_occurrences{category}``: error conditions in
  ``eco:objects`` and the sum of their occurrence counters.
- ``jsadmin_job_run_time_seconds{jumpscript}`` (histogram): run time (``timeStop - timeStart``) of
  jobs that finished within ``recent`` seconds and are still in Redis; ``jumpscript`` is
  ``organization__name``.
- ``jsadmin_scrape_duration_seconds``, ``jsadmin_scrape_commands``, ``jsadmin_scrape_keys{family}``,
  ``jsadmin_scrape_truncated{family}``: what the scrape cost and whether a cap cut it short.

>>> from prometheus_client import CollectorRegistry, generate_latest
>>> registry = CollectorRegistry(); registry.register(GridCollector(admin))   # doctest: +SKIP
>>> print(generate_latest(registry).decode())                                 # doctest: +SKIP
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import pandas as pd
import redis

from .admin import connect
from .analytics import finished_jobs_with_info, heartbeat_ages, job_latency_with_info
from .analytics.history import history_infos
from .catalog import classify, family, job_families, queue_families
from .display.cost import CommandCounter
from .domain import copy_rank_of
from .extras import missing
from .scan import raw_client, scan_keys

try:
    from prometheus_client import CollectorRegistry, start_http_server
    from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily, Metric
except ImportError:  # pragma: no cover - without the [metrics] extra run_metrics_server says what to install
    HAVE_PROMETHEUS = False
else:
    HAVE_PROMETHEUS = True

READ_FAMILIES = ("worker_heartbeat", "worker_watchdog", "jobs", "command_queues", "worker_queues",
                 "worker_jobs", "job_results", "ecos")
"""Families one scrape reads."""
JOB_FAMILIES = job_families()
QUEUE_KINDS = queue_families()
MAX_SCAN = 200_000
"""Keys one scrape's ``SCAN`` pass may visit (200 ``SCAN ... COUNT 1000`` calls)."""
MAX_KEYS = 2_000
"""Keys read per family per scrape."""
MAX_ENTRIES = 5_000
"""Entries read per key (hash fields, list elements) per scrape."""
RECENT = 3_600.0
"""Finished jobs older than this (seconds, by ``timeStop``) stay out of the run-time histogram."""
LEFTOVER_AFTER = 7 * 86_400.0
"""A job none of whose timestamps is newer than this (seconds) counts as a leftover (``jsadmin_leftover_jobs``)."""
RUN_TIME_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0)
DEFAULT_PORT = 9760


def seconds(values: pd.Series) -> pd.Series:
    """Ages/durations as float seconds, whether the frame holds floats or ``Timedelta``.

    >>> seconds(pd.Series([pd.Timedelta("2min"), None])).tolist()
    [120.0, nan]
    """
    if pd.api.types.is_timedelta64_dtype(values.dtype):
        return values.dt.total_seconds().astype("float64")
    return pd.to_numeric(values, errors="coerce").astype("float64")


def _label(value: object, missing: str = "") -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and pd.isna(value)):
        return missing
    text = str(value)
    return text if text else missing


def jumpscript_label(category: object, cmd: object) -> str:
    """One identity per jumpscript, ``organization__name`` (``(blank)`` for a missing part).

    >>> jumpscript_label("jumpscale", "echo"), jumpscript_label(None, "x")
    ('jumpscale__echo', '(blank)__x')
    """
    return f"{_label(category, '(blank)')}__{_label(cmd, '(blank)')}"


def latest_states(frames: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """One row per job (index: guid): ``state``, its latest over all copies (the best copy by
    :func:`jsadmin.domain.copy_rank_of`, ties to the later family in a job's life), and ``last_seen``, the
    newest ``timeCreate``/``timeStart``/``timeStop`` of any copy. Copies without a guid are left out.

    >>> latest_states({"jobs": admin.load("jobs")})["state"].value_counts()   # doctest: +SKIP
    """
    parts = []
    for name in JOB_FAMILIES:
        df = frames.get(name)
        if df is None or df.empty or "guid" not in df or "state" not in df:
            continue
        stamps = [pd.to_datetime(df[c], utc=True, errors="coerce") for c in ("timeCreate", "timeStart", "timeStop")
                  if c in df]
        seen = pd.concat(stamps, axis=1).max(axis=1) if stamps else pd.Series(pd.NaT, index=df.index)
        parts.append(pd.DataFrame({"guid": df["guid"].astype("string"), "state": df["state"].astype("string"),
                                   "last_seen": seen.astype("datetime64[ns, UTC]")}))
    if not parts:
        return pd.DataFrame({"state": pd.Series([], dtype="string"),
                             "last_seen": pd.Series([], dtype="datetime64[ns, UTC]")})
    work = pd.concat(parts, ignore_index=True).dropna(subset=["guid"])
    work = work[work["guid"] != ""]
    newest = work.groupby("guid")["last_seen"].max()
    work["rank"] = work["state"].map(lambda s: copy_rank_of(s) if s is not pd.NA else -1)  # the domain's ranking
    work = work.sort_values("rank", kind="stable").drop_duplicates("guid", keep="last").set_index("guid")
    out = pd.DataFrame({"state": work["state"].fillna("(none)")})
    out["last_seen"] = newest.reindex(out.index)
    return out


class GridCollector:
    """Reads the grid on every ``collect()`` (i.e. every scrape), read-only and bounded.

    ``admin`` is a :class:`jsadmin.Admin` (``jsadmin.connect(url, readonly=True)``). Scrapes are
    serialised: two concurrent scrapes never double the load on Redis.

    >>> registry = CollectorRegistry(); registry.register(GridCollector(admin))   # doctest: +SKIP
    """

    def __init__(self, admin: Any, *, max_scan: int = MAX_SCAN, max_keys: int = MAX_KEYS,
                 max_entries: int = MAX_ENTRIES, stale_after: float = 120.0, recent: float = RECENT,
                 leftover_after: float = LEFTOVER_AFTER, buckets: Sequence[float] = RUN_TIME_BUCKETS) -> None:
        self.admin = admin
        self.max_scan, self.max_keys, self.max_entries = max_scan, max_keys, max_entries
        self.stale_after, self.recent, self.leftover_after = stale_after, recent, leftover_after
        self.buckets = tuple(sorted(buckets))
        self._lock = threading.Lock()
        self.last_error: BaseException | None = None

    def describe(self) -> Iterable[Any]:
        return []  # no read at registration time

    # -- reading ------------------------------------------------------------------------------
    def keyspace(self) -> tuple[dict[str, list[bytes]], dict[str, bool]]:
        """Keys per family from one capped ``SCAN`` pass; ``truncated`` per family (and ``scan``)."""
        raw = raw_client(self.admin.redis)
        found: dict[str, list[bytes]] = {name: [k.encode() for k in family(name).fixed_keys] for name in READ_FAMILIES}
        truncated = {name: False for name in (*READ_FAMILIES, "scan")}
        seen = {k for ks in found.values() for k in ks}
        for visited, key in enumerate(scan_keys(raw), start=1):
            if visited > self.max_scan:
                truncated["scan"] = True
                break
            name = classify(key)
            if name not in found or key in seen:
                continue
            seen.add(key)
            if len(found[name]) >= self.max_keys:
                truncated[name] = True
                continue
            found[name].append(key)
        return found, truncated

    def read(self) -> tuple[dict[str, pd.DataFrame], dict[str, int], dict[str, bool]]:
        """Frames of :data:`READ_FAMILIES` within the budget, keys read per family, truncation flags."""
        found, truncated = self.keyspace()
        frames: dict[str, pd.DataFrame] = {}
        for name in READ_FAMILIES:
            keys = found[name]
            # queues: the head, where the oldest entries wait (their age is the metric); else the newest
            keep = {"keep": "oldest"} if name in QUEUE_KINDS else {}
            df = frames[name] = self.admin.load(name, keys=keys, limit=self.max_entries, **keep)
            if "key" in df and len(df):
                per_key = df["key"].value_counts()
                if int(per_key.max()) >= self.max_entries:
                    truncated[name] = True
        return frames, {n: len(found[n]) for n in READ_FAMILIES}, truncated

    def queue_lengths(self, frames: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
        """``key, kind, length, oldest_age`` per queue: ``LLEN`` (pipelined) and the first entry's age."""
        now = pd.Timestamp.now(tz="UTC")
        rows = []
        raw = raw_client(self.admin.redis)
        for name, kind in QUEUE_KINDS.items():
            df = frames[name]
            if df.empty or "key" not in df:
                continue
            qkeys = sorted(df["key"].astype(str).unique())
            pipe = raw.pipeline(transaction=False)
            for k in qkeys:
                pipe.llen(k)
            lengths = pipe.execute(raise_on_error=False)
            first = df[df["position"] == 0] if "position" in df else df.groupby("key").head(1)
            created = first.set_index(first["key"].astype(str))
            for k, length in zip(qkeys, lengths, strict=True):
                if isinstance(length, Exception):
                    continue
                age = float("nan")
                if k in created.index:
                    row = created.loc[k]
                    row = row.iloc[0] if isinstance(row, pd.DataFrame) else row
                    stamp = row.get("timeCreate")
                    if (stamp is None or pd.isna(stamp)) and "timeStart" in row:
                        stamp = row.get("timeStart")
                    if stamp is not None and not pd.isna(stamp):
                        age = (now - pd.Timestamp(stamp)).total_seconds()
                rows.append({"key": k, "kind": kind, "length": int(length), "oldest_age": age})
        return pd.DataFrame(rows, columns=["key", "kind", "length", "oldest_age"])

    # -- metrics ------------------------------------------------------------------------------
    def collect(self) -> Iterator[Metric]:
        with self._lock:
            yield from self._collect()

    def _collect(self) -> Iterator[Metric]:
        started = time.perf_counter()
        up = GaugeMetricFamily("jsadmin_up", "1 when this scrape could read Redis, 0 when it failed")
        metrics: list[Metric] = []
        keys_read: dict[str, int] = {}
        truncated: dict[str, bool] = {}
        with CommandCounter(self.admin.redis, server_stats=False) as cost:
            try:
                frames, keys_read, truncated = self.read()
                metrics = list(self.metrics(frames))
                up.add_metric([], 1)
                self.last_error = None
            except (redis.exceptions.RedisError, OSError) as exc:
                self.last_error = exc
                up.add_metric([], 0)
        yield up
        yield from metrics
        took = GaugeMetricFamily("jsadmin_scrape_duration_seconds", "Seconds this scrape spent reading Redis")
        took.add_metric([], time.perf_counter() - started)
        yield took
        commands = GaugeMetricFamily("jsadmin_scrape_commands", "Redis commands this scrape sent (all reads)")
        commands.add_metric([], cost.commands)
        yield commands
        read = GaugeMetricFamily("jsadmin_scrape_keys", "Keys this scrape read, per family", labels=["family"])
        for name, n in keys_read.items():
            read.add_metric([name], n)
        yield read
        cut = GaugeMetricFamily("jsadmin_scrape_truncated",
                                "1 when a per-scrape cap (max_scan, max_keys, max_entries) cut this family short",
                                labels=["family"])
        for name, flag in truncated.items():
            cut.add_metric([name], 1 if flag else 0)
        yield cut

    def metrics(self, frames: Mapping[str, pd.DataFrame]) -> Iterator[Metric]:
        """The grid metrics computed from ``frames`` (one scrape's reads)."""
        queues = self.queue_lengths(frames)
        length = GaugeMetricFamily("jsadmin_queue_length", "Entries in a command or worker queue (LLEN)",
                                   labels=["key", "kind"])
        oldest = GaugeMetricFamily("jsadmin_queue_oldest_age_seconds",
                                   "Age of the oldest (first) entry of a queue, by its timeCreate", labels=["key", "kind"])
        for row in queues.itertuples(index=False):
            length.add_metric([row.key, row.kind], row.length)
            if row.length and not pd.isna(row.oldest_age):
                oldest.add_metric([row.key, row.kind], row.oldest_age)
        yield length
        yield oldest

        beats = heartbeat_ages(frames, stale_after=self.stale_after)
        hb = GaugeMetricFamily("jsadmin_heartbeat_age_seconds",
                               "Seconds since a worker queue's heartbeat (workers:heartbeat) or a JS6 worker's "
                               "watchdog entry (beat=watchdog, legacy)", labels=["queue", "worker", "beat"])
        for queue, worker, beat, age in zip(beats["queue"], beats["worker"], beats["beat"],
                                              seconds(beats["age"]), strict=True):
            if not pd.isna(age):
                hb.add_metric([_label(queue), _label(worker), _label(beat)], float(age))
        yield hb

        copies = GaugeMetricFamily("jsadmin_job_copies", "Job entries per family and state (a job can have "
                                   "copies in several families)", labels=["family", "state"])
        for name in JOB_FAMILIES:
            df = frames.get(name)
            if df is None or df.empty or "state" not in df:
                continue
            counts = df["state"].astype("string").fillna("(none)").value_counts()
            for state, n in counts.items():
                copies.add_metric([name, str(state)], int(n))
        yield copies
        latest = latest_states(frames)
        age = (pd.Timestamp.now(tz="UTC") - latest["last_seen"]).dt.total_seconds()
        old = age > self.leftover_after  # a job nothing touched for that long is a leftover, not work
        jobs = GaugeMetricFamily("jsadmin_jobs", "Distinct jobs (by guid) in Redis, by their latest state, "
                                 "without leftovers", labels=["state"])
        for state, n in latest.loc[~old.to_numpy(), "state"].value_counts().items():
            jobs.add_metric([str(state)], int(n))
        yield jobs
        left = GaugeMetricFamily("jsadmin_leftover_jobs", "Distinct jobs whose copies were all last touched more "
                                 "than leftover_after seconds ago (e.g. years-old worker copies)", labels=["state"])
        for state, n in latest.loc[old.to_numpy(), "state"].value_counts().items():
            left.add_metric([str(state)], int(n))
        yield left

        ecos = frames.get("ecos", pd.DataFrame())
        if "stub" in ecos and len(ecos):  # processed by loghandling: a 7-field stub without a category
            ecos = ecos.assign(category=ecos["category"].astype("string").mask(ecos["stub"].fillna(False).astype(bool),
                                                                               "(processed stub)"))
        count = GaugeMetricFamily("jsadmin_ecos", "Error conditions in eco:objects", labels=["category"])
        occ = GaugeMetricFamily("jsadmin_eco_occurrences", "Sum of the occurrence counters of the error "
                                "conditions in eco:objects", labels=["category"])
        if not ecos.empty:
            cat = ecos["category"].astype("string").fillna("(none)") if "category" in ecos else \
                pd.Series(["(none)"] * len(ecos))
            occurrences = pd.to_numeric(ecos["occurrences"], errors="coerce").fillna(0) if "occurrences" in ecos \
                else pd.Series([0] * len(ecos))
            work = pd.DataFrame({"category": cat.replace("", "(none)").to_numpy(),
                                 "occurrences": occurrences.to_numpy()})
            for category, part in work.groupby("category", sort=True):
                count.add_metric([str(category)], len(part))
                occ.add_metric([str(category)], float(part["occurrences"].sum()))
        yield count
        yield occ
        yield self.run_time_histogram(frames)

    def run_time_histogram(self, frames: Mapping[str, pd.DataFrame]) -> Metric:
        """``jsadmin_job_run_time_seconds{jumpscript}`` over jobs finished in the last ``recent`` seconds."""
        hist = HistogramMetricFamily("jsadmin_job_run_time_seconds",
                                     "Run time (timeStop - timeStart) of jobs finished recently and still in Redis",
                                     labels=["jumpscript"])
        lat = recent_run_times(frames, recent=self.recent)
        for name, part in lat.groupby("jumpscript", sort=True):
            values = part["run_time"].to_numpy()
            buckets = [(str(b), float((values <= b).sum())) for b in self.buckets]
            buckets.append(("+Inf", float(len(values))))
            hist.add_metric([str(name)], buckets=buckets, sum_value=float(values.sum()))
        return hist


def recent_run_times(frames: Mapping[str, pd.DataFrame], *, recent: float = RECENT,
                     now: pd.Timestamp | None = None) -> pd.DataFrame:
    """``jumpscript, run_time`` (seconds) of the finished jobs whose ``timeStop`` is within ``recent`` s.

    >>> recent_run_times(admin.load_all()).groupby("jumpscript").run_time.median()   # doctest: +SKIP
    """
    now = now if now is not None else pd.Timestamp.now(tz="UTC")
    finished = finished_jobs_with_info({n: frames[n] for n in JOB_FAMILIES if n in frames}, infos=history_infos(frames))
    lat = job_latency_with_info(finished.frame).frame
    if lat.empty or "run_time" not in lat:
        return pd.DataFrame({"jumpscript": pd.Series([], dtype="string"), "run_time": pd.Series([], dtype="float64")})
    run = seconds(lat["run_time"])
    stop = pd.to_datetime(lat["timeStop"], utc=True, errors="coerce")
    keep = run.notna() & (run >= 0) & stop.notna() & ((now - stop).dt.total_seconds() <= recent)
    names = [jumpscript_label(c, m) for c, m in zip(lat["category"], lat["cmd"], strict=True)]
    out = pd.DataFrame({"jumpscript": names, "run_time": run})
    return out[keep.to_numpy()].reset_index(drop=True)


# -- command line -------------------------------------------------------------------------------


def serve(admin: Any, port: int = DEFAULT_PORT, addr: str = "127.0.0.1", **options: Any) -> tuple[Any, Any]:
    """Serve ``/metrics`` for ``admin`` on ``addr:port`` in a background thread; returns (server, thread).

    >>> server, thread = serve(jsadmin.connect(url, readonly=True), port=9760)   # doctest: +SKIP
    >>> server.shutdown()                                                      # doctest: +SKIP
    """
    registry = CollectorRegistry(auto_describe=False)
    registry.register(GridCollector(admin, **options))
    return start_http_server(port, addr=addr, registry=registry)


def run_metrics_server(url: str, *, port: int = DEFAULT_PORT, addr: str = "127.0.0.1", max_keys: int = MAX_KEYS,
                       max_entries: int = MAX_ENTRIES, stale: float = 120.0, leftover_after: float = LEFTOVER_AFTER,
                       timeout: float = 5.0) -> int:
    """``jsadmin metrics``: check the grid, then serve ``/metrics`` until interrupted.

    >>> run_metrics_server("redis://10.0.0.1:9999/0", port=9760)   # doctest: +SKIP
    """
    if not HAVE_PROMETHEUS:
        raise missing("prometheus_client", extra="metrics", feature="jsadmin metrics")
    admin = connect(url, readonly=True, socket_timeout=timeout, socket_connect_timeout=timeout)
    admin.redis.ping()
    server, thread = serve(admin, port=port, addr=addr, max_keys=max_keys, max_entries=max_entries,
                           stale_after=stale, leftover_after=leftover_after)
    print(f"jsadmin metrics: serving http://{addr}:{port}/metrics for {admin.url} (read-only)",
          file=sys.stderr, flush=True)
    try:
        while thread.is_alive():
            thread.join(1.0)
    finally:
        server.shutdown()
    return 0


__all__ = ["GridCollector", "latest_states", "recent_run_times", "run_metrics_server", "seconds", "serve"]
