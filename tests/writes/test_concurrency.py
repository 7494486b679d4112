"""Concurrent enqueues from many processes, and a server killed mid-batch (AOF, fsync always)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from redis_servers import ServerFactory, child_pool

from jsadmin.embedded import EmbeddedRedis, free_port

from . import _procs


def _check_consistent(client: redis.Redis, gid: int, queue_keys: list[str]) -> int:
    """Every allocated id has exactly one hash entry and one queue entry; no orphans. Returns last id."""
    last = int(client.hget("jobs:last", str(gid)) or 0)
    hashed = {g.decode(): json.loads(v) for g, v in client.hgetall(f"jobs:{gid}").items()}
    queued = [json.loads(x) for key in queue_keys for x in client.lrange(key, 0, -1)]
    assert sorted(j["id"] for j in hashed.values()) == list(range(1, last + 1))
    assert sorted(j["id"] for j in queued) == list(range(1, last + 1))
    assert {j["guid"]: j for j in queued} == hashed
    return last


@pytest.mark.slow
def test_eight_processes_enqueue_into_one_gid(redis_url: str, r: redis.Redis, tmp_path: Path) -> None:
    with child_pool(8, _procs.__name__) as pool:
        counts = pool.starmap(
            _procs.enqueue_worker,
            [(redis_url, w, 2500, 250, str(tmp_path / "journal.jsonl"), 8) for w in range(8)],
        )
    assert counts == [2500] * 8
    last = _check_consistent(r, 1, [f"queues:commands:queue:1:{w}" for w in range(8)])
    assert last == 20000
    blocks = 0
    for w in range(8):  # each process's own order is kept inside its queue
        queued = [json.loads(x) for x in r.lrange(f"queues:commands:queue:1:{w}", 0, -1)]
        assert [j["args"] for j in queued] == [{"w": w, "i": i} for i in range(2500)]
        ids = [j["id"] for j in queued]
        blocks += ids[-1] - ids[0] + 1 == len(ids)
    assert blocks < 8, "every process got one contiguous id block: the enqueues did not overlap"
    lines = [json.loads(x) for x in (tmp_path / "journal.jsonl").read_text().splitlines()]
    assert sorted(e["helper"] for e in lines) == ["enqueue_jobs"] * 8 + ["enqueue_jobs.plan"] * 8


def _start_on(factory: ServerFactory, data_dir: Path, port: int) -> EmbeddedRedis:
    """A server persisting to ``data_dir`` (AOF, fsync always): restartable on the same data."""
    return factory.start(port=port, args=("--appendonly", "yes", "--appendfsync", "always", "--dir", str(data_dir)))


@pytest.mark.slow
def test_kill_mid_bulk_reports_exactly_what_landed_and_resume_never_duplicates(
    tmp_path: Path, redis_factory: ServerFactory
) -> None:
    """SIGKILL the server during enqueue_jobs(20000), restart it on its AOF: the victim resolves
    every batch through its marker and reports per job exactly what Redis holds; passing back
    the rows reported not written completes the set with no duplicate."""
    data = tmp_path / "data"
    data.mkdir()
    port = free_port()
    server = _start_on(redis_factory, data, port)
    client = redis.Redis.from_url(protocol=2, url=server.url)
    out = tmp_path / "reported.json"
    victim = subprocess.Popen(
        [sys.executable, _procs.__file__, server.url, "20000", "500", str(tmp_path / "j.jsonl"), str(out)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    restarted = None
    try:
        deadline = time.monotonic() + 60
        while int(client.hget("jobs:last", "1") or 0) < 5000 and time.monotonic() < deadline:
            assert victim.poll() is None, victim.stderr.read().decode() if victim.stderr else ""
            time.sleep(0.01)
        server.kill()
        restarted = _start_on(redis_factory, data, port)  # back within the victim's resolve window
        assert victim.wait(timeout=60) == 3, victim.stderr.read().decode() if victim.stderr else ""
        after = redis.Redis.from_url(protocol=2, url=restarted.url)
        last = _check_consistent(after, 1, ["queues:commands:queue:1:1"])
        assert 5000 <= last < 20000
        assert last % 500 == 0  # batches of 500 are all-or-nothing, even the one cut by the kill
        reported = json.loads(out.read_text())
        assert None not in reported["written"]  # every batch resolved: nothing unknown
        landed = {g.decode() for g in after.hkeys("jobs:1")}
        said_written = {g for g, w in zip(reported["guid"], reported["written"], strict=True) if w}
        assert said_written == landed
        assert f"wrote {last} of 20000 jobs; {20000 - last} not written; 0 unknown" in reported["message"]
        # resume with exactly the rows reported not written
        jobs = _procs.worker_jobs(1, 20000)
        rest = [job for job, w in zip(jobs, reported["written"], strict=True) if not w]
        adm = _procs._Admin(restarted.url, str(tmp_path / "j.jsonl"))
        assert adm.enqueue_jobs(rest, batch_size=500)["written"].all()
        assert _check_consistent(after, 1, ["queues:commands:queue:1:1"]) == 20000
        items = sorted(json.loads(x)["args"]["i"] for x in after.lrange("queues:commands:queue:1:1", 0, -1))
        assert items == list(range(20000))  # every job exactly once
        after.close()
    finally:
        if victim.poll() is None:
            victim.kill()
        if victim.stderr:
            victim.stderr.close()
        client.close()
        server.stop()
        if restarted is not None:
            restarted.stop()
