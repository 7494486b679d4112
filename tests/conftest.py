"""Fixtures: real redis-server processes (never a mock)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis

from jsadmin.embedded import EmbeddedRedis, free_port


@pytest.fixture(scope="session")
def redis_server() -> Iterator[EmbeddedRedis]:
    """One real redis-server per test session (per xdist worker), on a free TCP port."""
    server = EmbeddedRedis.start(port=free_port())
    yield server
    server.stop()


@pytest.fixture()
def redis_url(redis_server: EmbeddedRedis) -> str:
    """URL of an emptied server: every test starts from FLUSHALL."""
    client = redis.Redis.from_url(protocol=2, url=redis_server.url)
    client.flushall()
    client.close()
    return redis_server.url


@pytest.fixture()
def r(redis_url: str) -> Iterator[redis.Redis]:
    """A raw redis-py client on the emptied test server (bytes, not decoded)."""
    client = redis.Redis.from_url(protocol=2, url=redis_url)
    yield client
    client.close()
