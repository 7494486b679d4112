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
    raw: redis.Redis, key: KeyT, *, count: int = HSCAN_COUNT, prefetch: bool = True, calls: list[int] | None = None
) -> Iterator[tuple[list[bytes], list[bytes]]]:
    """``(fields, values)`` batches of one hash via ``HSCAN``.

    The first batch is read inline; when the hash needs more, ``prefetch`` fetches each next
    batch on a thread while the caller works on the current one, so network and server time
    overlap with decoding (the GIL is released while waiting on the socket). Small hashes
    never start a thread. A field may repeat while the hash rehashes. ``calls`` (when given)
    gets one item appended per ``HSCAN`` sent: a read in more than one call is not atomic.
    """
    calls = [] if calls is None else calls
    calls.append(1)
    cursor, flat = raw.execute_command("HSCAN", key, 0, "COUNT", count)
    if flat:
        yield flat[0::2], flat[1::2]
    if cursor in (b"0", 0, "0"):
        return

    def rest() -> Iterator[list[bytes]]:
        nonlocal cursor
        while cursor not in (b"0", 0, "0"):
            calls.append(1)
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


LIST_ANCHOR = 8
"""Entries each ``LRANGE`` window re-reads from the previous one, to see whether the list moved."""
LIST_MAX_RELOCATIONS = 1000
"""A list that moves more often than this during one read is given up on (and reported)."""

ListNotes = dict[KeyT, str]
"""Per list key, what happened while it was read (moved, vanished, changed type)."""


def lists_values(
    raw: redis.Redis,
    keys: Sequence[KeyT],
    *,
    window: int = LRANGE_WINDOW,
    limit: int | None = None,
    notes: ListNotes | None = None,
) -> list[list[bytes]]:
    """The elements of many lists (head first): pipelined ``LLEN``, then pipelined ``LRANGE`` windows.

    Every command stays bounded (one window); a round trip carries at most about
    :data:`LIST_PIPELINE_ELEMENTS` elements, so many small queues cost two round trips, not two each.
    A list of one window is read by one (atomic) ``LRANGE``; a longer one by overlapping windows
    (:func:`list_values_tracked`) so that entries popped or pushed meanwhile cause no duplicates
    and no misses. ``notes`` (when given) receives, per key, what happened during the read: the
    list moved, vanished, or changed type.
    """
    notes = {} if notes is None else notes
    replies = pipelined(raw, [("LLEN", k) for k in keys])
    lengths: list[int] = []
    for key, n in zip(keys, replies):
        if isinstance(n, Exception):
            notes[key] = f"key changed type before it was read ({n})"
        elif n == 0:
            notes[key] = "key vanished before it was read (deleted, expired or emptied)"
        lengths.append(n if isinstance(n, int) else 0)
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
                if not chunk:
                    notes[keys[i]] = "key vanished before it was read (deleted, expired or emptied)"
            else:
                notes[keys[i]] = f"key changed type while it was read ({chunk})"
        pending, budget = [], 0

    for i, (key, length) in enumerate(zip(keys, lengths)):
        if limit is not None:
            length = min(length, limit)
        if length > window:
            out[i], note = list_values_tracked(raw, key, length=length, window=window, limit=limit)
            if note:
                notes[key] = note
        elif length > 0:
            pending.append((i, ("LRANGE", key, 0, length - 1)))
            budget += length
            if budget >= LIST_PIPELINE_ELEMENTS:
                flush()
    if pending:
        flush()
    return out


def list_values_tracked(
    raw: redis.Redis,
    key: KeyT,
    *,
    length: int,
    window: int = LRANGE_WINDOW,
    limit: int | None = None,
    anchor: int = LIST_ANCHOR,
) -> tuple[list[bytes], str | None]:
    """A long list read in overlapping ``LRANGE`` windows that follows the list when it moves.

    Each window (``window`` entries, the bound of one command) starts ``anchor`` entries early;
    when those do not equal the last entries read, the list moved (a consumer popped, a producer
    pushed at the head, an ``LREM``): the last entries read are found again (in bounded windows)
    and the read continues right after them. So every entry is
    returned once, and every entry that stayed in the list is returned. Entries are matched by
    their bytes: in a run of identical entries the alignment can pick another copy.

    Returns the values and a note (``None`` when the list did not move).

    >>> values, note = list_values_tracked(raw, b"queues:logs", length=5000)   # doctest: +SKIP
    """
    anchor = max(1, min(anchor, window // 2))
    out: list[bytes] = []
    pos = 0  # index, in the list as it is now, right after the last entry read
    moves = 0
    use_anchor = True
    per_trip = max(1, LIST_PIPELINE_ELEMENTS // window)
    cap = limit
    estimate = length
    while cap is None or len(out) < cap:
        plan: list[tuple[int, int]] = []
        have = len(out)
        p = pos
        for _ in range(per_trip):
            a = min(have, anchor) if (use_anchor or plan) else 0
            plan.append((p - a, a))
            p += window - a
            have += window - a
            if p >= estimate or (cap is not None and have >= cap):
                break
        pipe = raw.pipeline(transaction=False)
        for start, _ in plan:
            pipe.execute_command("LRANGE", key, start, start + window - 1)
        replies = pipe.execute(raise_on_error=False)
        use_anchor = True
        finished = relocated = False
        for (start, a), chunk in zip(plan, replies):
            if not isinstance(chunk, list):
                return out[:cap], f"key changed type while it was read ({chunk}); {len(out)} entries read"
            if a and chunk[:a] != out[-a:]:
                moves += 1
                if moves > LIST_MAX_RELOCATIONS:
                    return out[:cap], f"list changed too often while it was read; {len(out)} entries read"
                found = _relocate(raw, key, out[-a:], start, chunk, window)
                if found is None:  # everything read so far is gone: the rest starts at the head
                    pos, use_anchor = 0, False
                else:
                    pos = found
                relocated = True
                break
            new = chunk[a:]
            out.extend(new)
            pos = start + a + len(new)
            if len(chunk) < window:
                finished = True
                break
        if finished:
            break
        if not relocated and len(out) > 4 * length + window:
            return out[:cap], f"list grew faster than it could be read; stopped after {len(out)} entries"
    if cap is not None:
        out = out[:cap]
    note = None
    if moves:
        note = f"list moved while it was read ({moves} times: entries popped or pushed); each entry read is listed once"
    if not int(raw.execute_command("EXISTS", key)):
        note = f"key vanished while it was read (deleted, expired or emptied); {len(out)} entries read"
    return out, note


def _relocate(
    raw: redis.Redis, key: KeyT, tail: list[bytes], start: int, chunk: list[bytes], window: int
) -> int | None:
    """Where ``tail`` (the last entries read) ends in the list now, or ``None`` when it is gone.

    Looks in ``chunk`` (read from ``start``) first, for a list that grew at the head, then in
    bounded windows towards the head, for a list popped at the head.
    """
    a = len(tail)
    i = _find(chunk, tail, last=False)
    if i is not None:
        return start + i + a
    end = start + a - 1
    while end >= 0:
        lo = max(0, end - window + 1)
        seg = raw.execute_command("LRANGE", key, lo, end)
        if not isinstance(seg, list):
            return None
        i = _find(seg, tail, last=True)
        if i is not None:
            return lo + i + a
        if lo == 0:
            return None
        end = lo + a - 2  # overlap so a tail across two windows is still found
    return None


def _find(seq: list[bytes], tail: list[bytes], *, last: bool) -> int | None:
    """Index of the first (or last) occurrence of ``tail`` as a run inside ``seq``."""
    a = len(tail)
    starts = range(len(seq) - a, -1, -1) if last else range(0, len(seq) - a + 1)
    head = tail[0]
    for i in starts:
        if seq[i] == head and seq[i : i + a] == tail:
            return i
    return None


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
