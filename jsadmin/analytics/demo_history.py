"""Generate hours of realistic recorded grid activity in seconds (no waiting, no Redis).

The output is byte-for-byte the recorder's layout (:mod:`jsadmin.analytics.history`), so notebooks,
plots and benchmarks can work on "days of history" without running a grid for days. The story it
tells, deterministically for a given ``seed``:

* per-jumpscript long-tailed (lognormal) run times, e.g. ``jumpscale/echo`` ~50 ms, ``backup/backup_dirs``
  minutes, with occasional worker timeouts;
* a slow node (``nid`` 4 runs everything ~4x slower);
* a backed-up queue (``hypervisor``: too few workers, its queue wait and depth grow all along);
* a worker queue that stops heartbeating (``process``, for the last ~40 minutes);
* bursts of errors (``jumpscale/exec`` and ``demo/flaky`` fail a lot for 5 minutes every 45).

>>> path = write_demo_history("/tmp/demo-history", hours=2)   # doctest: +SKIP
>>> jsadmin.history(path)["jobs"].shape                        # doctest: +SKIP
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from ._common import as_utc
from .history import SCHEMAS, write_table


@dataclass(frozen=True)
class _Script:
    organization: str
    name: str
    queue: str
    median: float
    sigma: float
    timeout: float
    error: float
    weight: float
    result: str


SCRIPTS = (
    _Script("jumpscale", "echo", "", 0.05, 0.5, 600, 0.002, 30, '"ping"'),
    _Script("jumpscale", "exec", "", 0.4, 0.9, 600, 0.02, 15, '{"exitcode":0,"out":"ok\\n"}'),
    _Script("jumpscale", "sleep", "", 2.0, 0.3, 600, 0.0, 8, "null"),
    _Script("demo", "flaky", "", 0.2, 0.7, 60, 0.08, 10, '"lucky"'),
    _Script("system", "diskusage", "io", 0.8, 0.6, 300, 0.01, 12, '{"\\/":42.5,"\\/opt":71.0}'),
    _Script("system", "cleanupredisac", "", 1.5, 0.5, 300, 0.005, 3, "0"),
    _Script(
        "monitor", "healthcheck_workers", "process", 0.3, 0.5, 60, 0.01, 10, '[{"state":"OK"}]'
    ),
    _Script("backup", "backup_dirs", "hypervisor", 90.0, 0.8, 600, 0.03, 2, '{"bytes":1073741824}'),
)
"""The demo jumpscripts: organization/name, worker queue, run time median (s) and spread, error rate."""

NODES = (1, 2, 3, 4, 5, 6)
SLOW_NODE = 4
SLOW_FACTOR = 4.0
BACKED_UP_QUEUE = "hypervisor"
SILENT_QUEUE = "process"
SILENT_FOR = 40 * 60.0
BURST_EVERY = 45 * 60.0
BURST_LENGTH = 5 * 60.0
BURST_SCRIPTS = ("exec", "flaky")
BURST_ERROR = 0.45
WORKER_QUEUES = ("default", "io", "hypervisor", "process")
SAMPLE_EVERY = 10.0


def _eco(rng: np.random.Generator, script: _Script, nid: int, timeout: bool) -> str:
    cat = "workers.executejob" if not timeout else "workers.timeout"
    msg = "Execution timed out" if timeout else f"{script.name} failed: exit code 1"
    return (
        f'{{"category":"{cat}","errormessage":"{msg}","gid":1,"nid":{nid},"level":1,'
        f'"type":"BUG","tags":"jsorganization:{script.organization} jsname:{script.name}"}}'
    )


def _guids(rng: np.random.Generator, n: int) -> list[str]:
    text = rng.bytes(16 * n).hex()
    return [text[i : i + 32] for i in range(0, 32 * n, 32)]


def _jobs(rng: np.random.Generator, start: float, end: float, per_minute: float) -> pa.Table:
    span = end - start
    n = max(1, round(span / 60.0 * per_minute))
    weights = np.array([s.weight for s in SCRIPTS])
    which = rng.choice(len(SCRIPTS), size=n, p=weights / weights.sum())
    create = np.sort(start + rng.random(n) * span)
    nid = rng.choice(np.array(NODES), size=n)
    median = np.array([s.median for s in SCRIPTS])[which]
    sigma = np.array([s.sigma for s in SCRIPTS])[which]
    timeout = np.array([s.timeout for s in SCRIPTS])[which]
    base_err = np.array([s.error for s in SCRIPTS])[which]
    queue = np.array([s.queue for s in SCRIPTS], dtype=object)[which]
    run = median * np.exp(sigma * rng.standard_normal(n))
    run = np.where(nid == SLOW_NODE, run * SLOW_FACTOR, run)
    progress = (create - start) / span
    wait = 0.05 + rng.lognormal(np.log(0.25), 0.6, n)
    backed = queue == BACKED_UP_QUEUE
    wait = np.where(backed, wait + progress * 900.0 * rng.uniform(0.8, 1.2, n), wait)
    in_burst = ((create - start) % BURST_EVERY) > (BURST_EVERY - BURST_LENGTH)
    burst_script = np.isin(np.array([s.name for s in SCRIPTS])[which], BURST_SCRIPTS)
    err_p = np.where(in_burst & burst_script, BURST_ERROR, base_err)
    timed_out = run > timeout
    run = np.minimum(run, timeout)
    failed = ~timed_out & (rng.random(n) < err_p)
    state = np.where(timed_out, "TIMEOUT", np.where(failed, "ERROR", "OK")).astype(object)
    t_create = np.floor(create)  # AC clock, int
    t_start = create + wait
    t_stop = np.floor(t_start + run)  # workers truncate timeStop
    keep = t_stop < end
    idx = np.flatnonzero(keep)
    n = len(idx)
    which, nid, state, queue = which[idx], nid[idx], state[idx], queue[idx]
    t_create, t_start, t_stop, timeout = t_create[idx], t_start[idx], t_stop[idx], timeout[idx]

    def ts(values: np.ndarray) -> pa.Array:
        return pa.array((values * 1e9).astype("int64"), type=pa.timestamp("ns", tz="UTC"))

    orgs = np.array([s.organization for s in SCRIPTS], dtype=object)[which]
    names = np.array([s.name for s in SCRIPTS], dtype=object)[which]
    ok_result = np.array([s.result for s in SCRIPTS], dtype=object)[which]
    result = ok_result.copy()
    for i in np.flatnonzero(state != "OK"):
        result[i] = _eco(rng, SCRIPTS[which[i]], int(nid[i]), state[i] == "TIMEOUT")
    is_ok = state == "OK"
    role_job = rng.random(n) < 0.3
    source = np.where(is_ok | (rng.random(n) < 0.5), "job_results", "worker_jobs").astype(object)
    keys = np.where(source == "job_results", "queues:jobqueue:", "workers:jobs:").astype(object)
    guids = _guids(rng, n)
    ids = np.arange(1, n + 1, dtype="int64")
    key_col = [
        k + (g if k.startswith("queues") else str(i))
        for k, g, i in zip(keys, guids, ids, strict=True)
    ]
    captured = t_stop + rng.uniform(0.1, 1.0, n)
    args = np.array(
        [
            '{"msg":"ping"}',
            '{"cmd":"uptime"}',
            '{"duration":2}',
            "{}",
            '{"path":"\\/"}',
            "{}",
            "{}",
            '{"vm":"vm-17"}',
        ],
        dtype=object,
    )[which]
    cols: dict[str, pa.Array] = {
        "guid": pa.array(guids, type=pa.string()),
        "id": pa.array(ids),
        "gid": pa.array(np.ones(n, dtype="int64")),
        "nid": pa.array(nid.astype("int64")),
        "category": pa.array(orgs, type=pa.string()),
        "cmd": pa.array(names, type=pa.string()),
        "queue": pa.array(queue, type=pa.string()),
        "role": pa.array(np.where(role_job, "node", None), type=pa.string()),  # type: ignore[call-overload]  # numpy stubs: no None
        "roles": pa.array(np.where(role_job, '["node"]', "[]"), type=pa.string()),
        "state": pa.array(state, type=pa.string()),
        "timeCreate": ts(t_create),
        "timeStart": ts(t_start),
        "timeStop": ts(t_stop),
        "timeout": pa.array(timeout.astype("float64")),
        "wait": pa.array(source == "job_results"),
        "log": pa.array(np.ones(n, dtype=bool)),
        "errorreport": pa.array(np.zeros(n, dtype=bool)),
        "internal": pa.array(np.zeros(n, dtype=bool)),
        "resultcode": pa.array(np.where(is_ok, "0", "1"), type=pa.string()),
        "achost": pa.array(np.full(n, "10.0.0.1", dtype=object), type=pa.string()),
        "args": pa.array(args, type=pa.string()),
        "result": pa.array(result, type=pa.string()),
        "_ckey": pa.array(np.full(n, "", dtype=object), type=pa.string()),
        "_meta": pa.array(np.full(n, '["system","job",1]', dtype=object), type=pa.string()),
        "family": pa.array(source, type=pa.string()),
        "key": pa.array(key_col, type=pa.string()),
        "captured": ts(captured),
    }
    schema = SCHEMAS["jobs"]
    arrays = [cols.get(f.name, pa.nulls(n, type=f.type)) for f in schema]
    return pa.Table.from_arrays(arrays, schema=schema)


def _samples(
    rng: np.random.Generator, start: float, end: float
) -> tuple[pd.DataFrame, pd.DataFrame]:
    times = np.arange(start + SAMPLE_EVERY, end + 1e-9, SAMPLE_EVERY)
    span = end - start
    t_index = pd.to_datetime(times, unit="s", utc=True)
    queue_rows = []
    beat_rows = []
    for q in WORKER_QUEUES:
        key = "queues:system" if q == "io" else f"queues:workers:work:{q}"
        if q == BACKED_UP_QUEUE:
            progress = (times - start) / span
            length = np.round(progress * 40 + rng.poisson(2, len(times))).astype("int64")
            age = progress * 900.0 * rng.uniform(0.9, 1.1, len(times))
        else:
            length = rng.poisson(0.3, len(times)).astype("int64")
            age = np.where(length > 0, rng.exponential(0.5, len(times)), np.nan)
        queue_rows.append(
            pd.DataFrame(
                {
                    "time": t_index,
                    "key": key,
                    "kind": "worker",
                    "queue": q,
                    "length": length,
                    "oldest_age": age,
                }
            )
        )
        beat_age = rng.uniform(0, 10, len(times))
        if q == BACKED_UP_QUEUE:
            beat_age = rng.uniform(0, 90, len(times))  # long backups delay the loop
        if q == SILENT_QUEUE:
            silent_from = end - SILENT_FOR
            beat_age = np.where(times > silent_from, times - silent_from + beat_age[0], beat_age)
        beat_rows.append(
            pd.DataFrame({"time": t_index, "queue": q, "beat": "heartbeat", "age": beat_age})
        )
    for nid in NODES:
        length = rng.poisson(0.5, len(times)).astype("int64")
        queue_rows.append(
            pd.DataFrame(
                {
                    "time": t_index,
                    "key": f"queues:commands:queue:1:{nid}",
                    "kind": "command",
                    "queue": f"1:{nid}",
                    "length": length,
                    "oldest_age": np.where(length > 0, rng.exponential(2.0, len(times)), np.nan),
                }
            )
        )
    queues = pd.concat(queue_rows, ignore_index=True)
    queues["oldest"] = queues["time"] - pd.to_timedelta(queues["oldest_age"], unit="s")
    beats = pd.concat(beat_rows, ignore_index=True)
    beats["heartbeat"] = (beats["time"] - pd.to_timedelta(beats["age"], unit="s")).dt.floor("s")
    beats["age"] = (beats["time"] - beats["heartbeat"]).dt.total_seconds()
    return queues, beats


def write_demo_history(
    out_dir: str | os.PathLike[str],
    *,
    hours: float = 6,
    jobs_per_minute: float = 120,
    seed: int = 7,
    end: object | None = None,
    overwrite: bool = True,
) -> Path:
    """Write ``hours`` of demo activity ending at ``end`` (default: now) in the recorder's format.

    ``jobs_per_minute`` sets the grid load (6 h at 120/min is ~43,000 jobs; 2,800/min gives
    ~1,000,000). Deterministic for a given ``(seed, end)``. ``overwrite`` clears previous tables
    in ``out_dir`` first. Returns ``out_dir`` as a :class:`~pathlib.Path`.

    >>> path = write_demo_history("/tmp/h", hours=1, end="2026-11-27T12:00Z")   # doctest: +SKIP
    >>> load_history(path)["jobs"]["cmd"].value_counts()                        # doctest: +SKIP
    """
    if hours <= 0 or jobs_per_minute <= 0:
        raise ValueError("hours and jobs_per_minute must be positive")
    out = Path(out_dir)
    end_ts = as_utc(end).floor("s")
    stop = end_ts.timestamp()
    start = stop - hours * 3600.0
    rng = np.random.default_rng(seed)
    if overwrite:
        for table in SCHEMAS:
            shutil.rmtree(out / table, ignore_errors=True)
    out.mkdir(parents=True, exist_ok=True)
    write_table(out, "jobs", _jobs(rng, start, stop, jobs_per_minute))
    queues, beats = _samples(rng, start, stop)
    write_table(out, "queues", queues)
    write_table(out, "heartbeats", beats)
    return out
