"""The live demo grid against a real redis-server: protocol, byte forms, scenario knobs, shutdown."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import redis
from redis_servers import ServerFactory, old_binary

import jsadmin
from jsadmin import keys
from jsadmin.demogrid import seed_demo
from jsadmin.demogrid.grid import Duration, LiveGrid, Scenario
from jsadmin.embedded import EmbeddedRedis, free_port
from jsadmin.errors import JsAdminError
from jsadmin.writes import WritesMixin

WAIT = 15.0  # generous upper bound for a job to come back on a busy 2-core machine
ONE_NODE = {1: ["master", "node"]}
TWO_NODES = {1: ["master", "node"], 2: ["node"]}


# --- helpers -------------------------------------------------------------------------------


def ac_enqueue(
    client: redis.Redis,
    *,
    cmd: str,
    gid: int = 1,
    nid: int | None = 1,
    role: str | None = None,
    category: str = "livegrid",
    args: dict[str, Any] | None = None,
    queue: str = "",
    wait: bool = True,
    log: bool = True,
) -> dict[str, Any]:
    """Schedule a job exactly as the AC's scheduleCmd does (spec §6.1), independent of jsadmin."""
    job_id = client.hincrby("jobs:last", str(gid), 1)
    job = {
        "id": job_id, "sessionid": None, "gid": gid, "nid": None if role else nid, "cmd": cmd,
        "wait": wait, "category": category, "roles": [role] if role else [], "args": args or {},
        "queue": queue, "timeout": 600, "result": None, "parent": None, "resultcode": None,
        "state": "SCHEDULED", "timeCreate": int(time.time()), "timeStart": 0, "timeStop": 0,
        "log": log, "errorreport": False, "tags": None, "guid": uuid.uuid4().hex, "_ckey": "",
        "_meta": ["system", "job", 1], "jscriptid": None,
    }
    text = json.dumps(job, separators=(",", ":"))
    client.hset(f"jobs:{gid}", job["guid"], text)
    client.rpush(f"queues:commands:queue:{gid}:{role or nid}", text)
    return job


def result_of(client: redis.Redis, guid: str, timeout: float = WAIT) -> tuple[dict[str, Any], bytes]:
    """Blocking peek on queues:jobqueue:<guid> like the AC's waitJumpscript; returns (job, raw)."""
    key = f"queues:jobqueue:{guid}"
    deadline = time.monotonic() + timeout
    raw = None
    while raw is None and time.monotonic() < deadline:  # 1 s slices: redis-py's socket timeout
        raw = client.brpoplpush(key, key, timeout=1)
    assert raw is not None, f"no result on {key} within {timeout}s"
    return json.loads(raw), raw


def eventually(check: Callable[[], Any], timeout: float = WAIT, every: float = 0.05) -> Any:
    """Poll ``check`` until it returns something truthy (then return it) or fail."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s: {check}")
        time.sleep(every)


def ecos(client: redis.Redis) -> dict[str, dict[str, Any]]:
    """Every ECO in eco:objects, decoded (HSCAN, bounded)."""
    return {k.decode(): json.loads(v) for k, v in client.hscan_iter("eco:objects", count=100)}


@pytest.fixture(scope="module")
def redis_server(redis_factory: ServerFactory) -> Iterator[EmbeddedRedis]:
    """This module's own server (``redis_url`` and ``r`` empty it per test, as everywhere).

    Live grids pop command and worker queues: a grid left running against the session's shared
    server by another module's test would take this module's jobs (seen once per few full runs
    on 3.0.5: a job never reached ``queues:system``). A private server keeps these tests apart.
    """
    server = redis_factory.start()
    yield server
    server.stop()


@pytest.fixture()
def make_grid(redis_url: str) -> Iterator[Callable[..., LiveGrid]]:
    """Start LiveGrids on the emptied test server (quiet scenario, fast polling); stop them after."""
    grids: list[LiveGrid] = []

    def start(**options: Any) -> LiveGrid:
        options.setdefault("scenario", Scenario.quiet())
        options.setdefault("nodes", ONE_NODE)
        options.setdefault("poll", 0.1)
        grid = LiveGrid(options.pop("url", redis_url), **options).start()
        grids.append(grid)
        return grid

    yield start
    for grid in grids:
        grid.stop()


# --- the AC -> PM -> worker -> AC round trip -------------------------------------------------


def test_node_job_runs_and_publishes_final_json(r: redis.Redis, make_grid: Callable[..., LiveGrid]) -> None:
    grid = make_grid()
    job = ac_enqueue(r, cmd="echo", nid=1, args={"msg": "hi/é"})
    final, raw = result_of(r, job["guid"])

    assert final["state"] == "OK"
    assert final["result"] == "hi/é"
    assert final["resultcode"] == 0
    assert final["nid"] == 1 and final["achost"] == "127.0.0.1" and final["internal"] is False
    assert isinstance(final["timeStart"], float) and final["timeStart"] >= job["timeCreate"] - 1
    assert isinstance(final["timeStop"], int) and final["timeStop"] >= int(final["timeStart"])
    assert final["guid"] == job["guid"] and final["id"] == job["id"]
    # compact ujson: no spaces, "/" escaped, non-ASCII as \uXXXX
    assert b'"result":"hi\\/\\u00e9"' in raw and b", " not in raw
    assert 0 < r.ttl(f"queues:jobqueue:{job['guid']}") <= 60
    eventually(lambda: r.hlen("jobs:1") == 0)
    eventually(lambda: r.exists(f"workers:jobs:{job['id']}") == 0)  # OK AC jobs: DEL
    assert r.llen("queues:commands:queue:1:1") == 0
    eventually(lambda: grid.stats["completed"] == {"OK": 1})
    assert grid.stats["picked_up"] == 1


def test_role_job_is_picked_by_a_node_of_that_role(r: redis.Redis, make_grid: Callable[..., LiveGrid]) -> None:
    make_grid(nodes=TWO_NODES)
    jobs = [ac_enqueue(r, cmd="echo", role="node", args={"msg": str(i)}) for i in range(4)]
    for i, job in enumerate(jobs):
        final, _ = result_of(r, job["guid"])
        assert final["state"] == "OK" and final["result"] == str(i)
        assert final["roles"] == ["node"] and final["nid"] in (1, 2)
    assert r.llen("queues:commands:queue:1:node") == 0
    eventually(lambda: r.hlen("jobs:1") == 0)


def test_non_async_jumpscript_runs_in_the_processmanager(r: redis.Redis, make_grid: Callable[..., LiveGrid]) -> None:
    make_grid()
    job = ac_enqueue(r, cmd="ping", args={"msg": "pong!"})
    final, _ = result_of(r, job["guid"])
    assert final["state"] == "OK" and final["result"] == {"reply": "pong!"}
    assert final["resultcode"] is None  # the PM in-process path leaves it null (§4.8)
    assert isinstance(final["timeStart"], float) and isinstance(final["timeStop"], float)
    assert "internal" not in final


def test_internal_command_gets_a_string_return_code(r: redis.Redis, make_grid: Callable[..., LiveGrid]) -> None:
    make_grid()
    ok = ac_enqueue(r, category="pm", cmd="ping", queue="internal")
    missing = ac_enqueue(r, category="nosuchinterface", cmd="x", queue="internal")
    final, _ = result_of(r, ok["guid"])
    assert (final["state"], final["resultcode"], final["result"]) == ("OK", "1", "pong")
    assert final["timeStart"] == 0 and final["timeStop"] == 0
    final, _ = result_of(r, missing["guid"])
    assert (final["state"], final["resultcode"]) == ("ERROR", "3")
    assert final["result"] == "Could not find cmd category:nosuchinterface"


def test_job_without_log_or_wait_leaves_no_trace_at_the_ac(r: redis.Redis, make_grid: Callable[..., LiveGrid]) -> None:
    grid = make_grid()
    job = ac_enqueue(r, cmd="echo", wait=False, log=False)
    eventually(lambda: grid.stats["completed"].get("OK") == 1)
    assert r.hexists("jobs:1", job["guid"]) == 0  # HDEL at pickup, never reported (§6.4)
    assert r.exists(f"queues:jobqueue:{job['guid']}") == 0


# --- failures, ECOs, logs ------------------------------------------------------------------


def test_failing_jumpscript_gives_error_eco_and_queue_entry(r: redis.Redis, make_grid: Callable[..., LiveGrid]) -> None:
    make_grid()
    job = ac_enqueue(r, cmd="fail", args={"msg": "disk on fire"})
    final, _ = result_of(r, job["guid"])
    assert final["state"] == "ERROR" and final["resultcode"] == 1
    eco = final["result"]
    assert eco["category"] == "workers.executejob" and eco["tb"] is None
    assert "disk on fire" in eco["errormessage"] and eco["jid"] == job["guid"]
    assert eco["exceptionclassname"] == "RuntimeError" and eco["occurrences"] == 1
    stored = ecos(r)[eco["uniquekey"]]
    assert stored["guid"] == eco["guid"] == str(uuid.UUID(eco["uniquekey"]))
    assert stored["epoch"] == stored["lasttime"] == stored["pushtime"]
    assert eco["uniquekey"].encode() in r.lrange("queues:eco", 0, 99)
    assert 0 < r.ttl(f"workers:jobs:{job['id']}") <= 60  # failed: EXPIRE 60

    # a repeat within the throttle window merges (occurrences 2) and goes to eco:secos
    again = ac_enqueue(r, cmd="fail", args={"msg": "disk on fire"})
    final2, _ = result_of(r, again["guid"])
    merged = ecos(r)[eco["uniquekey"]]
    assert merged["occurrences"] == 2 and merged["guid"] == eco["guid"]
    assert merged["epoch"] == stored["epoch"] and final2["result"]["occurrences"] == 2
    assert r.sismember("eco:secos", eco["uniquekey"])
    assert r.llen("queues:eco") == 1


def test_logs_are_pushed_in_the_spec_shape(r: redis.Redis, make_grid: Callable[..., LiveGrid]) -> None:
    make_grid()
    job = ac_enqueue(r, cmd="backup", args={"volume": "vol/7"})
    result_of(r, job["guid"])
    records = [json.loads(raw) for raw in r.lrange("queues:logs", 0, 99)]
    mine = [rec for rec in records if rec["jid"] == job["guid"]]
    assert {rec["category"] for rec in mine} == {"storage_backup", "workers_executejob"}
    assert {"message", "level", "category", "gid", "nid", "pid", "appname", "tags", "jid",
            "parentjid", "masterjid", "epoch", "order", "private"} == set(mine[0])
    assert all(rec["order"] == 0 and rec["pid"] == 0 for rec in mine)
    assert any("vol/7" in rec["message"] for rec in mine)


def test_jumpscript_missing_on_the_processmanager(r: redis.Redis, make_grid: Callable[..., LiveGrid]) -> None:
    make_grid()
    job = ac_enqueue(r, cmd="nosuchscript")
    final, _ = result_of(r, job["guid"])
    assert final["state"] == "ERROR"
    assert final["result"] == "could not find jumpscript livegrid_nosuchscript on processmanager"
    eventually(lambda: any(e["category"] == "jumpscript.notfound" for e in ecos(r).values()))


def _push_to_worker(r: redis.Redis, job: dict[str, Any], queue: str = "default") -> None:
    """What the PM's execJobAsync does (§6.3): SET workers:jobs:<id>, RPUSH pretty JSON."""
    job = {**job, "state": "STARTED", "nid": 1, "achost": "127.0.0.1", "internal": False}
    r.set(f"workers:jobs:{job['id']}", json.dumps(job, separators=(",", ":")))
    r.rpush(keys.worker_queue(queue), json.dumps(job, indent=2, sort_keys=True))


def test_jumpscript_missing_in_the_worker_gives_the_notfound_eco(
    r: redis.Redis, make_grid: Callable[..., LiveGrid]
) -> None:
    make_grid()
    job = ac_enqueue(r, cmd="vanished", nid=99)  # no PM polls node 99: hand it to a worker
    r.delete("queues:commands:queue:1:99")
    _push_to_worker(r, job)
    final, _ = result_of(r, job["guid"])
    assert final["state"] == "ERROR" and final["resultcode"] is None
    assert final["result"] == "cannot find jumpscript with id:('livegrid', 'vanished')"
    found = [e for e in ecos(r).values() if e["category"] == "worker.jscript.notfound"]
    assert len(found) == 1 and found[0]["level"] == 2 and found[0]["jid"] == job["guid"]


def test_uncompilable_jumpscript_gives_a_compilescript_eco(
    r: redis.Redis, make_grid: Callable[..., LiveGrid]
) -> None:
    make_grid()
    broken = {"name": "broken", "organization": "livegrid", "source": "def action(:\n", "path": None,
              "id": None, "descr": "broken", "queue": "", "async": True}
    r.hset("workers:jumpscripts:name", "livegrid__broken", json.dumps(broken))
    job = ac_enqueue(r, cmd="broken")
    final, _ = result_of(r, job["guid"])
    assert final["state"] == "ERROR"
    assert final["result"]["category"] == "workers.compilescript"
    assert final["result"]["code"] == "def action(:\n"
    assert final["result"]["uniquekey"] in ecos(r)


def test_jumpscript_exceeding_its_timeout_is_timed_out(r: redis.Redis, make_grid: Callable[..., LiveGrid]) -> None:
    make_grid(speed=5.0)  # the hang script's own timeout (1 s) lasts 0.2 s of real time
    job = ac_enqueue(r, cmd="hang", args={"duration": 3.0})
    final, _ = result_of(r, job["guid"])
    assert final["state"] == "TIMEOUT" and final["resultcode"] == 1
    assert "TIMEOUT" in final["result"]["errormessage"]


# --- worker queues, heartbeats, actions ----------------------------------------------------


def test_worker_queue_holds_pretty_json_while_workers_are_paused(
    r: redis.Redis, make_grid: Callable[..., LiveGrid]
) -> None:
    grid = make_grid()
    grid.pause("default")
    job = ac_enqueue(r, cmd="echo", args={"msg": "wait/é"})
    eventually(lambda: r.llen("queues:workers:work:default") == 1)
    raw = r.lindex("queues:workers:work:default", 0)
    assert raw.startswith(b'{\n  "_ckey": "", \n  "_meta": [')  # sorted, indent 2, ", " + newline
    assert "wait/é".encode() in raw  # raw UTF-8, "/" not escaped
    queued = json.loads(raw)
    assert queued["state"] == "STARTED" and queued["guid"] == job["guid"] and queued["internal"] is False
    copy = r.get(f"workers:jobs:{job['id']}")
    assert b"\n" not in copy and json.loads(copy) == queued  # compact twin, no TTL yet
    assert r.ttl(f"workers:jobs:{job['id']}") == -1
    stored = json.loads(r.hget("jobs:1", job["guid"]))
    assert stored["state"] == "STARTED" and stored["nid"] == 1
    grid.resume("default")
    final, _ = result_of(r, job["guid"])
    assert final["state"] == "OK" and final["result"] == "wait/é"


def test_io_queue_is_queues_system(r: redis.Redis, make_grid: Callable[..., LiveGrid]) -> None:
    grid = make_grid()
    grid.pause("io")
    job = ac_enqueue(r, cmd="diskusage", queue="io", args={"path": "/"})
    eventually(lambda: r.llen("queues:system") == 1)
    assert r.llen("queues:workers:work:io") == 0
    grid.resume("io")
    final, _ = result_of(r, job["guid"])
    assert final["state"] == "OK" and final["result"]["path"] == "/" and final["result"]["total"] > 0


def test_heartbeats_advance(r: redis.Redis, make_grid: Callable[..., LiveGrid]) -> None:
    make_grid()
    first = eventually(lambda: r.hget("workers:heartbeat", "default"))
    later = eventually(lambda: (v := r.hget("workers:heartbeat", "default")) and int(v) > int(first) and v)
    assert int(later) > int(first)
    assert set(r.hkeys("workers:heartbeat")) == {b"default", b"io", b"hypervisor", b"process"}


def test_dead_queue_stops_heartbeating_and_backs_up(r: redis.Redis, make_grid: Callable[..., LiveGrid]) -> None:
    grid = make_grid(scenario=replace(Scenario.quiet(), dead_queue="io", dead_after=0.5))
    time.sleep(0.7)
    frozen = r.hget("workers:heartbeat", "io")
    eventually(lambda: int(r.hget("workers:heartbeat", "default")) >= int(frozen) + 2)
    assert r.hget("workers:heartbeat", "io") == frozen
    job = ac_enqueue(r, cmd="diskusage", queue="io", wait=False)
    try:
        eventually(lambda: r.llen("queues:system") == 1)
    except AssertionError as exc:  # say where the job went (seen once in a few full runs on 3.0.5)
        raise AssertionError(
            f"{exc}; command queue {r.llen('queues:commands:queue:1:1')}, job {r.hget('jobs:1', job['guid'])!r}, "
            f"stats {grid.stats}, clients {[c.get('cmd') for c in r.client_list()]}"
        ) from exc
    time.sleep(0.5)
    assert r.llen("queues:system") == 1  # nobody pops it


def _registered(r: redis.Redis, queue: str) -> list[str]:
    prefix = f"workers:worker:{queue}:"
    return [k.decode()[len(prefix):] for k in r.scan_iter(match=prefix + "*", count=100)]


def test_reload_reaches_workers_and_drops_the_script_cache(
    r: redis.Redis, make_grid: Callable[..., LiveGrid]
) -> None:
    grid = make_grid()
    first, _ = result_of(r, ac_enqueue(r, cmd="echo", args={"msg": "a"})["guid"])
    assert first["result"] == "a"
    stored = json.loads(r.hget("workers:jumpscripts:name", "livegrid__echo"))
    stored["source"] = stored["source"].replace("return msg", "return 'v2:' + msg")
    r.hset("workers:jumpscripts:name", "livegrid__echo", json.dumps(stored))
    cached, _ = result_of(r, ac_enqueue(r, cmd="echo", args={"msg": "b"})["guid"])
    assert cached["result"] == "b"  # the worker still runs its compiled copy
    names = _registered(r, "default")
    assert names == grid.worker_names()[(1, "default")]
    for name in names:
        r.lpush(f"workers:action:default:{name}", "RELOAD")
    eventually(lambda: grid.stats["actions"].get("RELOAD") == len(names))
    assert all(r.llen(f"workers:action:default:{n}") == 0 for n in names)
    reloaded, _ = result_of(r, ac_enqueue(r, cmd="echo", args={"msg": "c"})["guid"])
    assert reloaded["result"] == "v2:c"


def test_restart_registers_a_new_worker_name(r: redis.Redis, make_grid: Callable[..., LiveGrid]) -> None:
    grid = make_grid()
    (old,) = eventually(lambda: _registered(r, "process"))
    r.lpush(f"workers:action:process:{old}", "RESTART")
    eventually(lambda: len(_registered(r, "process")) == 2)
    # the new name is registered in Redis a moment before the grid's own list shows it
    eventually(lambda: [n for n in grid.worker_names().get((1, "process"), []) if n != old])
    (new,) = grid.worker_names()[(1, "process")]
    assert new != old and r.get(f"workers:worker:process:{new}") == b"1"
    assert r.get(f"workers:worker:process:{old}") == b"1"  # stale registration stays (§3.4)


def test_hot_reload_command_stores_and_broadcasts_reload(r: redis.Redis, make_grid: Callable[..., LiveGrid]) -> None:
    grid = make_grid()
    script = next(s for s in grid.scripts if s["name"] == "echo" and s["organization"] == "livegrid")
    script = {**script, "source": script["source"].replace("return msg", "return msg.upper()")}
    job = ac_enqueue(r, category="jumpscripts", cmd="loadJumpscript", queue="internal",
                     args={"jumpscript": script})
    final, _ = result_of(r, job["guid"])
    assert final["state"] == "OK" and final["resultcode"] == "1" and final["result"] == 4
    assert json.loads(r.hget("workers:jumpscripts:name", "livegrid__echo"))["path"] is None
    eventually(lambda: grid.stats["actions"].get("RELOAD") == 4)
    upper, _ = result_of(r, ac_enqueue(r, cmd="echo", args={"msg": "abc"})["guid"])
    assert upper["result"] == "ABC"


# --- node-local periodic jobs --------------------------------------------------------------


def test_periodic_node_local_jobs(r: redis.Redis, make_grid: Callable[..., LiveGrid]) -> None:
    grid = make_grid(scenario=replace(Scenario.quiet(), periodic_every=0.3))
    grid.pause("process")
    raw = eventually(lambda: r.lindex("queues:workers:work:process", 0))
    local = json.loads(raw)
    assert local["internal"] is True and local["state"] == "SCHEDULED" and len(local["guid"]) == 40
    assert (local["category"], local["cmd"], local["roles"]) == ("livegrid", "tick", [])
    assert not {"_ckey", "_meta", "tags", "achost"} & set(local)
    assert r.hexists("workers:inqueuetest", "livegrid_tick")
    # further periods are skipped while the first is still queued
    eventually(lambda: grid.stats.get("local_skipped", 0) >= 1)
    assert r.llen("queues:workers:work:process") == 1
    assert int(r.get("workers:joblastid")) == local["id"]
    grid.resume("process")
    eventually(lambda: r.exists(f"workers:return:{local['id']}"))
    assert 0 < r.ttl(f"workers:return:{local['id']}") <= 60
    assert float(r.lindex(f"workers:return:{local['id']}", 0)) > local["timeCreate"] - 1
    done = json.loads(r.get(f"workers:jobs:{local['id']}"))
    assert done["state"] == "OK" and isinstance(done["timeStop"], int)
    assert 0 < r.ttl(f"workers:jobs:{local['id']}") <= 60
    eventually(lambda: not r.hexists("workers:inqueuetest", "livegrid_tick"))


# --- start-up writes, lifecycle, validation ------------------------------------------------


def test_startup_writes_follow_the_processmanager(r: redis.Redis, make_grid: Callable[..., LiveGrid]) -> None:
    before = int(time.time())
    make_grid(nodes=TWO_NODES)
    assert int(r.get("processmanager:startuptime")) >= before
    assert r.hkeys("workers:jumpscripts:id") == [b"None"]  # the PM form at HEAD (§5.4)
    raw = r.hget("workers:jumpscripts:name", "livegrid__echo")
    assert b"\\/opt\\/jumpscale7\\/apps\\/processmanager" in raw and b": " not in raw[:200]
    script = json.loads(raw)
    assert len(script) == 20 and script["id"] is None and script["async"] is True
    assert len(json.loads(r.hget("application", "jsagent"))) == 2
    assert json.loads(r.hget("application", "jumpscale:agentcontroller"))
    assert int(r.get("workers:joblastid")) == 1


def test_stop_joins_every_thread(redis_url: str) -> None:
    grid = LiveGrid(redis_url, nodes=TWO_NODES, scenario=Scenario.default(), speed=4.0, poll=0.2).start()
    assert grid.running and all(t.is_alive() for t in grid.threads())
    time.sleep(0.5)
    grid.stop(timeout=5.0)
    assert not grid.running
    assert [t.name for t in grid.threads() if t.is_alive()] == []
    grid.stop()  # idempotent


def _blocked_clients(r: redis.Redis) -> int:
    return sum(1 for c in r.client_list() if "b" in c["flags"])


def test_stop_cuts_blocked_blpops_at_once(r: redis.Redis, redis_url: str, caplog: pytest.LogCaptureFixture) -> None:
    """poll=2: every loop sits in a 2 s BLPOP (whole seconds on Redis < 6.0); stop() must not wait it out."""
    grid = LiveGrid(redis_url, nodes=TWO_NODES, scenario=Scenario.quiet(), poll=2.0).start()
    loops = len(grid.threads())
    deadline = time.monotonic() + 5.0
    while _blocked_clients(r) < loops and time.monotonic() < deadline:
        time.sleep(0.02)
    assert _blocked_clients(r) == loops  # every AC and worker loop is inside BLPOP now
    caplog.clear()
    started = time.monotonic()
    with caplog.at_level("DEBUG", logger="jsadmin.demogrid"):
        grid.stop(timeout=5.0)
    elapsed = time.monotonic() - started
    assert elapsed < 0.3, f"stop() took {elapsed:.2f} s"
    assert [t.name for t in grid.threads() if t.is_alive()] == []
    assert [rec.getMessage() for rec in caplog.records if rec.levelno >= 30] == []
    assert "redis_errors" not in grid.stats and "thread_errors" not in grid.stats
    deadline = time.monotonic() + 2.0
    while _blocked_clients(r) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert _blocked_clients(r) == 0


def test_an_item_popped_while_stopping_goes_back_to_its_list(r: redis.Redis, redis_url: str) -> None:
    """The reply in flight at stop: the popped value returns to the head of its list, not dropped."""
    from jsadmin.demogrid._grid_node import Shared, connect

    shared = Shared(url=redis_url, gid=1, scenario=Scenario.quiet(), speed=1.0, seed=1, poll=2.0,
                    achost="127.0.0.1", block=2)
    client = connect(redis_url, 2.0)
    r.rpush("q", "second")
    box: dict[str, Any] = {}
    popper = threading.Thread(target=lambda: box.update(item=shared.blpop(client, ["empty", "q"])))
    try:
        assert shared.blpop(client, ["q"]) == (b"q", b"second")  # not stopping: a plain BLPOP
        popper.start()
        deadline = time.monotonic() + 5.0
        while _blocked_clients(r) < 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        shared.stop.set()  # stopping, but not cut yet: the BLPOP is served right now
        r.rpush("q", "job")
        popper.join(5.0)
        assert box == {"item": None} and r.lrange("q", 0, -1) == [b"job"]
        assert shared.stats == {"returned_at_stop": 1}
        assert shared.blpop(client, ["q"]) is None and r.llen("q") == 1  # stopped: no new BLPOP
        # the first LPUSH back meets the socket cut at stop; the second reconnects
        shared.blocked[id(client)] = client
        assert shared.cut_blocked() == 1
        shared._unpop(client, (b"q", b"first"))
        assert r.lrange("q", 0, -1) == [b"first", b"job"] and shared.stats == {"returned_at_stop": 2}
    finally:
        client.close()


def test_context_manager_and_default_scenario_traffic(redis_url: str) -> None:
    client = redis.Redis.from_url(protocol=2, url=redis_url)
    with LiveGrid(redis_url, nodes=TWO_NODES, scenario=Scenario.default(slow_node=2), speed=4.0,
                  poll=0.2) as grid:
        eventually(lambda: sum(grid.stats["completed"].values()) >= 5)
        assert grid.stats["scheduled"] >= 5 and int(client.hget("jobs:last", "1")) >= 5
    assert not grid.running
    client.close()


def test_separate_node_redis(r: redis.Redis, make_grid: Callable[..., LiveGrid], redis_factory: ServerFactory) -> None:
    node2 = redis_factory.start()
    try:
        node_client = redis.Redis.from_url(protocol=2, url=node2.url)
        make_grid(nodes=TWO_NODES, node_urls={2: node2.url})
        job = ac_enqueue(r, cmd="fail", nid=2)
        final, _ = result_of(r, job["guid"])  # the result goes back to the AC's Redis
        assert final["state"] == "ERROR" and final["nid"] == 2
        assert node_client.hget("eco:objects", final["result"]["uniquekey"])  # ECO on the node
        assert r.hget("eco:objects", final["result"]["uniquekey"]) is None
        assert node_client.hexists("workers:heartbeat", "default")
        node_client.close()
    finally:
        node2.stop()


def test_bad_arguments_are_refused(redis_url: str) -> None:
    with pytest.raises(ValueError, match="speed"):
        LiveGrid(redis_url, speed=0)
    with pytest.raises(ValueError, match="node ids"):
        LiveGrid(redis_url, nodes={0: ["node"]})
    with pytest.raises(ValueError, match="error_rate"):
        Scenario(error_rate=1.5)
    with pytest.raises(ValueError, match="traffic_mix"):
        Scenario(traffic_rate=1.0)
    with pytest.raises(ValueError, match="median"):
        Duration(-1.0)
    with pytest.raises(JsAdminError, match="cannot reach Redis"):
        LiveGrid(f"redis://127.0.0.1:{free_port()}/0").start()


def test_scenario_durations_pad_run_times(r: redis.Redis, make_grid: Callable[..., LiveGrid]) -> None:
    scenario = replace(Scenario.quiet(), durations={"livegrid__echo": Duration(0.4)},
                       slow_nodes={2: 2.0})
    make_grid(nodes={2: ["node"]}, scenario=scenario, speed=2.0)  # 0.4 s x2 (node 2) / 2 = 0.4 s
    started = time.monotonic()  # before the enqueue: the grid may pick the job up at once
    job = ac_enqueue(r, cmd="echo", nid=2)
    final, _ = result_of(r, job["guid"])
    assert time.monotonic() - started >= 0.4
    assert final["state"] == "OK"


# --- through jsadmin's own write helpers ---------------------------------------------------


class _Writer:
    """The smallest object ``WritesMixin`` needs (the lead's Admin provides the same)."""

    def __init__(self, client: redis.Redis, url: str, journal: Path) -> None:
        self.redis, self.url, self.readonly, self.journal_path = client, url, False, journal


@pytest.fixture()
def writer(r: redis.Redis, redis_url: str, tmp_path: Path) -> Any:
    cls = type("Writer", (_Writer, WritesMixin), {})
    return cls(r, redis_url, tmp_path / "journal.jsonl")


def test_enqueue_and_wait_through_jsadmin_writes(writer: Any, make_grid: Callable[..., LiveGrid]) -> None:
    make_grid(nodes=TWO_NODES)
    to_node = writer.enqueue_job(1, nid=2, category="livegrid", cmd="echo", args={"msg": "x/y"}, wait=True)
    to_role = writer.enqueue_job(1, role="node", category="livegrid", cmd="vmstatus", args={"count": 2},
                                 queue="hypervisor", wait=True)
    done = writer.wait_job(to_node["guid"], timeout=WAIT)
    assert (done["state"], done["result"], done["nid"]) == ("OK", "x/y", 2)
    done = writer.wait_job(to_role["guid"], timeout=WAIT)
    assert done["state"] == "OK" and [vm["name"] for vm in done["result"]] == ["vm-0", "vm-1"]


def test_register_jumpscript_through_jsadmin_writes_then_run(
    writer: Any, r: redis.Redis, make_grid: Callable[..., LiveGrid]
) -> None:
    grid = make_grid()
    source = "descr = 'add'\norganization = 'ops'\n\ndef action(a, b):\n    return a + b\n"
    writer.register_jumpscript("ops", "add", source, descr="add two numbers", async_=True)
    job = writer.enqueue_job(1, nid=1, category="ops", cmd="add", args={"a": 2, "b": 3}, wait=True)
    assert writer.wait_job(job["guid"], timeout=WAIT)["result"] == 5
    writer.register_jumpscript("ops", "add", source.replace("a + b", "a * b"), descr="multiply",
                               async_=True, replace=True)  # pushes RELOAD to registered workers
    eventually(lambda: grid.stats["actions"].get("RELOAD", 0) >= 1)
    job = writer.enqueue_job(1, nid=1, category="ops", cmd="add", args={"a": 2, "b": 3}, wait=True)
    assert writer.wait_job(job["guid"], timeout=WAIT)["result"] == 6


# --- more protocol corners -----------------------------------------------------------------


def test_worker_falls_back_to_the_id_hash(r: redis.Redis, make_grid: Callable[..., LiveGrid]) -> None:
    make_grid()
    shipped = {"_loaded": False, "name": "", "organization": "unknown", "period": 0, "category": "",
               "lastrun": 0, "source": "def action(x):\n    return x * 2\n", "debug": False,
               "path": None, "id": 1000005, "startatboot": False, "timeout": None}
    r.hset("workers:jumpscripts:id", "1000005", json.dumps(shipped))  # execFunction form (§5.4)
    job = ac_enqueue(r, category="", cmd="", nid=99, args={"x": 21})
    r.delete("queues:commands:queue:1:99")
    _push_to_worker(r, {**job, "jscriptid": 1000005})
    final, _ = result_of(r, job["guid"])
    assert final["state"] == "OK" and final["result"] == 42


def test_error_rate_one_fails_every_worker_job(r: redis.Redis, make_grid: Callable[..., LiveGrid]) -> None:
    make_grid(scenario=replace(Scenario.quiet(), error_rate=1.0))
    final, _ = result_of(r, ac_enqueue(r, cmd="echo")["guid"])
    assert final["state"] == "ERROR" and final["resultcode"] == 1
    assert "simulated failure of livegrid_echo" in final["result"]["errormessage"]
    assert final["result"]["exceptionclassname"] == "RuntimeError"


def test_error_bursts_come_back_periodically(redis_url: str) -> None:
    from jsadmin.demogrid._grid_node import Node, Shared

    scenario = replace(Scenario.quiet(), error_rate=0.01, burst_error_rate=0.6, burst_every=10.0,
                       burst_length=2.0)
    shared = Shared(url=redis_url, gid=1, scenario=scenario, speed=1.0, seed=1, poll=0.1,
                    achost="127.0.0.1")
    node = Node(shared, 1, ["node"], redis_url)
    seen = []
    for offset in (1.0, 8.5, 9.5, 11.0, 18.5):  # simulated seconds since start
        shared.t0 = time.monotonic() - offset
        seen.append(node.error_probability())
    assert seen == [0.01, 0.6, 0.6, 0.01, 0.6]


def test_eco_queue_and_hash_caps(r: redis.Redis) -> None:
    from jsadmin.demogrid._grid_eco import EcoStore, build_eco

    store = EcoStore(r)
    r.rpush("queues:eco", *[f"old{i}" for i in range(1000)])
    r.hset("eco:objects", "old0", "{}")
    eco = build_eco("boom", category="test.cap", gid=1, nid=1, appname="t")
    store.process(eco)
    assert r.llen("queues:eco") == 1000 and r.lindex("queues:eco", 0) == b"old1"
    assert r.hexists("eco:objects", "old0") == 0  # LPOP + HDEL of the oldest
    r.execute_command("HMSET", "eco:objects", *[part for i in range(1000) for part in (f"k{i}", "{}")])
    store.process(build_eco("bang", category="test.cap2", gid=1, nid=1, appname="t"))
    assert r.exists("eco:objects") == 0  # > 1000 fields: the whole hash goes (§8.6)


def test_a_stopped_grid_can_start_again(r: redis.Redis, make_grid: Callable[..., LiveGrid]) -> None:
    grid = make_grid()
    grid.stop()
    assert not grid.running
    grid.start()
    final, _ = result_of(r, ac_enqueue(r, cmd="echo", args={"msg": "again"})["guid"])
    assert final["result"] == "again"
    eventually(lambda: grid.stats["completed"] == {"OK": 1})  # fresh counters after a restart


def test_a_job_with_nan_completes_through_the_stdlib_json_fallback(
    r: redis.Redis, make_grid: Callable[..., LiveGrid]
) -> None:
    grid = make_grid()
    bad = ac_enqueue(r, cmd="echo", nid=99, args={"msg": "x", "ratio": float("nan")})
    r.delete("queues:commands:queue:1:99")
    _push_to_worker(r, bad)  # ujson refuses NaN; an AC without ujson writes it with json (spec §8.9)
    eventually(lambda: sum(grid.stats["completed"].values()) >= 1)  # echo refuses the extra arg: ERROR
    assert grid.stats.get("job_errors", 0) == 0  # but the report went through
    final, _ = result_of(r, ac_enqueue(r, cmd="echo", args={"msg": "still alive"})["guid"])
    assert final["result"] == "still alive"


def test_unknown_worker_queue_gets_its_own_workers(r: redis.Redis, make_grid: Callable[..., LiveGrid]) -> None:
    grid = make_grid()
    job = ac_enqueue(r, cmd="echo", queue="gpu", args={"msg": "custom"})
    final, _ = result_of(r, job["guid"])
    assert final["state"] == "OK" and final["queue"] == "gpu" and final["result"] == "custom"
    assert (1, "gpu") in grid.worker_names()
    eventually(lambda: r.hexists("workers:heartbeat", "gpu"))
    eventually(lambda: _registered(r, "gpu") == grid.worker_names()[(1, "gpu")])


def test_grid_and_demo_run_on_a_server_without_fractional_timeouts(
    make_grid: Callable[..., LiveGrid], redis_factory: ServerFactory
) -> None:
    """Redis < 6.0 refuses ``BLPOP k 0.1`` ("timeout is not an integer"): the grid blocks whole
    seconds there, and jobs still round-trip; the demo seed (one field per HSET) loads."""
    binary = old_binary()
    if binary is None:
        pytest.skip("no Redis older than 6.0 here: python -m tests.matrix --build-only builds 2.8.17 and 3.0.5")
    old = redis_factory.start(binary=binary)
    client = redis.Redis.from_url(protocol=2, url=old.url)
    try:
        assert client.info("server")["redis_version"] < "6"
        grid = make_grid(url=old.url, poll=0.1)
        assert grid._shared is not None and grid._shared.block == 1  # whole seconds, at least 1
        job = ac_enqueue(client, cmd="echo", nid=1, args={"msg": "old"})
        final, _ = result_of(client, job["guid"])
        assert final["state"] == "OK" and final["result"] == "old"
        assert grid.stats.get("redis_errors", 0) == 0  # no "timeout is not an integer" retries
        grid.stop()
        client.flushall()
        seed_demo(client, seed=1, nodes=1, jobs=20)
        admin = jsadmin.connect(old.url, readonly=True)
        assert len(admin.load("jobs")) > 0 and admin.problems().empty
        assert not admin.server.has("float_timeout")
        admin.close()
    finally:
        client.close()
        old.stop()
