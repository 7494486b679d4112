"""The demo seed, checked with raw redis-py only (no jsadmin reader is involved)."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from redis_servers import commandstats

from jsadmin.demogrid import seed_demo
from jsadmin.demogrid.seed import FAMILIES

NOW = 1_700_000_000.25

FAMILY_TYPES = {
    "jobs_last": "hash",
    "jobs": "hash",
    "command_queues": "list",
    "job_results": "list",
    "applications": "hash",
    "healthcheck_lastcheck": "hash",
    "healthcheck_monitoring": "hash",
    "healthcheck_status": "hash",
    "eco_incr": "string",
    "logs_incr": "string",
    "worker_joblastid": "string",
    "worker_jumpscriptlastid": "string",
    "jumpscripts_by_id": "hash",
    "jumpscripts_by_name": "hash",
    "worker_sessions": "hash",
    "worker_watchdog": "hash",
    "worker_heartbeat": "hash",
    "worker_queues": "list",
    "worker_jobs": "string",  # plus the legacy hash, checked separately
    "worker_returns": "list",
    "worker_inqueuetest": "hash",
    "jumpscript_hashes": "hash",
    "worker_registry": "string",
    "worker_actions": "list",
    "ecos": "hash",
    "eco_queue": "list",
    "eco_secos": "set",
    "logs": "list",
    "health_status": "string",
    "processmanager_startuptime": "string",
    "alerts": "list",
    "eco_htime": "string",
}
"""Literal key patterns per family (tests may assert literal strings)."""
FAMILY_PATTERNS = {
    "jobs_last": r"jobs:last",
    "jobs": r"jobs:1",
    "command_queues": r"(queues:)?commands:queue:1:\w+",
    "job_results": r"(queues:)?jobqueue:[0-9a-f]{32}",
    "applications": r"application",
    "healthcheck_lastcheck": r"healthcheck:lastcheck",
    "healthcheck_monitoring": r"healthcheck:monitoring",
    "healthcheck_status": r"healthcheck:status",
    "eco_incr": r"eco:incr:1_\d+",
    "logs_incr": r"logs:incr:1_\d+(_\d+)?",
    "worker_joblastid": r"workers:joblastid",
    "worker_jumpscriptlastid": r"workers:jumpscriptlastid",
    "jumpscripts_by_id": r"workers:jumpscripts:id",
    "jumpscripts_by_name": r"workers:jumpscripts:name",
    "worker_sessions": r"workers:sessions",
    "worker_watchdog": r"workers:watchdog",
    "worker_heartbeat": r"workers:heartbeat",
    "worker_queues": r"queues:(workers:work:\w+|system)",
    "worker_jobs": r"workers:jobs(:?\d+)?",
    "worker_returns": r"workers:return:\d+",
    "worker_inqueuetest": r"workers:inqueuetest",
    "jumpscript_hashes": r"workers:jumpscripthashes",
    "worker_registry": r"workers:worker:\w+:[0-9a-f-]{36}",
    "worker_actions": r"workers:action:\w+:[0-9a-f-]{36}",
    "ecos": r"eco:objects",
    "eco_queue": r"queues:eco",
    "eco_secos": r"eco:secos",
    "logs": r"queues:logs",
    "health_status": r"health\.status",
    "processmanager_startuptime": r"processmanager:startuptime",
    "alerts": r"queues:alerts",
    "eco_htime": r"eco:htime",
}


def _keys(r: redis.Redis) -> list[str]:
    return sorted(k.decode() for k in r.scan_iter(count=1000))


def _family_of(key: str) -> str:
    matches = [f for f, pattern in FAMILY_PATTERNS.items() if re.fullmatch(pattern, key)]
    assert len(matches) == 1, (key, matches)
    return matches[0]


def _hash(r: redis.Redis, key: str) -> dict[bytes, bytes]:
    return dict(r.hscan_iter(key, count=1000))


def _list(r: redis.Redis, key: str) -> list[bytes]:
    return r.lrange(key, 0, 10_000)


def _jobs_everywhere(r: redis.Redis) -> Iterator[tuple[str, bytes, dict[str, Any]]]:
    for key in _keys(r):
        family = _family_of(key)
        if family in ("jobs", "worker_jobs") and r.type(key) == b"hash":
            for raw in _hash(r, key).values():
                yield family, raw, json.loads(raw)
        elif family in ("command_queues", "job_results", "worker_queues"):
            for raw in _list(r, key):
                yield family, raw, json.loads(raw)
        elif family == "worker_jobs":
            raw = r.get(key)
            yield family, raw, json.loads(raw)


SEED_ARGS = {
    "default": {},
    "tiny": {"seed": 11, "nodes": 1, "jobs": 20},
    "other-seed": {"seed": 12345, "nodes": 3},
}


@pytest.fixture(params=sorted(SEED_ARGS))
def seed_args(request: pytest.FixtureRequest) -> dict[str, Any]:
    return SEED_ARGS[request.param]


@pytest.fixture()
def seeded(r: redis.Redis, seed_args: dict[str, Any]) -> dict[str, int]:
    return seed_demo(r, now=NOW, **seed_args)


def test_every_family_non_empty_with_the_right_types(r: redis.Redis, seeded: dict[str, int]) -> None:
    assert set(seeded) == set(FAMILIES) == set(FAMILY_TYPES)
    assert len(FAMILIES) == 32  # the 31 of the brief + eco_htime
    assert all(seeded[f] > 0 for f in FAMILIES), seeded
    found: dict[str, int] = dict.fromkeys(FAMILIES, 0)
    for key in _keys(r):
        family = _family_of(key)
        found[family] += 1
        rtype = r.type(key).decode()
        if key == "workers:jobs":
            assert rtype == "hash"  # legacy hash form
        else:
            assert rtype == FAMILY_TYPES[family], key
        size = {"hash": r.hlen, "list": r.llen, "set": r.scard, "string": r.strlen}[rtype](key)
        assert size > 0, key
    assert found == seeded
    assert r.dbsize() == sum(seeded.values())


def test_jobs_cover_every_state_and_field_shape(r: redis.Redis, seeded: dict[str, int], seed_args: dict[str, Any]) -> None:
    jobs = list(_jobs_everywhere(r))
    assert len(jobs) >= seed_args.get("jobs", 240) * 0.8  # "a few hundred" at the default size
    states = {job["state"] for _, _, job in jobs}
    assert {"SCHEDULED", "STARTED", "OK", "ERROR", "TIMEOUT", "NOWORK"} <= states
    for _, _, job in jobs:
        assert isinstance(job["guid"], str) and re.fullmatch(r"[0-9a-f]{32}|[0-9a-f]{40}", job["guid"])
        assert isinstance(job["id"], int)
    shapes = {
        "gid_text": any(isinstance(j["gid"], str) and j["gid"].isdigit() for _, _, j in jobs),
        "nid_text": any(isinstance(j["nid"], str) and j["nid"].isdigit() for _, _, j in jobs),
        "nid_null": any(j["nid"] is None for _, _, j in jobs),
        "roles_null": any(None in j["roles"] for _, _, j in jobs),
        "jscriptid_null": any(j["jscriptid"] is None for _, _, j in jobs),
        "jscriptid_zero": any(j["jscriptid"] == 0 and j["queue"] == "internal" for _, _, j in jobs),
        "jscriptid_int": any(isinstance(j["jscriptid"], int) and j["jscriptid"] > 0 for _, _, j in jobs),
        "jscriptid_text": any(isinstance(j["jscriptid"], str) and "_" in j["jscriptid"] for _, _, j in jobs),
        "tags_list": any(isinstance(j.get("tags"), list) for _, _, j in jobs),
        "no_tags": any("tags" not in j and "internal" not in j for _, _, j in jobs),
        "no_timeCreate": any("timeCreate" not in j for _, _, j in jobs),
        "local": any(j.get("internal") is True and len(j["guid"]) == 40 and "_meta" not in j for _, _, j in jobs),
        "legacy_local": any(j["category"] == "jumpscript" and "/" in j["cmd"] for _, _, j in jobs),
        "exec_function": any(j["category"] == "" and isinstance(j["jscriptid"], int) and j["jscriptid"] > 1_000_000 for _, _, j in jobs),
        "timeout_float": any(isinstance(j["timeout"], float) for _, _, j in jobs),
        "timeout_null": any(j["timeout"] is None for _, _, j in jobs),
        "result_eco": any(isinstance(j["result"], dict) and "uniquekey" in j["result"] and j["result"]["tb"] is None for _, _, j in jobs),
        "result_text": any(isinstance(j["result"], str) for _, _, j in jobs),
        "large_args": any(isinstance(j["args"].get("jumpscript"), dict) and "def action" in j["args"]["jumpscript"]["source"] for _, _, j in jobs),
    }
    assert all(shapes.values()), [name for name, ok in shapes.items() if not ok]
    codes = {json.dumps(j["resultcode"]) for _, _, j in jobs}
    assert {"null", "0", "1", '"1"', '"2"', '"3"', '"4"', '"5"', '"6"'} <= codes
    raw_all = b"".join(raw for _, raw, _ in jobs)
    assert b"\\/" in raw_all and b"\\u00e9" in raw_all  # ujson escapes
    assert "é".encode() in raw_all  # raw UTF-8 in the pretty worker-queue form


def test_timestamps_and_latencies_are_plausible(r: redis.Redis, seeded: dict[str, int]) -> None:
    finished = [(f, j) for f, _, j in _jobs_everywhere(r) if j["state"] in ("OK", "ERROR", "TIMEOUT") and j["timeStart"]]
    assert finished
    worker_stop = pm_stop = 0
    for _, job in finished:
        assert isinstance(job["timeStart"], float)
        assert job["timeStop"] <= NOW
        created = job.get("timeCreate", job["timeStart"])
        assert created <= job["timeStart"] + 1e-6
        assert job["timeStop"] - job["timeStart"] > -1  # int truncation: slightly negative at worst
        if job.get("internal") is not None:
            assert isinstance(job["timeStop"], int)
            worker_stop += 1
        elif job["queue"] == "":
            pm_stop += isinstance(job["timeStop"], float)
    assert worker_stop and pm_stop
    internal = [j for _, _, j in _jobs_everywhere(r) if j["queue"] == "internal" and j["state"] in ("OK", "ERROR")]
    assert internal and all(j["timeStart"] == 0 == j["timeStop"] for j in internal)
    nowork = [j for _, _, j in _jobs_everywhere(r) if j["state"] == "NOWORK"]
    assert nowork and all(j["timeStart"] == 0 == j["timeStop"] for j in nowork)


def test_queue_forms(r: redis.Redis, seeded: dict[str, int]) -> None:
    keys = _keys(r)
    assert any(k.startswith("queues:commands:queue:1:") and k.split(":")[-1].isdigit() for k in keys)
    assert "queues:commands:queue:1:node" in keys
    assert any(k.startswith("commands:queue:1:") for k in keys)
    assert any(k.startswith("queues:jobqueue:") for k in keys)
    assert any(k.startswith("jobqueue:") for k in keys)
    for key in keys:
        if "commands:queue:" in key:
            for raw in _list(r, key):
                job = json.loads(raw)
                assert job["state"] == "SCHEDULED" and b" " not in raw.split(b'"args"')[0]
                target = key.rsplit(":", 1)[1]
                if not target.isdigit():
                    assert job["nid"] is None and job["roles"] == [target]
        if _family_of(key) == "job_results":
            assert r.llen(key) == 1
            assert json.loads(r.lindex(key, 0))["wait"] is True
            assert r.ttl(key) == -1  # expire=False by default
    # the io queue is queues:system; pretty form: sorted keys, trailing spaces, NaN allowed
    assert "queues:system" in keys and "queues:workers:work:io" not in keys
    pretty = [raw for k in keys if _family_of(k) == "worker_queues" for raw in _list(r, k)]
    assert all(raw.startswith(b"{\n  ") and b", \n" in raw for raw in pretty)
    for raw in pretty:
        names = re.findall(rb'^  "([^"]+)": ', raw, flags=re.M)
        assert names == sorted(names)
    assert any(b"NaN" in raw for raw in pretty)
    nan_jobs = [json.loads(raw) for raw in pretty if b"NaN" in raw]
    assert math.isnan(nan_jobs[0]["tags"]["budget"])


def test_jumpscript_hashes(r: redis.Redis, seeded: dict[str, int]) -> None:
    by_id = _hash(r, "workers:jumpscripts:id")
    fields = set(by_id)
    assert b"None" in fields
    assert any(f.isdigit() and int(f) < 1000 for f in fields)  # pre-2018-06 OSIS ids
    exec_ids = [int(f) for f in fields if f.isdigit() and int(f) > 1_000_000]
    assert exec_ids and int(r.get("workers:jumpscriptlastid")) == max(exec_ids)
    exec_form = json.loads(by_id[str(exec_ids[0]).encode()])
    assert {"_loaded", "lastrun", "debug"} <= set(exec_form) and "descr" not in exec_form
    assert set(_hash(r, "workers:jumpscripthashes").values()) == {str(i).encode() for i in exec_ids}
    normal = json.loads(by_id[b"None"])
    assert len(normal) == 20 and normal["id"] is None
    by_name = _hash(r, "workers:jumpscripts:name")
    assert b"jumpscale__echo" in by_name and b"system__cleanupredisac" in by_name
    assert all(b"__" in f for f in by_name)
    assert json.loads(by_name[b"demo__flaky"])["path"] is None  # hot-reloaded
    assert b'"path":"\\/opt\\/jumpscale7\\/apps\\/processmanager\\/jumpscripts\\/jumpscale\\/echo.py"' in by_name[b"jumpscale__echo"]
    inqueue = _hash(r, "workers:inqueuetest")
    assert inqueue and all(b"__" not in f and b"_" in f and v.isdigit() for f, v in inqueue.items())


def test_liveness_and_legacy_values(r: redis.Redis, seeded: dict[str, int]) -> None:
    beats = {f.decode(): int(v) for f, v in _hash(r, "workers:heartbeat").items()}
    assert {"default", "io", "hypervisor", "process"} <= set(beats)
    assert any(NOW - v > 600 for v in beats.values()) and any(NOW - v < 60 for v in beats.values())
    watchdog = _hash(r, "workers:watchdog")
    assert b"0" in watchdog.values() and all(re.fullmatch(rb"worker_\w+_\d", f) for f in watchdog)
    assert set(_hash(r, "healthcheck:status").values()) == {b"True", b"False"}
    assert all(float(v) > 1e9 for v in _hash(r, "healthcheck:lastcheck").values())
    monitoring = _hash(r, "healthcheck:monitoring")
    assert set(monitoring) == {b"results", b"errors", b"lastcheck"}
    results = json.loads(monitoring[b"results"])
    assert all(k.isdigit() for k in results)
    assert any(isinstance(item, str) for node in results.values() for items in node.values() for item in items)
    assert any("errormessage" in item for node in json.loads(monitoring[b"errors"]).values() for items in node.values() for item in items)
    float(monitoring[b"lastcheck"])
    sessions = [json.loads(v) for v in _hash(r, "workers:sessions").values()]
    assert sessions and all(set(s) == {"start", "gid", "nid", "pid", "appname"} for s in sessions)
    apps = {f: json.loads(v) for f, v in _hash(r, "application").items()}
    assert b"jsagent" in apps and all(isinstance(p, list) for p in apps.values())
    assert r.get("health.status") in (b"OK", b"ERROR", b"WARNING", b"EXPIRED", b"UNKNOWN")
    assert int(r.get("processmanager:startuptime")) < NOW
    assert int(r.get("workers:joblastid")) <= 500_000
    for key in _keys(r):
        family = _family_of(key)
        if family == "worker_registry":
            assert r.get(key) == b"1"
        elif family == "worker_actions":
            assert set(_list(r, key)) <= {b"RESTART", b"RELOAD"}
        elif family == "worker_returns":
            float(r.lindex(key, 0))
        elif family in ("eco_incr", "logs_incr"):
            assert r.get(key).isdigit()
    assert any(re.fullmatch(r"logs:incr:1_\d+_\d{10}", k) for k in _keys(r))  # <= 2014-08 shape


def test_ecos_logs_alerts(r: redis.Redis, seeded: dict[str, int]) -> None:
    objects = _hash(r, "eco:objects")
    decoded = {f: json.loads(v) for f, v in objects.items()}
    stubs = [e for e in decoded.values() if set(e) == {"occurrences", "epoch", "guid", "lasttime", "pushtime", "gid", "nid"}]
    full = {f: e for f, e in decoded.items() if "uniquekey" in e}
    assert stubs and full and len(stubs) + len(full) == len(decoded)
    for field, eco in full.items():
        assert eco["uniquekey"] == field.decode() and eco["guid"].replace("-", "") == eco["uniquekey"]
        assert "tb" not in eco
    assert any(b'"mounts":{}' in objects[f] for f in full)  # Lua cjson: empty array as {}
    assert any(b'"elapsed":1539600000.1235' in objects[f] for f in full)  # %.14g
    queue = _list(r, "queues:eco")
    secos = set(r.sscan_iter("eco:secos", count=1000))
    assert queue and set(queue) <= set(objects)
    assert secos <= set(objects)
    # every ECO went through eco.lua in time order: first seen, last pushed and last seen in that
    # order and never after the seed's now; a throttled one occurred again; processed ones are stubs
    for field, eco in decoded.items():
        assert eco["epoch"] <= eco["pushtime"] <= eco["lasttime"] <= NOW, (field, eco)
    assert all(full[f]["occurrences"] > 1 for f in secos if f in full)
    assert not {f for f, e in decoded.items() if e["occurrences"] == 0} & (set(queue) | secos)
    logs = [json.loads(raw) for raw in _list(r, "queues:logs")]
    assert logs and all("." not in log["category"] for log in logs)
    assert any("/n" in log["message"] for log in logs) and any("/|" in log["tags"] for log in logs)
    assert any(log["jid"] for log in logs) and any(log["jid"] == "" for log in logs)
    assert all(re.fullmatch(rb"[0-9a-f-]{36}", a) for a in _list(r, "queues:alerts"))


def test_deterministic_and_idempotent(r: redis.Redis) -> None:
    def snapshot() -> dict[bytes, bytes]:
        names = sorted(r.scan_iter(count=1000))
        pipe = r.pipeline(transaction=False)
        for name in names:
            pipe.dump(name)
        return dict(zip(names, pipe.execute()))

    first_counts = seed_demo(r, now=NOW, seed=3)
    first = snapshot()
    assert seed_demo(r, now=NOW, seed=3) == first_counts  # re-seeding on top replaces, never appends
    assert snapshot() == first
    r.flushall()
    seed_demo(r, now=NOW, seed=3)
    assert snapshot() == first
    r.flushall()
    seed_demo(r, now=NOW, seed=4)
    assert snapshot() != first


def test_one_transaction(r: redis.Redis) -> None:
    def calls(name: str) -> int:
        return commandstats(r).get(name, 0)

    before_exec, before_multi = calls("exec"), calls("multi")
    seed_demo(r, now=NOW)
    assert calls("exec") - before_exec == 1
    assert calls("multi") - before_multi == 1


def test_expire_sets_the_real_ttls(r: redis.Redis) -> None:
    seed_demo(r, now=NOW, expire=True)
    keys = _keys(r)
    results = [k for k in keys if k.startswith("queues:jobqueue:")]
    assert results and all(0 < r.ttl(k) <= 60 for k in results)
    returns = [k for k in keys if k.startswith("workers:return:")]
    assert returns and all(0 < r.ttl(k) <= 60 for k in returns)
    assert 0 < r.ttl("health.status") <= 300
    assert r.ttl("jobs:1") == -1 and r.ttl("workers:jumpscripts:name") == -1


def test_small_and_scaled_seeds(r: redis.Redis) -> None:
    small = seed_demo(r, now=NOW, nodes=1, jobs=20, gid=2)
    assert all(small[f] > 0 for f in FAMILIES), small
    assert r.exists("jobs:2") and r.hexists("jobs:last", "2")
    r.flushall()
    big = seed_demo(r, now=NOW, jobs=1000, nodes=20)
    assert big["worker_jobs"] > 300 and big["job_results"] > 100


def test_bad_arguments_are_refused(r: redis.Redis) -> None:
    with pytest.raises(ValueError, match="nodes"):
        seed_demo(r, nodes=0)
    with pytest.raises(ValueError, match="jobs"):
        seed_demo(r, jobs=3)
    assert r.dbsize() == 0
