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
import socket
import threading
import weakref
from dataclasses import dataclass
from typing import Any

import redis

from .connection import RedisTarget
from .errors import UnsupportedByServer

FEATURES: dict[str, tuple[tuple[int, int], str]] = {
    "hset_multi": ((4, 0), "HSET with several fields"),
    "unlink": ((4, 0), "UNLINK"),
    "memory_usage": ((4, 0), "MEMORY USAGE"),
    "acl": ((6, 0), "ACL users"),
    "tls": ((6, 0), "TLS"),
    "resp3": ((6, 0), "RESP3 (HELLO)"),
    "float_timeout": ((6, 0), "A fractional timeout of a blocking command (BLPOP 0.5)"),
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

    def require(self, feature: str, hint: str = "") -> None:
        """Raise :class:`~jsadmin.errors.UnsupportedByServer` when the server lacks ``feature``.

        ``hint`` is appended to the message (what to do instead).
        """
        if not self.has(feature):
            first, what = FEATURES[feature]
            raise UnsupportedByServer(
                f"{what} need{'s' if not what.endswith('users') else ''} Redis {first[0]}.{first[1]} "
                f"or newer; this server runs Redis {self.version_text}{hint}"
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


def _ask_version(client: Any) -> tuple[int, int, int]:
    """``INFO server``; an ACL user without the right to INFO (NOPERM: Redis >= 6) asks ``HELLO 2``
    (``@connection``; it keeps RESP2), else the version is taken as 6.0.0, the first with ACLs."""
    try:
        reply = client.info("server")  # redis-py parses INFO into a dict
        return parse_info_version(f"redis_version:{reply.get('redis_version', '')}\n")
    except redis.exceptions.NoPermissionError:
        pass
    try:
        hello = client.execute_command("HELLO", 2)
        fields = dict(zip(hello[::2], hello[1::2])) if isinstance(hello, list) else dict(hello)
        version = fields.get(b"version") or fields.get("version") or b""
        return parse_info_version(b"redis_version:" + (version if isinstance(version, bytes) else str(version).encode()))
    except (redis.RedisError, ValueError, TypeError):
        return (6, 0, 0)


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
    info = ServerInfo(_ask_version(client))
    with _lock:
        _cache[pool] = info
    return info


# --- features a connection URL asks for ---------------------------------------------------------


def check_connection(client: Any, target: RedisTarget) -> ServerInfo:
    """After a successful PING: refuse what the URL asks for but the server cannot give.

    A user name means an ACL user (Redis 6.0+). Older servers have one password only, and
    redis-py silently retries ``AUTH`` without the user name there, so a "read-only user" would
    quietly get full rights: jsadmin refuses instead (the user name ``default`` is the same as
    no user name and is accepted).

    >>> check_connection(client, parse_url("redis://alice:pw@h"))  # doctest: +SKIP
    Traceback (most recent call last):
    jsadmin.errors.UnsupportedByServer: ACL users need Redis 6.0 or newer; this server runs ...
    """
    info = server_info(client)
    if target.username and target.username != "default":
        info.require("acl", hint=_ACL_HINT.format(user=target.username))
    return info


_NOT_TLS = ("wrong version number", "packet length too long", "record layer failure", "unknown protocol")
"""OpenSSL's words for "the peer answered, but not in TLS"."""

_ACL_HINT = (
    " (the URL names user {user!r}; older servers have a single password: "
    "use redis://:password@host:port without a user name)"
)


def explain_failure(target: RedisTarget, exc: BaseException, timeout: float = 2.0) -> UnsupportedByServer | None:
    """Why a connection failed when the cause is an old server, else None.

    Called after PING failed: with a user name (ACL) or over TLS (``rediss://``), ask the server
    ``INFO server`` in plain text without credentials (read-only) to learn its version. A server
    that answers in plain text on a ``rediss://`` port has no TLS there.
    """
    wants_acl = bool(target.username and target.username != "default")
    # a plain-text server answers a TLS hello with an error (OpenSSL: "wrong version number"), or
    # keeps waiting for the end of an inline command line (the handshake times out)
    not_tls = target.scheme == "rediss" and (
        isinstance(exc, redis.TimeoutError) or any(sign in str(exc).lower() for sign in _NOT_TLS)
    )
    if not not_tls and not (wants_acl and target.scheme != "rediss"):
        return None
    try:
        info = _plain_ask(target, (b"INFO", b"server"), timeout)
    except (OSError, ValueError):
        return None  # not a plain-text Redis either: the original error stands
    if info.startswith(b"$"):
        try:
            version: ServerInfo | None = ServerInfo(parse_info_version(info))
        except ValueError:
            return None
    elif b"NOAUTH" in info.upper() or b"AUTH" in info.upper():
        version = None  # a plain-text Redis that wants a password: version unknown
    else:
        return None
    where = target.safe_url
    if target.scheme == "rediss":
        if version is not None and not version.has("tls"):
            return UnsupportedByServer(
                f"TLS needs Redis 6.0 or newer; the server at {where} runs Redis {version.version_text} "
                "and answers in plain text: use redis:// (or put a TLS proxy in front of it)"
            )
        ran = f"Redis {version.version_text}" if version else "a Redis"
        return UnsupportedByServer(
            f"the server at {where} answers in plain text, not TLS ({ran}; TLS needs Redis 6.0+ "
            "with tls-port set): use redis:// for this port"
        )
    if version is not None:
        if version.has("acl"):
            return None  # a real ACL server refused the user: the original error stands
        return UnsupportedByServer(
            f"ACL users need Redis 6.0 or newer; this server runs Redis {version.version_text}"
            + _ACL_HINT.format(user=target.username)
        )
    if _has_no_hello(target, timeout):
        return UnsupportedByServer(
            "ACL users need Redis 6.0 or newer; this server is older (it has no HELLO command)"
            + _ACL_HINT.format(user=target.username)
        )
    return None


def _plain_ask(target: RedisTarget, command: tuple[bytes, ...], timeout: float) -> bytes:
    """Send one command in plain text without credentials; return the raw first reply.

    A raw socket on purpose: redis-py turns some replies of old servers into other errors.
    Only read-only commands (``INFO server``, ``HELLO`` without arguments) are sent.
    """
    family = socket.AF_UNIX if target.scheme == "unix" else socket.AF_INET
    address: Any = target.path if target.scheme == "unix" else (target.host, target.port)
    if family == socket.AF_INET:
        sock = socket.create_connection(address, timeout=timeout)
    else:
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.settimeout(timeout)
        sock.connect(address)
    with sock:
        sock.sendall(b"*%d\r\n" % len(command) + b"".join(b"$%d\r\n%s\r\n" % (len(c), c) for c in command))
        data = b""
        while b"\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                raise ValueError("connection closed")
            data += chunk
        head = data.split(b"\r\n", 1)[0]
        if head.startswith(b"$") and head[1:].isdigit():
            need = len(head) + 2 + int(head[1:]) + 2
            while len(data) < need:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                data += chunk
        return data


def _has_no_hello(target: RedisTarget, timeout: float) -> bool:
    """True when the server rejects ``HELLO`` as an unknown command (Redis < 6.0; no auth needed)."""
    try:
        return b"unknown command" in _plain_ask(target, (b"HELLO",), timeout).lower()
    except (OSError, ValueError):
        return False
