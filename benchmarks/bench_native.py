"""The stages of a native (polars) read of ``jobs``, timed alone and overlapped, against ``Admin.load``.

Issue 11 asks whether a native JSON-to-columns reader that releases the GIL, run on a thread
while the next ``HSCAN`` batch is in flight, can bring ``Admin.load("jobs")`` to 8x the naive way
and 2.5x the raw transfer floor. This script measures the candidate's parts on the jobs of
``benchmarks/bench_load.py`` (same generator, same ``jobs:1``) so the answer is a measurement, not
a guess. Nothing here is exact (no screens for every odd byte form); it prices the best case:

* floor: the ``HGETALL`` reply read from the socket, unparsed; fetch: ``jsadmin.scan.hash_batches``
  (``HSCAN`` ``COUNT 5000``, hiredis, the next batch prefetched on a thread), values dropped;
* load / load json_text: ``Admin.load("jobs")`` and ``json_text=True`` (today's reader);
* decode: ``polars.read_ndjson`` of each batch joined by newlines, with the typed schema (ints,
  floats, booleans typed; text, ``args``/``result``/``roles``/``_meta``/... as String), on batches
  fetched beforehand; also with every field as String, and ten batches (50,000 jobs) per call
  (whether bigger inputs let polars use more threads: compare wall and CPU seconds);
* fetch+decode sequential, and overlapped (each batch decoded by a 1-thread pool while the next
  one is fetched);
* screens: what finding the values polars accepts but decodes differently costs per load, three
  ways: one Python ``re`` pass over each joined batch, the same pattern in polars' Rust regex per
  value (the Arrow text column built from the batch included), and only ``bytes.find`` of literal
  markers (``\\ud``: escaped surrogates, one case of several);
* parse: today's parser part alone (``orjson.loads`` per value, one list per field) against msgspec
  (if installed; not a jsadmin dependency) decoding each batch as one JSON array into strict typed
  structs with the nested fields left as raw JSON, transposed to lists, with and without
  ``orjson.loads`` of those nested fields (which the default frames hold as objects);
* typed: the polars frame into the reader's pandas dtypes (``Int64``, ``Float64``, ``boolean``,
  UTC datetimes, Arrow strings, ``category``); objects: ``orjson.loads`` of the ``args``,
  ``result``, ``roles``, ``_meta``, ``parent``, ``tags`` text polars re-printed.

The closing "best case" lines add up overlapped fetch+decode, typed conversion, the Rust screen
and (for objects) the ``orjson`` pass: what a native reader could reach before any batch falls
back, and before frame assembly and provenance columns.

Each figure is the best of ``--repeat`` wall times, with the CPU seconds of the whole process
(every thread) for that run; the load average is printed before and after.

Usage::

    python benchmarks/bench_native.py                   # 200,000 jobs, best of 3
    python benchmarks/bench_native.py --jobs 50000 --repeat 5
"""

from __future__ import annotations

import argparse
import gc
import io
import os
import re
import sys
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import bench_load as b
import numpy as np
import orjson
import pandas as pd
import pyarrow as pa

from jsadmin.connection import parse_url
from jsadmin.embedded import EmbeddedRedis
from jsadmin.frames import JOB_COLUMNS, to_datetime
from jsadmin.scan import hash_batches, raw_client

try:
    import polars as pl
except ImportError:  # pragma: no cover - the polars extra
    sys.exit("bench_native needs polars: pip install 'jsadmin[polars]'")

FIELDS = [c for c in JOB_COLUMNS if c not in ("jumpscript", "role")]
_TYPED = {"Int64": pl.Int64, "Float64": pl.Float64, "datetime": pl.Float64, "boolean": pl.Boolean}
SCHEMA = {c: _TYPED.get(JOB_COLUMNS[c], pl.String) for c in FIELDS}
STRINGS = {c: pl.String for c in FIELDS}
TEXT = [c for c in FIELDS if JOB_COLUMNS[c] in ("string", "category")]
OBJECT = [c for c in FIELDS if JOB_COLUMNS[c] == "object"]
SCREEN = (
    r'\\u[dD][89a-fA-F]'  # an escaped surrogate (polars turns a lone one into \x00)
    + r'|[:\[,]\s*-?[0-9]{19}'  # an integer too long for 64 bits (polars makes it a float)
    + '|"(' + "|".join(TEXT) + r')"\s*:\s*([^"n\s0-9-]|-?[0-9]+[.eE])'  # true/1.5/{..} in a text field
    + '|"(' + "|".join(OBJECT) + r')"\s*:\s*"'  # a string in an object field: its quotes are lost
)
"""Values polars accepts but decodes differently from the lenient path (not all of them: repeated
keys and floats polars re-prints inside ``args`` need more)."""
SCREEN_RE = re.compile(SCREEN.encode())


def timed(repeat: int, fn: Callable[[], object]) -> tuple[float, float]:
    """(best wall seconds, CPU seconds of that run) of ``fn``."""
    best = (float("inf"), 0.0)
    for _ in range(repeat):
        c0, t0 = time.process_time(), time.perf_counter()
        fn()
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        best = min(best, (wall, cpu))
    return best


def read_ndjson(values: list[bytes], schema: dict[str, Any]) -> Any:
    """One batch through polars (raw newlines flattened first, so pretty JSON stays one line)."""
    blob = b"\n".join(values)
    if blob.count(b"\n") != len(values) - 1:
        blob = b"\n".join(v.replace(b"\n", b" ") for v in values)
    return pl.read_ndjson(io.BytesIO(blob), schema=schema)


def rust_screen(values: list[bytes]) -> bool:
    """:data:`SCREEN` per value in polars' Rust regex engine (the Arrow text column built first)."""
    return bool(pl.Series("v", pa.array(values, type=pa.binary()).cast(pa.string())).str.contains(SCREEN).any())


def fetch_decode(raw: Any, overlap: bool) -> Any:
    """Every batch fetched and decoded; with ``overlap`` each decode runs on a thread meanwhile."""
    if not overlap:
        return pl.concat([read_ndjson(vals, SCHEMA) for _, vals in hash_batches(raw, b"jobs:1")])
    with ThreadPoolExecutor(1, thread_name_prefix="decode") as pool:
        futures: list[Future[Any]] = [pool.submit(read_ndjson, vals, SCHEMA) for _, vals in hash_batches(raw, b"jobs:1")]
        return pl.concat([f.result() for f in futures])


def typed_columns(df: Any) -> dict[str, Any]:
    """The polars frame's scalar columns in the reader's pandas dtypes."""
    table = df.to_arrow()
    out: dict[str, Any] = {}
    for c in FIELDS:
        kind, col = JOB_COLUMNS[c], table.column(c)
        if kind == "Int64":
            out[c] = pd.array(col.to_pandas(types_mapper=pd.ArrowDtype), dtype="Int64")
        elif kind == "Float64":
            out[c] = pd.array(col.to_numpy(), dtype="Float64")
        elif kind == "boolean":
            out[c] = pd.array(col.to_pandas(types_mapper=pd.ArrowDtype), dtype="boolean")
        elif kind == "datetime":
            out[c] = to_datetime(np.nan_to_num(col.to_numpy(), nan=0.0))[0]
        elif kind == "string":
            out[c] = pd.arrays.ArrowStringArray(col.cast(pa.large_string()))
        elif kind == "category":
            out[c] = pd.Categorical.from_codes(*_codes(col))
    return out


def _codes(col: Any) -> tuple[np.ndarray, list[str]]:
    encoded = col.combine_chunks().dictionary_encode()
    return encoded.indices.to_numpy(zero_copy_only=False).astype("int64"), encoded.dictionary.to_pylist()


def objects(df: Any) -> dict[str, list[Any]]:
    """The JSON columns decoded from polars' text (one ``orjson.loads`` per cell)."""
    loads = orjson.loads
    return {c: [None if t is None else loads(t) for t in df[c].to_list()] for c in OBJECT}


def msgspec_decoder() -> Any:
    """A strict msgspec decoder of a JSON array of jobs: scalars typed, nested fields kept as raw JSON.

    ``None`` when msgspec is not installed (it is not a jsadmin dependency; ``pip install msgspec``).
    """
    try:
        import msgspec
    except ImportError:
        return None
    kinds: dict[str, Any] = {"Int64": int | None, "Float64": int | float | None, "datetime": int | float | None,
                             "boolean": bool | None, "string": str | int | None, "category": str | None}
    spec = [(c.lstrip("_") or c, kinds.get(JOB_COLUMNS[c], msgspec.Raw), msgspec.field(default=None, name=c))
            for c in FIELDS]
    job = msgspec.defstruct("Job", spec, forbid_unknown_fields=True)
    return msgspec.json.Decoder(list[job]), msgspec.structs.astuple  # type: ignore[valid-type]  # a struct made at run time


def msgspec_columns(decoder: Any, batches: list[list[bytes]], nested: bool) -> list[list[Any]]:
    """Each batch decoded by ``decoder`` and transposed; with ``nested`` the raw nested fields through orjson."""
    dec, astuple = decoder
    loads = orjson.loads
    gc.disable()  # as the reader does: generational passes over millions of new objects would dominate
    where = [i for i, c in enumerate(FIELDS) if JOB_COLUMNS[c] not in ("Int64", "Float64", "datetime", "boolean", "string", "category")]
    out: list[list[Any]] = []
    for vals in batches:
        cols: list[Any] = list(zip(*map(astuple, dec.decode(b"[" + b",".join(vals) + b"]")), strict=True))
        if nested:
            for i in where:
                cols[i] = [None if r is None else loads(memoryview(r)) for r in cols[i]]
        out.append(cols)
    gc.enable()
    return out


def orjson_columns(batches: list[list[bytes]]) -> list[list[Any]]:
    """Today's parser part alone: ``orjson.loads`` per value, then one list per field."""
    loads = orjson.loads
    gc.disable()
    out: list[list[Any]] = []
    for vals in batches:
        objs = [loads(v) for v in vals]
        out.append([[o.get(c) for o in objs] for c in FIELDS])
    gc.enable()
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jobs", type=int, default=200_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    n, rep = args.jobs, args.repeat
    server = EmbeddedRedis.start()
    try:
        filler = b.Filler(parse_url(server.url).client())
        filler.grow(n)
        raw = raw_client(parse_url(server.url).client())
        batches = [vals for _, vals in hash_batches(raw, b"jobs:1")]
        joined = [b"\n".join(v) for v in batches]
        grouped = [[v for vals in batches[i : i + 10] for v in vals] for i in range(0, len(batches), 10)]
        frame = fetch_decode(raw, overlap=False)
        assert frame.height == n
        print(f"{n:,} jobs in {len(batches)} HSCAN batches, {filler.reply / 2**20:.1f} MiB reply; "
              f"polars {pl.__version__} ({pl.thread_pool_size()} threads); best of {rep}; "
              f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        path = str(server.socket_path)
        rows: list[tuple[str, tuple[float, float]]] = [
            ("floor: raw HGETALL reply, unparsed", timed(rep, lambda: b.floor(path, filler.reply))),
            ("fetch: HSCAN batches (hiredis, prefetched)", timed(rep, lambda: [len(v) for _, v in hash_batches(raw, b"jobs:1")])),
            ('Admin.load("jobs")', timed(rep, lambda: b.jsadmin_load(server.url))),
            ('Admin.load("jobs", json_text=True)', timed(rep, lambda: b.jsadmin_load(server.url, json_text=True))),
            ("decode: read_ndjson, typed schema", timed(rep, lambda: [read_ndjson(v, SCHEMA) for v in batches])),
            ("decode: read_ndjson, every field String", timed(rep, lambda: [read_ndjson(v, STRINGS) for v in batches])),
            ("decode: read_ndjson, typed, 10 batches a call", timed(rep, lambda: [read_ndjson(g, SCHEMA) for g in grouped])),
            ("fetch+decode, sequential", timed(rep, lambda: fetch_decode(raw, overlap=False))),
            ("fetch+decode, overlapped (decode thread)", timed(rep, lambda: fetch_decode(raw, overlap=True))),
            ("screen: Python re over each joined batch", timed(rep, lambda: [SCREEN_RE.search(j) for j in joined])),
            ("screen: polars Rust regex per value", timed(rep, lambda: [rust_screen(v) for v in batches])),
            ("screen: bytes.find of literal markers", timed(rep, lambda: [j.find(b"\\ud") + j.find(b"\\uD") for j in joined])),
            ("typed: polars -> reader's pandas dtypes", timed(rep, lambda: typed_columns(frame))),
            ("objects: orjson.loads of args/result/...", timed(rep, lambda: objects(frame))),
            ("parse: orjson.loads per value + one list per field", timed(rep, lambda: orjson_columns(batches))),
        ]
        decoder = msgspec_decoder()
        if decoder is None:
            print("  (msgspec not installed: its stages are skipped; pip install msgspec)")
        else:
            rows += [
                ("parse: msgspec typed batch, nested raw + lists", timed(rep, lambda: msgspec_columns(decoder, batches, False))),
                ("parse: msgspec as above + orjson of nested raw", timed(rep, lambda: msgspec_columns(decoder, batches, True))),
            ]
        width = max(len(name) for name, _ in rows)
        print(f"  {'stage':<{width}}{'wall s':>9}{'cpu s':>9}{'us/job':>9}")
        for name, (wall, cpu) in rows:
            print(f"  {name:<{width}}{wall:>9.3f}{cpu:>9.3f}{1e6 * wall / n:>9.2f}")
        got = dict(rows)
        floor_s, load_s = got["floor: raw HGETALL reply, unparsed"][0], got['Admin.load("jobs")'][0]
        screen = got["screen: polars Rust regex per value"][0]  # the fastest full screen; bytes.find covers surrogates only
        base = got["fetch+decode, overlapped (decode thread)"][0] + got["typed: polars -> reader's pandas dtypes"][0]
        for label, total in (("args/result as JSON text", base + screen),
                             ("args/result as objects", base + screen + got["objects: orjson.loads of args/result/..."][0])):
            print(f"  best case native, {label}: {total:.3f}s = {total / floor_s:.2f}x the floor, "
                  f"{load_s / total:.2f}x faster than today's load (Rust screen; no fallback, no frame assembly)")
        print(f"load average {os.getloadavg()[0]:.1f} at the end")
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
