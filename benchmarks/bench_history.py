r"""Recorded history beyond memory (issue 11): eager pandas against lazy polars and dask, 10M jobs.

Writes N synthetic recorded jobs in the recorder's layout (``jobs/date=YYYY-MM-DD/part-*.parquet``,
:data:`~jsadmin.analytics.history.JOB_SCHEMA`, zstd), one batch of ``--batch`` rows at a time, so
the writer never holds more than one batch: 30 days of a grid, ~30 jumpscripts on 50 nodes, 94 % OK,
4 % ERROR (ECO results), 1.5 % TIMEOUT, 0.5 % NOWORK, and 0.2 % of the jobs recorded twice (a TIMEOUT
copy without ``timeStop`` caught first, then the final copy), as the recorder leaves them.

Then runs the same two summaries — ``latency_summary(jobs, by="cmd", metric="run_time")`` and
``error_summary(...)`` — four ways, each in a fresh subprocess (wall time of the read + summaries,
peak RSS from ``VmHWM``, and its growth over the process after its imports):

* ``eager``: ``jsadmin.history(dir)["jobs"]``: every column in pandas, JSON decoded, then summarise;
* ``eager-slim``: the best eager can do: ``load_history(dir, columns=ANALYTICS_COLUMNS, decode_json=False)``;
* ``polars``: ``history(dir).lazy(engine="polars", columns=ANALYTICS_COLUMNS)`` (``scan_parquet``),
  summaries on the engine;
* ``dask``: ``history(dir).lazy(engine="dask", columns=ANALYTICS_COLUMNS)`` on a ``distributed.LocalCluster``
  in the process (1 worker, 2 threads: the machine's cores), summaries on the cluster.

The lazy variants read the columns of ``eager-slim`` (polars would prune them by itself; dask reads
every column of a row it must materialise, e.g. the copies it de-duplicates).

A variant whose RSS passes ``--max-rss-gb`` is stopped and reported as not fitting. The summaries of
every variant are compared with those of the first one that finished (they must be equal).

Usage::

    python benchmarks/bench_history.py                       # 10,000,000 jobs
    python benchmarks/bench_history.py --jobs 1000000
    python benchmarks/bench_history.py --jobs 10000000 --variants polars,dask --keep /data/h10m
    python benchmarks/bench_history.py --jobs 1000000 --series 1h     # latency_series per hour too

``--series FREQ`` also times ``latency_series(jobs, freq=FREQ)`` in each variant, after the two
summaries on the same frame (its own time, not in the summaries' time; the peak RSS covers it).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

VARIANTS = ("eager", "eager-slim", "polars", "dask")
CATEGORIES = ("jumpscale", "monitoring", "backup", "cloudbroker", "system")
COMMANDS = ("echo", "ping", "diskusage", "vmstatus", "backup_dirs", "flaky", "cleanup", "sync")
ECO_MESSAGES = (
    "division by zero", "timeout while connecting to 10.0.0.5:9999", "disk /dev/sda1 full",
    "no such VM: vm-{n}", "permission denied: /opt/jumpscale7/cfg",
)


def _status(field: str) -> int:
    """A ``/proc/self/status`` figure in bytes (``VmRSS``, ``VmHWM``)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


# --- writing N recorded jobs, batch by batch ------------------------------------------------------


def _batch(rng: np.random.Generator, start: int, n: int, t0: float, span: float, total: int) -> pa.Table:
    from jsadmin.analytics.history import JOB_SCHEMA

    ids = np.arange(start, start + n)
    stop = t0 + span * (ids + rng.random(n)) / total  # time advances with the job number
    org = rng.integers(0, len(CATEGORIES), n)
    cmd = rng.integers(0, len(COMMANDS), n)
    nid = rng.integers(1, 51, n)
    run = rng.lognormal(-2.5 + 0.3 * cmd, 0.9)
    run[nid == 7] *= 3  # one slow node
    wait = rng.lognormal(-3.0, 1.0, n)
    start_t = stop - run
    create = start_t - wait
    stop_s = np.floor(stop)  # workers store whole seconds
    draw = rng.random(n)
    state = np.where(draw < 0.94, "OK", np.where(draw < 0.98, "ERROR", np.where(draw < 0.995, "TIMEOUT", "NOWORK")))
    guid = np.array([f"{int(i) * 2654435761:032x}" for i in ids], dtype=object)
    msg = rng.integers(0, len(ECO_MESSAGES), n)
    result = np.where(
        state == "ERROR",
        np.array([json.dumps({"category": f"{CATEGORIES[o]}.{COMMANDS[c]}", "errormessage": ECO_MESSAGES[m].format(n=i)})
                  for o, c, m, i in zip(org, cmd, msg, ids, strict=True)], dtype=object),
        np.where(state == "OK", '"done"', None),
    )
    ts = pa.timestamp("ns", tz="UTC")

    def times(seconds: np.ndarray) -> pa.Array:
        return pa.array((seconds * 1e9).astype("int64"), type=pa.int64()).cast(ts)

    columns = {
        "guid": pa.array(guid, pa.string()), "id": pa.array(ids, pa.int64()),
        "gid": pa.array(np.ones(n, dtype="int64")), "nid": pa.array(nid, pa.int64()),
        "category": pa.array(np.array(CATEGORIES)[org]), "cmd": pa.array(np.array(COMMANDS)[cmd]),
        "queue": pa.array(np.where(cmd % 3 == 0, "io", "default")), "role": pa.array(np.full(n, "node")),
        "state": pa.array(state), "timeCreate": times(create), "timeStart": times(start_t), "timeStop": times(stop_s),
        "timeout": pa.array(np.full(n, 600.0)), "wait": pa.array(np.ones(n, dtype=bool)),
        "log": pa.array(np.ones(n, dtype=bool)), "errorreport": pa.array(np.zeros(n, dtype=bool)),
        "internal": pa.array(np.zeros(n, dtype=bool)), "jscriptid": pa.array((cmd + 1).astype(str)),
        "resultcode": pa.array(np.where(state == "OK", "0", "1")), "sessionid": pa.nulls(n, pa.string()),
        "achost": pa.array(np.full(n, "ac1")), "_ckey": pa.nulls(n, pa.string()), "roles": pa.array(np.full(n, "[]")),
        "args": pa.array(np.array([f'{{"msg":"x","n":{i % 100}}}' for i in ids], dtype=object), pa.string()),
        "result": pa.array(result, pa.string()), "parent": pa.nulls(n, pa.string()), "tags": pa.nulls(n, pa.string()),
        "_meta": pa.nulls(n, pa.string()),
        "family": pa.array(np.where(state == "OK", "job_results", "worker_jobs")), "key": pa.nulls(n, pa.string()),
        "captured": times(stop + 0.5),
    }
    table = pa.table(columns).cast(JOB_SCHEMA)
    twice = np.flatnonzero(rng.random(n) < 0.002)  # recorded twice: a TIMEOUT copy without timeStop first
    if len(twice):
        early = table.take(pa.array(twice)).to_pandas()
        early["state"] = "TIMEOUT"
        early["timeStop"] = pd.NaT
        early["result"] = None
        early["captured"] = early["timeStart"] + pd.Timedelta("1s")
        early["family"] = "jobs"
        table = pa.concat_tables([pa.Table.from_pandas(early, schema=JOB_SCHEMA, preserve_index=False), table])
    return table


def write_jobs(out: Path, jobs: int, batch: int, days: float = 30.0, seed: int = 11) -> tuple[int, float]:
    """N jobs (plus their early copies) under ``out/jobs``, batch by batch; ``(rows, seconds)``."""
    from jsadmin.analytics.history import write_table

    rng = np.random.default_rng(seed)
    t0 = pd.Timestamp("2026-10-01T00:00:00Z").timestamp()
    started = time.perf_counter()
    rows = 0
    for start in range(0, jobs, batch):
        table = _batch(rng, start, min(batch, jobs - start), t0, days * 86400, jobs)
        write_table(out, "jobs", table)  # the recorder's writer: one file per day touched
        rows += table.num_rows
    return rows, time.perf_counter() - started


# --- one variant, in its own process ----------------------------------------------------------------


def run_variant(variant: str, path: Path, result_dir: Path, series: str | None = None) -> dict[str, object]:
    import jsadmin
    from jsadmin.analytics import error_summary, latency_series, latency_summary, load_history
    from jsadmin.analytics.history import ANALYTICS_COLUMNS

    cluster = client = None
    if variant == "dask":
        import distributed

        cluster = distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                           dashboard_address=None, memory_limit=0)
        client = distributed.Client(cluster)
    baseline = _status("VmRSS")
    started = time.perf_counter()
    now = pd.Timestamp("2026-11-01T00:00:00Z")
    if variant == "eager":
        hist = jsadmin.history(path)
        frame: object = hist["jobs"]
        rows = len(hist["jobs"])
        errors = error_summary(hist, now=now)
    elif variant == "eager-slim":
        frames = load_history(path, columns=ANALYTICS_COLUMNS, decode_json=False)
        frame = frames["jobs"]
        rows = len(frames["jobs"])
        errors = error_summary(frames, now=now)
    else:
        frame = jsadmin.history(path).lazy(engine=variant, columns=ANALYTICS_COLUMNS)
        rows = -1
        errors = error_summary(frame, now=now)
    latency = latency_summary(frame, by="cmd", metric="run_time")  # type: ignore[arg-type]
    seconds = time.perf_counter() - started
    series_seconds = None
    if series is not None:  # the per-bucket table after the summaries, timed on its own
        before = time.perf_counter()
        latency_series(frame, freq=series).to_pickle(result_dir / f"{variant}-series.pkl")  # type: ignore[arg-type]
        series_seconds = time.perf_counter() - before
    peak = _status("VmHWM")
    latency.to_pickle(result_dir / f"{variant}-latency.pkl")
    errors.to_pickle(result_dir / f"{variant}-errors.pkl")
    if client is not None and cluster is not None:
        client.close()
        cluster.close()
    return {"variant": variant, "seconds": seconds, "series_seconds": series_seconds, "peak": peak,
            "growth": peak - baseline, "rows": rows,
            "jobs": int(latency["jobs"].sum()), "errors": int(errors["items"].sum())}


def _measure(variant: str, path: Path, result_dir: Path, max_rss: int, series: str | None = None) -> dict[str, object]:
    import psutil

    cmd = [sys.executable, __file__, "--run", variant, "--path", str(path), "--results", str(result_dir)]
    cmd += ["--series", series] if series else []
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    watched = psutil.Process(proc.pid)
    seen = 0
    while proc.poll() is None:
        try:
            seen = max(seen, watched.memory_info().rss)
        except psutil.NoSuchProcess:
            break
        if seen > max_rss:
            proc.kill()
            proc.wait()
            return {"variant": variant, "killed": True, "seen": seen, "seconds": time.perf_counter() - started}
        time.sleep(0.2)
    out, err = proc.communicate()
    if proc.returncode != 0:
        raise SystemExit(f"{variant} failed ({proc.returncode}):\n{err[-3000:]}")
    res = json.loads(out.strip().splitlines()[-1])
    res["wall"] = time.perf_counter() - started
    return res


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--jobs", type=int, default=10_000_000, help="recorded jobs to write (default 10M)")
    parser.add_argument("--batch", type=int, default=500_000, help="rows generated and written at a time")
    parser.add_argument("--variants", default=",".join(VARIANTS), help=f"comma-separated: {', '.join(VARIANTS)}")
    parser.add_argument("--max-rss-gb", type=float, default=14.0, help="stop a variant whose RSS passes this")
    parser.add_argument("--keep", type=Path, help="write (or reuse) the history here and keep it")
    parser.add_argument("--series", metavar="FREQ",
                        help="also time latency_series(jobs, freq=FREQ) after the summaries (e.g. 1h) and compare it")
    parser.add_argument("--run", choices=VARIANTS, help=argparse.SUPPRESS)
    parser.add_argument("--path", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--results", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.run:
        print(json.dumps(run_variant(args.run, args.path, args.results, args.series)))
        return 0

    variants = [v for v in args.variants.split(",") if v]
    unknown = set(variants) - set(VARIANTS)
    if unknown:
        parser.error(f"unknown variant(s) {sorted(unknown)}")
    work = Path(tempfile.mkdtemp(prefix="bench-history-"))
    path = args.keep or work / "history"
    try:
        if (path / "jobs").is_dir():
            print(f"reusing the history at {path}")
        else:
            peak_before = _status("VmHWM")
            rows, secs = write_jobs(path, args.jobs, args.batch)
            size = sum(f.stat().st_size for f in (path / "jobs").rglob("*.parquet"))
            files = len(list((path / "jobs").rglob("*.parquet")))
            print(f"wrote {args.jobs:,} jobs ({rows:,} rows with the early copies) in {secs:.1f} s: "
                  f"{files} files, {size / 2**20:,.0f} MiB on disk; writer peak RSS "
                  f"{max(peak_before, _status('VmHWM')) / 2**20:,.0f} MiB")
        results = []
        for variant in variants:
            res = _measure(variant, path, work, int(args.max_rss_gb * 2**30), args.series)
            results.append(res)
            if res.get("killed"):
                print(f"{variant:<11} did not fit: stopped at {res['seen'] / 2**30:.1f} GiB RSS after "
                      f"{res['seconds']:.1f} s (--max-rss-gb {args.max_rss_gb})", flush=True)
            else:
                print(f"{variant:<11} {res['seconds']:8.2f} s  peak RSS {res['peak'] / 2**20:9,.0f} MiB "
                      f"(+{res['growth'] / 2**20:,.0f} MiB after imports)  jobs {res['jobs']:,}  "
                      f"failed {res['errors']:,}"
                      + (f"  latency_series({args.series}) {res['series_seconds']:.2f} s" if args.series else ""),
                      flush=True)
        done = [r for r in results if not r.get("killed")]
        if done:
            ref = done[0]["variant"]
            for res in done[1:]:
                for kind in ("latency", "errors", *(("series",) if args.series else ())):
                    a = pd.read_pickle(work / f"{ref}-{kind}.pkl")
                    b = pd.read_pickle(work / f"{res['variant']}-{kind}.pkl")
                    pd.testing.assert_frame_equal(a, b)
            also = f", latency_series {args.series}" if args.series else ""
            print(f"same summaries: {', '.join(str(r['variant']) for r in done)} (latency by cmd and error summary{also})")
        print("\n| variant | time | peak RSS | vs eager: time | vs eager: memory |")
        print("|---|---|---|---|---|")
        base = next((r for r in done if r["variant"] == "eager"), None)
        for res in results:
            if res.get("killed"):
                print(f"| {res['variant']} | did not fit in {args.max_rss_gb:g} GiB | > {res['seen'] / 2**30:.1f} GiB | | |")
                continue
            ratio_t = ratio_m = ""
            if base is not None and res is not base:
                ratio_t = f"{float(base['seconds']) / float(res['seconds']):.1f}x faster"
                ratio_m = f"{float(base['peak']) / float(res['peak']):.1f}x less"
            print(f"| {res['variant']} | {float(res['seconds']):.1f} s | {float(res['peak']) / 2**20:,.0f} MiB | {ratio_t} | {ratio_m} |")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
