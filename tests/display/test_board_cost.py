"""The health board's refresh is cheap: a bounded number of commands that grows by batches, not keys.

Counted with :class:`~jsadmin.display.cost.CommandCounter` on the demo grid (``seed_demo``): the
batched refresh (one ``SCAN`` pass, one read-only key script per family and 200 keys, ``HSCAN`` of
each hash) against the per-key one (``TYPE``/``PTTL``/``GET``/``LLEN`` per key), same frames.
"""

from __future__ import annotations

import time

import orjson
import pandas as pd
import redis

import jsadmin
from jsadmin.demogrid import seed_demo
from jsadmin.display.cost import CommandCounter
from jsadmin.display.panels.health import collect

BUDGET = 60
"""Commands one refresh of the demo grid may cost (issue 11)."""


def _refresh(admin: jsadmin.Admin, **options: object) -> tuple[CommandCounter, dict[str, pd.DataFrame]]:
    with CommandCounter(admin.redis) as cost:
        data = collect(admin, **options)  # type: ignore[arg-type]
    return cost, data


def _more_jobs(r: redis.Redis, n: int) -> None:
    """``n`` jobs scheduled the way the agentcontroller does: ``HSET jobs:1`` + ``RPUSH`` to a node queue."""
    now = int(time.time())
    pipe = r.pipeline(transaction=False)
    for i in range(n):
        job = orjson.dumps({"guid": f"extra{i}", "id": 100_000 + i, "gid": 1, "nid": 2, "state": "SCHEDULED",
                            "cmd": "echo", "category": "jumpscale", "timeCreate": now, "roles": [], "args": {}})
        pipe.hset("jobs:1", f"extra{i}", job)
        pipe.rpush("queues:commands:queue:1:2", job)
    pipe.execute()


def test_refresh_costs_at_most_60_commands_and_the_same_frames(r: redis.Redis, redis_url: str) -> None:
    seed_demo(r)
    admin = jsadmin.connect(redis_url)
    keys = r.dbsize()
    _refresh(admin)  # the first refresh also loads the script (EVALSHA -> NOSCRIPT -> EVAL)
    cost, _ = _refresh(admin, now=pd.Timestamp.now(tz="UTC"))
    assert cost.commands <= BUDGET, cost.summary()
    assert cost.writes == [] and cost.read_scripts["evalsha"] > 0
    assert set(cost.by_command) <= {"scan", "hscan", "evalsha", "eval", "type"}, cost.summary()
    now = pd.Timestamp.now(tz="UTC")
    per_key_cost, per_key = _refresh(admin, now=now, batched=False)
    assert per_key_cost.commands > 2 * keys  # TYPE, PTTL, GET, LLEN ... per key
    _, batched = _refresh(admin, now=now)
    assert list(batched) == list(per_key)
    for name, frame in batched.items():
        pd.testing.assert_frame_equal(frame, per_key[name], obj=name)
    assert len(batched["queues"]) > 5 and len(batched["heartbeats"]) > 0
    admin.close()


def test_refresh_cost_stays_flat_with_5000_more_jobs(r: redis.Redis, redis_url: str) -> None:
    seed_demo(r)
    admin = jsadmin.connect(redis_url)
    _refresh(admin)
    before, _ = _refresh(admin)
    _more_jobs(r, 5000)
    after, data = _refresh(admin)
    assert after.commands <= BUDGET, after.summary()
    # jobs:1 now needs a second HSCAN batch (5,000 fields per call) and its TYPE re-check: nothing per job
    assert after.commands - before.commands <= 3, (before.summary(), after.summary())
    queues = data["queues"].set_index("key")
    assert queues.loc["queues:commands:queue:1:2", "length"] >= 5000
    admin.close()


def test_refresh_grows_by_batches_of_keys(r: redis.Redis, redis_url: str) -> None:
    """Many more keys (a grid with 2,000 jobs: per-job ``workers:jobs:<id>``, ``queues:jobqueue:<guid>``):
    one more script call per 200 keys and one more SCAN per 1,000, never one command per key."""
    seed_demo(r, jobs=2000)
    admin = jsadmin.connect(redis_url)
    _refresh(admin)
    cost, _ = _refresh(admin)
    keys = r.dbsize()
    assert keys > 1000
    assert cost.commands <= 20 + keys // 200 + keys // 1000 + 14, (keys, cost.summary())
    assert cost.commands < keys // 10
    admin.close()
