"""Read speed and peak memory of ``Admin.load("jobs")`` against the naive way and the raw transfer floor.

Fills a private redis-server (unix socket) with realistic AC jobs (~660 bytes of compact ujson
each) in ``jobs:1``, growing it through each size (default 50,000, 200,000, 400,000), and at each
size times, in this one run (best of ``--repeat``, the jsadmin ways interleaved):

* naive: redis-py with its pure-Python parser (no hiredis), ``HGETALL``, ``json.loads`` per
  value, ``pd.DataFrame(list_of_dicts)``;
* floor: the same reply bytes read from the socket without any parsing (``HGETALL``);
* load: ``Admin.load("jobs")`` (HSCAN in steps, orjson, typed columns; ``args``/``result`` dicts);
* load json_text: ``Admin.load("jobs", json_text=True)`` (``args``/``result`` kept as JSON text),
  and ``jsadmin.frames.json_values`` decoding its ``args`` afterwards;
* at the size nearest 200,000, ``backend="polars"`` and the conversion alone, when polars is installed.

Peak memory: each way's load runs again in a fresh subprocess; "peak" is the growth of its peak
RSS (``VmHWM`` of ``/proc/self/status``, so Arrow and numpy buffers and allocator slack count)
over the same process after its imports and a warm-up ``load("jobs", limit=100)`` (lazy imports,
first-call set-up). It is printed against two sizes of the frame, in the same process:

* ``memory_usage(deep=True).sum()``, pandas' own count, which sizes a dict or list cell by
  ``sys.getsizeof``, i.e. without the strings and numbers inside it (the ``args``, ``result``,
  ``_meta`` and ``roles`` cells of a job), so it under-counts the frame;
* the true size (:func:`deep_size`): the non-object columns as pandas counts them, and the
  object columns walked recursively through dicts, lists and tuples, each object counted once
  (an object shared by many cells, such as ``None``, costs its bytes once). It is within 1% of
  ``pympler.asizeof`` (53.5 against 54.1 MiB at 50,000 jobs; pympler rounds every object up to
  8 bytes), and the RSS the process still holds after the load and a
  ``gc.collect()`` ("retained", printed too) is at least as large (the allocator keeps freed pages).

The memory target (peak <= 2x the frame) is judged on the true size: it is what the frame
occupies, so peak / true size is what the load costs over its result. Peak / memory_usage
is printed next to it, and reported in the summary line, because it was the published figure.

Usage::

    python benchmarks/bench_load.py                       # 50k, 200k, 400k; best of 3
    python benchmarks/bench_load.py --sizes 200000 --repeat 1

Exits non-zero when a target of issue 11 is missed by the default load: at 200,000 jobs >= 8x
faster than naive and <= 2.5x the floor; time per job at the largest size <= 1.2x that at the
smallest; peak memory <= 2x the frame's true size at every size.
"""

from __future__ import annotations

import argparse
import functools
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
from jsadmin.frames import json_values

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


class Filler:
    """Writes jobs into ``jobs:1``, continuing where the last call stopped (one random stream)."""

    def __init__(self, client: redis.Redis) -> None:
        self.client = client
        self.rng = random.Random(7)
        self.now = int(time.time())
        self.n = self.value_bytes = self.reply_bytes = 0

    def grow(self, n: int) -> None:
        """Add jobs until there are ``n``; keeps the value bytes and the exact HGETALL reply size."""
        pipe = self.client.pipeline(transaction=False)
        for i in range(self.n + 1, n + 1):
            value = make_job(i, self.rng, self.now)
            field = json.loads(value.replace(b"\\/", b"/"))["guid"].encode()
            pipe.hset("jobs:1", field, value)
            self.value_bytes += len(value)
            self.reply_bytes += len(b"$%d\r\n" % len(field)) + len(field) + 2 + len(b"$%d\r\n" % len(value)) + len(value) + 2
            if i % 5000 == 0:
                pipe.execute()
        pipe.execute()
        self.n = n

    @property
    def reply(self) -> int:
        return self.reply_bytes + len(b"*%d\r\n" % (2 * self.n))


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


def jsadmin_load(url: str, json_text: bool = False) -> pd.DataFrame:
    target = parse_url(url)
    admin = Admin(target.client(), url=url)
    df = admin.load("jobs", json_text=json_text)
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


def deep_size(df: pd.DataFrame) -> int:
    """Bytes the frame really holds: object columns walked recursively, each object counted once.

    Non-object columns are sized by ``memory_usage(deep=True)`` (Arrow, numpy and categorical
    buffers); an object column costs its pointer array plus every object reachable from its cells
    through dicts, lists and tuples (keys and values), counted once however many cells share it.

    >>> df = pd.DataFrame({"a": [{"k": "v" * 100}, None]})
    >>> deep_size(df) > int(df.memory_usage(deep=True).sum())   # the 100-character string counts
    True
    """
    total = int(df.index.memory_usage(deep=True))
    seen: set[int] = set()
    for name in df.columns:
        col = df[name]
        if col.dtype != object:
            total += int(col.memory_usage(deep=True, index=False))
            continue
        total += int(col.memory_usage(deep=False, index=False))
        stack: list[object] = list(col.array)
        while stack:
            obj = stack.pop()
            if id(obj) in seen:
                continue
            seen.add(id(obj))
            total += sys.getsizeof(obj)
            if isinstance(obj, dict):
                stack.extend(obj.keys())
                stack.extend(obj.values())
            elif isinstance(obj, list | tuple):
                stack.extend(obj)
    return total


def peak_memory(url: str, way: str) -> tuple[float, float, float, float]:
    """(peak RSS growth during the load, memory_usage(deep=True), true size, retained RSS) in MiB.

    Measured in a fresh process. Uses ``VmHWM`` of ``/proc/self/status`` (``ru_maxrss`` survives
    ``exec`` and would report the parent's peak); "retained" is ``VmRSS`` after the load and a
    ``gc.collect()``, with the frame alive, over ``VmRSS`` before it.
    """
    call = {"load": "b.jsadmin_load(URL)", "text": "b.jsadmin_load(URL, json_text=True)",
            "naive": "b.naive(URL[len('unix://'):])"}[way]
    code = f"""
import sys, json
sys.path.insert(0, {os.path.dirname(os.path.abspath(__file__))!r})
import bench_load as b
import warnings
import pandas, pyarrow, redis, orjson, jsadmin, jsadmin.admin  # imported before the baseline
URL = {url!r}
from jsadmin.connection import parse_url
with warnings.catch_warnings():  # warm-up: lazy imports and first-call set-up are not the load's
    warnings.simplefilter("ignore")
    jsadmin.admin.Admin(parse_url(URL).client(), url=URL).load("jobs", limit=100, json_text={way == "text"})
import gc
def status(name):
    for line in open("/proc/self/status"):
        if line.startswith(name):
            return int(line.split()[1]) / 1024
gc.collect()
base, rss = status("VmHWM:"), status("VmRSS:")
df = {call}
peak = status("VmHWM:") - base
gc.collect()
retained = status("VmRSS:") - rss
print(json.dumps([peak, df.memory_usage(deep=True).sum() / 2**20, b.deep_size(df) / 2**20, retained]))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    growth, size, true, retained = json.loads(out.stdout.strip().splitlines()[-1])
    return growth, size, true, retained


def polars_figures(url: str, df: pd.DataFrame, t_load: float, repeat: int) -> None:
    """``backend="polars"`` against the default load, and what the conversion alone costs."""
    from jsadmin.backends import to_polars

    t_polars = best_of(repeat, lambda: jsadmin_load_polars(url))
    t_convert = best_of(repeat, lambda: to_polars(df))
    print(f"  load(\"jobs\", backend=\"polars\") {t_polars:.3f}s; conversion alone {t_convert:.3f}s "
          f"= {100 * t_convert / t_load:.0f}% of the load")
    t_obj = best_of(repeat, lambda: object_columns_as_pl_object(df))
    t_text = best_of(repeat, lambda: object_columns_as_json_text(df))
    print(f"  JSON columns (args, result, ...): pl.Object {t_obj:.3f}s, "
          f"re-encoded as JSON text {t_text:.3f}s ({100 * t_text / t_load:.0f}% of the load)")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="50000,200000,400000", help="comma-separated job counts (ascending)")
    ap.add_argument("--repeat", type=int, default=3, help="best of R runs (default 3)")
    args = ap.parse_args(argv)
    sizes = sorted(int(x) for x in args.sizes.split(","))

    server = EmbeddedRedis.start()
    rows: dict[int, dict[str, float]] = {}
    try:
        filler = Filler(parse_url(server.url).client())
        path, url = str(server.socket_path), server.url
        print(f"jsadmin {jsadmin.__version__}; redis-server {server.binary}; best of {args.repeat}; "
              f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        for n in sizes:
            t0 = time.perf_counter()
            filler.grow(n)
            print(f"\n{n:,} jobs, {filler.value_bytes / n:.0f} bytes each on average, "
                  f"{filler.reply / 2**20:.1f} MiB reply (filled in {time.perf_counter() - t0:.1f}s)")
            df = jsadmin_load(url)
            text = jsadmin_load(url, json_text=True)
            assert len(df) == len(text) == len(naive(path)) == n
            t_naive = best_of(args.repeat, lambda: naive(path))
            t_floor = best_of(args.repeat, lambda: floor(path, filler.reply))
            t_load = t_text = float("inf")
            for _ in range(args.repeat):  # interleaved: both see the same machine load
                t_load = min(t_load, best_of(1, lambda: jsadmin_load(url)))
                t_text = min(t_text, best_of(1, lambda: jsadmin_load(url, json_text=True)))
            args_text = text["args"]
            t_decode = best_of(args.repeat, functools.partial(json_values, args_text))
            r = rows[n] = {"naive": t_naive, "floor": t_floor, "load": t_load, "text": t_text}
            for way in ("load", "text"):
                r[f"peak_{way}"], r[f"frame_{way}"], r[f"true_{way}"], r[f"kept_{way}"] = peak_memory(url, way)
            print(f"  {'way':<40}{'seconds':>9}{'us/job':>8}{'x naive':>9}{'x floor':>9}")
            for name, key in (("naive (HGETALL, json, no hiredis)", "naive"),
                              ("raw transfer floor (no parsing)", "floor"),
                              ('Admin.load("jobs")', "load"),
                              ('Admin.load("jobs", json_text=True)', "text")):
                t = r[key]
                print(f"  {name:<40}{t:>9.3f}{1e6 * t / n:>8.1f}{t_naive / t:>8.1f}x{t / t_floor:>8.2f}x")
            print(f"  json_values(args) of the json_text frame: {t_decode:.3f}s")
            for way, label in (("load", "default"), ("text", "json_text")):
                peak, size, true = r[f"peak_{way}"], r[f"frame_{way}"], r[f"true_{way}"]
                print(f"  peak memory, {label:<9}: +{peak:.0f} MiB peak RSS for a {size:.0f} MiB frame "
                      f"(memory_usage(deep=True)) = {peak / size:.2f}x; true size {true:.0f} MiB "
                      f"(deep_size; RSS retained after gc.collect() +{r[f'kept_{way}']:.0f} MiB) = {peak / true:.2f}x")
            if abs(n - 200_000) == min(abs(m - 200_000) for m in sizes) and importlib.util.find_spec("polars"):
                polars_figures(url, df, t_load, args.repeat)
            df = text = args_text = None  # freed before the next size
    finally:
        server.stop()

    print(f"\nload average {os.getloadavg()[0]:.1f} at the end")
    ok = True
    nearest = min(rows, key=lambda m: abs(m - 200_000))
    for way, label in (("load", "default"), ("text", "json_text=True")):
        r = rows[nearest]
        speed, over = r["naive"] / r[way], r[way] / r["floor"]
        first, last = min(rows), max(rows)
        growth = (rows[last][way] / last) / (rows[first][way] / first)
        worst = max(rows[m][f"peak_{way}"] / rows[m][f"true_{way}"] for m in rows)
        worst_mu = max(rows[m][f"peak_{way}"] / rows[m][f"frame_{way}"] for m in rows)
        met = speed >= 8 and over <= 2.5 and growth <= 1.2 and worst <= 2
        print(f"{label:<15} at {nearest:,}: {speed:.1f}x faster than naive (target >= 8x), {over:.2f}x the floor "
              f"(target <= 2.5x); us/job at {last:,} / at {first:,}: {growth:.2f}x (target <= 1.2x); "
              f"peak memory at most {worst:.2f}x the frame's true size (target <= 2x; "
              f"{worst_mu:.2f}x its memory_usage(deep=True)): {'met' if met else 'MISSED'}")
        if way == "load":
            ok = met
    print("targets (default load): " + ("met" if ok else "MISSED"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
