"""Fixtures of the write-helper tests: a minimal Admin-like object over the real test server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import redis

from jsadmin.writes import WritesMixin

WRITE_COMMANDS = {
    "set", "del", "hset", "hdel", "hsetnx", "hincrby", "incr", "rpush", "lpush", "lrem", "ltrim",
    "expire", "eval", "evalsha", "blmove", "lmove", "brpoplpush", "rpoplpush", "sadd", "srem",
}


class _A(WritesMixin):
    """The smallest object the mixin needs (``redis``, ``readonly``, ``url``)."""

    def __init__(self, client: redis.Redis, readonly: bool = False, journal_path: Path | None = None) -> None:
        self.redis = client
        self.readonly = readonly
        self.url = "test"
        self.journal_path = journal_path


@pytest.fixture()
def journal_file(tmp_path: Path) -> Path:
    return tmp_path / "journal.jsonl"


@pytest.fixture()
def adm(r: redis.Redis, journal_file: Path) -> _A:
    return _A(r, journal_path=journal_file)


def command_calls(client: redis.Redis) -> dict[str, int]:
    """``INFO commandstats`` as {command: calls} (lower-case names)."""
    stats: dict[str, Any] = client.info("commandstats")
    return {name.removeprefix("cmdstat_"): int(v["calls"]) for name, v in stats.items()}


def writes_seen(client: redis.Redis) -> set[str]:
    """Write commands the server executed since the last CONFIG RESETSTAT."""
    return {c for c in command_calls(client) if c in WRITE_COMMANDS}


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
