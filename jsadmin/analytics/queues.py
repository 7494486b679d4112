"""Queue depths: how long each command and worker queue is, and how old its oldest entry.

:func:`queue_depths` is the only function here that talks to Redis, read-only and bounded:
``SCAN MATCH … COUNT`` for the keys, then one pipeline of ``LLEN`` + ``LINDEX 0`` per key.
The math (:func:`depth_frame`, :func:`depths_from_frames`) is pure.

>>> queue_depths(admin)                      # doctest: +SKIP
                              key     kind queue  length  oldest  oldest_age
0  queues:commands:queue:1:5  command   1:5       3  ...  0 days 00:00:12
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

from .. import catalog
from ..decode import DecodeError, loads
from ..frames import to_datetime
from ..keyinfo import key_info
from ..loadinfo import LoadInfo
from ..scan import raw_client
from ._common import age_column, as_utc, frame_or_empty, utc_column
from .info import Analysed, QueueInfo, mirrored

QUEUE_COLUMNS = ("key", "kind", "queue", "length", "oldest", "oldest_age")


def classify_queue(key: str) -> tuple[str, str] | None:
    """``(kind, queue)`` of a queue key, or ``None`` when it is not a command or worker queue.

    The catalog says which family a key is in and which queues of jobs are which kind
    (:func:`jsadmin.catalog.queue_families`); the queue is the key's ``<gid>:<nid|role>`` for a
    command queue and the worker queue's name for a worker queue (``io`` for ``queues:system``).

    >>> classify_queue("queues:system")
    ('worker', 'io')
    >>> classify_queue("queues:commands:queue:1:node")
    ('command', '1:node')
    """
    name = catalog.classify(key)
    kind = catalog.queue_families().get(name) if name is not None else None
    if name is None or kind is None:
        return None
    fam = catalog.family(name)
    parts = fam.parse_key(key) or {}
    cols = {**parts, **(fam.key_parts(parts, fam.redis_type) if fam.key_parts else {})}
    if kind == "command":
        return kind, f"{cols['key_gid']}:{cols['target']}"
    return kind, str(cols["key_queue"])


def entry_created(raw: bytes | str | None) -> pd.Timestamp:
    """Creation time of a queued job's JSON: ``timeCreate``, else (legacy) ``timeStart``; ``NaT`` if unknown.

    Decoded like a load (:func:`jsadmin.decode.loads`, :func:`jsadmin.frames.to_datetime`): an odd
    entry (deep, broken, an out-of-range time) gives ``NaT``, never an exception.

    >>> entry_created(b'{"timeCreate": 1539600000123}')
    Timestamp('2018-10-15 10:40:00.123000+0000', tz='UTC')
    """
    if raw is None:
        return pd.NaT
    try:
        job = loads(raw)
    except DecodeError:
        return pd.NaT
    if not isinstance(job, dict):
        return pd.NaT
    times, _ = to_datetime([job.get("timeCreate"), job.get("timeStart")])
    for when in times:
        if not pd.isna(when):
            return when
    return pd.NaT


def depth_frame_with_info(samples: Iterable[tuple[str, int, Any]], now: object | None = None) -> Analysed[QueueInfo]:
    """Build the depth frame from ``(key, length, first_entry)`` samples (pure) and its
    :class:`~jsadmin.analytics.info.QueueInfo` (``time``: when the ages were computed).

    ``first_entry`` is the raw ``LINDEX 0`` value (bytes/str/None) or an already parsed timestamp.

    >>> depth_frame_with_info([], now="2026-01-01").info.time
    Timestamp('2026-01-01 00:00:00+0000', tz='UTC')
    """
    at = as_utc(now)
    rows = []
    for key, length, first in samples:
        kind_queue = classify_queue(key)
        if kind_queue is None:
            continue
        if isinstance(first, bytes | str):
            created = entry_created(first)
        elif first is None or pd.isna(first):
            created = pd.NaT
        else:
            created = as_utc(first)
        rows.append((key, *kind_queue, int(length), created))
    df = pd.DataFrame(rows, columns=list(QUEUE_COLUMNS[:-1]))
    for col in ("key", "kind", "queue"):
        df[col] = df[col].astype("string")
    df["length"] = df["length"].astype("Int64")
    df["oldest"] = pd.to_datetime(df["oldest"], utc=True).astype("datetime64[ns, UTC]")
    df["oldest_age"] = age_column(at, df["oldest"])
    df = df.sort_values(["kind", "key"], kind="stable").reset_index(drop=True)
    return Analysed(df, QueueInfo(at))


depth_frame = mirrored(depth_frame_with_info, """The frame of :func:`depth_frame_with_info`
    (``time`` mirrored in ``attrs`` for one release).

    >>> row = depth_frame([("queues:workers:work:default", 0, None)]).iloc[0]
    >>> str(row["queue"]), int(row["length"])
    ('default', 0)
    """)


def scan_queue_keys(client: Any, *, count: int = 1000) -> list[str]:
    """Every command/worker queue key, found with ``SCAN MATCH … COUNT`` (never ``KEYS``)."""
    found: set[str] = set()
    for name in catalog.queue_families():
        fam = catalog.family(name)
        for pattern in fam.globs:
            for key in client.scan_iter(match=pattern, count=count):
                found.add(key.decode() if isinstance(key, bytes) else key)
        found.update(k for k in fam.fixed_keys if client.exists(k))
    return sorted(k for k in found if classify_queue(k) is not None)


def sample_queues(client: Any, queue_keys: list[str]) -> list[tuple[str, int, Any]]:
    """``(key, LLEN, LINDEX 0)`` for each key, in one pipeline; non-list keys are skipped."""
    if not queue_keys:
        return []
    pipe = client.pipeline(transaction=False)
    for key in queue_keys:
        pipe.llen(key)
        pipe.lindex(key, 0)
    replies = pipe.execute(raise_on_error=False)
    out = []
    for i, key in enumerate(queue_keys):
        length, first = replies[2 * i], replies[2 * i + 1]
        if isinstance(length, Exception) or isinstance(first, Exception):
            continue  # WRONGTYPE: not a list
        out.append((key, int(length), first))
    return out


def sample_queues_batched(client: Any, queue_keys: list[str]) -> list[tuple[str, int, Any]]:
    """The samples of :func:`sample_queues` from one read-only script call per 200 keys
    (:func:`jsadmin.keyinfo.key_info`: ``LLEN`` and ``LRANGE 0 0`` of each, atomically).

    A key gone since it was listed is ``(key, 0, None)``, as ``LLEN``/``LINDEX`` of it say;
    non-list keys are skipped.

    >>> sample_queues_batched(admin.redis, ["queues:system"])    # doctest: +SKIP
    [('queues:system', 2, b'{"guid": ...}')]
    """
    if not queue_keys:
        return []
    infos = key_info(raw_client(client), [k.encode() for k in queue_keys], limit=1, end="head", values=False)
    unread = [k for k, i in zip(queue_keys, infos) if i.type == "list" and i.entries is None]
    heads = dict(zip(unread, _heads(client, unread))) if unread else {}  # scripts refused: LINDEX 0
    out: list[tuple[str, int, Any]] = []
    for key, info in zip(queue_keys, infos):
        if info.type == "none":
            out.append((key, 0, None))
        elif info.type == "list" and isinstance(info.length, int):
            out.append((key, info.length, info.entries[0] if info.entries else heads.get(key)))
    return out


def queue_depths_with_info(
    admin: Any, *, now: object | None = None, count: int = 1000, keys: list[str] | None = None
) -> Analysed[QueueInfo]:
    """Length and oldest-entry age of every command queue and worker queue (read-only), and
    the :class:`~jsadmin.analytics.info.QueueInfo` whose ``time`` is when the ages were computed.

    ``admin`` is an ``Admin`` (anything with ``.redis``) or a redis-py client. Columns: ``key``,
    ``kind`` (``command``/``worker``), ``queue`` (``<gid>:<nid|role>`` or the worker queue name,
    ``io`` for ``queues:system``), ``length``, ``oldest`` (``timeCreate`` of ``LINDEX 0``) and
    ``oldest_age`` (a ``Timedelta``; ``NaT`` for an empty queue or an entry without a time).

    ``keys`` (the queue keys, already listed by the caller's own ``SCAN`` pass) skips the scan and
    reads the samples with :func:`sample_queues_batched`: one command per 200 queues.

    >>> depths, info = queue_depths_with_info(admin)              # doctest: +SKIP
    """
    client = getattr(admin, "redis", admin)
    if keys is not None:
        return depth_frame_with_info(sample_queues_batched(client, sorted(keys)), now=now)
    queue_keys = scan_queue_keys(client, count=count)
    return depth_frame_with_info(sample_queues(client, queue_keys), now=now)


queue_depths = mirrored(queue_depths_with_info, """The frame of :func:`queue_depths_with_info`
    (``time`` mirrored in ``attrs`` for one release).

    >>> queue_depths(admin).sort_values("oldest_age", ascending=False).head()   # doctest: +SKIP
    """)


def depths_from_frames_with_info(
    frames: Mapping[str, pd.DataFrame], now: object | None = None, client: Any = None,
    *, infos: Mapping[str, LoadInfo] | None = None,
) -> Analysed[QueueInfo]:
    """The same depth frame computed from loaded ``command_queues`` and ``worker_queues`` frames,
    and its :class:`~jsadmin.analytics.info.QueueInfo`: ``time`` and ``oldest_unknown``.

    ``infos`` (``{family: LoadInfo}``, e.g. from ``admin.load_all_with_info()``) says which queues
    the load capped: such a queue (e.g. the newest 100,000 of a backlog) reports its true length
    (``total``); without ``infos`` every queue is taken as loaded whole. Its oldest entry is known
    only when the load kept the head (``keep="oldest"``); otherwise, with a ``client`` it is read
    with one bounded ``LINDEX 0`` per such key (pipelined), and without one it is ``NaT`` and the
    key is listed in :attr:`QueueInfo.oldest_unknown`.

    >>> depths_from_frames_with_info({}).info.oldest_unknown
    ()
    """
    samples = []
    unknown: list[str] = []
    for name in catalog.queue_families():
        df = frame_or_empty(frames, name)
        if df.empty or "key" not in df.columns:
            continue
        info = (infos or {}).get(name)
        truncated: Mapping[str, Mapping[str, Any]] = info.truncated if info is not None else {}
        created = utc_column(df["timeCreate"]) if "timeCreate" in df else None
        if created is not None and "timeStart" in df:
            created = created.fillna(utc_column(df["timeStart"]))
        work = pd.DataFrame({"key": df["key"].astype("string")})
        work["created"] = created if created is not None else pd.NaT
        work["pos"] = df["position"] if "position" in df else range(len(df))
        work = work.sort_values(["key", "pos"], kind="stable")
        grouped = work.groupby("key", sort=True)
        first = grouped["created"].first()
        head = grouped["pos"].min()
        sizes = grouped.size()
        for key, length in sizes.items():
            capped = truncated.get(str(key))
            oldest = first.get(key, pd.NaT)
            if capped is not None:
                length = int(capped.get("total", length))
                if capped.get("keep") != "oldest" or head.get(key) != 0:  # the head was not loaded
                    oldest = pd.NaT
                    unknown.append(str(key))
            samples.append((str(key), int(length), oldest))
    if unknown and client is not None:
        heads = dict(zip(unknown, _heads(client, unknown)))
        samples = [(k, n, heads.get(k, old)) for k, n, old in samples]
        unknown = [k for k in unknown if heads[k] is None]
    depths = depth_frame_with_info(samples, now=now)
    return Analysed(depths.frame, QueueInfo(depths.info.time, tuple(unknown)))


depths_from_frames = mirrored(depths_from_frames_with_info, """The frame of
    :func:`depths_from_frames_with_info` (``time`` and ``oldest_unknown`` mirrored in ``attrs`` for
    one release).

    >>> loaded = admin.load_all_with_info()                           # doctest: +SKIP
    >>> depths_from_frames({n: x.frame for n, x in loaded.items()}, client=admin.redis,
    ...                    infos={n: x.info for n, x in loaded.items()})   # doctest: +SKIP
    """)


def _heads(client: Any, queue_keys: list[str]) -> list[bytes | str | None]:
    """``LINDEX 0`` of each key in one pipeline (``None`` when gone or not a list)."""
    pipe = client.pipeline(transaction=False)
    for key in queue_keys:
        pipe.lindex(key, 0)
    return [v if isinstance(v, bytes | str) else None for v in pipe.execute(raise_on_error=False)]
