"""What the connected Redis can do: its version, read once with ``INFO server``.

Real JumpScale 7 grids run Redis 2.8 (JumpScale's own package, Ubuntu 14.04) or 3.0
(Ubuntu 16.04); newer grids run 4.x to 7.x. jsadmin speaks RESP2 to all of them and uses a
newer command only where :class:`ServerInfo` says the server has it.

>>> ServerInfo((2, 8, 17)).has("blmove")
False
>>> ServerInfo((7, 0, 15)).has("unlink")
True
>>> ServerInfo((3, 0, 5)).require("acl")
Traceback (most recent call last):
...
jsadmin.errors.UnsupportedByServer: ACL users need Redis 6.0 or newer; this server runs Redis 3.0.5
"""

from __future__ import annotations

import re
import threading
import weakref
from dataclasses import dataclass
from typing import Any

from .errors import UnsupportedByServer

FEATURES: dict[str, tuple[tuple[int, int], str]] = {
    "hset_multi": ((4, 0), "HSET with several fields"),
    "unlink": ((4, 0), "UNLINK"),
    "memory_usage": ((4, 0), "MEMORY USAGE"),
    "acl": ((6, 0), "ACL users"),
    "tls": ((6, 0), "TLS"),
    "resp3": ((6, 0), "RESP3 (HELLO)"),
    "blmove": ((6, 2), "BLMOVE"),
    "client_pause_write": ((6, 2), "CLIENT PAUSE ... WRITE"),
}
"""Feature name -> (first Redis version that has it, what to call it in an error)."""

_VERSION = re.compile(rb"redis_version:(\d+)\.(\d+)\.(\d+)")


@dataclass(frozen=True)
class ServerInfo:
    """The Redis server version and the features it implies."""

    version: tuple[int, int, int]

    @property
    def version_text(self) -> str:
        return ".".join(map(str, self.version))

    def has(self, feature: str) -> bool:
        """True when this server version has ``feature`` (a key of :data:`FEATURES`)."""
        first, _ = FEATURES[feature]
        return self.version[:2] >= first

    def require(self, feature: str) -> None:
        """Raise :class:`~jsadmin.errors.UnsupportedByServer` when the server lacks ``feature``."""
        if not self.has(feature):
            first, what = FEATURES[feature]
            raise UnsupportedByServer(
                f"{what} need{'s' if not what.endswith('users') else ''} Redis {first[0]}.{first[1]} "
                f"or newer; this server runs Redis {self.version_text}"
            )


def parse_info_version(info: bytes | str) -> tuple[int, int, int]:
    """The ``redis_version`` of an ``INFO server`` reply.

    >>> parse_info_version(b"# Server\\r\\nredis_version:2.8.17\\r\\n")
    (2, 8, 17)
    """
    raw = info.encode() if isinstance(info, str) else info
    m = _VERSION.search(raw)
    if m is None:
        raise ValueError("INFO server reply without redis_version")
    return int(m.group(1)), int(m.group(2)), int(m.group(3))


_cache: weakref.WeakKeyDictionary[Any, ServerInfo] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def server_info(client: Any) -> ServerInfo:
    """The server's version, asked once per connection pool (``INFO server``; read-only).

    >>> server_info(redis.Redis(protocol=2)).has("hset_multi")  # doctest: +SKIP
    True
    """
    pool = getattr(client, "connection_pool", client)
    with _lock:
        known = _cache.get(pool)
    if known is not None:
        return known
    reply = client.info("server")  # redis-py parses INFO into a dict
    info = ServerInfo(parse_info_version(str(reply.get("redis_version", "")).join(("redis_version:", "\n"))))
    with _lock:
        _cache[pool] = info
    return info
