"""Concurrent operators: enqueuers, a purger and two undos of the same entry, in processes.

Reconciliation must hold afterwards: every reported-written job exactly once, the undone
entry restored exactly once (in its original order, whatever was queued meanwhile), the
purged queue's values in the journal.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable

import pytest
import redis
from redis_servers import child_pool

from jsadmin.admin import Admin

from . import workers
from .helpers import call, fill_queue, probe_id, queue
from .reconcile import Reported, reconcile, removed_by
from .servers import FaultServer

Connect = Callable[..., Admin]


@pytest.mark.slow
def test_enqueuers_purger_and_two_undos(server: FaultServer, connect: Connect) -> None:
    adm = connect(server.url)
    client: redis.Redis = server.client()
    probe, other = probe_id(), probe_id()
    undone_frame = fill_queue(adm, probe, 3000, nid=100)
    original = client.lrange(queue(100), 0, -1)
    entry = adm.purge_queue(queue(100)).journal_id
    purged_frame = fill_queue(adm, other, 2000, nid=200)
    purged_original = client.lrange(queue(200), 0, -1)

    with child_pool(6, workers.__name__) as pool:
        jobs = [
            pool.apply_async(workers.enqueue, (server.url, probe, 3000, 1, 250)),
            pool.apply_async(workers.enqueue, (server.url, probe, 2000, 2, 100)),
            pool.apply_async(workers.enqueue, (server.url, probe, 1000, 100, 100)),  # into the undone queue
            pool.apply_async(workers.purge, (server.url, queue(200))),
            pool.apply_async(workers.undo, (server.url, entry)),
            pool.apply_async(workers.undo, (server.url, entry)),
        ]
        results = [j.get(timeout=120) for j in jobs]
    enq, purge, undos = results[:3], results[3], results[4:]

    for rep in enq:
        assert rep["error"] is None, rep["error"]
    assert purge["error"] is None, purge["error"]
    ok = [u for u in undos if u["error"] is None]
    assert ok, f"both undos failed: {[u['error'] for u in undos]}"

    # the undone entry: every value back exactly once, in its original relative order
    now = client.lrange(queue(100), 0, -1)
    wanted = set(original)
    restored = [v for v in now if v in wanted]
    assert restored == original, (
        f"undo restored {len(restored)} values for {len(original)} purged (two undos must restore once)"
    )
    # the purged queue: empty, every value in the journal
    assert client.llen(queue(200)) == 0
    removed = removed_by(adm, "purge_queue", queue(200))
    assert sorted(r["guid"] for r in removed) == sorted(json.loads(v)["guid"] for v in purged_original)

    written = set(undone_frame["guid"]).union(*(set(r["written"]) for r in enq))
    not_written = set().union(*(set(r["not_written"]) for r in enq))
    reconcile(client, Reported(written=written, not_written=not_written), probe=probe)
    hashed = {g for g in client.hkeys("jobs:1")}
    assert {g.encode() for g in purged_frame["guid"]} <= hashed  # purge empties the queue only


def _consumer(url: str, key: str, stop: threading.Event, got: list[bytes]) -> None:
    """An agent popping the queue as fast as it can (LPOP, like the AC hands jobs out)."""
    c = redis.Redis.from_url(url, protocol=2)
    try:
        while not stop.is_set():
            value = c.lpop(key)
            if value is None:
                time.sleep(0.001)
            else:
                got.append(value)
    finally:
        c.close()


@pytest.mark.parametrize("helper", ["purge_queue", "cancel_jobs"])
def test_consumer_popping_during_a_removal_never_gets_a_job_back(
    server: FaultServer, connect: Connect, helper: str
) -> None:
    """A job the agent popped (and so ran) must never be journalled as removed: undo would
    queue it a second time. Afterwards queue + popped == original, each value exactly once."""
    adm = connect(server.url)
    client = server.client()
    probe = probe_id()
    frame = fill_queue(adm, probe, 6000, nid=7)
    original = client.lrange(queue(7), 0, -1)
    stop, popped = threading.Event(), []
    agent = threading.Thread(target=_consumer, args=(server.url, queue(7), stop, popped), daemon=True)
    agent.start()
    time.sleep(0.02)
    try:
        if helper == "purge_queue":
            out = call(adm.purge_queue, queue(7))
            entry = (out.value if out.error is None else out.error.result).journal_id  # type: ignore[union-attr]
        else:
            out = call(adm.cancel_jobs, list(frame["guid"]))
            entry = (out.value if out.error is None else out.error.result).journal_id  # type: ignore[union-attr]
    finally:
        stop.set()
        agent.join(10)
    assert popped, "the agent popped nothing: the case did not overlap"
    removed = [r["value"] for r in removed_by(adm, helper, queue(7))]
    texts = {v.decode() for v in popped}
    both = [r for r in removed if r.get("text") in texts]
    assert not both, f"{len(both)} value(s) popped by the agent are also journalled as removed by {helper}"
    leftover = client.lrange(queue(7), 0, -1)
    assert sorted(popped + leftover + [v["text"].encode() for v in removed]) == sorted(original)
    if entry:
        undone = call(adm.undo, entry)
        assert undone.error is None, undone.error
    now = client.lrange(queue(7), 0, -1)
    assert sorted(popped + now) == sorted(original), "after undo, queue + popped must be the original, once each"
