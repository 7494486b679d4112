"""Per-key metadata in batches: type, TTL and the value (or a short list) of up to 200 keys per call.

A read of many small keys costs one command per key and per question when pipelined (``TYPE``,
then ``PTTL``, then ``GET``/``LLEN``/``LRANGE``). :func:`key_info` asks all of them at once with
one read-only Lua script (``scan_lua/keyinfo.lua``) per :data:`KEYINFO_BATCH` keys: ``EVALSHA``,
or ``EVAL`` when the server does not have the script cached yet (``NOSCRIPT``). The script only
reads (``TYPE``, ``PTTL``, ``GET``, ``LLEN``, bounded ``LRANGE``, ``HLEN``/``SCARD``/``ZCARD``)
and is bounded per call: at most :data:`KEYINFO_BATCH` keys, lists read inline only when their
wanted entries fit in one ``LRANGE`` window, at most ``budget`` entries in all. Each key's answer
is atomic (type, TTL and value are seen at one instant). Where scripts are refused (an ACL
without ``@scripting``, a proxy that forbids ``EVAL``), the same answers come from pipelined
per-key commands.

:func:`family_keyspace` finds the keys of several families with one ``SCAN`` pass.

>>> infos = key_info(raw, [b"workers:jobs:1", b"queues:system"], ttl=True)   # doctest: +SKIP
>>> infos[0].type, infos[0].ttl, infos[1].length                            # doctest: +SKIP
('string', 59.2, 3)
"""

from __future__ import annotations

import hashlib
import weakref
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

import redis
from redis.exceptions import NoPermissionError, NoScriptError

from .catalog import classify, family
from .scan import LRANGE_WINDOW, KeyT, pipelined, scan_keys

KEYINFO_BATCH = 200
"""Keys per script call: one call stays short on the server (a few hundred O(1) commands)."""
KEYINFO_ENTRIES = 4000
"""List entries one script call reads at most (with :data:`KEYINFO_BYTES`: about 2 ms of server time)."""
KEYINFO_BYTES = 1 << 20
"""Bytes of list entries after which one script call reads no further list (length only)."""
KEYINFO_SOURCE = resources.files("jsadmin").joinpath("scan_lua/keyinfo.lua").read_text(encoding="utf-8")
KEYINFO_SHA1 = hashlib.sha1(KEYINFO_SOURCE.encode("utf-8")).hexdigest()
READ_ONLY_SCRIPTS: dict[str, str] = {KEYINFO_SHA1: "keyinfo"}
"""SHA1 -> name of every Lua script jsadmin runs that only reads (``CommandCounter`` does not count
their ``EVALSHA``/``EVAL`` as writes)."""
_REFUSED = ("unknown command", "no permissions", "not allowed", "disabled")
"""Error texts of a server (or proxy) that refuses scripts: fall back to pipelined commands."""


def is_read_only_script(command: str, first_arg: Any) -> bool:
    """True when ``EVALSHA <sha>`` / ``EVAL <source>`` runs one of :data:`READ_ONLY_SCRIPTS`.

    >>> is_read_only_script("evalsha", KEYINFO_SHA1), is_read_only_script("eval", "return 1")
    (True, False)
    """
    text = first_arg.decode("utf-8", "replace") if isinstance(first_arg, bytes) else str(first_arg)
    cmd = command.lower()
    if cmd in ("evalsha", "evalsha_ro"):
        return text.lower() in READ_ONLY_SCRIPTS
    if cmd in ("eval", "eval_ro"):
        return hashlib.sha1(text.encode("utf-8")).hexdigest() in READ_ONLY_SCRIPTS
    return False


@dataclass
class KeyInfo:
    """What one key held when it was asked (all of it seen at one instant when read by the script)."""

    key: KeyT
    type: str
    """``string``, ``list``, ``hash``, ``set``, ``zset``, ... or ``none`` (gone)."""
    ttl: float | None = None
    """Seconds left to live (``None``: no expiry, gone, or not asked)."""
    length: int | None = None
    """``LLEN`` of a list (``HLEN``/``SCARD``/``ZCARD`` of the others when ``sizes``); in the
    pipelined fallback, the error of an ``LLEN`` on a key retyped since ``TYPE``."""
    first: int | None = None
    """Position of ``value[0]`` in a list read here (``None``: not read here, too long)."""
    value: Any = None
    """The bytes of a string; the wanted entries of a list read here; ``None`` when not read. In the
    pipelined fallback, an exception when the key changed type between ``TYPE`` and ``GET``."""

    @property
    def entries(self) -> list[bytes] | None:
        """The entries of a list read whole here, else ``None``."""
        return self.value if self.type == "list" and isinstance(self.value, list) else None


def key_info(
    raw: redis.Redis, keys: Sequence[KeyT], *, ttl: bool = False, values: bool = True,
    limit: int | None = None, end: str = "tail", window: int = LRANGE_WINDOW, budget: int = KEYINFO_ENTRIES,
    budget_bytes: int = KEYINFO_BYTES, sizes: bool = False, batch: int = KEYINFO_BATCH,
) -> list[KeyInfo]:
    """Type, TTL (``ttl``), string value (``values``) and list length of each key, in script batches.

    Lists whose wanted entries (all, or the ``limit`` nearest ``end``) fit in one ``window`` are
    read whole, up to ``budget`` entries per call, while the entries read stay under ``budget_bytes``
    (``window=0``: never); the others come back with their length only. ``sizes`` adds
    ``HLEN``/``SCARD``/``ZCARD`` of hashes, sets and sorted sets. Cost: one command per ``batch``
    keys (pipelined per-key commands when the server refuses scripts).

    >>> [i.type for i in key_info(raw, [b"jobs:1", b"gone"])]      # doctest: +SKIP
    ['hash', 'none']
    """
    argv = ["1" if ttl else "0", "1" if values else "0", -1 if limit is None else int(limit),
            "head" if end == "head" else "tail", int(window), int(budget), "1" if sizes else "0", int(budget_bytes)]
    out: list[KeyInfo] = []
    pool = raw.connection_pool
    for start in range(0, len(keys), batch):
        part = list(keys[start : start + batch])
        try:
            if pool in _NO_SCRIPTS:
                raise _ScriptsRefused
            reply = _run(raw, part, argv)
        except (redis.ResponseError, _ScriptsRefused) as exc:
            if isinstance(exc, redis.ResponseError):
                if not _refused(exc):
                    raise
                _NO_SCRIPTS.add(pool)  # asked once per connection pool
            out.extend(_pipelined_info(raw, list(keys[start:]), ttl=ttl, values=values, sizes=sizes))
            return out
        out.extend(_parse(k, item) for k, item in zip(part, reply))
    return out


class _ScriptsRefused(Exception):
    """This connection pool's server refused a script before: use the pipelined commands."""


_NO_SCRIPTS: weakref.WeakSet[Any] = weakref.WeakSet()
"""Connection pools whose server (or ACL user) refused ``EVALSHA``/``EVAL``."""


def _refused(exc: redis.ResponseError) -> bool:
    """The server (or a proxy, or an ACL) refuses scripts, as opposed to a script that failed."""
    text = str(exc).lower()
    return isinstance(exc, NoPermissionError) or any(part in text for part in _REFUSED)


def _run(raw: redis.Redis, keys: list[KeyT], argv: list[Any]) -> Any:
    try:
        return raw.execute_command("EVALSHA", KEYINFO_SHA1, len(keys), *keys, *argv)
    except NoScriptError:  # not cached on this server yet: EVAL runs it and caches it
        return raw.execute_command("EVAL", KEYINFO_SOURCE, len(keys), *keys, *argv)


def _parse(key: KeyT, item: Any) -> KeyInfo:
    kind, pttl, n, first, value = (list(item) + [None] * 5)[:5]
    return KeyInfo(
        key,
        _text(kind),
        ttl=pttl / 1000.0 if isinstance(pttl, int) and pttl >= 0 else None,
        length=n if isinstance(n, int) else None,
        first=first if isinstance(first, int) else None,
        value=value,
    )


def _pipelined_info(raw: redis.Redis, keys: list[KeyT], *, ttl: bool, values: bool, sizes: bool) -> list[KeyInfo]:
    """The same answers without scripts: pipelined ``TYPE`` (+ ``PTTL``), then ``GET``/``LLEN``/sizes.

    Not atomic per key: a string deleted between ``TYPE`` and ``GET`` has ``value=None``, one
    retyped meanwhile has the error as ``value``; lists are never read whole here.
    """
    first = pipelined(raw, [c for k in keys for c in ([("TYPE", k), ("PTTL", k)] if ttl else [("TYPE", k)])])
    step = 2 if ttl else 1
    infos: list[KeyInfo] = []
    for i, k in enumerate(keys):
        kind = _text(first[i * step])
        ms = first[i * step + 1] if ttl else None
        infos.append(KeyInfo(k, kind, ttl=ms / 1000.0 if isinstance(ms, int) and ms >= 0 else None))
    size_cmd = {"list": "LLEN", **({"hash": "HLEN", "set": "SCARD", "zset": "ZCARD"} if sizes else {})}
    todo = [(info, ("GET", info.key)) for info in infos if info.type == "string" and values]
    todo += [(info, (size_cmd[info.type], info.key)) for info in infos if info.type in size_cmd]
    for (info, cmd), reply in zip(todo, pipelined(raw, [c for _, c in todo])):
        if cmd[0] == "GET":
            info.value = reply
        elif isinstance(reply, int) or cmd[0] == "LLEN":
            info.length = reply  # an LLEN error (retyped meanwhile) is kept for the list reader
    return infos


def family_keyspace(
    raw: redis.Redis, names: Iterable[str], *, keys: Iterable[KeyT] | None = None
) -> dict[str, list[KeyT]]:
    """The keys of each family in ``names`` (sorted, fixed keys included), from one ``SCAN`` pass.

    Cheaper than each family scanning the keyspace for its own globs: one ``SCAN`` cursor walk
    classifies every key (:func:`jsadmin.catalog.classify`); ``keys`` hands in that walk when the
    caller has done it already. Fixed keys are listed whether they exist or not (a reader treats
    their absence as no news).

    >>> family_keyspace(raw, ["jobs", "worker_heartbeat"])    # doctest: +SKIP
    {'jobs': [b'jobs:1'], 'worker_heartbeat': [b'workers:heartbeat']}
    """
    wanted = {n: family(n).name for n in names}
    out: dict[str, set[KeyT]] = {name: {k.encode() for k in family(name).fixed_keys} for name in wanted.values()}
    for key in scan_keys(raw) if keys is None else keys:
        name = classify(key)
        if name in out:
            out[name].add(key)
    return {name: sorted(found) for name, found in out.items()}


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, dict) and "ok" in value:  # a status reply parsed by a client with callbacks
        return str(value["ok"])
    return "none" if value is None else str(value)
