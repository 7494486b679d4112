"""Fixtures: a fleet of real redis-server processes with different data in each."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import redis
from redis_servers import ServerFactory

from jsadmin import keys
from jsadmin.embedded import EmbeddedRedis, free_port

N_UP = 10
PASSWORD = "s3cret-fleet-pw"


def seed_node(client: redis.Redis, i: int) -> None:
    """Different data per node: ``seed_demo`` when the demo package has it, else raw keys."""
    try:
        from jsadmin.demogrid import seed_demo  # type: ignore[attr-defined]
    except ImportError:
        seed_demo = None
    if seed_demo is not None:
        seed_demo(client, seed=i, nodes=1 + i % 3, jobs=30 + 5 * i)
        return
    now = int(time.time())
    nid = i + 1
    pipe = client.pipeline(transaction=True)
    pipe.hset(keys.JOBS_LAST, "1", 100 + i)
    for j in range(i + 1):
        job = {
            "id": 100 + j, "guid": uuid.uuid4().hex, "gid": 1, "nid": nid, "cmd": "echo",
            "category": "jumpscale", "roles": [], "args": {"msg": f"n{i}j{j}"}, "queue": "",
            "timeout": 600, "wait": True, "log": True, "errorreport": False, "sessionid": None,
            "state": "STARTED" if j % 2 else "SCHEDULED", "result": None, "parent": None,
            "resultcode": None, "timeCreate": now - 60, "timeStart": 0, "timeStop": 0,
            "tags": None, "_ckey": "", "_meta": ["system", "job", 1], "jscriptid": None,
        }
        pipe.hset(keys.jobs(1), job["guid"], json.dumps(job, separators=(",", ":")))
        if j % 2 == 0:
            pipe.rpush(keys.command_queue(1, nid), json.dumps(job, separators=(",", ":")))
    pipe.execute_command("HMSET", keys.WORKER_HEARTBEAT, "default", now - 5, "io", now - 500 * (i % 2))
    pipe.set(keys.logs_incr(1, nid), 1000 + i)
    pipe.execute()


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
        for i in range(N_UP):
            srv = redis_factory.start()
            up[f"node{i + 1:02d}"] = srv
            client = redis.Redis.from_url(protocol=2, url=srv.url)
            seed_node(client, i)
            client.close()
        # EmbeddedRedis.start's readiness PING has no AUTH, so the password is set once it runs
        locked = redis_factory.start()
        client = redis.Redis(protocol=2, port=locked.port)
        seed_node(client, N_UP)
        client.config_set("requirepass", PASSWORD)
        client.close()
        yield FleetServers(up=up, locked=locked, down_port=free_port())
    finally:
        for srv in up.values():
            srv.stop()
        if "locked" in locals():
            locked.stop()
