r"""Time and peak memory of reading a 2,000,000-entry ``queues:logs`` (issue 10, "Bounded memory").

Fills a private redis-server (unix socket) with N log records in the §5.7 shape (all 14 fields,
compact ujson with ``\/`` escapes, RPUSH like ``logs.lua``; a third carry a job guid; about 260
bytes each, ~510 MB of Redis memory at 2M) and measures each step in a fresh subprocess (peak RSS
growth from ``VmHWM`` over the process after its imports, so one step's garbage cannot hide another's):

* ``load("logs")``: the default, the newest :data:`~jsadmin.limits.DEFAULT_LIMIT` entries;
* ``load("logs", limit=None)``: every entry;
* ``load_all()``: every family, with the default limits;
* ``load_all(limit=None)``;
* ``snapshot(path)``: every family streamed to Parquet, no limit.

Each figure is printed against the size of the frame it produced (``memory_usage(deep=True)``),
and the snapshot against the size of the unbounded ``logs`` frame measured in the same run.

Usage::

    python benchmarks/bench_memory.py                 # N=2,000,000
    python benchmarks/bench_memory.py -n 200000       # quicker

Exits non-zero when a target is missed: an unbounded load peaks at <= 2.5x its frame, the default
load and the snapshot at <= 2.5x the unbounded frame (they build less than it).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid

import orjson
import redis

import jsadmin
from jsadmin import keys
from jsadmin.connection import parse_url
from jsadmin.embedded import EmbeddedRedis

TEMPLATES = [
    (3, "jumpscale.worker", "Job {guid} started on queue default"),
    (3, "jumpscale.worker", "Job {guid} finished in {secs:.2f}s"),
    (2, "workers.executejob", "Jumpscript demo/flaky failed:\nflaky failure (draw 0.041 < failrate 0.300)"),
    (4, "processmanager.loghandling", "processed {n} logs, 1 eco"),
    (3, "backup.files", "Sauvegarde terminée: /opt/jumpscale7/cfg → /tmp/backup-{n:x}.tar.gz"),
    (1, "monitor.healthcheck.disks", "disk / is {n}% full\nfree: 3.1 GB"),
    (5, "agentcontroller.getwork", "getWork: no work for node {nid} (30s)"),
]
"""The demo grid's log lines (``jsadmin.demogrid.seed``), with varying numbers and guids."""


def make_log(i: int, rng: random.Random, now: int, n: int) -> bytes:
    """One ``queues:logs`` record (§5.7): escaped newlines and pipes, dots -> underscores in categories."""
    level, category, message = TEMPLATES[i % len(TEMPLATES)]
    nid = rng.randint(1, 50)
    guid = uuid.UUID(int=rng.getrandbits(128)).hex if i % 3 == 0 else ""  # a third logged inside jobs
    record = {
        "message": message.format(guid=guid or "-", nid=nid, n=rng.randint(1, 99), secs=rng.random() * 30)
        .replace("\n", "/n"),
        "level": level,
        "category": category.replace(".", "_"),
        "gid": 1,
        "nid": nid,
        "pid": 0,
        "appname": "jumpscale:worker:default" if guid else "jsagent",
        "tags": f"retry:1|step:2\nnode:{nid}".replace("\n", "/n").replace("|", "/|") if i % 5 == 0 else "",
        "jid": guid,
        "parentjid": "",
        "masterjid": "",
        "epoch": now - (n - i) // 20,
        "order": 0,
        "private": 1 if i % 17 == 0 else 0,
    }
    return orjson.dumps(record).replace(b"/", b"\\/")


def fill(client: redis.Redis, n: int) -> int:
    """RPUSH N log records (oldest first, like ``logs.lua``); return their total bytes."""
    rng = random.Random(7)
    now = int(time.time())
    total = 0
    batch: list[bytes] = []
    pipe = client.pipeline(transaction=False)
    for i in range(n):
        value = make_log(i, rng, now, n)
        total += len(value)
        batch.append(value)
        if len(batch) == 1000:
            pipe.rpush(keys.LOGS_QUEUE, *batch)
            batch = []
            if len(pipe) == 20:
                pipe.execute()
    if batch:
        pipe.rpush(keys.LOGS_QUEUE, *batch)
    pipe.execute()
    return total


STEPS = {
    "load": 'admin.load("logs")',
    "load_unbounded": 'admin.load("logs", limit=None)',
    "load_all": "admin.load_all()",
    "load_all_unbounded": "admin.load_all(limit=None)",
    "snapshot": "admin.snapshot(SNAP)",
}


def measure(url: str, step: str, snap_dir: str) -> dict[str, float]:
    """Run one step in a fresh process: seconds, peak RSS growth (MiB), rows and frame size (MiB)."""
    code = f"""
import json, time, warnings
import pandas, pyarrow, pyarrow.parquet, redis, orjson, jsadmin
from jsadmin.admin import Admin
from jsadmin.connection import parse_url
warnings.simplefilter("ignore")
def hwm():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
admin = Admin(parse_url({url!r}).client(), url={url!r})
SNAP = {snap_dir!r}
base = hwm()
t0 = time.perf_counter()
out = {STEPS[step]}
seconds = time.perf_counter() - t0
peak = hwm() - base
if isinstance(out, dict):
    frames = list(out.values())
elif isinstance(out, pandas.DataFrame):
    frames = [out]
else:
    frames = []
size = sum(f.memory_usage(deep=True).sum() for f in frames) / 2**20
rows = len(out["logs"]) if isinstance(out, dict) else len(out) if frames else 0
notes = out["logs"].attrs.get("notes", []) if isinstance(out, dict) else out.attrs.get("notes", []) if frames else []
print(json.dumps({{"seconds": seconds, "peak": peak, "size": size, "rows": rows, "notes": notes}}))
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if proc.returncode:
        raise RuntimeError(f"{step} failed:\n{proc.stderr}")
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=2_000_000, help="log records (default 2000000)")
    ap.add_argument("--steps", default=",".join(STEPS), help=f"comma-separated subset of {','.join(STEPS)}")
    args = ap.parse_args(argv)

    server = EmbeddedRedis.start()
    try:
        client = parse_url(server.url).client()
        t0 = time.perf_counter()
        total = fill(client, args.n)
        used = int(client.info("memory")["used_memory"])
        print(f"jsadmin {jsadmin.__version__}; redis-server {server.binary}; python {sys.version.split()[0]}")
        print(f"filled {args.n:,} log records, {total / args.n:.0f} bytes each on average "
              f"({total / 2**20:.0f} MiB of JSON, Redis used_memory {used / 2**20:.0f} MiB) "
              f"in {time.perf_counter() - t0:.1f}s")
        results: dict[str, dict[str, float]] = {}
        with tempfile.TemporaryDirectory(prefix="bench-memory-") as tmp:
            for step in args.steps.split(","):
                snap = os.path.join(tmp, f"snap-{step}")
                results[step] = r = measure(server.url, step, snap)
                extra = ""
                if step == "snapshot":
                    on_disk = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(snap) for f in fs)
                    extra = f", {on_disk / 2**20:.0f} MiB on disk"
                if step == "snapshot":
                    shape = "no frame (streamed to Parquet)"
                else:
                    shape = (f"frame {r['size']:6.0f} MiB ({r['rows']:,} log rows)  "
                             f"peak/frame {r['peak'] / r['size']:.2f}x")
                print(f"{step:<20} {r['seconds']:7.1f}s  peak +{r['peak']:6.0f} MiB  {shape}{extra}")
                for note in r.get("notes") or []:
                    print(f"{'':<22}note: {note}")
        ok = True
        checked = 0
        full = results.get("load_unbounded", {}).get("size")
        for step, r in results.items():
            if step.endswith("unbounded"):
                ratio = r["peak"] / r["size"]
                target = f"{step}: peak {ratio:.2f}x its frame (target <= 2.5x)"
            elif full:
                ratio = r["peak"] / full
                target = f"{step}: peak {ratio:.2f}x the unbounded logs frame (target <= 2.5x)"
            else:
                continue
            ok &= ratio <= 2.5
            checked += 1
            print(target)
        if not checked:
            print("targets: not checked (they need the load_unbounded step)")
            return 0
        print("targets: " + ("met" if ok else "MISSED"))
        return 0 if ok else 1
    finally:
        server.stop()


if __name__ == "__main__":
    sys.exit(main())
