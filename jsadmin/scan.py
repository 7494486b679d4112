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

import contextlib
import queue as _queue
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import redis

SCAN_COUNT = 1000
"""``COUNT`` hint for ``SCAN`` over the keyspace."""
HSCAN_COUNT = 5000
"""``COUNT`` hint for ``HSCAN``/``SSCAN``: one reply holds about this many entries, so a hash of up
to about this many fields is read in one call (atomic, one round trip)."""
HSCAN_STEP = 2000
"""``COUNT`` of the ``HSCAN`` calls after the first in :func:`hash_batches` (a hash too big for one
call): about 1.6 MB of 660-byte jobs per reply, one reader decode batch
(:data:`jsadmin.reader.DECODE_BATCH`), whose fixed conversion costs a 1,000-entry reply paid
twice as often (a 200,000-job load 0.1-0.2 s faster); with :data:`PREFETCH_DEPTH` at most three
replies are alive during a read (``COUNT 5000`` throughout peaked ~10 MiB higher in a 50,000-job
load)."""
PREFETCH_DEPTH = 1
"""Batches a prefetch thread may fetch ahead of the reader (one more is in flight): each is held
in memory until decoded, so a deeper queue only adds to a load's peak (depth 2 with ``COUNT 5000``
replies, each previous reply held while the next was fetched, peaked ~19 MiB higher at 50,000 jobs)."""
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
    raw: redis.Redis,
    key: KeyT,
    *,
    count: int = HSCAN_COUNT,
    step: int = HSCAN_STEP,
    prefetch: bool = True,
    calls: list[int] | None = None,
) -> Iterator[tuple[list[bytes], list[bytes]]]:
    """``(fields, values)`` batches of one hash via ``HSCAN``.

    The first batch is read inline with ``COUNT count``; when the hash needs more, the next calls
    ask for ``min(step, count)`` and ``prefetch`` fetches each next batch on a thread while the
    caller works on the current one, so network and server time overlap with decoding (the GIL is
    released while waiting on the socket). Small hashes never start a thread. A field may repeat
    while the hash rehashes. ``calls`` (when given) gets one item appended per ``HSCAN`` sent: a
    read in more than one call is not atomic.

    >>> sum(len(f) for f, _ in hash_batches(raw, b"jobs:1"))   # doctest: +SKIP
    50000
    """
    step = min(step, count)
    calls = [] if calls is None else calls
    calls.append(1)
    cursor, flat = raw.execute_command("HSCAN", key, 0, "COUNT", count)
    if flat:
        yield flat[0::2], flat[1::2]
    flat = None  # each reply dies when its batch is done, not with the generator
    if cursor in (b"0", 0, "0"):
        return

    def rest() -> Iterator[list[bytes]]:
        nonlocal cursor
        while cursor not in (b"0", 0, "0"):
            calls.append(1)
            cursor, more = raw.execute_command("HSCAN", key, cursor, "COUNT", step)
            if more:
                yield more
            more = None  # not alive while the next reply is fetched

    for more in _prefetched(rest()) if prefetch else rest():
        yield more[0::2], more[1::2]
        more = None


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
LIST_RELOCATE_WINDOWS = 64
"""Windows searched each way for the last entries read when a list moved (128,000 entries): beyond
that they count as gone, so one relocation never walks a whole 2,000,000-entry list."""

ListNotes = dict[KeyT, str]
"""Per list key, what happened while it was read (moved, vanished, changed type)."""


@dataclass
class ListRead:
    """What :func:`list_pieces` saw of one list key: its length, the entries returned, moves."""

    key: KeyT
    length: int
    """``LLEN`` when the read began (0: gone or not a list)."""
    read: int = 0
    """Entries returned."""
    moves: int = 0
    """Times the list was seen to have moved (entries popped or pushed) between two windows."""
    note: str | None = None
    """What went wrong or moved, for a problem row (``None``: read as it was)."""
    commands: int = 0

    @property
    def moved(self) -> bool:
        """The list moved while it was read and is still there (its entries are each listed once)."""
        return self.note is not None and self.note.startswith("list moved")


@dataclass
class _Cursor:
    """Where the read of one list stands: the next position and the entries the next window must repeat."""

    index: int
    state: ListRead
    pos: int
    """Index, in the list as it is now, right after the last entry returned."""
    want: int | None
    """Entries still to return (``None``: up to the end of the list)."""
    tail: list[bytes] = field(default_factory=list)
    """The last entries returned: the anchor the next window must start with."""
    from_tail: int = 0
    """> 0: the first window is the oldest of the newest ``from_tail`` entries (negative indices)."""
    done: bool = False


@dataclass
class _Window:
    cursor: _Cursor
    start: int
    stop: int
    anchor: int

    @property
    def size(self) -> int:
        return self.stop - self.start + 1


def list_pieces(
    raw: redis.Redis, keys: Sequence[KeyT], *, limit: int | None = None, end: str = "tail",
    window: int = LRANGE_WINDOW, batch: int = LIST_PIPELINE_ELEMENTS, anchor: int = LIST_ANCHOR,
    prefetch: bool = True, reads: list[ListRead] | None = None,
    known: Sequence[tuple[Any, int | None, list[bytes] | None]] | None = None,
) -> Iterator[tuple[int, int, list[bytes]]]:
    """The entries of many lists, piece by piece, following each list when it moves during the read.

    Yields ``(key index, position of the piece's first entry, entries)``, head first, the pieces
    of one key in a row. ``limit`` keeps at most that many entries per key, nearest ``end``
    (``"tail"``: the newest of an ``RPUSH``ed list; ``"head"``); ``None`` reads all.

    Every command is bounded: pipelined ``LLEN``, then ``LRANGE`` windows of at most ``window``
    entries, about ``batch`` entries per pipelined round trip (read on a thread with
    ``prefetch``, while the caller decodes the previous piece). A list of one window is read
    by one atomic ``LRANGE``. A longer one is read in windows that each start ``anchor`` entries
    early: when those differ from the last entries returned, the list moved (a consumer popped,
    a producer pushed at the head, ``LTRIM``), the last entries are found again (bounded windows
    towards the head, then towards the tail) and the read goes on right after them. The newest
    ``limit`` entries start with ``LRANGE -limit ..`` (negative, so entries pushed or popped
    since ``LLEN`` do not shift it), the rest by position, checked the same way. So each entry
    is returned once and every entry that stayed in the list is returned; entries are matched
    by their bytes (in a run of identical entries the alignment can pick another copy).

    ``reads`` (when given) receives one :class:`ListRead` per key: length, entries returned,
    and a note when the list moved, vanished or changed type (complete once the pieces are).

    ``known`` (one item per key, e.g. from :func:`jsadmin.keyinfo.key_info`) replaces the ``LLEN``
    round trip: ``(length, first, entries)``, where ``entries`` (when not ``None``) are the wanted
    entries already read atomically with that length, starting at position ``first``; those keys
    cost nothing more here, and their pieces are yielded in key order among the others.

    >>> [(i, pos, len(v)) for i, pos, v in list_pieces(raw, [b"queues:logs"], limit=5)]  # doctest: +SKIP
    [(0, 1995, 5)]
    """
    states = [] if reads is None else reads
    anchor = max(1, min(anchor, window // 2))
    cursors: list[_Cursor] = []
    read_here: list[tuple[int, int, list[bytes]]] = []  # from ``known``: read already, in key order
    if known is not None:
        lengths: list[Any] = [k[0] for k in known]
    else:
        lengths = pipelined(raw, [("LLEN", k) for k in keys]) if keys else []
    for i, (key, n) in enumerate(zip(keys, lengths)):
        st = ListRead(key, n if isinstance(n, int) else 0)
        states.append(st)
        if isinstance(n, Exception):
            st.note = f"key changed type before it was read ({n})"
        elif not n:
            st.note = "key vanished before it was read (deleted, expired or emptied)"
        elif known is not None and (entries := known[i][2]) is not None:
            st.read, st.commands = len(entries), 1  # one atomic read: nothing to check afterwards
            if entries:
                read_here.append((i, int(known[i][1] or 0), list(entries)))
        elif limit is None or limit > 0:
            capped = limit is not None and n > limit and end == "tail"
            cursors.append(
                _Cursor(i, st, pos=n - limit if capped and limit else 0, want=limit, from_tail=limit if capped and limit else 0)
            )

    def trips() -> Iterator[list[tuple[int, int, list[bytes]]]]:
        active = cursors
        while active:
            plan: list[_Window] = []
            room = batch
            for cur in active:
                windows, room = _plan(cur, window, anchor, room)
                plan += windows
                if room <= 0:
                    break
            pipe = raw.pipeline(transaction=False)
            for w in plan:
                pipe.execute_command("LRANGE", w.cursor.state.key, w.start, w.stop)
            pieces: list[tuple[int, int, list[bytes]]] = []
            for w, chunk in zip(plan, pipe.execute(raise_on_error=False)):
                if not w.cursor.done and not _take(raw, w, chunk, window, anchor, pieces):
                    break  # the list moved: the windows after this one are planned again
            yield pieces
            active = [c for c in active if not c.done]
        _final_check(raw, [c.state for c in cursors])

    total = sum(c.want if c.want is not None else c.state.length for c in cursors)
    produced = trips()
    for pieces in _prefetched(produced) if prefetch and total > batch else produced:
        for piece in pieces:
            while read_here and read_here[0][0] < piece[0]:
                yield read_here.pop(0)
            yield piece
    yield from read_here


def _plan(cur: _Cursor, window: int, anchor: int, room: int) -> tuple[list[_Window], int]:
    """The next windows of one list (at least one), assuming it does not move meanwhile, and the
    room left in the round trip (counted in entries expected back from the length seen by
    ``LLEN``, so a hundred short queues share one round trip; each window asks for a full one)."""
    out: list[_Window] = []
    pos, want, have = cur.pos, cur.want, len(cur.tail)
    while True:
        if cur.from_tail and not out:
            n = min(window, cur.from_tail)
            out.append(_Window(cur, -cur.from_tail, -cur.from_tail + n - 1, 0))
            got = n
        else:
            a = min(have, anchor)
            count = window if want is None else min(window, a + want)
            out.append(_Window(cur, pos - a, pos - a + count - 1, a))
            got = count - a
        room -= max(1, min(out[-1].size, cur.state.length - max(out[-1].start, 0)))
        pos += got
        have = got
        want = None if want is None else want - got
        if (want is not None and want <= 0) or pos >= cur.state.length or room <= 0:
            return out, room


def _take(
    raw: redis.Redis, w: _Window, chunk: Any, window: int, anchor: int, pieces: list[tuple[int, int, list[bytes]]]
) -> bool:
    """Check one window's reply against the read so far and add its new entries to ``pieces``.

    Returns ``False`` when the list moved (the cursor is placed again; later windows are stale).
    """
    cur, st = w.cursor, w.cursor.state
    st.commands += 1
    if not isinstance(chunk, list):
        cur.done = True
        st.note = f"key changed type while it was read ({chunk}); {st.read} entries read"
        return True
    if w.start < 0:  # the first window of the newest entries
        cur.from_tail = 0
        first = cur.pos
        if len(chunk) < w.size:  # fewer entries than asked for now: LRANGE started at the head
            first = 0
        _emit(cur, first, chunk, anchor, pieces)
        if len(chunk) < w.size:
            if not chunk:
                cur.pos, cur.tail = 0, []
            return False
        return True
    a = w.anchor
    if a and chunk[:a] != cur.tail[-a:]:
        st.moves += 1
        if st.moves > LIST_MAX_RELOCATIONS:
            cur.done = True
            st.note = f"list changed too often while it was read; {st.read} entries read"
            return False
        found = _relocate(raw, st.key, cur.tail[-a:], w.start, chunk, window)
        if found is _GONE:
            cur.done = True
        elif found is _LOST:
            cur.done = True
            st.note = f"list moved too far while it was read to be followed; stopped after {st.read} entries"
        elif found is None:  # everything read so far is gone: the rest starts at the head
            cur.pos, cur.tail = 0, []
        else:
            cur.pos = int(found)  # type: ignore[call-overload]
        return False
    new = chunk[a:]
    if cur.want is not None:
        new = new[: cur.want]
    if not new and not st.read and not a:
        st.note = "key vanished before it was read (deleted, expired or emptied)"
    _emit(cur, w.start + a, new, anchor, pieces)
    if len(chunk) < w.size or cur.want == 0:
        cur.done = True
    elif cur.want is None and st.read > 4 * st.length + window:
        cur.done = True
        st.note = f"list grew faster than it could be read; stopped after {st.read} entries"
    return True


def _emit(cur: _Cursor, first: int, new: list[bytes], anchor: int, pieces: list[tuple[int, int, list[bytes]]]) -> None:
    """Hand on entries ``new`` read at position ``first``; they become the anchor of the next window."""
    cur.pos = first + len(new)
    cur.tail = new[-anchor:] if len(new) >= anchor else (cur.tail + new)[-anchor:]
    cur.state.read += len(new)
    if cur.want is not None:
        cur.want -= len(new)
        if cur.want <= 0:
            cur.done = True
    if not new:
        return
    last = pieces[-1] if pieces else None
    if last is not None and last[0] == cur.index and last[1] + len(last[2]) == first:
        last[2].extend(new)
    else:
        pieces.append((cur.index, first, list(new)))


_GONE = object()
_LOST = object()


def _relocate(raw: redis.Redis, key: KeyT, tail: list[bytes], start: int, chunk: list[bytes], window: int) -> object:
    """Where ``tail`` (the last entries returned) ends in the list now; ``None`` when it is gone.

    Looks in ``chunk`` (read from ``start``) first, then in bounded windows towards the head (a
    list popped at the head), then towards the tail (a list pushed at the head by more than a
    window), at most :data:`LIST_RELOCATE_WINDOWS` windows each way. ``_GONE`` when the key
    itself is gone or no longer a list; ``_LOST`` when the search stopped at that bound before
    it covered the whole list (the read then stops rather than risk repeating entries).
    """
    a = len(tail)
    i = _find(chunk, tail, last=False)
    if i is not None:
        return start + i + a
    n = raw.execute_command("LLEN", key)
    if not isinstance(n, int) or n == 0:
        return _GONE
    stop = min(start + a - 1, n - 1)
    searched = 0  # ends of the list the search reached (head, tail): both means it is gone
    for _ in range(LIST_RELOCATE_WINDOWS):
        if stop < 0:
            searched += 1
            break
        lo = max(0, stop - window + 1)
        seg = raw.execute_command("LRANGE", key, lo, stop)
        if not isinstance(seg, list):
            return _GONE
        i = _find(seg, tail, last=True)
        if i is not None:
            return lo + i + a
        if lo == 0:
            searched += 1
            break
        stop = lo + a - 2  # overlap, so a tail across two windows is still found
    lo = max(0, start + len(chunk) - a + 1)
    for _ in range(LIST_RELOCATE_WINDOWS):
        if lo >= n:
            searched += 1
            break
        seg = raw.execute_command("LRANGE", key, lo, lo + window - 1)
        if not isinstance(seg, list):
            return _GONE
        i = _find(seg, tail, last=False)
        if i is not None:
            return lo + i + a
        if len(seg) < window:
            searched += 1
            break
        lo += window - a + 1
    return None if searched == 2 else _LOST


def _find(seq: list[bytes], tail: list[bytes], *, last: bool) -> int | None:
    """Index of the first (or last) occurrence of ``tail`` as a run inside ``seq``."""
    a = len(tail)
    starts = range(len(seq) - a, -1, -1) if last else range(0, len(seq) - a + 1)
    head = tail[0]
    for i in starts:
        if seq[i] == head and seq[i : i + a] == tail:
            return i
    return None


def _final_check(raw: redis.Redis, states: Sequence[ListRead]) -> None:
    """Lists read in more than one command: are they still lists? Note the moves of those that are."""
    multi = [st for st in states if st.note is None and (st.commands > 1 or st.moves)]
    if not multi:
        return
    for st, t in zip(multi, pipelined(raw, [("TYPE", st.key) for st in multi])):
        kind = _text(t) if not isinstance(t, Exception) else "?"
        if kind == "none":
            st.note = f"key vanished while it was read (deleted, expired or emptied); {st.read} entries read"
        elif kind != "list":
            st.note = f"key changed type to {kind!r} while it was read; {st.read} entries read"
        elif st.moves:
            st.note = (
                f"list moved while it was read ({st.moves} times: entries popped or pushed); each entry read is listed once"
            )


def lists_values(
    raw: redis.Redis,
    keys: Sequence[KeyT],
    *,
    window: int = LRANGE_WINDOW,
    limit: int | None = None,
    notes: ListNotes | None = None,
) -> list[list[bytes]]:
    """The elements of many lists (head first, at most ``limit`` each from the head), in memory.

    A convenience over :func:`list_pieces` (same bounded commands and move tracking); ``notes``
    (when given) receives, per key, what happened during the read (moved, vanished, retyped).

    >>> lists_values(raw, [b"queues:eco"], limit=10)   # doctest: +SKIP
    [[b'...', ...]]
    """
    out: list[list[bytes]] = [[] for _ in keys]
    states: list[ListRead] = []
    for i, _, vals in list_pieces(raw, keys, limit=limit, end="head", window=window, prefetch=False, reads=states):
        out[i].extend(vals)
    if notes is not None:
        notes.update({st.key: st.note for st in states if st.note})
    return out


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


def _prefetched(batches: Iterable[Any], depth: int = PREFETCH_DEPTH) -> Iterator[Any]:
    """Run an iterator of network batches one step ahead on a thread.

    At most ``depth`` batches wait in the queue, one more is being fetched. When the consumer
    stops early (a ``limit`` reached, an error), the thread fetches nothing more and the batches
    it already fetched are dropped, so neither the thread nor its replies outlive the read.

    >>> list(_prefetched(iter([1, 2, 3])))
    [1, 2, 3]
    """
    q: _queue.Queue[Any] = _queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: Any) -> None:
        while not stop.is_set():
            try:
                q.put(item, timeout=0.05)
                return
            except _queue.Full:
                continue

    def produce() -> None:
        try:
            for item in batches:
                put(item)
                item = None
                if stop.is_set():
                    break
        except BaseException as exc:  # re-raised in the consumer
            put(exc)
        put(_DONE)

    thread = threading.Thread(target=produce, name="jsadmin-prefetch", daemon=True)
    thread.start()
    finished = False
    try:
        while True:
            item = q.get()
            if item is _DONE:
                finished = True
                break
            if isinstance(item, BaseException):
                raise item
            yield item
            item = None  # not kept alive while the next batch is waited for
    finally:
        if not finished:  # stopped early: the thread fetches nothing more, what it fetched is dropped
            stop.set()
            while thread.is_alive():
                with contextlib.suppress(_queue.Empty):
                    q.get_nowait()
                thread.join(0.01)
        thread.join()
