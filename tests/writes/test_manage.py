"""cancel / purge / undo / requeue / delete round trips on explicit selections."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import redis

import jsadmin
from jsadmin.errors import WriteValidationError
from jsadmin.writes import WritePlan

from .conftest import _A, snapshot, writes_seen


def _enqueue(adm: _A, n: int, **over) -> pd.DataFrame:
    jobs = [{"gid": 1, "nid": 5, "category": "jumpscale", "cmd": "echo", "args": {"i": i}, **over} for i in range(n)]
    return adm.enqueue_jobs(jobs)




def test_cancel_a_frame_from_connect_load(adm: _A, r: redis.Redis, redis_url: str) -> None:
    _enqueue(adm, 6)
    admin = jsadmin.connect(redis_url)
    queued = admin.load("command_queues")
    pick = queued[queued["args"].map(lambda a: a["i"] % 2 == 0)]
    assert len(pick) == 3
    out = adm.cancel_jobs(pick)
    assert out["removed"].tolist() == [True] * 6  # 3 queue values + 3 jobs:1 entries
    left = [json.loads(x)["args"]["i"] for x in r.lrange("queues:commands:queue:1:5", 0, -1)]
    assert left == [1, 3, 5]
    assert r.hlen("jobs:1") == 3 and not any(r.hexists("jobs:1", g) for g in pick["guid"])
    entry = adm.journal().iloc[-1]
    assert entry["helper"] == "cancel_jobs" and entry["removed"] == 6 and entry["id"] == out.attrs["journal_id"]


def test_cancel_leaves_jobs_picked_up_meanwhile(adm: _A, r: redis.Redis) -> None:
    frame = _enqueue(adm, 3)
    # the AC picks the first job up between the read and the cancel (spec §6.2)
    raw = r.lpop("queues:commands:queue:1:5")
    started = json.loads(raw) | {"state": "STARTED"}
    r.hset("jobs:1", started["guid"], json.dumps(started))
    selection = pd.DataFrame({"key": "queues:commands:queue:1:5", "guid": frame["guid"], "gid": 1,
                              "raw": [raw, None, None]})
    out = adm.cancel_jobs(selection)
    flags = dict(zip(out["guid"] + ":" + out["type"], out["removed"], strict=True))
    assert not flags[f"{started['guid']}:list"] and not flags[f"{started['guid']}:hash"]
    assert r.llen("queues:commands:queue:1:5") == 0
    assert json.loads(r.hget("jobs:1", started["guid"]))["state"] == "STARTED"  # changed: kept


def test_cancel_by_guid_dry_run_then_undo(adm: _A, r: redis.Redis) -> None:
    frame = _enqueue(adm, 4)
    _enqueue(adm, 2, nid=None, role="node")
    guids = frame["guid"].tolist()[1:3]
    before = snapshot(r)
    r.config_resetstat()
    plan = adm.cancel_jobs([*guids, "f" * 32], dry_run=True)
    assert isinstance(plan, WritePlan) and writes_seen(r) == set() and snapshot(r) == before
    assert [c[0] for c in plan.commands] == ["LREM", "LREM", "HDEL", "HDEL"]
    assert plan.warnings == [f"not found in Redis, left alone: {'f' * 32}"] and "f" * 32 in repr(plan)
    out = adm.cancel_jobs([*guids, "f" * 32])
    assert out.attrs["not_found"] == ["f" * 32] and out["removed"].all()
    assert r.llen("queues:commands:queue:1:5") == 2
    result = adm.undo(out.attrs["journal_id"])
    assert result["pushed"] == 2 and result["restored"] == 2
    assert snapshot(r) == before  # exact bytes and order back
    with pytest.raises(WriteValidationError, match="already undone"):
        adm.undo(out.attrs["journal_id"])


def test_purge_and_undo_keep_exact_bytes(adm: _A, r: redis.Redis) -> None:
    _enqueue(adm, 5)
    key = "queues:commands:queue:1:5"
    r.rpush(key, b"\xff\xfe not utf-8", "pretty {\n  \"a\": 1 \n}")
    values = r.lrange(key, 0, -1)
    plan = adm.purge_queue(key, dry_run=True)
    assert plan.result == {"key": key, "removed": 7} and r.llen(key) == 7
    out = adm.purge_queue(key)
    assert out["removed"] == 7 and not r.exists(key)
    entry = adm.journal().set_index("id").loc[out["journal_id"]]
    assert entry["helper"] == "purge_queue" and entry["removed"] == 7
    r.rpush(key, "newer")
    adm.undo(out["journal_id"])
    assert r.lrange(key, 0, -1) == [*values, b"newer"]
    journal = adm.journal()  # enqueue_jobs also journals its plan before sending (".plan" entry)
    assert journal[journal.helper != "enqueue_jobs.plan"]["undone"].tolist() == [False, True, False]


def test_purge_refuses_non_lists(adm: _A, r: redis.Redis) -> None:
    r.hset("jobs:1", "x", "y")
    with pytest.raises(WriteValidationError, match="is a hash"):
        adm.purge_queue("jobs:1")
    assert adm.purge_queue("queues:commands:queue:9:9")["removed"] == 0


def test_delete_only_unchanged_entries(adm: _A, r: redis.Redis, redis_url: str) -> None:
    frame = _enqueue(adm, 3)
    stale = jsadmin.connect(redis_url).load("jobs")
    changed = frame["guid"][0]
    r.hset("jobs:1", changed, json.dumps(json.loads(r.hget("jobs:1", changed)) | {"state": "STARTED"}))
    sel = stale.assign(raw=[r.hget("jobs:1", g) if g != changed else b"old" for g in stale["guid"]])
    out = adm.delete_jobs(sel)
    assert dict(zip(out["guid"], out["removed"], strict=True)) == {
        frame["guid"][0]: False, frame["guid"][1]: True, frame["guid"][2]: True,
    }
    assert r.hkeys("jobs:1") == [changed.encode()]
    assert r.llen("queues:commands:queue:1:5") == 3  # delete never touches queues
    adm.undo(out.attrs["journal_id"])
    assert r.hlen("jobs:1") == 3


def test_delete_by_guid(adm: _A, r: redis.Redis) -> None:
    frame = _enqueue(adm, 2)
    plan = adm.delete_jobs([frame["guid"][0]], dry_run=True)
    assert plan.commands == [("HDEL", "jobs:1", frame["guid"][0])] and r.hlen("jobs:1") == 2
    adm.delete_jobs([frame["guid"][0]])
    assert r.hkeys("jobs:1") == [frame["guid"][1].encode()]


def _fail(r: redis.Redis, guid: str, state: str = "ERROR") -> dict:
    """Play AC pickup + a failing worker: the job ends in jobs:1 with a final state."""
    job = json.loads(r.hget("jobs:1", guid)) | {"state": state, "resultcode": 1, "result": {"errormessage": "boom"},
                                                "nid": 5, "achost": "10.0.0.1"}
    r.hset("jobs:1", guid, json.dumps(job))
    return job


def test_requeue_clones_failed_jobs_with_edits(adm: _A, r: redis.Redis, redis_url: str) -> None:
    frame = adm.enqueue_jobs([
        {"gid": 1, "role": "node", "category": "jumpscale", "cmd": "echo", "args": {"msg": "a", "n": 1},
         "wait": True, "timeout": 30, "tags": ["x"]},
        {"gid": 1, "nid": 5, "category": "jumpscale", "cmd": "echo", "args": {"msg": "b"}},
    ])
    r.delete("queues:commands:queue:1:node", "queues:commands:queue:1:5")
    _fail(r, frame["guid"][0], "TIMEOUT")
    _fail(r, frame["guid"][1], "ERROR")
    failed = jsadmin.connect(redis_url).load("jobs")
    out = adm.requeue_jobs(failed, args={"n": 2})
    assert sorted(out["source_guid"]) == sorted(frame["guid"]) and sorted(out["id"]) == [3, 4]
    by_source = out.set_index("source_guid")
    a = json.loads(r.lindex("queues:commands:queue:1:node", 0))
    b = json.loads(r.lindex("queues:commands:queue:1:5", 0))
    assert a["guid"] == by_source.loc[frame["guid"][0], "guid"] and a["guid"] != frame["guid"][0]
    assert a["args"] == {"msg": "a", "n": 2} and a["nid"] is None and a["roles"] == ["node"]
    assert a["wait"] is True and a["timeout"] == 30 and a["tags"] == ["x"] and a["state"] == "SCHEDULED"
    assert a["result"] is None and a["resultcode"] is None and "achost" not in a
    assert b["args"] == {"msg": "b", "n": 2} and b["nid"] == 5
    # clone to another node by guid list
    out2 = adm.requeue_jobs([frame["guid"][1]], nid=9)
    assert out2["queue_key"].tolist() == ["queues:commands:queue:1:9"]


def test_requeue_refuses_unfinished_jobs_and_dry_run(adm: _A, r: redis.Redis) -> None:
    frame = _enqueue(adm, 2)
    with pytest.raises(WriteValidationError, match="SCHEDULED"):
        adm.requeue_jobs(frame["guid"].tolist())
    _fail(r, frame["guid"][0])
    before = snapshot(r)
    plan = adm.requeue_jobs([frame["guid"][0]], role="node", dry_run=True)
    assert snapshot(r) == before
    assert plan.commands[0] == ("HINCRBY", "jobs:last", "1", 1)
    assert plan.commands[2][1] == "queues:commands:queue:1:node"
    with pytest.raises(WriteValidationError, match="not found"):
        adm.requeue_jobs(["0" * 32])


def test_undo_refuses_unknown_and_non_destructive_entries(adm: _A) -> None:
    adm.enqueue_job(1, nid=1, category="c", cmd="x")
    with pytest.raises(WriteValidationError, match="no journal entry"):
        adm.undo("nope")
    with pytest.raises(WriteValidationError, match="only"):
        adm.undo(adm.journal()["id"].iloc[-1])


def test_clone_any_state_and_worker_job_rows(adm: _A, r: redis.Redis, redis_url: str) -> None:
    frame = _enqueue(adm, 1)
    queued = jsadmin.connect(redis_url).load("command_queues")
    with pytest.raises(WriteValidationError, match="states=None"):
        adm.requeue_jobs(queued)
    out = adm.requeue_jobs(queued, states=None, args={"i": 99})
    assert out["id"].tolist() == [2] and json.loads(r.lindex("queues:commands:queue:1:5", 1))["args"] == {"i": 99}
    # a worker-side copy (spec §6.3) is read back from its workers:jobs:<id> string
    job = json.loads(r.hget("jobs:1", frame["guid"][0])) | {"state": "ERROR", "internal": False}
    r.set("workers:jobs:1", json.dumps(job))
    sel = pd.DataFrame({"key": ["workers:jobs:1"], "guid": [job["guid"]]})
    r.hdel("jobs:1", job["guid"])
    assert adm.requeue_jobs(sel)["id"].tolist() == [3]
