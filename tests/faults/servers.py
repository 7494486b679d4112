"""Real redis-server processes the fault tests can kill, restart, pause and starve of memory.

>>> srv = FaultServer.start(binary, tmp_path, aof=True)     # doctest: +SKIP
>>> srv.kill(); srv.restart()                              # same dir, same port, AOF reloaded
"""

from __future__ import annotations

import contextlib
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import redis

from jsadmin.embedded import EmbeddedRedis, binary_version, free_port


@dataclass
class FaultServer:
    """A redis-server on a fixed TCP port whose data dir survives :meth:`kill` and :meth:`restart`."""

    binary: Path
    data: Path
    port: int
    aof: bool
    extra: tuple[str, ...] = ()
    proc: EmbeddedRedis | None = None
    version: tuple[int, ...] = (0,)
    _clients: list[redis.Redis] = field(default_factory=list)

    @classmethod
    def start(cls, binary: Path, data: Path, *, aof: bool = False, extra: tuple[str, ...] = ()) -> FaultServer:
        data.mkdir(parents=True, exist_ok=True)
        srv = cls(binary=binary, data=data, port=free_port(), aof=aof, extra=extra)
        srv.version = binary_version(binary)
        srv._spawn()
        return srv

    def _spawn(self) -> None:
        args: tuple[str, ...] = ("--dir", str(self.data))
        if self.aof:
            args += ("--appendonly", "yes", "--appendfsync", "always", "--appendfilename", "faults.aof")
        self.proc = EmbeddedRedis.start(port=self.port, args=args + self.extra, binary=self.binary)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self, **options: object) -> redis.Redis:
        """A plain redis-py client straight to the server (no proxy), closed by :meth:`stop`."""
        c = redis.Redis(host="127.0.0.1", port=self.port, protocol=2, socket_timeout=30, **options)  # type: ignore[arg-type]
        self._clients.append(c)
        return c

    def alive(self) -> bool:
        return self.proc is not None and self.proc.alive()

    def kill(self) -> None:
        """SIGKILL: no shutdown, no final fsync beyond what ``appendfsync always`` did."""
        assert self.proc is not None
        self.proc.kill()

    def restart(self) -> None:
        """Start again on the same port and data dir (the AOF is replayed)."""
        if self.proc is not None:
            self.proc.kill()
            self.proc.stop()
        for c in self._clients:
            c.connection_pool.disconnect()
        self._spawn()

    def stop(self) -> None:
        for c in self._clients:
            with contextlib.suppress(Exception):
                c.close()
        if self.proc is not None:
            self.proc.stop()

    # -- faults ---------------------------------------------------------------------------
    def has_client_pause(self) -> bool:
        return self.version >= (2, 9, 50)

    def pause(self, ms: int) -> None:
        """``CLIENT PAUSE ms`` from a private connection: every client blocks for ``ms``."""
        c = redis.Redis(host="127.0.0.1", port=self.port, protocol=2, socket_timeout=10)
        try:
            c.execute_command("CLIENT", "PAUSE", ms)
        finally:
            c.close()

    def pause_soon(self, delay: float, ms: int) -> threading.Thread:
        """Run :meth:`pause` after ``delay`` seconds in a thread (returned, started)."""
        t = threading.Thread(target=lambda: (time.sleep(delay), self.pause(ms)), daemon=True)
        t.start()
        return t

    def used_memory(self) -> int:
        return int(self.client().info("memory")["used_memory"])

    def set_maxmemory(self, nbytes: int) -> None:
        """``maxmemory`` with ``noeviction``: writes that need memory fail with ``OOM``."""
        c = self.client()
        c.config_set("maxmemory-policy", "noeviction")
        c.config_set("maxmemory", str(nbytes))

    def clear_maxmemory(self) -> None:
        self.client().config_set("maxmemory", "0")
