"""Read speed of ``Admin.load("jobs")`` against the naive way and the raw transfer floor.

Fills a private redis-server (unix socket) with N realistic AC jobs (~600 bytes of compact
ujson each) in ``jobs:1`` and times, in this one run:

* naive: redis-py with its pure-Python parser (no hiredis), ``HGETALL``, ``json.loads`` per
  value, ``pd.DataFrame(list_of_dicts)``;
* floor: the same reply bytes read from the socket without any parsing (``HGETALL``);
* jsadmin: ``Admin.load("jobs")`` (HSCAN in steps, orjson, typed columns);
* polars: ``Admin.load("jobs", backend="polars")`` and the conversion alone
  (``jsadmin.backends.to_polars`` of a loaded frame), when polars is installed.

Peak memory of each ``load`` is measured in a fresh subprocess (``ru_maxrss`` growth) and
compared with the final frame's own size (``memory_usage(deep=True)``).

Usage::

    python benchmarks/bench_load.py            # N=200000, best of 3
    python benchmarks/bench_load.py -n 50000 --repeat 1

Exits non-zero when a target is missed: >= 5x faster than naive, <= 3x the floor, peak memory < 3x the frame.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import random
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable

import orjson
import pandas as pd
import redis
from redis._parsers import _RESP2Parser

import jsadmin
from jsadmin.admin import Admin
from jsadmin.connection import parse_url
from jsadmin.embedded import EmbeddedRedis

CMDS = [("jumpscale", "echo"), ("system", "diskusage"), ("jumpscale", "exec"), ("monitor", "healthcheck")]
STATES = ["SCHEDULED", "STARTED", "OK", "ERROR", "TIMEOUT"]


def make_job(i: int, rng: random.Random, now: int) -> bytes:
    """One AC job of about 600 bytes in compact ujson form (``\\/`` escaped)."""
    category, cmd = rng.choice(CMDS)
    state = rng.choice(STATES)
    created = now - rng.randint(0, 86400)
    start = created + rng.random() * 5 if state not in ("SCHEDULED", "STARTED") else 0
    stop = int(start + rng.random() * 30) if start else 0
    job = {
        "id": i,
        "sessionid": f"1_{rng.randint(1, 50)}_0_{uuid.UUID(int=rng.getrandbits(128))}",
        "gid": 1,
        "nid": rng.randint(1, 50),
        "cmd": cmd,
        "wait": rng.random() < 0.3,
        "category": category,
        "roles": [],
        "args": {"path": f"/opt/jumpscale7/var/{rng.getrandbits(64):x}", "msg": "x" * rng.randint(60, 120),
                 "count": rng.randint(0, 1000), "ratio": rng.random()},
        "queue": rng.choice(["", "io", "process"]),
        "timeout": 600,
        "result": None if state in ("SCHEDULED", "STARTED") else {"rc": 0, "out": "done " * rng.randint(2, 8)},
        "parent": None,
        "resultcode": None if state in ("SCHEDULED", "STARTED") else (0 if state == "OK" else 1),
        "state": state,
        "timeCreate": created,
        "timeStart": round(start, 10),
        "timeStop": stop,
        "log": True,
        "errorreport": False,
        "tags": None,
        "guid": uuid.UUID(int=rng.getrandbits(128)).hex,
        "_ckey": "",
        "_meta": ["system", "job", 1],
        "jscriptid": None,
    }
    return orjson.dumps(job).replace(b"/", b"\\/")


def fill(client: redis.Redis, n: int) -> tuple[int, int]:
    """Write N jobs into ``jobs:1``; return (value bytes, exact HGETALL reply bytes)."""
    rng = random.Random(7)
    now = int(time.time())
    total = reply = 0
    pipe = client.pipeline(transaction=False)
    for i in range(1, n + 1):
        value = make_job(i, rng, now)
        field = json.loads(value.replace(b"\\/", b"/"))["guid"].encode()
        pipe.hset("jobs:1", field, value)
        total += len(value)
        reply += len(b"$%d\r\n" % len(field)) + len(field) + 2 + len(b"$%d\r\n" % len(value)) + len(value) + 2
        if i % 5000 == 0:
            pipe.execute()
    pipe.execute()
    reply += len(b"*%d\r\n" % (2 * n))
    return total, reply


def naive(path: str) -> pd.DataFrame:
    pool = redis.ConnectionPool(
        connection_class=redis.UnixDomainSocketConnection, path=path, parser_class=_RESP2Parser
    )
    client = redis.Redis(connection_pool=pool)
    data = client.hgetall("jobs:1")
    df = pd.DataFrame([json.loads(v) for v in data.values()])
    client.close()
    return df


def floor(path: str, reply_bytes: int) -> int:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.connect(path)
        s.sendall(b"*2\r\n$7\r\nHGETALL\r\n$6\r\njobs:1\r\n")
        buf = bytearray(reply_bytes)
        view = memoryview(buf)
        got = 0
        while got < reply_bytes:
            n = s.recv_into(view[got:], min(1 << 20, reply_bytes - got))
            if not n:
                raise RuntimeError("connection closed early")
            got += n
    return got


def jsadmin_load(url: str) -> pd.DataFrame:
    target = parse_url(url)
    admin = Admin(target.client(), url=url)
    df = admin.load("jobs")
    admin.redis.close()
    return df


def jsadmin_load_polars(url: str) -> object:
    target = parse_url(url)
    admin = Admin(target.client(), url=url)
    df = admin.load("jobs", backend="polars")
    admin.redis.close()
    return df


def object_columns_as_json_text(df: pd.DataFrame) -> None:
    """The alternative to ``pl.Object``: the decoded JSON columns encoded again as polars text."""
    import polars as pl

    for name in df.columns:
        if df[name].dtype == object:
            pl.Series(str(name), [None if v is None else orjson.dumps(v).decode() for v in df[name].tolist()],
                      dtype=pl.String)


def object_columns_as_pl_object(df: pd.DataFrame) -> None:
    """What ``to_polars`` does with the decoded JSON columns: keep the objects (``pl.Object``)."""
    import polars as pl

    for name in df.columns:
        if df[name].dtype == object:
            pl.Series(str(name), df[name].tolist(), dtype=pl.Object)


def best_of(repeat: int, fn: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def peak_memory(url: str, way: str) -> tuple[float, float]:
    """(peak RSS growth during the load, final frame size) in MiB, measured in a fresh process.

    Uses ``VmHWM`` of ``/proc/self/status`` (``ru_maxrss`` survives ``exec`` and would report
    the parent's peak).
    """
    code = f"""
import sys, json
sys.path.insert(0, {os.path.dirname(os.path.abspath(__file__))!r})
import bench_load as b
import pandas, redis, orjson, jsadmin  # imported before the baseline
def hwm():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
base = hwm()
df = b.jsadmin_load({url!r}) if {way!r} == "jsadmin" else b.naive({url[len('unix://'):]!r})
print(json.dumps([hwm() - base, df.memory_usage(deep=True).sum() / 2**20]))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    growth, size = json.loads(out.stdout.strip().splitlines()[-1])
    return growth, size


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=200_000, help="jobs (default 200000)")
    ap.add_argument("--repeat", type=int, default=3, help="best of R runs (default 3)")
    args = ap.parse_args(argv)

    server = EmbeddedRedis.start()
    try:
        client = parse_url(server.url).client()
        t0 = time.perf_counter()
        value_bytes, reply_bytes = fill(client, args.n)
        print(f"jsadmin {jsadmin.__version__}; redis-server {server.binary}")
        print(f"filled {args.n:,} jobs, {value_bytes / args.n:.0f} bytes each on average, "
              f"{reply_bytes / 2**20:.1f} MiB reply, in {time.perf_counter() - t0:.1f}s")
        path = str(server.socket_path)
        df = jsadmin_load(server.url)
        ref = naive(path)
        assert len(df) == len(ref) == args.n, (len(df), len(ref))
        t_naive = best_of(args.repeat, lambda: naive(path))
        t_floor = best_of(args.repeat, lambda: floor(path, reply_bytes))
        has_polars = importlib.util.find_spec("polars") is not None
        t_load = t_polars = float("inf")
        for _ in range(args.repeat):  # interleaved, so load and load+polars see the same machine load
            t_load = min(t_load, best_of(1, lambda: jsadmin_load(server.url)))
            if has_polars:
                t_polars = min(t_polars, best_of(1, lambda: jsadmin_load_polars(server.url)))
        growth, size = peak_memory(server.url, "jsadmin")
        print(f"{'way':<34}{'seconds':>9}{'jobs/s':>12}")
        for name, t in (("naive (HGETALL, json, no hiredis)", t_naive),
                        ("raw transfer floor (no parsing)", t_floor),
                        ('jsadmin Admin.load("jobs")', t_load)):
            print(f"{name:<34}{t:>9.3f}{args.n / t:>12,.0f}")
        if has_polars:
            from jsadmin.backends import to_polars

            t_convert = best_of(args.repeat, lambda: to_polars(df))
            label = 'load("jobs", backend="polars")'
            print(f"{label:<34}{t_polars:>9.3f}{args.n / t_polars:>12,.0f}")
            print(f"polars conversion alone: {t_convert:.3f}s = {100 * t_convert / t_load:.0f}% of the load; "
                  f"load+polars / load: {t_polars / t_load:.2f}x")
            t_obj = best_of(args.repeat, lambda: object_columns_as_pl_object(df))
            t_text = best_of(args.repeat, lambda: object_columns_as_json_text(df))
            print(f"JSON columns (args, result, ...): pl.Object {t_obj:.3f}s, "
                  f"re-encoded as JSON text {t_text:.3f}s ({100 * t_text / t_load:.0f}% of the load)")
        else:
            print('polars not installed: backend="polars" not measured (pip install "jsadmin[polars]")')
        speedup = t_naive / t_load
        over_floor = t_load / t_floor
        mem_ratio = growth / size
        print(f"speed-up over naive: {speedup:.1f}x (target >= 5x)")
        print(f"load / raw floor:    {over_floor:.2f}x (target <= 3x)")
        print(f"peak memory growth:  {growth:.0f} MiB for a {size:.0f} MiB frame = {mem_ratio:.2f}x (target < 3x)")
        ok = speedup >= 5 and over_floor <= 3 and mem_ratio < 3
        print("targets: " + ("met" if ok else "MISSED"))
        return 0 if ok else 1
    finally:
        server.stop()


if __name__ == "__main__":
    sys.exit(main())
