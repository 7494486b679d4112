"""Benchmark: enqueue_jobs vs the naive way vs single enqueue_job calls.

Starts a fresh embedded redis-server and measures, over TCP and over its unix socket:

* ``enqueue_jobs``: one Lua call per batch, batches pipelined;
* naive: one ``HSET`` and one ``RPUSH`` per job, no pipeline (same JSON, ids precomputed),
  on the first ``--naive`` jobs (its rate does not depend on N);
* ``enqueue_job`` called once per job (one ``EVALSHA`` round trip each, counted with
  ``INFO commandstats``).

Also prints the server time enqueue.lua spends per job (``INFO commandstats``), a figure that
depends far less on the machine's load than the rates: it shows the cost of the write
markers and precondition checks. Works on any Redis from 2.8 (RESP2 clients); choose the
binary with ``JSADMIN_REDIS_SERVER``.

Prints jobs/s and ratios; exits 1 with a clear line when ``enqueue_jobs`` is not at least
10x the naive way on a transport. Each figure is the best of ``--repeat`` runs, the runs of the
three ways interleaved so that they see the same machine load. Run:

    /opt/jsvenv/bin/python benchmarks/bench_enqueue.py --n 50000
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import redis

from jsadmin import keys
from jsadmin.embedded import EmbeddedRedis, free_port
from jsadmin.writes import WritesMixin
from jsadmin.writes.jobs import prepare_jobs

RATIO_TARGET = 10.0
RATE_TARGET = 50_000.0


class _Writer(WritesMixin):
    def __init__(self, client: redis.Redis, journal: Path) -> None:
        self.redis = client
        self.readonly = False
        self.url = "bench"
        self.journal_path = journal


def _jobs(n: int) -> list[dict]:
    return [
        {"gid": 1, "nid": 1 + i % 4, "category": "jumpscale", "cmd": "echo",
         "args": {"msg": f"hello {i}", "path": "/opt/x", "f": 0.1234567890123}, "wait": i % 2 == 0}
        for i in range(n)
    ]


def _stats(client: redis.Redis) -> dict[str, dict]:
    return {k.removeprefix("cmdstat_"): v for k, v in client.info("commandstats").items()}


def _calls(client: redis.Redis) -> dict[str, int]:
    return {k: int(v["calls"]) for k, v in _stats(client).items()}


def bench_bulk(client: redis.Redis, jobs: list[dict], batch: int, journal: Path) -> tuple[float, float]:
    """(jobs/s, server microseconds per job inside enqueue.lua from INFO commandstats)."""
    client.flushall()
    client.config_resetstat()
    writer = _Writer(client, journal)
    t0 = time.perf_counter()
    frame = writer.enqueue_jobs(jobs, batch_size=batch)
    dt = time.perf_counter() - t0
    assert len(frame) == len(jobs) and client.hlen(keys.jobs(1)) == len(jobs) and frame["written"].all()
    usec = int(_stats(client).get("evalsha", {}).get("usec", 0))
    return len(jobs) / dt, usec / len(jobs)


def bench_naive(client: redis.Redis, jobs: list[dict]) -> float:
    client.flushall()
    t0 = time.perf_counter()
    for i, job in enumerate(prepare_jobs(jobs), 1):
        text = job.text(i)
        client.hset(job.jobs_key, job.guid, text)
        client.rpush(job.queue_key, text)
    client.hset(keys.JOBS_LAST, "1", len(jobs))
    dt = time.perf_counter() - t0
    assert client.hlen(keys.jobs(1)) == len(jobs)
    return len(jobs) / dt


def bench_single(client: redis.Redis, jobs: list[dict], journal: Path) -> tuple[float, float]:
    client.flushall()
    writer = _Writer(client, journal)
    writer.enqueue_job(**jobs[0])  # load the script
    client.config_resetstat()
    t0 = time.perf_counter()
    for job in jobs:
        writer.enqueue_job(**job)
    dt = time.perf_counter() - t0
    calls = _calls(client)
    top_level = calls.get("evalsha", 0) + calls.get("eval", 0)
    return len(jobs) / dt, top_level / len(jobs)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=50_000, help="jobs per measurement (default 50000)")
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--single", type=int, default=5000, help="jobs for the enqueue_job loop")
    parser.add_argument("--naive", type=int, default=10_000, help="jobs for the naive loop")
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure (best is kept)")
    opts = parser.parse_args(argv)
    jobs = _jobs(opts.n)
    server = EmbeddedRedis.start(port=free_port())
    failed = False
    try:
        with tempfile.TemporaryDirectory() as tmp:
            journal = Path(tmp) / "journal.jsonl"
            transports = {
                "tcp": redis.Redis(host="127.0.0.1", port=server.port, protocol=2),
                "unix": redis.Redis(unix_socket_path=str(server.socket_path), protocol=2),
            }
            print(
                f"redis-server {server.binary}; N={opts.n}, batch_size={opts.batch_size}, "
                f"naive on {min(opts.naive, opts.n)}, enqueue_job on {min(opts.single, opts.n)}, "
                f"best of {opts.repeat}"
            )
            for name, client in transports.items():
                bulk = naive = single = 0.0
                per_job = 0.0
                server_us = float("inf")
                for _ in range(max(1, opts.repeat)):
                    rate, us = bench_bulk(client, jobs, opts.batch_size, journal)
                    bulk, server_us = max(bulk, rate), min(server_us, us)
                    naive = max(naive, bench_naive(client, jobs[: opts.naive]))
                    rate, per_job = bench_single(client, jobs[: opts.single], journal)
                    single = max(single, rate)
                ratio = bulk / naive
                print(
                    f"[{name:4}] enqueue_jobs {bulk:>10,.0f} jobs/s | naive HSET+RPUSH {naive:>9,.0f} jobs/s | "
                    f"enqueue_job {single:>8,.0f} jobs/s ({per_job:.2f} EVALSHA per job) | "
                    f"bulk/naive {ratio:5.1f}x | bulk/single {bulk / single:5.1f}x | "
                    f"enqueue.lua {server_us:.2f} us of server time per job"
                )
                if bulk < RATE_TARGET:
                    print(f"[{name:4}] note: enqueue_jobs below {RATE_TARGET:,.0f} jobs/s on this machine")
                if ratio < RATIO_TARGET:
                    print(f"[{name:4}] FAIL: enqueue_jobs is {ratio:.1f}x the naive way, target >= {RATIO_TARGET:.0f}x")
                    failed = True
                client.flushall()
                client.close()
    finally:
        server.stop()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
