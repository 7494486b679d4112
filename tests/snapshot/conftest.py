"""Fixtures: seeded real redis-server processes for snapshot and diff tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from redis_servers import ServerFactory

from jsadmin.embedded import EmbeddedRedis

SNAP_PASSWORD = "snap-pw-Zq81"


@pytest.fixture(scope="module")
def seeded(redis_factory: ServerFactory) -> Iterator[EmbeddedRedis]:
    """A demo grid that tests only read (never modify it)."""
    srv = redis_factory.seeded(seed=3, nodes=2, jobs=40)
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def pair(redis_factory: ServerFactory) -> Iterator[tuple[str, str]]:
    """Two seeded servers, the second one with a password: (url, url with password)."""
    a = redis_factory.seeded(seed=10, nodes=1, jobs=30)
    b = redis_factory.seeded(seed=11, nodes=2, jobs=30, password=SNAP_PASSWORD)
    yield a.url, redis_factory.url(b, SNAP_PASSWORD)
    a.stop()
    b.stop()
