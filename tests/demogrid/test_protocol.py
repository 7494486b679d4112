"""The demo grid's one model of JumpScale's writes (``demogrid.protocol``): the command sequences
of spec §6, and the seed's writer that plays them into one transaction."""

from __future__ import annotations

import json

import pytest
import redis
from redis_servers import ServerFactory

from jsadmin.demogrid import protocol
from jsadmin.demogrid._grid_eco import EcoStore, build_eco
from jsadmin.demogrid.seed import _Writer
from jsadmin.domain import Job


def _job(**kw: object) -> dict[str, object]:
    return Job.scheduled(id=7, guid="ab" * 16, gid=1, nid=2, cmd="echo", category="jumpscale", time_create=0, **kw)


def _commands(rec: protocol.Recorder) -> list[tuple[str, str]]:
    return [(c[0], str(c[1]) if len(c) > 1 else "") for c in rec.calls]


def test_completion_at_the_ac_follows_6_5() -> None:
    rec = protocol.Recorder()
    protocol.notify_work_completed(rec, _job(wait=True))
    assert _commands(rec) == [("hset", "jobs:1"), ("rpush", "queues:jobqueue:" + "ab" * 16),
                              ("expire", "queues:jobqueue:" + "ab" * 16), ("hdel", "jobs:1")]
    rec = protocol.Recorder()
    protocol.notify_work_completed(rec, _job(wait=False))
    assert _commands(rec) == [("hset", "jobs:1"), ("hdel", "jobs:1")]


def test_pickup_keeps_a_copy_only_for_jobs_someone_asks_for() -> None:
    for log, wait, command in ((True, False, "hset"), (False, True, "hset"), (False, False, "hdel")):
        rec = protocol.Recorder()
        job = protocol.pickup(rec, _job(log=log, wait=wait), 5)
        assert (job["nid"], job["state"]) == (5, "STARTED")
        assert _commands(rec) == [(command, "jobs:1")]


def test_worker_completion_follows_6_4_step_5() -> None:
    local = Job.local(id=9, guid="c" * 40, sessionid="s", gid=1, nid=2, category="o", cmd="n", time_create=0)
    local.update(state="OK", internal=True)
    rec = protocol.Recorder()
    assert protocol.worker_complete(rec, local, 1700000000.25) is True  # log=True: reported
    assert rec.calls[1] == ("rpush", "workers:return:9", b"1700000000.25")
    assert _commands(rec) == [("set", "workers:jobs:9"), ("rpush", "workers:return:9"), ("expire", "workers:return:9")]
    quiet = {**_job(log=False), "state": "OK", "internal": False}
    rec = protocol.Recorder()
    assert protocol.worker_complete(rec, quiet, 0.0) is False  # succeeded, no log, no wait: never reported
    protocol.worker_forget(rec, quiet)
    assert _commands(rec) == [("delete", "workers:jobs:7")]
    failed = {**_job(), "state": "ERROR", "internal": False}
    rec = protocol.Recorder()
    assert protocol.worker_complete(rec, failed, 0.0) is True
    protocol.worker_forget(rec, failed)
    assert _commands(rec) == [("expire", "workers:jobs:7")]  # the copy expires, it is not deleted


def test_the_seed_writer_plays_sequences_into_one_transaction(r: redis.Redis) -> None:
    w = _Writer(expire=False)
    job = _job(wait=True, queue="io")
    protocol.schedule(w, job, 2)
    protocol.pickup(w, job, 2)
    assert protocol.dispatch_to_worker(w, job) == "io"
    job.update(state="OK", result="hi")
    protocol.notify_work_completed(w, job)
    w.execute(r)
    assert r.llen("queues:commands:queue:1:2") == 1 and r.llen("queues:system") == 1
    assert json.loads(r.get("workers:jobs:7"))["internal"] is False
    assert json.loads(r.lindex("queues:jobqueue:" + "ab" * 16, 0))["result"] == "hi"
    assert r.hlen("jobs:1") == 0 and r.ttl("queues:jobqueue:" + "ab" * 16) == -1  # expire=False: no TTLs
    counts = w.counts()
    assert (counts["command_queues"], counts["worker_queues"], counts["job_results"], counts["worker_jobs"]) == (1, 1, 1, 1)


def test_the_seed_writer_refuses_a_key_of_no_family() -> None:
    with pytest.raises(ValueError, match="no family"):
        _Writer(expire=False).set("not:a:jumpscale:key", 1)


def _eco(epoch: int, **kw: object) -> dict[str, object]:
    return build_eco("disk full", category="healthcheck.disks", gid=1, nid=3, appname="jsagent", now=epoch, **kw)  # type: ignore[arg-type]


def test_the_seed_and_the_live_grid_store_ecos_alike(r: redis.Redis, redis_factory: ServerFactory) -> None:
    """One ECO model: the live grid's EcoStore (a client) and the seed's writer (one transaction)
    both run eco.lua through protocol.process_eco, so the same occurrences leave the same bytes."""
    other = redis_factory.start()
    try:
        live = redis.Redis.from_url(other.url, protocol=2)
        store = EcoStore(live)
        w = _Writer(expire=False)
        occurrences = [_eco(1000), _eco(1001), _eco(1002), _eco(1500)]  # two throttled repeats, then a push
        for eco in occurrences:
            merged = store.process(eco)
            protocol.process_eco(w, eco)
        w.execute(r)
        key = occurrences[0]["uniquekey"]
        assert r.hget("eco:objects", key) == live.hget("eco:objects", key)
        assert (merged["occurrences"], merged["epoch"], merged["lasttime"], merged["pushtime"]) == (4, 1000, 1500, 1500)
        assert r.lrange("queues:eco", 0, -1) == live.lrange("queues:eco", 0, -1) == [key.encode()] * 2
        assert r.smembers("eco:secos") == live.smembers("eco:secos") == {key.encode()}
        assert w.counts()["ecos"] == 1
        live.close()
    finally:
        other.stop()


def test_a_loghandling_pass_leaves_stubs_and_clears_the_throttled_set(r: redis.Redis) -> None:
    w = _Writer(expire=False)
    first, second = _eco(1000), _eco(2000, where=("f", "x.py", 1))
    for eco in (first, first, second):
        protocol.process_eco(w, eco)
    protocol.loghandling_pass(w)
    w.execute(r)
    assert r.llen("queues:eco") == 0 and r.scard("eco:secos") == 0
    stub = r.hget("eco:objects", first["uniquekey"])
    assert stub == (b'{"occurrences":0,"epoch":1000,"guid":"%s","lasttime":1000,"pushtime":1000,"gid":1,"nid":3}'
                    % str(first["guid"]).encode())
    assert set(json.loads(r.hget("eco:objects", second["uniquekey"]))) == {
        "occurrences", "epoch", "guid", "lasttime", "pushtime", "gid", "nid"}


def test_finish_job_sets_what_the_executor_sets() -> None:
    job = _job()
    protocol.finish_job(job, state="OK", result="hi", resultcode=0, stop=1700000000.75)
    assert (job["state"], job["result"], job["resultcode"], job["timeStop"]) == ("OK", "hi", 0, 1700000000)
    job = _job()
    job["resultcode"] = "kept"
    protocol.finish_job(job, state="ERROR", result=None, stop=1700000000.75, in_process=True)
    assert (job["resultcode"], job["timeStop"]) == ("kept", 1700000000.75)  # the PM keeps the float


def test_an_exec_function_is_stored_like_the_processmanager_stores_it() -> None:
    rec = protocol.Recorder()
    script = {"name": "", "organization": "", "id": 1000002, "source": "x"}
    protocol.store_exec_function(rec, script, "ab" * 16)
    assert _commands(rec) == [("hset", "workers:jumpscripts:id"), ("hset", "workers:jumpscripthashes"),
                              ("set", "workers:jumpscriptlastid")]  # no name: no :name field
    rec = protocol.Recorder()
    protocol.store_exec_function(rec, {**script, "name": "freemem", "organization": "ops"}, "cd" * 16)
    assert [c[:3] for c in rec.calls][1] == ("hset", "workers:jumpscripts:name", "ops__freemem")
    assert rec.calls[-1] == ("set", "workers:jumpscriptlastid", b"1000002")
