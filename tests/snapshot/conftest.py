"""Fixtures: seeded real redis-server processes for snapshot and diff tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis
from redis_servers import ServerFactory

from jsadmin.demogrid import seed_demo
from jsadmin.embedded import EmbeddedRedis

SNAP_PASSWORD = "snap-pw-Zq81"


@pytest.fixture(scope="module")
def seeded(redis_factory: ServerFactory) -> Iterator[EmbeddedRedis]:
    """A demo grid that tests only read (never modify it)."""
    srv = redis_factory.start()
    client = redis.Redis.from_url(protocol=2, url=srv.url)
    seed_demo(client, seed=3, nodes=2, jobs=40)
    client.close()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def pair(redis_factory: ServerFactory) -> Iterator[tuple[str, str]]:
    """Two seeded servers, the second one with a password: (url, url with password)."""
    a = redis_factory.start()
    b = redis_factory.start()
    for i, srv in enumerate((a, b)):
        client = redis.Redis.from_url(protocol=2, url=srv.url)
        seed_demo(client, seed=10 + i, nodes=1 + i, jobs=30)
        if i == 1:
            client.config_set("requirepass", SNAP_PASSWORD)
        client.close()
    yield a.url, f"redis://:{SNAP_PASSWORD}@127.0.0.1:{b.port}/0"
    a.stop()
    b.stop()
