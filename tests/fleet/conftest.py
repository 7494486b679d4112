"""Fixtures: a fleet of real redis-server processes with different data in each."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from redis_servers import ServerFactory

from jsadmin.embedded import EmbeddedRedis, free_port

N_UP = 10
PASSWORD = "s3cret-fleet-pw"


@dataclass
class FleetServers:
    up: dict[str, EmbeddedRedis]
    locked: EmbeddedRedis
    down_port: int
    password: str = PASSWORD
    n_up: int = N_UP

    def targets(self) -> dict[str, str]:
        out = {name: srv.url for name, srv in self.up.items()}
        out["locked"] = f"redis://:{PASSWORD}@127.0.0.1:{self.locked.port}/0"
        out["down"] = f"redis://127.0.0.1:{self.down_port}/0"
        return out


@pytest.fixture(scope="module")
def servers(redis_factory: ServerFactory) -> Iterator[FleetServers]:
    """10 seeded servers, one behind ``requirepass`` (seeded too), and a port nobody listens on."""
    up: dict[str, EmbeddedRedis] = {}
    try:
        for i in range(N_UP + 1):  # different data per node; the last one is the locked one
            srv = redis_factory.seeded(seed=i, nodes=1 + i % 3, jobs=30 + 5 * i,
                                       password=PASSWORD if i == N_UP else None)
            if i == N_UP:
                locked = srv
            else:
                up[f"node{i + 1:02d}"] = srv
        yield FleetServers(up=up, locked=locked, down_port=free_port())
    finally:
        for srv in up.values():
            srv.stop()
        if "locked" in locals():
            locked.stop()
