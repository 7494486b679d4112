"""Reading one family into a typed DataFrame: keys -> bounded reads -> decode -> frame.

The catalog says what to read; :mod:`jsadmin.scan` does the bounded I/O; :mod:`jsadmin.decode`
and :mod:`jsadmin.frames` turn bytes into typed columns. Values that do not decode are
reported as :class:`~jsadmin.decode.Problem` rows in the load's
:class:`~jsadmin.loadinfo.LoadInfo` (``read_loaded(...).info.problems``).

>>> df = read_family(raw_client(r), family("jobs"), gid=1)   # doctest: +SKIP
"""

from __future__ import annotations

import gc
import os
import sys
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import orjson
import pandas as pd
import pyarrow as pa
import redis

from . import keys as K
from .catalog import (
    ECO_COLUMNS,
    JUMPSCRIPT_COLUMNS,
    LOG_COLUMNS,
    SESSION_COLUMNS,
    Family,
    check_filters,
    classify,
)
from .decode import (
    RAW_LIMIT,
    DecodeError,
    Problem,
    loads,
    loads_many,
    parse_bool,
    parse_epoch,
    parse_int,
    text,
)
from .domain import jumpscript_ids
from .frames import (
    JOB_FIELDS,
    JSON_TEXT_COLUMNS,
    build_frame,
    convert_column,
    expand_column,
    extract,
    first_role,
    share_strings,
    text_array,
    to_arrow_text,
    to_json_text,
    to_object,
)
from .keyinfo import KeyInfo, key_info
from .limits import (
    DEFAULT_LIMIT,
    Capped,
    TruncatedWarning,
)
from .loadinfo import PROBLEM_COLUMNS as PROBLEM_COLUMNS  # re-exported: older imports name reader
from .loadinfo import Loaded, LoadInfo, problems_frame, with_attrs
from .loadinfo import ProblemFrame as ProblemFrame
from .scan import (
    LIST_PIPELINE_ELEMENTS,
    ListRead,
    hash_batches,
    key_types,
    list_pieces,
    pipelined,
    scan_keys,
    set_members,
    ttls,
)

BATCH_ROWS = 50_000
"""Rows per frame when a family is streamed (:func:`stream_family`, used by ``snapshot``)."""
DECODE_BATCH = 2_000
"""JSON values decoded at once (a list piece or an HSCAN reply is split): their dicts die before
the next ones are made, so a load's transient memory is about this many decoded values."""
_DEFAULT: Any = object()
"""``limit`` not given: :data:`~jsadmin.limits.DEFAULT_LIMIT` for bounded families, else all."""
VANISHED = "key vanished before it was read (deleted or expired after it was listed)"
VALUE_ERRORS = (DecodeError, TypeError, ValueError, OverflowError, RecursionError, KeyError, AttributeError)
"""What decoding one odd value may raise; it is caught per value (or per batch, then per value)."""
ECO_STUB_KEYS = frozenset({"occurrences", "epoch", "guid", "lasttime", "pushtime", "gid", "nid"})


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while building many small objects (it cannot free them anyway).

    When it resumes, the objects made meanwhile that are still alive (a frame's lists and dicts,
    about four per job) are moved to the oldest generation unwalked (``gc.freeze()`` then
    ``gc.unfreeze()``, two list splices): resumed as it was, the collector walked all of them at
    the next allocation (0.08-0.12 s at 200,000 jobs), only to find them alive. The process's
    other young objects move with them, so a cycle it left as garbage just before is freed by the
    next full collection rather than a young one. Skipped when the process froze objects itself
    (``gc.get_freeze_count()``): those stay frozen.

    >>> with gc_paused():
    ...     rows = [[i] for i in range(3)]
    >>> gc.isenabled()
    True
    """
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            if gc.get_freeze_count() == 0:
                gc.freeze()
                gc.unfreeze()
            gc.enable()


ColumnBuilder = Callable[[list[dict[str, Any]]], dict[str, list[Any]]]
"""Turns one batch of decoded JSON objects into value columns."""
TYPED_PER_BATCH = frozenset({"Int64", "Float64", "boolean", "datetime"})
"""Column dtypes converted batch by batch (each cell on its own), so no Python int survives a batch."""


def _convert(dtype: str, col: list[Any]) -> tuple[Any, list[tuple[int, str]]]:
    arr, bad = convert_column(dtype, col)
    return (arr.array if isinstance(arr, pd.DatetimeIndex) else arr), bad


@dataclass
class _Rows:
    """Row-aligned provenance, value columns and errors while reading one family.

    JSON families are decoded batch by batch as the next batch is in flight: each batch's dicts
    become columns at once and are dropped, and a raw value is kept only when it failed to decode,
    so peak memory stays near the final frame's size. Other families keep their raw values.
    """

    builder: ColumnBuilder | None = None
    text_columns: frozenset[str] = frozenset()
    """Value columns converted to Arrow text per batch, so their Python strings die with the batch
    (``category`` columns too: they are encoded once, from that text, when the frame is built)."""
    json_columns: frozenset[str] = frozenset()
    """Value columns kept as compact JSON text (``json_text=True``), so their dicts die with the batch."""
    typed_columns: dict[str, str] = field(default_factory=dict)
    """Value columns converted to their typed array per batch (numbers, booleans, datetimes)."""
    chunks: dict[str, list[Any]] = field(default_factory=dict)
    typed: dict[str, list[Any]] = field(default_factory=dict)
    bad: list[tuple[int, str, str, Any]] = field(default_factory=list)
    """Cells of typed columns that did not convert: ``(row, column, reason, value)`` over all rows."""
    prov: dict[str, list[Any]] = field(default_factory=dict)
    raws: list[Any] = field(default_factory=list)
    cols: dict[str, list[Any]] = field(default_factory=dict)
    errors: list[str | None] = field(default_factory=list)
    keys: list[bytes] = field(default_factory=list)
    fields: list[Any] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.keys)

    def add(self, key: bytes, values: Sequence[Any], fields: Sequence[Any], extra: dict[str, Any]) -> None:
        n = len(values)
        before = len(self.keys)
        if self.builder is None:
            self.raws.extend(values)
        else:
            for at in range(0, n, DECODE_BATCH):  # a few thousand dicts alive at a time
                self._decode_batch(values[at : at + DECODE_BATCH])
        self.keys.extend([key] * n)
        self.fields.extend(fields)
        for name, value in extra.items():
            self.prov.setdefault(name, [None] * before).extend([value] * n)
        for col in self.prov.values():
            if len(col) < before + n:
                col.extend([None] * (before + n - len(col)))

    def _decode_batch(self, values: Sequence[bytes]) -> None:
        lenient: list[int] = []
        parsed = loads_many(list(values), lenient)
        if set(map(type, parsed)) == {dict} or not parsed:
            objs: list[dict[str, Any]] = parsed
            self.errors.extend([None] * len(parsed))
            self.raws.extend([None] * len(parsed))
        else:
            objs = []
            for v, raw in zip(parsed, values):
                if type(v) is dict:
                    objs.append(v)
                    self.errors.append(None)
                    self.raws.append(None)
                else:
                    objs.append({})
                    why = str(v) if isinstance(v, DecodeError) else f"expected a JSON object, got {type(v).__name__}"
                    self.errors.append(why)
                    self.raws.append(raw)
        assert self.builder is not None
        done = len(self.errors) - len(objs)
        for name, col in self._build(objs, values).items():
            if name in self.json_columns:
                if name not in self.chunks and done:
                    self.chunks[name] = [to_arrow_text([None] * done)]
                self.chunks.setdefault(name, []).append(to_json_text(col, lenient))
            elif name in self.text_columns:
                if name not in self.chunks and done:
                    self.chunks[name] = [to_arrow_text([None] * done)]
                self.chunks.setdefault(name, []).append(to_arrow_text(col))
            elif name in self.typed_columns:
                dtype = self.typed_columns[name]
                if name not in self.typed and done:
                    self.typed[name] = [_convert(dtype, [None] * done)[0]]
                arr, bad = _convert(dtype, col)
                self.typed.setdefault(name, []).append(arr)
                self.bad.extend((done + i, name, why, col[i]) for i, why in bad)
            else:
                self.cols.setdefault(name, [None] * done).extend(col)

    def _build(self, objs: list[dict[str, Any]], values: Sequence[bytes]) -> dict[str, list[Any]]:
        """Columns of one batch; an object the builder chokes on becomes an error row, not a crash."""
        assert self.builder is not None
        try:
            return self.builder(objs)
        except VALUE_ERRORS:
            pass
        first = len(self.errors) - len(objs)
        empty = self.builder([{}])
        cols: dict[str, list[Any]] = {name: [] for name in empty}
        for i, obj in enumerate(objs):
            try:
                one = self.builder([obj])
            except VALUE_ERRORS as exc:
                one = empty
                if self.errors[first + i] is None:
                    self.errors[first + i] = f"fields that do not decode: {type(exc).__name__}: {exc}"[:300]
                    self.raws[first + i] = values[i]
            for name in cols:
                cols[name].extend(one[name])
        return cols

    def value_columns(self) -> dict[str, Any]:
        """The decoded value columns (text columns as one Arrow-backed ``string`` array each).

        Called once, when the frame is built: the lists move out of the rows, so each can die as
        soon as its column is converted.
        """
        out: dict[str, Any] = self.cols
        self.cols = {}
        for name, parts in self.chunks.items():
            out[name] = pd.arrays.ArrowStringArray(pa.chunked_array(parts, type=pa.large_string()))
        for name, parts in self.typed.items():
            if len(parts) > 1:  # joined in place: the batch arrays die here, not after the frame is built
                parts[:] = [type(parts[0])._concat_same_type(parts)]
            out[name] = parts[0]
        return out

    def dedupe_from(self, start: int) -> None:
        """Drop repeated hash fields (HSCAN may return a field twice while Redis rehashes)."""
        tail = self.fields[start:]
        if len(set(tail)) == len(tail):
            return
        last = {f: start + i for i, f in enumerate(tail)}
        keep = list(range(start)) + sorted(last.values())
        for name in ("raws", "keys", "fields", "errors"):
            col = getattr(self, name)
            if col:
                setattr(self, name, [col[i] for i in keep])
        self.prov = {c: [v[i] for i in keep] for c, v in self.prov.items()}
        self.cols = {c: [v[i] for i in keep] for c, v in self.cols.items()}
        index = pa.array(keep, type=pa.int64())
        self.chunks = {c: [pa.concat_arrays(v).take(index)] for c, v in self.chunks.items()}
        taken = np.asarray(keep, dtype="int64")
        self.typed = {c: [type(v[0])._concat_same_type(v).take(taken)] for c, v in self.typed.items()}
        moved = {old: new for new, old in enumerate(keep)}
        self.bad = [(moved[i], c, why, v) for i, c, why, v in self.bad if i in moved]


def family_keys(raw: Any, fam: Family, *, gid: Any = None, keys: Sequence[str] | None = None) -> list[bytes]:
    """Keys of a family: fixed keys as given, globs by ``SCAN MATCH`` (never ``KEYS``)."""
    if keys is not None:
        candidates = [k.encode() if isinstance(k, str) else k for k in keys]
    elif fam.gid_key is not None and gid is not None:
        candidates = [fam.gid_key(gid).encode()]
    else:
        candidates = [k.encode() for k in fam.fixed_keys]
        for glob in fam.globs:
            candidates.extend(scan_keys(raw, glob))
    out: list[bytes] = []
    seen: set[bytes] = set()
    for k in candidates:
        if k not in seen and classify(k) == fam.name:
            seen.add(k)
            out.append(k)
    return sorted(out)


def _key_extra(fam: Family, key: str, rtype: str) -> dict[str, Any]:
    parts = fam.parse_key(key) or {}
    extra: dict[str, Any] = {c: parts.get(c) for c in fam.key_columns}
    if fam.key_parts is not None:
        extra.update(fam.key_parts(parts, rtype))
    return extra


def _collect(
    raw: Any,
    fam: Family,
    key_list: list[bytes],
    limit: int | None,
    problems: list[Problem],
    types: Sequence[str] | None = None,
    *,
    keep: str = "newest",
    capped: list[Capped] | None = None,
    moved: list[str] | None = None,
    flush: Callable[[_Rows], None] | None = None,
    batch_rows: int = BATCH_ROWS,
    may_be_absent: frozenset[bytes] = frozenset(),
    batched: bool = False,
    json_text: frozenset[str] = frozenset(),
) -> _Rows:
    """Read and decode a family's keys into :class:`_Rows`; keys that vanish or change type meanwhile become problems.

    Lists are read in pieces of about 20,000 entries (:func:`~jsadmin.scan.list_pieces`, which
    follows a list that moves during the read), each decoded at once; ``limit`` keeps the
    entries nearest one end of each list (``keep="newest"``: the end JumpScale pushes to) and
    adds each capped key to ``capped``; lists that moved are added to ``moved``. With ``flush``,
    every ``batch_rows`` rows are handed to it and dropped (streaming); the rows not flushed yet
    are returned. ``may_be_absent`` are keys that were never seen to exist (the catalog's fixed
    keys, the ``jobs:<gid>`` of a ``gid`` filter), so a ``TYPE`` of ``none`` for them is no news.
    ``batched`` asks type, TTL, string values and short lists with :func:`~jsadmin.keyinfo.key_info`
    (one script call per 200 keys, atomic per key) instead of one pipelined command per key and question.
    """
    text_columns = frozenset(c for c, t in fam.value_columns.items() if t in ("string", "category"))
    typed_columns = {c: t for c, t in fam.value_columns.items() if t in TYPED_PER_BATCH}

    def fresh() -> _Rows:
        return _Rows(
            builder=BUILDERS.get(fam.decoder), text_columns=text_columns, typed_columns=typed_columns,
            json_columns=json_text,
        )

    rows = fresh()
    allowed = (fam.redis_type, *fam.also_types)
    end = fam.newest
    if keep == "oldest":
        end = "head" if end == "tail" else "tail"
    info: dict[bytes, KeyInfo] = {}
    if batched and key_list:
        info = {i.key: i for i in key_info(raw, key_list, ttl=fam.ttl, limit=limit, end=end)}
        types = [info[k].type for k in key_list]
    elif types is None:
        types = key_types(raw, key_list)
    by_type: dict[str, list[bytes]] = {}
    for k, t in zip(key_list, types):
        if t == "none":
            if k not in may_be_absent:
                problems.append(Problem.of(fam.name, k, None, VANISHED, None))
            continue
        if t not in allowed:
            problems.append(Problem.of(fam.name, k, None, f"unexpected Redis type {t!r} (expected {'/'.join(allowed)})", None))
            continue
        by_type.setdefault(t, []).append(k)
    ttl_of: dict[bytes, float | None] = {}
    if fam.ttl and key_list:
        present = [k for ks in by_type.values() for k in ks]
        ttl_of = {k: info[k].ttl for k in present} if info else dict(zip(present, ttls(raw, present)))
    strings = by_type.get("string", [])
    if info:
        values = [info[k].value for k in strings]
    else:
        values = pipelined(raw, [("GET", k) for k in strings]) if strings else []
    for k, v in zip(strings, values):
        if not isinstance(v, bytes):  # TYPE saw a string here a moment ago
            why = VANISHED if v is None else f"key changed type before it was read ({v})"
            problems.append(Problem.of(fam.name, k, None, why, None))
            continue
        extra = _key_extra(fam, k.decode("utf-8", "backslashreplace"), "string")
        if fam.ttl:
            extra["ttl"] = ttl_of.get(k)
        rows.add(k, [v], [None], extra)
        if flush is not None and len(rows) >= batch_rows:
            flush(rows)
            rows = fresh()
    recheck: dict[bytes, int] = {}  # hashes and sets read in several steps: did they survive?
    for k in by_type.get("hash", []):
        extra = _key_extra(fam, k.decode("utf-8", "backslashreplace"), "hash")
        if fam.ttl:
            extra["ttl"] = ttl_of.get(k)
        start = len(rows)
        taken = 0
        flushed = 0  # rows of this key already handed to flush
        seen: set[bytes] = set()  # streaming only: a field HSCAN repeats across two flushed batches
        calls: list[int] = []
        try:
            for fields, vals in hash_batches(raw, k, calls=calls):
                if limit is not None:
                    room = limit - taken
                    if room <= 0:
                        break
                    fields, vals = fields[:room], vals[:room]
                if flush is not None:
                    if not seen.isdisjoint(fields):
                        pairs = [(f, v) for f, v in zip(fields, vals) if f not in seen]
                        fields, vals = [f for f, _ in pairs], [v for _, v in pairs]
                    seen.update(fields)
                taken += len(fields)
                rows.add(k, vals, fields, extra)
                if flush is not None and len(rows) >= batch_rows:
                    rows.dedupe_from(start)
                    flushed += len(rows) - start
                    flush(rows)
                    rows, start = fresh(), 0
        except redis.ResponseError as exc:
            rows.dedupe_from(start)
            problems.append(Problem.of(fam.name, k, None, _changed(exc, flushed + len(rows) - start, "fields"), None))
            continue
        rows.dedupe_from(start)
        if len(calls) > 1 or len(rows) == start:  # not one atomic reply, or nothing: is it still there?
            recheck[k] = len(rows) - start
    list_keys = by_type.get("list", [])
    known = [(info[k].length, info[k].first, info[k].entries) for k in list_keys] if info else None
    states: list[ListRead] = []
    list_extra: dict[int, dict[str, Any]] = {}
    piece = LIST_PIPELINE_ELEMENTS if flush is None else max(1, min(LIST_PIPELINE_ELEMENTS, batch_rows))
    for i, first, vals in list_pieces(raw, list_keys, limit=limit, end=end, batch=piece, reads=states, known=known):
        k = list_keys[i]
        if i not in list_extra:
            list_extra.clear()
            list_extra[i] = _key_extra(fam, k.decode("utf-8", "backslashreplace"), "list")
            if fam.ttl:
                list_extra[i]["ttl"] = ttl_of.get(k)
        rows.add(k, vals, range(first, first + len(vals)), list_extra[i])
        if flush is not None and len(rows) >= batch_rows:
            flush(rows)
            rows = fresh()
    for st in states:  # TYPE saw each of these lists a moment ago
        name = st.key.decode("utf-8", "backslashreplace")
        if capped is not None and limit is not None and st.length > limit:
            capped.append(Capped(name, st.read, st.length, keep))
        if st.note:
            if st.moved and moved is not None:
                moved.append(name)
            problems.append(Problem.of(fam.name, st.key, None, st.note, None))
    for k in by_type.get("set", []):
        try:
            vals = set_members(raw, k)
        except redis.ResponseError as exc:
            problems.append(Problem.of(fam.name, k, None, _changed(exc, 0, "members"), None))
            continue
        rows.add(k, vals, vals, _key_extra(fam, k.decode("utf-8", "backslashreplace"), "set"))
        recheck[k] = len(vals)
        if flush is not None and len(rows) >= batch_rows:
            flush(rows)
            rows = fresh()
    _recheck(raw, fam, recheck, problems, allowed)
    return rows


def _changed(exc: Exception, n: int, what: str) -> str:
    return f"key changed type while it was read ({exc}); {n} {what} read before"


def _recheck(raw: Any, fam: Family, read: dict[bytes, int], problems: list[Problem], allowed: Sequence[str]) -> None:
    """Keys read in several steps (or found empty) that are gone or retyped now were read partially."""
    keys = [k for k, n in read.items()]
    for k, t in zip(keys, key_types(raw, keys) if keys else []):
        if t == "none":
            problems.append(Problem.of(fam.name, k, None, f"key vanished while it was read; {read[k]} entries read", None))
        elif t not in allowed:
            problems.append(Problem.of(fam.name, k, None, f"key changed type to {t!r} while it was read; {read[k]} entries read", None))
        elif read[k] == 0:
            problems.append(Problem.of(fam.name, k, None, "key was replaced while it was read; 0 entries read", None))


# ------------------------------------------------------------------------------------ decoders
# JSON families: a builder turns a batch of decoded objects into value columns (see _Rows).
# Bare-value families: a decoder turns all raw values into value columns plus one error per row.
DecodeResult = tuple[dict[str, list[Any]], list[str | None]]


def _build_job(objs: list[dict[str, Any]]) -> dict[str, list[Any]]:
    cols = extract(objs, JOB_FIELDS)
    share_strings(cols["_meta"])  # the same few strings in every job: one object per batch, not per row
    share_strings(cols["roles"])
    cols["jumpscript"] = jumpscript_ids(cols["category"], cols["cmd"])
    cols["role"] = first_role(cols["roles"])
    return cols


_JUMPSCRIPT_FIELDS = [c if c != "code" else "source" for c in JUMPSCRIPT_COLUMNS
                      if c not in ("form", "period_seconds", "debug")]
"""The JSON keys a jumpscript is read from: its ``source`` (the code) loads as column ``code``."""


def _build_jumpscript(objs: list[dict[str, Any]]) -> dict[str, list[Any]]:
    cols = extract(objs, _JUMPSCRIPT_FIELDS)
    cols["code"] = cols.pop("source")
    cols["form"] = ["execfunction" if "_loaded" in o or ("descr" not in o and "lastrun" in o) else "pm" for o in objs]
    cols["period_seconds"] = [p if isinstance(p, int) and not isinstance(p, bool) else None for p in cols["period"]]
    cols["debug"] = [
        o["debug"] if isinstance(o.get("debug"), bool) else ("DEBUG NOW" in s if isinstance(s, str) else None)
        for o, s in zip(objs, cols["code"])
    ]
    return cols


def _builder(columns: Iterable[str]) -> ColumnBuilder:
    fields = list(columns)

    def build(objs: list[dict[str, Any]]) -> dict[str, list[Any]]:
        return extract(objs, fields)

    return build


def _blank_to_none(values: list[Any]) -> list[Any]:
    return [None if v in (None, 0, "0", "") else v for v in values]


def _build_eco(objs: list[dict[str, Any]]) -> dict[str, list[Any]]:
    cols = extract(objs, [c for c in ECO_COLUMNS if c != "stub"])
    cols["stub"] = [bool(o) and set(o) <= ECO_STUB_KEYS for o in objs]
    cols["jid"] = _blank_to_none(cols["jid"])
    cols["masterjid"] = _blank_to_none(cols["masterjid"])
    cols["funclinenr"] = [None if n == "" else n for n in cols["funclinenr"]]
    return cols


BUILDERS: dict[str, ColumnBuilder] = {
    "job": _build_job,
    "jumpscript": _build_jumpscript,
    "session": _builder(SESSION_COLUMNS),
    "eco": _build_eco,
    "log": _builder(LOG_COLUMNS),
}


def _scalar(parse: Callable[[Any], Any]) -> Callable[[Sequence[bytes]], DecodeResult]:
    def decode(raws: Sequence[bytes]) -> DecodeResult:
        out: list[Any] = []
        errors: list[str | None] = []
        for v in raws:
            try:
                out.append(parse(v))
                errors.append(None)
            except VALUE_ERRORS as exc:
                out.append(None)
                errors.append(str(exc) if isinstance(exc, DecodeError) else f"{type(exc).__name__}: {exc}"[:300])
        return {"value": out}, errors

    return decode


def _decode_pidlist(raws: Sequence[bytes]) -> DecodeResult:
    pids: list[Any] = []
    errors: list[str | None] = []
    for raw in raws:
        try:
            v = loads(raw)
            if not isinstance(v, list) or not all(isinstance(p, int) and not isinstance(p, bool) for p in v):
                raise DecodeError("expected a JSON list of pids")
            pids.append(v)
            errors.append(None)
        except DecodeError as exc:
            pids.append(None)
            errors.append(str(exc))
    return {"pids": pids, "npids": [None if p is None else len(p) for p in pids]}, errors


DECODERS: dict[str, Callable[[Sequence[bytes]], DecodeResult]] = {
    "int": _scalar(parse_int),
    "epoch": _scalar(parse_epoch),
    "bool": _scalar(parse_bool),
    "text": _scalar(text),
    "pidlist": _decode_pidlist,
}



def _monitoring(rows: _Rows, fam: Family, problems: list[Problem]) -> tuple[dict[str, list[Any]], list[int]]:
    """Flatten the legacy ``healthcheck:monitoring`` hash into one row per check item."""
    out: dict[str, list[Any]] = {c: [] for c in ("key", *fam.value_columns)}
    lastcheck: float | None = None
    sections: list[tuple[str, Any]] = []
    for k, f, raw in zip(rows.keys, rows.fields, rows.raws):
        name = f.decode("utf-8", "backslashreplace") if isinstance(f, bytes) else str(f)
        try:
            if name == "lastcheck":
                lastcheck = parse_epoch(raw)
            elif name in ("results", "errors"):
                value = loads(raw)
                if not isinstance(value, dict):
                    raise DecodeError(f"expected a JSON object of nodes, got {type(value).__name__}")
                sections.append((name, value))
            else:
                raise DecodeError(f"unknown field {name!r}")
        except DecodeError as exc:
            problems.append(Problem.of(fam.name, k, f, str(exc), raw))
    for section, nodes in sections:
        for nid, checks in nodes.items():
            items_by_check = checks.items() if isinstance(checks, dict) else [("", checks)]
            for check, items in items_by_check:
                for pos, item in enumerate(items if isinstance(items, list) else [items]):
                    out["key"].append(K.HEALTHCHECK_MONITORING)
                    out["section"].append(section)
                    out["nid"].append(nid)
                    out["check"].append(check)
                    out["position"].append(pos)
                    state = message = None
                    if isinstance(item, dict):
                        state = item.get("state")
                        message = item.get("message", item.get("errormessage"))
                    elif isinstance(item, str):
                        message = item
                    out["state"].append(state)
                    out["message"].append(message)
                    out["item"].append(item)
                    out["lastcheck"].append(lastcheck)
    return out, []


def read_family(raw: Any, fam: Family, **filters: Any) -> pd.DataFrame:
    """The frame of :func:`read_loaded`, its :class:`~jsadmin.loadinfo.LoadInfo` mirrored into ``attrs``.

    >>> read_family(raw, family("logs"), limit=None)      # doctest: +SKIP
    """
    return with_attrs(read_loaded(raw, fam, **filters))


def read_loaded(raw: Any, fam: Family, **filters: Any) -> Loaded:
    """Load one family: its typed frame and what the load found (:class:`~jsadmin.loadinfo.LoadInfo`).

    ``filters`` narrow rows by column value (``gid=1``, ``state="OK"``).
    Special filters: ``keys`` (explicit keys), ``types`` (their known Redis types, to save the
    ``TYPE`` round trip), ``limit`` (entries per key: the newest N of a list, the first N fields
    ``HSCAN`` returns of a hash; ``None`` for all), ``keep`` (``"newest"``, the default, or
    ``"oldest"``: which end of a list ``limit`` keeps), ``expand`` (a column name or list of
    names holding dicts, e.g. ``"args"``), ``batched`` (``True``: per-key type, TTL, string values
    and short lists in one read-only script call per 200 keys, see :mod:`jsadmin.keyinfo`, instead
    of one pipelined command per key and question), ``json_text`` (``True``: a job family's ``args``
    and ``result`` as compact JSON text, ``string`` dtype, instead of dicts: less memory and no
    Python object per cell; :func:`~jsadmin.frames.json_values` and ``expand`` decode them).

    Without ``limit``, the list families that can grow without bound
    (:attr:`~jsadmin.catalog.Family.bounded`: ``logs``, queues, ...) load the newest
    :data:`~jsadmin.limits.DEFAULT_LIMIT` entries per key. A capped key is listed in
    ``info.capped`` (``info.notes``: "queues:logs: newest 100,000 of 2,000,000 entries; pass
    `limit=None` for all"; ``info.truncated``: ``{key: {"kept", "total", "keep"}}``), and a
    :class:`~jsadmin.limits.TruncatedWarning` is raised when the cap was the default rather than a
    ``limit`` the caller gave; the ``position`` column keeps each entry's real index in its list
    (0 = head).

    >>> frame, info = read_loaded(raw, family("logs"), limit=None)      # doctest: +SKIP
    """
    expand = filters.pop("expand", None)
    batched = bool(filters.pop("batched", False))
    json_text = _json_text_columns(fam, filters.pop("json_text", False))
    chosen = "limit" in filters
    limit, keep = _limit_options(fam, filters)
    explicit_keys = filters.pop("keys", None)
    known_types: dict[bytes, str] | None = filters.pop("types", None)
    check_filters(fam.name, filters, fam.columns)
    problems: list[Problem] = []
    capped: list[Capped] = []
    moved: list[str] = []
    key_list = family_keys(raw, fam, gid=filters.get("gid"), keys=explicit_keys)
    may_be_absent = frozenset(k.encode() for k in fam.fixed_keys)
    if explicit_keys is None and fam.gid_key is not None and filters.get("gid") is not None:
        may_be_absent |= set(key_list)
    with gc_paused():
        # the per-row dicts die inside _frame, while the collector is paused: re-enabling it
        # with them alive would walk millions of young objects once for nothing
        types = None if known_types is None else [known_types.get(k, "none") for k in key_list]
        rows = _collect(
            raw, fam, key_list, limit, problems, types, keep=keep, capped=capped, moved=moved,
            may_be_absent=may_be_absent, batched=batched, json_text=json_text,
        )
        df = _finish(fam, rows, problems)
        del rows
    df = select_rows(df, filters, expand=expand)
    info = LoadInfo(fam.name, problems_frame(problems), tuple(capped), tuple(moved))
    if capped and not chosen:
        _warn_capped(info)
    return Loaded(df, info)


READ_OPTIONS = ("expand", "batched", "limit", "keep", "keys", "types", "json_text")
"""The keyword arguments of :func:`read_family` (and ``Admin.load``) that are not column filters."""


def check_read_filters(fam: Family, filters: Iterable[str]) -> None:
    """Refuse, before any read, the ``Admin.load`` keywords that are neither options nor columns.

    >>> from jsadmin.catalog import family
    >>> check_read_filters(family("jobs"), ["gid", "limit"])
    """
    check_filters(fam.name, [f for f in filters if f not in READ_OPTIONS], fam.columns)


def select_rows(df: pd.DataFrame, filters: Mapping[str, Any], *, expand: str | Sequence[str] | None = None) -> pd.DataFrame:
    """The rows whose column equals each filter's value (or is in a list of them), ``expand`` applied.

    The one row filter of every source (``Admin``/``Fleet`` after reading, ``Snapshot`` offline);
    the filters were checked by :func:`~jsadmin.catalog.check_filters`.

    >>> select_rows(pd.DataFrame({"gid": [1, 2]}), {"gid": [2, 3]})["gid"].tolist()
    [2]
    """
    mask = pd.Series(True, index=df.index)
    for column, wanted in filters.items():
        mask &= _matches(df[column], wanted)
    out = df[mask]
    for column in [expand] if isinstance(expand, str) else list(expand or ()):
        out = expand_column(out, column)
    return out.reset_index(drop=True)


def _json_text_columns(fam: Family, wanted: Any) -> frozenset[str]:
    """The value columns ``json_text=True`` keeps as JSON text: a job family's ``args`` and ``result``."""
    if not isinstance(wanted, bool):
        raise ValueError(f"json_text must be True or False, not {wanted!r}")
    if not wanted or fam.decoder != "job":
        return frozenset()
    return frozenset(c for c in JSON_TEXT_COLUMNS if c in fam.value_columns)


def _limit_options(fam: Family, filters: dict[str, Any]) -> tuple[int | None, str]:
    """Pop ``limit`` and ``keep`` from ``filters``: the entries per key to read and which end to keep."""
    limit = filters.pop("limit", _DEFAULT)
    if limit is _DEFAULT:
        limit = DEFAULT_LIMIT if fam.bounded else None
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 0):
        raise ValueError(f"limit must be a non-negative int or None (all entries), not {limit!r}")
    keep = filters.pop("keep", "newest")
    if keep not in ("newest", "oldest"):
        raise ValueError(f"keep must be 'newest' or 'oldest', not {keep!r}")
    return limit, keep


def _warn_capped(info: LoadInfo) -> None:
    """Warn (at the caller's line, outside jsadmin) that the default cap cut keys of this load short."""
    notes = info.notes
    shown = notes[0] if len(notes) == 1 else f"{notes[0]} (and {len(notes) - 1} more keys, see the load's info.notes)"
    warnings.warn(f"{info.family}: {shown}", TruncatedWarning, stacklevel=_outside_jsadmin())


def _outside_jsadmin() -> int:
    """The ``stacklevel`` of the first frame outside the jsadmin package (for warnings)."""
    package = os.path.dirname(os.path.abspath(__file__))
    frame = sys._getframe(1)
    level = 1
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(package + os.sep):
        frame = frame.f_back  # type: ignore[assignment]
        level += 1
    return level


def _finish(fam: Family, rows: _Rows, problems: list[Problem]) -> pd.DataFrame:
    """The typed frame of collected rows; undecodable rows and cells become problems."""
    df, bad, keep_keys, keep_fields = _frame(fam, rows, problems)
    for i, column, why, value in bad:
        key = keep_keys[i] if i < len(keep_keys) else fam.fixed_keys[0] if fam.fixed_keys else b""
        fld = _field_of(fam, keep_fields[i]) if i < len(keep_fields) else None
        problems.append(Problem.of(fam.name, key, fld, f"column {column}: {why}", _cell_bytes(value)))
    if fam.decoder == "job":
        for i in pd.Series(df["guid"].isna()).to_numpy().nonzero()[0]:
            problems.append(Problem.of(fam.name, keep_keys[i], _field_of(fam, keep_fields[i]), "job without a guid", None))
    return df


@dataclass
class Streamed:
    """What :func:`stream_family` read: rows handed to the sink, problems and the capped keys."""

    rows: int = 0
    batches: int = 0
    problems: list[Problem] = field(default_factory=list)
    capped: list[Capped] = field(default_factory=list)
    moved: list[str] = field(default_factory=list)
    """List keys that moved (entries popped or pushed) while they were read; each is also a problem."""


def stream_family(
    raw: Any,
    fam: Family,
    sink: Callable[[pd.DataFrame], None],
    *,
    keys: Sequence[Any] | None = None,
    types: dict[bytes, str] | None = None,
    limit: int | None = None,
    keep: str = "newest",
    batch_rows: int = BATCH_ROWS,
) -> Streamed:
    """Read one family in frames of about ``batch_rows`` rows, handing each to ``sink`` and dropping it.

    Every frame has the family's columns and dtypes, exactly as :func:`read_family` builds them,
    so the frames concatenated equal ``read_family(raw, fam, limit=limit)`` (no filters): peak
    memory stays near one batch however long a list is. ``limit`` defaults to all entries. At
    least one (possibly empty) frame is always handed over.

    >>> stream_family(raw, family("logs"), writer.write)   # doctest: +SKIP
    Streamed(rows=2000000, batches=40, problems=[], capped=[])
    """
    out = Streamed()
    key_list = family_keys(raw, fam, keys=keys)
    known = None if types is None else [types.get(k, "none") for k in key_list]

    def flush(rows: _Rows) -> None:
        df = _finish(fam, rows, out.problems)
        out.rows += len(df)
        out.batches += 1
        sink(df.reset_index(drop=True))

    with gc_paused():
        rest = _collect(
            raw, fam, key_list, limit, out.problems, known, keep=keep, capped=out.capped, moved=out.moved,
            flush=flush, batch_rows=batch_rows, may_be_absent=frozenset(k.encode() for k in fam.fixed_keys),
        )
        if len(rest) or not out.batches:
            flush(rest)
    return out


def _cell_bytes(value: Any) -> bytes:
    """The text of a value that did not convert, for the problem's ``raw`` (cut short there)."""
    if isinstance(value, bytes):
        return value[:RAW_LIMIT]
    if isinstance(value, str):
        return value[:RAW_LIMIT].encode("utf-8", "backslashreplace")
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value).encode()[:RAW_LIMIT] if value.bit_length() < 4000 else b"<huge integer>"
    try:
        return orjson.dumps(value, option=orjson.OPT_SERIALIZE_NUMPY)[:RAW_LIMIT]
    except (TypeError, orjson.JSONEncodeError):
        return repr(value)[:RAW_LIMIT].encode("utf-8", "backslashreplace")


BadCell = tuple[int, str, str, Any]
"""(row, column, reason, the value as decoded) of a value that did not convert."""


def _build(columns: dict[str, Any], fam: Family, spec: dict[str, str]) -> tuple[pd.DataFrame, list[BadCell]]:
    df, bad = build_frame(columns, spec, categories=fam.categories)
    return df, [(i, c, why, _cell(columns.get(c), i)) for i, c, why in bad]


def _cell(col: Any, i: int) -> Any:
    try:
        return None if col is None else col[i]
    except (IndexError, TypeError, KeyError):
        return None


def _frame(
    fam: Family, rows: _Rows, problems: list[Problem]
) -> tuple[pd.DataFrame, list[BadCell], list[bytes], list[Any]]:
    """Decode collected rows into the family's typed frame; undecodable rows become problems."""
    if fam.decoder == "monitoring":
        columns, _ = _monitoring(rows, fam, problems)
        df, bad = _build(columns, fam, fam.columns)
        return df, bad, [], []
    if rows.builder is not None:
        values, errors = rows.value_columns(), rows.errors
    else:
        values, errors = DECODERS[fam.decoder](rows.raws)
    target = fam.scalar_column
    if "value" in values and target is not None and target != "value":
        values[target] = values.pop("value")
    failed = [i for i, e in enumerate(errors) if e is not None]  # not a list of every good row: 2M ints
    for i in failed:
        problems.append(Problem.of(fam.name, rows.keys[i], _field_of(fam, rows.fields[i]), str(errors[i]), rows.raws[i]))
    columns = _provenance(fam, rows)
    columns.update(values)
    keep_keys, keep_fields = rows.keys, rows.fields
    if failed:
        mask = np.ones(len(errors), dtype=bool)
        mask[failed] = False
        keep = np.flatnonzero(mask)
        columns = {
            c: col.take(keep) if isinstance(col, pd.api.extensions.ExtensionArray) else [col[i] for i in keep]
            for c, col in columns.items()
        }
        keep_keys = [rows.keys[i] for i in keep]
        keep_fields = [rows.fields[i] for i in keep]
    _fill_derived(fam, columns)
    for c, t in fam.columns.items():  # each list dies as it becomes an array: never both for every column
        if t == "object" and isinstance(columns.get(c), list):
            columns[c] = to_object(columns[c])[0]  # type: ignore[assignment]  # an array in place of its list
    typed = {c: columns.pop(c) for c in rows.typed if c in columns}
    full = {c: "string" if c in rows.json_columns else t for c, t in fam.columns.items()}
    if not typed:
        df, bad = _build(columns, fam, full)
        return df, bad, keep_keys, keep_fields
    spec = {c: t for c, t in full.items() if c not in typed}
    built, cells = build_frame(columns, spec, categories=fam.categories)
    bad = [(i, c, why, _cell(columns.get(c), i)) for i, c, why in cells]
    del columns
    df = pd.DataFrame({c: typed[c] if c in typed else built[c].array for c in fam.columns}, copy=False)
    del built, typed
    shift = np.searchsorted(np.asarray(failed, dtype="int64"), [b[0] for b in rows.bad]) if failed else None
    bad += [(i - (int(shift[n]) if shift is not None else 0), c, why, v) for n, (i, c, why, v) in enumerate(rows.bad)]
    order = {c: n for n, c in enumerate(fam.columns)}
    bad.sort(key=lambda b: (order.get(b[1], len(order)), b[0]))
    return df, bad, keep_keys, keep_fields


def _field_of(fam: Family, f: Any) -> Any:
    return f if fam.redis_type in ("hash", "set") or isinstance(f, bytes) else (None if f is None else f)


def _provenance(fam: Family, rows: _Rows) -> dict[str, list[Any]]:
    cols: dict[str, Any] = {"key": text_array(rows.keys)}
    types = (fam.redis_type, *fam.also_types)
    if "hash" in types:
        cols[fam.field_column or "field"] = text_array([f if isinstance(f, bytes) else None for f in rows.fields])
    if "list" in types:
        cols["position"] = [f if isinstance(f, int) else None for f in rows.fields]
    if "set" in types:
        cols["member"] = [f.decode("utf-8", "backslashreplace") if isinstance(f, bytes) else None for f in rows.fields]
    for name, col in rows.prov.items():
        cols[name] = col
    return cols


def _fill_derived(fam: Family, cols: dict[str, list[Any]]) -> None:
    """Columns computed from fields or values, as the family declares (:attr:`Family.derive`)."""
    if fam.derive is not None:
        fam.derive(cols)


def _matches(series: pd.Series, wanted: Any) -> pd.Series:
    if isinstance(wanted, list | tuple | set | frozenset):
        return series.isin(list(wanted)).fillna(False).astype(bool)
    return (series == wanted).fillna(False).astype(bool)
