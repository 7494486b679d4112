"""Bounded, read-only enumeration of a Redis keyspace.

Every function here issues only commands whose cost is bounded per call: ``SCAN``/``HSCAN``/
``SSCAN`` with ``COUNT``, ``LRANGE`` over fixed windows, and pipelined ``TYPE``/``GET``/``PTTL``/
``LLEN``/``HLEN``/``SCARD``. Nothing here writes, calls ``KEYS`` or ``HGETALL``.

Replies are raw (bytes and lists, no redis-py response callbacks) so large reads stay cheap.

>>> raw = raw_client(redis.Redis())                       # doctest: +SKIP
>>> list(scan_keys(raw, "jobs:*"))                          # doctest: +SKIP
[b'jobs:1', b'jobs:last']
"""

from __future__ import annotations

import queue as _queue
import threading
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import redis

SCAN_COUNT = 1000
"""``COUNT`` hint for ``SCAN`` over the keyspace."""
HSCAN_COUNT = 5000
"""``COUNT`` hint for ``HSCAN``/``SSCAN``: one reply holds about this many entries."""
LRANGE_WINDOW = 2000
"""Elements per ``LRANGE`` call."""
PIPELINE_BATCH = 500
"""Commands per pipeline round trip for per-key metadata (TYPE, GET, PTTL, LLEN ...)."""

KeyT = bytes


def raw_client(client: redis.Redis) -> redis.Redis:
    """A client on the same connection pool that returns raw replies (no response callbacks).

    >>> raw_client(redis.Redis()).response_callbacks      # doctest: +SKIP
    {}
    """
    raw = redis.Redis(connection_pool=client.connection_pool)
    raw.response_callbacks = type(raw.response_callbacks)({})
    return raw


def scan_keys(raw: redis.Redis, match: str | None = None, *, count: int = SCAN_COUNT) -> Iterator[KeyT]:
    """Yield each key once, walking the keyspace with ``SCAN cursor [MATCH m] COUNT n``."""
    seen: set[bytes] = set()
    cursor: bytes | int = 0
    args: list[Any] = []
    if match:
        args += ["MATCH", match]
    args += ["COUNT", count]
    while True:
        cursor, keys = raw.execute_command("SCAN", cursor, *args)
        for key in keys:
            if key not in seen:
                seen.add(key)
                yield key
        if cursor in (b"0", 0, "0"):
            return


def _zscan_like(raw: redis.Redis, command: str, key: KeyT, count: int) -> Iterator[list[bytes]]:
    cursor: bytes | int = 0
    while True:
        cursor, flat = raw.execute_command(command, key, cursor, "COUNT", count)
        if flat:
            yield flat
        if cursor in (b"0", 0, "0"):
            return


def hscan_flat(raw: redis.Redis, key: KeyT, *, count: int = HSCAN_COUNT) -> Iterator[list[bytes]]:
    """Yield ``[field1, value1, field2, value2, …]`` batches of one hash via ``HSCAN``.

    HSCAN may return a field twice while the hash is rehashing; callers that need
    uniqueness use :func:`hash_items`.
    """
    return _zscan_like(raw, "HSCAN", key, count)


def hash_batches(
    raw: redis.Redis, key: KeyT, *, count: int = HSCAN_COUNT, prefetch: bool = True
) -> Iterator[tuple[list[bytes], list[bytes]]]:
    """``(fields, values)`` batches of one hash via ``HSCAN``.

    The first batch is read inline; when the hash needs more, ``prefetch`` fetches each next
    batch on a thread while the caller works on the current one, so network and server time
    overlap with decoding (the GIL is released while waiting on the socket). Small hashes
    never start a thread. A field may repeat while the hash rehashes.
    """
    cursor, flat = raw.execute_command("HSCAN", key, 0, "COUNT", count)
    if flat:
        yield flat[0::2], flat[1::2]
    if cursor in (b"0", 0, "0"):
        return

    def rest() -> Iterator[list[bytes]]:
        nonlocal cursor
        while cursor not in (b"0", 0, "0"):
            cursor, more = raw.execute_command("HSCAN", key, cursor, "COUNT", count)
            if more:
                yield more

    for more in _prefetched(rest()) if prefetch else rest():
        yield more[0::2], more[1::2]


def hash_items(raw: redis.Redis, key: KeyT, *, count: int = HSCAN_COUNT) -> tuple[list[bytes], list[bytes]]:
    """All ``(fields, values)`` of one hash, de-duplicated, read in ``HSCAN`` steps."""
    fields: list[bytes] = []
    values: list[bytes] = []
    for f, v in hash_batches(raw, key, count=count):
        fields.extend(f)
        values.extend(v)
    if len(set(fields)) != len(fields):
        unique = dict(zip(fields, values))
        fields, values = list(unique), list(unique.values())
    return fields, values


def set_members(raw: redis.Redis, key: KeyT, *, count: int = HSCAN_COUNT) -> list[bytes]:
    """All members of a set, read with ``SSCAN`` (unique)."""
    members: dict[bytes, None] = {}
    for flat in _zscan_like(raw, "SSCAN", key, count):
        members.update(dict.fromkeys(flat))
    return list(members)


def list_values(
    raw: redis.Redis, key: KeyT, *, window: int = LRANGE_WINDOW, limit: int | None = None
) -> list[bytes]:
    """The elements of a list (head first), read with bounded ``LRANGE`` windows.

    ``limit`` caps how many elements are read from the head (``queues:logs`` can be unbounded).
    """
    length = int(raw.execute_command("LLEN", key))
    if limit is not None:
        length = min(length, limit)
    out: list[bytes] = []
    start = 0
    while start < length:
        stop = min(start + window, length) - 1
        chunk = raw.execute_command("LRANGE", key, start, stop)
        if not chunk:
            break
        out.extend(chunk)
        start += len(chunk)
    return out


LIST_PIPELINE_ELEMENTS = 20_000
"""At most about this many list elements are requested per pipelined round trip."""


def lists_values(
    raw: redis.Redis, keys: Sequence[KeyT], *, window: int = LRANGE_WINDOW, limit: int | None = None
) -> list[list[bytes]]:
    """The elements of many lists (head first): pipelined ``LLEN``, then pipelined ``LRANGE`` windows.

    Every command stays bounded (one window); a round trip carries at most about
    :data:`LIST_PIPELINE_ELEMENTS` elements, so many small queues cost two round trips, not two each.
    """
    lengths = [int(n) if isinstance(n, int) else 0 for n in pipelined(raw, [("LLEN", k) for k in keys])]
    out: list[list[bytes]] = [[] for _ in keys]
    pending: list[tuple[int, tuple[Any, ...]]] = []
    budget = 0

    def flush() -> None:
        nonlocal pending, budget
        pipe = raw.pipeline(transaction=False)
        for _, cmd in pending:
            pipe.execute_command(*cmd)
        for (i, _), chunk in zip(pending, pipe.execute(raise_on_error=False)):
            if isinstance(chunk, list):
                out[i].extend(chunk)
        pending, budget = [], 0

    for i, (key, length) in enumerate(zip(keys, lengths)):
        if limit is not None:
            length = min(length, limit)
        for start in range(0, length, window):
            stop = min(start + window, length) - 1
            pending.append((i, ("LRANGE", key, start, stop)))
            budget += stop - start + 1
            if budget >= LIST_PIPELINE_ELEMENTS:
                flush()
    if pending:
        flush()
    return out


def list_lengths(raw: redis.Redis, keys: Sequence[KeyT]) -> list[int]:
    """``LLEN`` of each key, pipelined (0 when it vanished or is no longer a list)."""
    return [int(n) if isinstance(n, int) else 0 for n in pipelined(raw, [("LLEN", k) for k in keys])]


def list_slices(
    raw: redis.Redis,
    spans: Sequence[tuple[KeyT, int, int]],
    *,
    window: int = LRANGE_WINDOW,
    batch: int = LIST_PIPELINE_ELEMENTS,
    prefetch: bool = True,
) -> Iterator[tuple[int, int, list[bytes]]]:
    """Entries ``start..stop`` (inclusive) of each ``(key, start, stop)`` span, piece by piece.

    Yields ``(span index, position of the piece's first entry, entries)``; a piece holds at most
    about ``batch`` entries (one pipelined round trip of ``LRANGE`` windows), so a caller can
    decode and drop each piece before the next arrives, and a 2,000,000-entry list never sits
    in memory as raw bytes. With ``prefetch`` the next round trip is read on a thread while the
    caller works on the current piece. Every command stays bounded (one window).

    >>> [(i, pos, len(v)) for i, pos, v in list_slices(raw, [(b"queues:logs", 5, 9)])]  # doctest: +SKIP
    [(0, 5, 5)]
    """

    def round_trips() -> Iterator[list[tuple[int, int, list[bytes]]]]:
        pending: list[tuple[int, int, tuple[Any, ...]]] = []
        budget = 0
        for i, (key, start, stop) in enumerate(spans):
            for first in range(start, stop + 1, window):
                last = min(first + window - 1, stop)
                pending.append((i, first, ("LRANGE", key, first, last)))
                budget += last - first + 1
                if budget >= batch:
                    yield _lrange_round_trip(raw, pending)
                    pending, budget = [], 0
        if pending:
            yield _lrange_round_trip(raw, pending)

    total = sum(max(0, stop - start + 1) for _, start, stop in spans)
    trips = round_trips()
    for pieces in _prefetched(trips) if prefetch and total > batch else trips:
        yield from pieces


def _lrange_round_trip(
    raw: redis.Redis, pending: Sequence[tuple[int, int, tuple[Any, ...]]]
) -> list[tuple[int, int, list[bytes]]]:
    """One pipelined round trip of LRANGE windows, consecutive windows of one span joined."""
    pipe = raw.pipeline(transaction=False)
    for _, _, cmd in pending:
        pipe.execute_command(*cmd)
    pieces: list[tuple[int, int, list[bytes]]] = []
    for (i, first, _), chunk in zip(pending, pipe.execute(raise_on_error=False)):
        values = chunk if isinstance(chunk, list) else []  # vanished or not a list any more
        if pieces and pieces[-1][0] == i and pieces[-1][1] + len(pieces[-1][2]) == first:
            pieces[-1][2].extend(values)
        elif values:
            pieces.append((i, first, list(values)))
    return pieces


def pipelined(raw: redis.Redis, commands: Sequence[tuple[Any, ...]], *, batch: int = PIPELINE_BATCH) -> list[Any]:
    """Run read commands in pipelined batches (no MULTI); errors come back as exception objects."""
    results: list[Any] = []
    for start in range(0, len(commands), batch):
        pipe = raw.pipeline(transaction=False)
        for cmd in commands[start : start + batch]:
            pipe.execute_command(*cmd)
        results.extend(pipe.execute(raise_on_error=False))
    return results


def key_types(raw: redis.Redis, keys: Sequence[KeyT]) -> list[str]:
    """``TYPE`` of each key (``'none'`` when it vanished), pipelined."""
    return [_text(t) for t in pipelined(raw, [("TYPE", k) for k in keys])]


def sizes(raw: redis.Redis, keys: Sequence[KeyT], types: Sequence[str]) -> list[int]:
    """Entries per key by type: ``HLEN``/``LLEN``/``SCARD``/``ZCARD``, 1 for a string, 0 if gone."""
    cmd = {"hash": "HLEN", "list": "LLEN", "set": "SCARD", "zset": "ZCARD"}
    commands = [(cmd[t], k) if t in cmd else ("EXISTS", k) for k, t in zip(keys, types)]
    return [int(n) if isinstance(n, int) else 0 for n in pipelined(raw, commands)]


def get_many(raw: redis.Redis, keys: Sequence[KeyT]) -> list[bytes | None]:
    """``GET`` of each string key, pipelined."""
    return [v if isinstance(v, bytes | type(None)) else None for v in pipelined(raw, [("GET", k) for k in keys])]


def ttls(raw: redis.Redis, keys: Sequence[KeyT]) -> list[float | None]:
    """Remaining time to live of each key in seconds (``None``: no expiry or gone)."""
    out: list[float | None] = []
    for ms in pipelined(raw, [("PTTL", k) for k in keys]):
        out.append(ms / 1000.0 if isinstance(ms, int) and ms >= 0 else None)
    return out


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode()
    return str(value)


_DONE = object()


def _prefetched(batches: Iterable[Any], depth: int = 2) -> Iterator[Any]:
    """Run an iterator of network batches one step ahead on a thread."""
    q: _queue.Queue[Any] = _queue.Queue(maxsize=depth)

    def produce() -> None:
        try:
            for item in batches:
                q.put(item)
        except BaseException as exc:  # re-raised in the consumer
            q.put(exc)
        q.put(_DONE)

    thread = threading.Thread(target=produce, name="jsadmin-prefetch", daemon=True)
    thread.start()
    while True:
        item = q.get()
        if item is _DONE:
            break
        if isinstance(item, BaseException):
            raise item
        yield item
    thread.join()
