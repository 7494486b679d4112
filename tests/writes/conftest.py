"""Fixtures of the write-helper tests: a minimal Admin-like object over the real test server."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, ClassVar

import pytest
import redis
from redis_servers import commandstats

from jsadmin.connection import parse_url
from jsadmin.writes import WritesMixin

WRITE_COMMANDS = {
    "set", "del", "hset", "hdel", "hsetnx", "hincrby", "incr", "rpush", "lpush", "lrem", "ltrim",
    "expire", "eval", "evalsha", "blmove", "lmove", "brpoplpush", "rpoplpush", "sadd", "srem",
}


class _A(WritesMixin):
    """The smallest object the mixin needs (``redis``, ``readonly``, ``url``)."""

    def __init__(self, client: redis.Redis, readonly: bool = False, journal_path: Path | None = None,
                 url: str = "test") -> None:
        self.redis = client
        self.readonly = readonly
        self.url = url
        self.journal_path = journal_path


@pytest.fixture()
def journal_file(tmp_path: Path) -> Path:
    return tmp_path / "journal.jsonl"


@pytest.fixture()
def adm(r: redis.Redis, journal_file: Path) -> _A:
    return _A(r, journal_path=journal_file)


def writes_seen(client: redis.Redis) -> set[str]:
    """Write commands the server executed since the last CONFIG RESETSTAT."""
    return {c for c in commandstats(client) if c in WRITE_COMMANDS}


def snapshot(client: redis.Redis) -> dict[bytes, Any]:
    """Logical content of every key (test-side only: DUMP bytes are not stable for hashes)."""
    out: dict[bytes, Any] = {}
    for key in client.scan_iter("*"):
        kind = client.type(key)
        if kind == b"hash":
            out[key] = client.hgetall(key)
        elif kind == b"list":
            out[key] = client.lrange(key, 0, -1)
        elif kind == b"string":
            out[key] = client.get(key)
        else:
            out[key] = client.dump(key)
    return out


class LoseNextReply(redis.Connection):
    """A real connection that, once armed, loses the reply of its next ``EVALSHA``: the command
    reaches the server and runs, then the client waits a little, drops the socket and sees a
    timeout, exactly like a reply lost on the network."""

    armed: ClassVar[list[str]] = []
    """``"reply"``: the write runs, its reply is lost; ``"request"``: the write never arrives."""

    lranges: ClassVar[list[bool]] = []
    """One flag per coming ``LRANGE``: True loses its reply (reads are retried once by the client)."""

    def send_command(self, *args: Any, **kwargs: Any) -> None:
        name = str(args[0]).upper() if args else ""
        if getattr(self, "_sock", None) is None:
            self.connect()  # first: the handshake's own commands must not see our flag
        self._lose_reply = False  # decided per command
        if name == "LRANGE" and LoseNextReply.lranges:
            self._lose_reply = LoseNextReply.lranges.pop(0)
        elif name == "EVALSHA" and LoseNextReply.armed:
            self._lose_reply = True
            if LoseNextReply.armed.pop() == "request":
                return  # lost on the way: the server never sees it
        super().send_command(*args, **kwargs)

    def read_response(self, *args: Any, **kwargs: Any) -> Any:
        if getattr(self, "_lose_reply", False):
            self._lose_reply = False
            time.sleep(0.2)  # the server has run the command by now
            self.disconnect()
            raise redis.TimeoutError("Timeout reading from socket (reply dropped by the test)")
        return super().read_response(*args, **kwargs)


def losing_client(url: str) -> redis.Redis:
    """A client like ``jsadmin.connect``'s (with its one quick retry) whose next EVALSHA loses
    its reply once armed: ``LoseNextReply.armed.append("reply")`` (or ``"request"``)."""
    client = parse_url(url).client()
    client.connection_pool.connection_class = LoseNextReply
    return client


def user_keys(client: redis.Redis) -> list[bytes]:
    """Every key but jsadmin's write markers."""
    return sorted(k for k in client.scan_iter(count=1000) if not k.startswith(b"jsadmin:write:"))
