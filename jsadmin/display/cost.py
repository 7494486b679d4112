"""What a refresh cost: commands counted on our client, plus the server-wide ``INFO commandstats`` delta.

The client-side count covers every command sent through ``client``'s connection pool inside the
block (single commands and each command of a pipeline, from any client sharing that pool, such as
``Admin``'s raw reader); the server delta includes other clients (for example a live grid writing
at the same time), so both are shown.

>>> with CommandCounter(admin.redis) as cost:     # doctest: +SKIP
...     admin.load("worker_heartbeat")
>>> cost.commands, round(cost.ms)                 # doctest: +SKIP
(3, 2)
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import redis

from ..keyinfo import is_read_only_script

WRITE_COMMANDS = frozenset(
    {
        "set", "setex", "psetex", "setnx", "getset", "getdel", "getex", "del", "unlink", "expire",
        "pexpire", "expireat", "persist", "rename", "incr", "incrby", "decr", "decrby", "hset",
        "hsetnx", "hmset", "hdel", "hincrby", "hincrbyfloat", "lpush", "rpush", "lpop", "rpop",
        "blpop", "brpop", "lrem", "ltrim", "lset", "linsert", "rpoplpush", "brpoplpush", "lmove",
        "blmove", "sadd", "srem", "spop", "zadd", "zrem", "eval", "evalsha", "flushall", "flushdb",
        "multi", "exec", "xadd", "copy", "restore", "move", "append", "setrange",
    }
)
"""Commands that can modify data (``EVAL`` counts: a script may write, unless it is one of the
read-only scripts of :data:`jsadmin.keyinfo.READ_ONLY_SCRIPTS`, see :attr:`CommandCounter.writes`)."""
SCRIPT_COMMANDS = frozenset({"eval", "evalsha", "eval_ro", "evalsha_ro"})
SERVER_WRITE_COMMANDS = WRITE_COMMANDS - SCRIPT_COMMANDS
"""The write commands to look for in an ``INFO commandstats`` delta (:func:`server_writes`)."""


def server_writes(delta: Mapping[str, int]) -> dict[str, int]:
    """The write commands of an ``INFO commandstats`` delta (``{command: calls}``), scripts included.

    ``EVAL``/``EVALSHA`` themselves are left out: the server counts every command a script runs
    under that command's own name (on every version from 2.8), so a script that writes shows
    here as ``set``/``hset``/``rpush``/..., and a read-only one (jsadmin's key script) as reads.

    >>> server_writes({"evalsha": 3, "type": 40, "get": 12}), server_writes({"eval": 1, "hset": 1})
    ({}, {'hset': 1})
    """
    return {c: n for c, n in delta.items() if c in SERVER_WRITE_COMMANDS and n}

_LOCK = threading.Lock()


def commandstats(client: redis.Redis) -> dict[str, int]:
    """``INFO commandstats`` as ``{command: calls}``, lower-case, the same on every Redis version.

    Redis 7 counts subcommands apart (``cmdstat_config|resetstat``, ``cmdstat_client|list``);
    older servers count them under their command. Both are reported under the command name.

    >>> commandstats(admin.redis)["hset"]   # doctest: +SKIP
    12
    """
    out: dict[str, int] = {}
    for name, stats in client.info("commandstats").items():
        if isinstance(stats, dict) and "calls" in stats:
            command = str(name).removeprefix("cmdstat_").lower().split("|")[0]
            out[command] = out.get(command, 0) + int(stats["calls"])
    return out


class _CountingPacker:
    """Wraps a connection's command packer: every command redis-py sends is packed once here."""

    def __init__(self, inner: Any, counter: Counter[str], read_scripts: Counter[str]) -> None:
        self.inner = inner
        self.counter = counter
        self.read_scripts = read_scripts

    def pack(self, *args: Any) -> Any:
        name = _name(args)
        self.counter[name] += 1
        if name in SCRIPT_COMMANDS and len(args) > 1 and is_read_only_script(name, args[1]):
            self.read_scripts[name] += 1
        return self.inner.pack(*args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def _name(args: tuple[Any, ...]) -> str:
    if not args:
        return "?"
    first = args[0]
    text = first.decode() if isinstance(first, bytes) else str(first)
    return text.split(" ")[0].lower()


@dataclass
class CommandCounter:
    """Context manager counting the commands sent through ``client`` and the wall time.

    Attributes after the block: ``commands`` (client-side count), ``by_command`` (Counter),
    ``ms``, ``server_commands`` (commandstats delta over the block, all clients, the two
    ``INFO`` calls excluded), ``writes`` (write commands we sent; a read-only refresh keeps it empty),
    ``read_scripts`` (``EVALSHA``/``EVAL`` calls of jsadmin's read-only scripts: counted in
    ``by_command``, not in ``writes``). Commands a script runs on the server are not sent by the
    client, so they count in ``server_commands`` only.
    """

    client: redis.Redis
    server_stats: bool = True
    by_command: Counter[str] = field(default_factory=Counter)
    read_scripts: Counter[str] = field(default_factory=Counter)
    ms: float = 0.0
    server_commands: int | None = None
    _before: dict[str, int] = field(default_factory=dict, repr=False)
    _t0: float = 0.0
    _saved: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def commands(self) -> int:
        """Commands this client sent inside the block."""
        return sum(self.by_command.values())

    @property
    def writes(self) -> list[str]:
        """Names of write commands sent inside the block (should be empty for reads).

        ``EVAL``/``EVALSHA`` count only for the calls that were not a known read-only script.
        """
        return sorted(
            c for c, n in self.by_command.items() if c in WRITE_COMMANDS and n > self.read_scripts.get(c, 0)
        )

    def _connections(self) -> list[Any]:
        pool = self.client.connection_pool
        conns: list[Any] = []
        for attr in ("_available_connections", "_in_use_connections", "_connections"):
            conns.extend(c for c in (getattr(pool, attr, None) or ()) if c is not None)
        return conns

    def _wrap(self, conn: Any) -> None:
        packer = getattr(conn, "_command_packer", None)
        if packer is not None and not isinstance(packer, _CountingPacker):
            conn._command_packer = _CountingPacker(packer, self.by_command, self.read_scripts)

    def _install(self) -> None:
        pool = self.client.connection_pool
        for conn in self._connections():
            self._wrap(conn)
        original_make = pool.make_connection

        def make_connection(*args: Any, **kwargs: Any) -> Any:
            conn = original_make(*args, **kwargs)
            self._wrap(conn)
            return conn

        self._saved = {"make_connection": pool.__dict__.get("make_connection")}
        pool.make_connection = make_connection  # type: ignore[method-assign]  # patched on this pool only

    def _uninstall(self) -> None:
        pool = self.client.connection_pool
        pool.__dict__.pop("make_connection", None)
        if self._saved.get("make_connection") is not None:
            pool.make_connection = self._saved["make_connection"]  # type: ignore[method-assign]
        for conn in self._connections():
            packer = getattr(conn, "_command_packer", None)
            if isinstance(packer, _CountingPacker):
                conn._command_packer = packer.inner

    def __enter__(self) -> CommandCounter:
        _LOCK.acquire()
        try:
            if self.server_stats:
                self._before = commandstats(self.client)
            self._install()
        except BaseException:
            _LOCK.release()
            raise
        self._t0 = time.perf_counter()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.ms = (time.perf_counter() - self._t0) * 1000.0
        try:
            self._uninstall()
            if self.server_stats:
                after = commandstats(self.client)
                delta = sum(after.values()) - sum(self._before.values())
                self.server_commands = max(0, delta - 1)  # the first INFO is counted in `after`
        finally:
            _LOCK.release()

    def summary(self) -> str:
        """One line for a status bar: ``"7 commands (HSCAN 3, LLEN 4), 2.1 ms"``."""
        top = ", ".join(f"{k.upper()} {v}" for k, v in self.by_command.most_common(4))
        text = f"{self.commands} commands ({top}), {self.ms:.1f} ms" if top else f"0 commands, {self.ms:.1f} ms"
        if self.server_commands is not None:
            text += f"; server-wide Δ {self.server_commands} commands (all clients)"
        return text
