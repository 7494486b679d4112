"""cancel / purge / undo / requeue / delete round trips on explicit selections."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import pytest
import redis
from redis_servers import commandstats

import jsadmin
from jsadmin.errors import PartialWriteError, WriteNotApplied, WriteRefused, WriteValidationError
from jsadmin.writes import WritePlan, manage
from jsadmin.writes.journal import Journal, decode_value
from jsadmin.writes.scripts import SCRIPTS, new_write_id

from .conftest import _A, LoseNextReply, losing_client, snapshot, writes_seen


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
    assert out.frame["removed"].tolist() == [True] * 6  # 3 queue values + 3 jobs:1 entries
    left = [json.loads(x)["args"]["i"] for x in r.lrange("queues:commands:queue:1:5", 0, -1)]
    assert left == [1, 3, 5]
    assert r.hlen("jobs:1") == 3 and not any(r.hexists("jobs:1", g) for g in pick["guid"])
    entry = adm.journal().iloc[-1]
    assert entry["helper"] == "cancel_jobs" and entry["removed"] == 6 and entry["id"] == out.journal_id


def test_cancel_leaves_jobs_picked_up_meanwhile(adm: _A, r: redis.Redis) -> None:
    frame = _enqueue(adm, 3)
    # the AC picks the first job up between the read and the cancel (spec §6.2)
    raw = r.lpop("queues:commands:queue:1:5")
    started = json.loads(raw) | {"state": "STARTED"}
    r.hset("jobs:1", started["guid"], json.dumps(started))
    selection = pd.DataFrame({"key": "queues:commands:queue:1:5", "guid": frame["guid"], "gid": 1,
                              "raw": [raw, None, None]})
    out = adm.cancel_jobs(selection)
    flags = dict(zip(out.frame["guid"] + ":" + out.frame["type"], out.frame["removed"], strict=True))
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
    assert out.not_found == ("f" * 32,) and out.frame["removed"].all()
    assert out.note == f"1 selected job(s) no longer in Redis were skipped: {'f' * 32}"
    assert r.llen("queues:commands:queue:1:5") == 2
    result = adm.undo(out.journal_id)
    assert result.pushed == 2 and result.restored == 2
    after = {k: val for k, val in snapshot(r).items() if not k.startswith(b"jsadmin:write:")}
    queue = b"queues:commands:queue:1:5"
    assert after.pop(queue) == [before[queue][i] for i in (1, 2, 0, 3)]  # back at the head, in order
    assert after == {k: val for k, val in before.items() if k != queue and not k.startswith(b"jsadmin:write:")}
    with pytest.raises(WriteValidationError, match="already undone"):
        adm.undo(out.journal_id)


def test_results_are_typed_read_well_and_undo_takes_them(adm: _A, r: redis.Redis) -> None:
    """Each management helper returns its own frozen result type (no frame ``attrs``); a result
    is itself an entry ``undo`` takes, and one that sent nothing says so instead of guessing."""
    frame = _enqueue(adm, 3)
    out = adm.cancel_jobs([*frame["guid"].tolist()[:2], "f" * 32])
    assert isinstance(out, jsadmin.ManageResult) and out.helper == "cancel_jobs"
    assert out.removed == 4 and out.unknown == 0 and len(out) == 4 and out.frame.attrs == {}
    text = repr(out)
    assert text.startswith(f"ManageResult(cancel_jobs: 4 of 4 removed; journal entry {out.journal_id})")
    assert "! 1 selected job(s) no longer in Redis" in text and frame["guid"][0] in text
    page = out._repr_html_()
    assert page.count("<table") == page.count("</table>") == 1 and "journal entry" in page
    with pytest.raises(AttributeError):
        out.journal_id = "x"  # type: ignore[misc]  # frozen
    undone = adm.undo(out)
    assert isinstance(undone, jsadmin.UndoResult) and (undone.undo_of, undone.pushed) == (out.journal_id, 2)
    assert undone.as_dict() == {"undo_of": out.journal_id, "pushed": 2, "restored": 2, "skipped": 0,
                                "already_undone_chunks": 0, "journal_id": undone.journal_id}
    purged = adm.purge_queue("queues:commands:queue:1:5")
    assert isinstance(purged, jsadmin.PurgeResult) and purged.removed == 3 and purged.helper == "purge_queue"
    assert adm.undo(purged).pushed == 3 and r.llen("queues:commands:queue:1:5") == 3
    nothing = adm.cancel_jobs(["e" * 32])
    assert nothing.journal_id is None and nothing.removed == 0 and "nothing sent" in repr(nothing)
    with pytest.raises(WriteValidationError, match="sent nothing"):
        adm.undo(nothing)


def test_purge_and_undo_keep_exact_bytes(adm: _A, r: redis.Redis) -> None:
    _enqueue(adm, 5)
    key = "queues:commands:queue:1:5"
    r.rpush(key, b"\xff\xfe not utf-8", "pretty {\n  \"a\": 1 \n}")
    values = r.lrange(key, 0, -1)
    plan = adm.purge_queue(key, dry_run=True)
    assert plan.result == {"key": key, "removed": 7, "chunks": 1} and r.llen(key) == 7
    out = adm.purge_queue(key)
    assert out.removed == 7 and not r.exists(key)
    entry = adm.journal().set_index("id").loc[out.journal_id]
    assert entry["helper"] == "purge_queue" and entry["removed"] == 7
    r.rpush(key, "newer")
    adm.undo(out.journal_id)
    assert r.lrange(key, 0, -1) == [*values, b"newer"]
    journal = adm.journal().set_index("id")
    assert journal["undone"].to_dict() == {i: i == out.journal_id for i in journal.index}


def test_purge_refuses_non_lists(adm: _A, r: redis.Redis) -> None:
    r.hset("jobs:1", "x", "y")
    with pytest.raises(WriteValidationError, match="is a hash"):
        adm.purge_queue("jobs:1")
    assert adm.purge_queue("queues:commands:queue:9:9").removed == 0


def test_delete_only_unchanged_entries(adm: _A, r: redis.Redis, redis_url: str) -> None:
    frame = _enqueue(adm, 3)
    stale = jsadmin.connect(redis_url).load("jobs")
    changed = frame["guid"][0]
    r.hset("jobs:1", changed, json.dumps(json.loads(r.hget("jobs:1", changed)) | {"state": "STARTED"}))
    sel = stale.assign(raw=[r.hget("jobs:1", g) if g != changed else b"old" for g in stale["guid"]])
    out = adm.delete_jobs(sel)
    assert dict(zip(out.frame["guid"], out.frame["removed"], strict=True)) == {
        frame["guid"][0]: False, frame["guid"][1]: True, frame["guid"][2]: True,
    }
    assert r.hkeys("jobs:1") == [changed.encode()]
    assert r.llen("queues:commands:queue:1:5") == 3  # delete never touches queues
    adm.undo(out.journal_id)
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
    assert sorted(out.frame["source_guid"]) == sorted(frame["guid"]) and sorted(out.frame["id"]) == [3, 4]
    by_source = out.frame.set_index("source_guid")
    a = json.loads(r.lindex("queues:commands:queue:1:node", 0))
    b = json.loads(r.lindex("queues:commands:queue:1:5", 0))
    assert a["guid"] == by_source.loc[frame["guid"][0], "guid"] and a["guid"] != frame["guid"][0]
    assert a["args"] == {"msg": "a", "n": 2} and a["nid"] is None and a["roles"] == ["node"]
    assert a["wait"] is True and a["timeout"] == 30 and a["tags"] == ["x"] and a["state"] == "SCHEDULED"
    assert a["result"] is None and a["resultcode"] is None and "achost" not in a
    assert b["args"] == {"msg": "b", "n": 2} and b["nid"] == 5
    # clone to another node by guid list
    out2 = adm.requeue_jobs([frame["guid"][1]], nid=9)
    assert out2.frame["queue_key"].tolist() == ["queues:commands:queue:1:9"]
    entry = adm.journal().set_index("id").loc[out2.journal_id]  # the clones' own journal entry
    assert entry["helper"] == "requeue_jobs" and out2.removed == 1 and out2.not_found == ()


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
    with pytest.raises(WriteValidationError, match="none of the selected jobs is still in Redis"):
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
    assert out.frame["id"].tolist() == [2] and json.loads(r.lindex("queues:commands:queue:1:5", 1))["args"] == {"i": 99}
    # a worker-side copy (spec §6.3) is read back from its workers:jobs:<id> string
    job = json.loads(r.hget("jobs:1", frame["guid"][0])) | {"state": "ERROR", "internal": False}
    r.set("workers:jobs:1", json.dumps(job))
    sel = pd.DataFrame({"key": ["workers:jobs:1"], "guid": [job["guid"]]})
    r.hdel("jobs:1", job["guid"])
    assert adm.requeue_jobs(sel).frame["id"].tolist() == [3]


# -- issue 9: destructive writes under faults ------------------------------------------------
QUEUE = "queues:commands:queue:1:5"


def _stalled(redis_url: str, journal_file) -> _A:
    """An Admin whose client loses the reply of its next armed EVALSHA (the write still runs)."""
    return _A(losing_client(redis_url), journal_path=journal_file, url=redis_url)


def _warm(adm: _A, r: redis.Redis) -> None:
    """Run purge, cancel and undo once so every script is cached on the server (EVALSHA hits)."""
    warm = "queues:commands:queue:9:9"
    r.rpush(warm, json.dumps({"guid": "w" * 32}))
    out = adm.cancel_jobs(pd.DataFrame({"key": [warm], "guid": ["w" * 32]}))
    assert adm.undo(out.journal_id).pushed == 1
    assert adm.purge_queue(warm).removed == 1


def test_purge_with_lost_reply_journals_every_value_and_undo_restores_once(
    r: redis.Redis, redis_url: str, journal_file
) -> None:
    values = [json.dumps({"guid": f"{i:032x}", "i": i}).encode() for i in range(50)]
    r.rpush(QUEUE, *values)
    adm = _stalled(redis_url, journal_file)
    _warm(adm, r)
    LoseNextReply.armed.append("reply")
    out = adm.purge_queue(QUEUE)  # the trim's reply is lost: resolved through its marker, not re-sent
    assert not LoseNextReply.armed and out.removed == 50 and r.llen(QUEUE) == 0
    entry = adm.journal().set_index("id").loc[out.journal_id]
    assert entry["removed"] == 50 and entry["status"] == "done"
    LoseNextReply.armed.append("reply")
    adm.undo(out.journal_id)  # the restore's reply is lost too: restored once, not twice
    assert not LoseNextReply.armed and r.lrange(QUEUE, 0, -1) == values


def test_cancel_with_lost_reply_journals_the_values_first(r: redis.Redis, redis_url: str, journal_file) -> None:
    adm = _stalled(redis_url, journal_file)
    frame = _enqueue(adm, 4)
    queued = r.lrange(QUEUE, 0, -1)
    _warm(adm, r)
    LoseNextReply.armed.append("reply")
    out = adm.cancel_jobs(frame["guid"].tolist()[:2])
    assert not LoseNextReply.armed
    assert out.frame["removed"].tolist() == [True] * 4 and r.lrange(QUEUE, 0, -1) == queued[2:]
    entry = adm.journal().set_index("id").loc[out.journal_id]
    assert entry["removed"] == 4  # 2 queue values + 2 jobs:1 entries, recorded before sending
    adm.undo(out.journal_id)
    assert r.lrange(QUEUE, 0, -1) == queued and r.hlen("jobs:1") == 4


def test_an_intent_whose_process_died_is_resolved_by_undo(adm: _A, r: redis.Redis, redis_url: str) -> None:
    """A purge that journalled two chunks and died: one chunk ran (reply never read), one was
    never sent. undo learns from the markers which one landed, fences the other, restores once."""
    values = [f"v{i}".encode() for i in range(6)]
    r.rpush(QUEUE, *values)
    journal = adm._journal()
    eid = journal.begin(helper="purge_queue", url=adm.url, key=QUEUE, length=6)
    ran, never = new_write_id(), new_write_id()
    rec = [{"type": "list", "key": QUEUE, "position": i, "value": {"text": f"v{i}"}} for i in range(6)]
    journal.chunk(eid, 0, write_id=ran, removed=rec[:3])
    SCRIPTS["purge"].run(r, [QUEUE], [3, *values[:3]], write_id=ran)  # ... and the process died here
    journal.chunk(eid, 1, write_id=never, removed=rec[3:])
    row = adm.journal().set_index("id").loc[eid]
    assert row["status"] == "intent" and row["removed"] == 0
    plan = adm.undo(eid, dry_run=True)
    assert "unknown outcome" in plan.warnings[0]
    result = adm.undo(eid)
    assert result.pushed == 3 and r.lrange(QUEUE, 0, -1) == values
    assert r.get(f"jsadmin:write:{never}") == b'"fenced"'  # a late copy of chunk 1 can never run
    chunks = journal.find(eid)["chunks"]
    assert chunks[0]["status"] == "applied" and chunks[1]["status"] == "not_applied"


def test_cancel_refuses_a_wrong_type_key_before_removing_anything(adm: _A, r: redis.Redis) -> None:
    frame = _enqueue(adm, 2)
    r.hset("queues:commands:queue:1:6", "x", "not a list")
    raws = r.lrange(QUEUE, 0, -1)
    sel = pd.DataFrame({"key": [QUEUE, QUEUE, "queues:commands:queue:1:6"],
                        "guid": [*frame["guid"], "e" * 32], "raw": [*raws, b'{"guid": "' + b"e" * 32 + b'"}']})
    before = snapshot(r)
    with pytest.raises(WriteValidationError, match=r"queues:commands:queue:1:6 is a hash, not a list"):
        adm.cancel_jobs(sel)
    assert snapshot(r) == before  # the two jobs of the good queue are still there


def test_scripts_check_key_types_before_any_mutation(r: redis.Redis) -> None:
    """The server-side guard (a key that changes type after the client's check): refused whole."""
    r.rpush("q", "a", "b")
    r.hset("h", "f", "v")
    r.set("s", "x")
    keys_, args = ["q", "s"], [2, 2, b"a", 3, b"b"]  # LREM q a, then LREM s b: s is a string
    with pytest.raises(WriteRefused, match="s is a string, not a list"):
        SCRIPTS["remove_values"].run(r, keys_, args, write_id=new_write_id())
    with pytest.raises(WriteRefused, match="s is a string, not a hash"):
        SCRIPTS["restore"].run(r, ["q", "s"], ["t", 1, 2, b"c", 3, "f", b"v"], write_id=new_write_id())
    with pytest.raises(WriteRefused, match="h is a hash, not a list"):
        SCRIPTS["purge"].run(r, ["h"], [1, b"f"], write_id=new_write_id())
    assert r.lrange("q", 0, -1) == [b"a", b"b"] and r.hgetall("h") == {b"f": b"v"}


def _script_stats(r: redis.Redis) -> tuple[list[int], int]:
    """(EVALSHA durations over 1 ms in microseconds, longest first; EVALSHA calls) since the
    last reset. SLOWLOG logs commands over 1 ms (the commands a script runs inside are faster
    and would otherwise flood it); a script that never took 1 ms is reported as 1000."""
    durations = [int(e["duration"]) for e in r.slowlog_get(10_000) if e["command"].split(b" ")[0].lower() == b"evalsha"]
    return sorted(durations, reverse=True) or [1000], commandstats(r).get("evalsha", 0)


def _short_scripts(durations: list[int]) -> bool:
    """No script near 100 ms: every one under 50 ms but for at most one outlier under 200 ms
    (SLOWLOG is wall time: on a shared 2-core box the server process is sometimes descheduled)."""
    return durations[0] < 200_000 and (len(durations) < 2 or durations[1] < 50_000)


def _reset_stats(r: redis.Redis) -> None:
    r.slowlog_reset()
    r.config_resetstat()


def test_purge_and_undo_of_100k_are_chunked_short_and_in_order(adm: _A, r: redis.Redis) -> None:
    n = 100_000
    values = [json.dumps({"guid": f"{i:032x}", "gid": 1, "nid": 5, "cmd": "echo", "args": {"i": i},
                          "state": "SCHEDULED"}).encode() for i in range(n)]
    pipe = r.pipeline(transaction=False)
    for i in range(0, n, 5000):
        pipe.rpush(QUEUE, *values[i:i + 5000])
    pipe.execute()
    r.config_set("slowlog-log-slower-than", 1000)
    r.config_set("slowlog-max-len", 10_000)
    adm.purge_queue("warm")  # nothing to do; scripts are loaded by the first chunk below
    _reset_stats(r)
    t0 = time.perf_counter()
    out = adm.purge_queue(QUEUE)
    purge_s = time.perf_counter() - t0
    purge_d, purge_n = _script_stats(r)
    assert out.removed == n and out.chunks == 100 and r.llen(QUEUE) == 0
    r.rpush(QUEUE, b"queued since")
    _reset_stats(r)
    t0 = time.perf_counter()
    res = adm.undo(out.journal_id)
    undo_s = time.perf_counter() - t0
    undo_d, undo_n = _script_stats(r)
    r.config_set("slowlog-log-slower-than", 10_000)
    assert res.pushed == n
    assert r.lrange(QUEUE, 0, -1) == [*values, b"queued since"]  # every entry once, in order
    print(f"\n100k purge: {purge_s:.2f}s, {purge_n} scripts, longest {purge_d[0] / 1000:.1f} ms; "
          f"undo: {undo_s:.2f}s, {undo_n} scripts, longest {undo_d[0] / 1000:.1f} ms")
    assert len(adm._journal().find(out.journal_id)["chunks"]) == 100
    assert len(adm._journal().find(res.journal_id)["chunks"]) == 100
    assert _short_scripts(purge_d) and _short_scripts(undo_d)  # no script blocks Redis for ~100 ms


def test_purge_interleaved_with_a_consumer_and_a_producer_loses_nothing(adm: _A, r: redis.Redis, redis_url: str) -> None:
    n = 20_000
    original = [f"job-{i}".encode() for i in range(n)]
    r.rpush(QUEUE, *original)
    popped: list[bytes] = []
    pushed: list[bytes] = []
    stop = threading.Event()

    def consume_and_produce() -> None:
        other = redis.Redis.from_url(redis_url, protocol=2)
        i = 0
        while not stop.is_set():
            if (value := other.lpop(QUEUE)) is not None:
                popped.append(value)
            pushed.append(f"new-{i}".encode())
            other.rpush(QUEUE, pushed[-1])
            i += 1

    thread = threading.Thread(target=consume_and_produce)
    thread.start()
    try:
        out = adm.purge_queue(QUEUE)
    finally:
        stop.set()
        thread.join()
    journal = adm._journal()
    entry = journal.find(out.journal_id)
    removed = [decode_value(rec["value"]) for c in entry["chunks"].values() if c["status"] == "applied"
               for rec in journal.chunk_values(c)[int(c["result"][1]):]]  # from offset: the rest was popped
    left = r.lrange(QUEUE, 0, -1)
    everything = popped + removed + left
    assert sorted(everything) == sorted(original + pushed)  # nothing lost, nothing duplicated
    assert len(removed) == out.removed and popped  # the consumer really interleaved
    adm.undo(out.journal_id)
    assert r.lrange(QUEUE, 0, len(removed) - 1) == removed  # back at the head, in order
    assert sorted(popped + r.lrange(QUEUE, 0, -1)) == sorted(original + pushed)


def test_two_undos_of_one_entry_restore_once(adm: _A, r: redis.Redis, tmp_path) -> None:
    values = [f"v{i}".encode() for i in range(2500)]
    r.rpush(QUEUE, *values)
    out = adm.purge_queue(QUEUE)
    # a second operator (another machine) with a copy of the journal undoes the same entry
    other = _A(r, journal_path=tmp_path / "other.jsonl")
    shutil.copy(adm._journal().path, other._journal().path)
    shutil.copytree(adm._journal().side_dir, other._journal().side_dir)
    adm.undo(out.journal_id)
    with pytest.raises(WriteValidationError, match="already undone"):
        adm.undo(out.journal_id)  # the local journal knows
    with pytest.raises(WriteValidationError, match=r"already undone \(the server holds the undo markers"):
        other.undo(out.journal_id)  # only the server knows
    assert r.lrange(QUEUE, 0, -1) == values
    assert other.journal().iloc[-1]["status"] == "failed"


_UNDO_PROC = """
import sys, redis, json
sys.path.insert(0, {tests!r})
from writes.conftest import _A
from jsadmin.errors import WriteValidationError
from pathlib import Path
url, journal, eid = sys.argv[1:4]
adm = _A(redis.Redis.from_url(url, protocol=2), journal_path=Path(journal))
try:
    print(json.dumps(adm.undo(eid).pushed))
except WriteValidationError as exc:
    print(json.dumps(str(exc)))
"""


def test_two_processes_undoing_one_entry_at_once_restore_once(adm: _A, r: redis.Redis, redis_url: str, tmp_path) -> None:
    values = [f"v{i}".encode() for i in range(20_000)]
    r.rpush(QUEUE, *values)
    out = adm.purge_queue(QUEUE)
    code = _UNDO_PROC.format(tests=str(Path(__file__).parent.parent))
    procs = []
    for k in range(2):
        copy = tmp_path / f"journal-{k}.jsonl"
        shutil.copy(adm._journal().path, copy)
        shutil.copytree(adm._journal().side_dir, Journal(copy).side_dir)
        procs.append(subprocess.Popen([sys.executable, "-c", code, redis_url, str(copy), out.journal_id],
                                      stdout=subprocess.PIPE, text=True))
    results = [json.loads(p.communicate(timeout=120)[0]) for p in procs]
    assert r.lrange(QUEUE, 0, -1) == values  # every value once, in order
    pushed = [x for x in results if isinstance(x, int)]
    assert sum(pushed) == len(values), results  # the chunks were split between them, never doubled


def test_undo_accepts_an_id_a_journal_row_or_an_entry_dict(adm: _A, r: redis.Redis) -> None:
    for form in ("id", "row", "dict"):
        r.rpush(QUEUE, "a", "b")
        out = adm.purge_queue(QUEUE)
        row = adm.journal().set_index("id", drop=False).loc[out.journal_id]
        arg = {"id": out.journal_id, "row": row, "dict": row["entry"]}[form]
        assert adm.undo(arg).pushed == 2
        assert r.lrange(QUEUE, 0, -1) == [b"a", b"b"]
        r.delete(QUEUE)


def test_dry_run_plans_show_the_chunks(adm: _A, r: redis.Redis) -> None:
    r.rpush(QUEUE, *[f"v{i}" for i in range(2500)])
    r.config_resetstat()
    plan = adm.purge_queue(QUEUE, dry_run=True)
    assert [c[:2] for c in plan.commands] == [("LRANGE", QUEUE), ("LTRIM", QUEUE)] * 3
    assert [c[2:] for c in plan.commands[1::2]] == [(1000, -1), (1000, -1), (500, -1)]
    assert plan.result == {"key": QUEUE, "removed": 2500, "chunks": 3} and writes_seen(r) == set()
    out = adm.purge_queue(QUEUE)
    assert out.chunks == 3
    r.rpush(QUEUE, "newer")
    plan = adm.undo(out.journal_id, dry_run=True)
    assert len(plan) == 2500 and plan.commands[0] == ("LPUSH", QUEUE, b"v2499")
    assert "undo:" + out.journal_id + ":2" in plan.notes[0] and r.llen(QUEUE) == 1


# -- issue 9 item 7: every key form the readers read ------------------------------------------
def test_cancel_and_requeue_on_documented_key_forms(adm: _A, r: redis.Redis, redis_url: str) -> None:
    _enqueue(adm, 3)
    r.rename(QUEUE, "commands:queue:1:5")  # the documented form (spec §3, seed table)
    admin = jsadmin.connect(redis_url)
    queued = admin.load("command_queues")
    assert set(queued["key"]) == {"commands:queue:1:5"}
    out = adm.cancel_jobs([queued["guid"].iloc[0]])  # by guid: found under the documented form
    assert out.frame["removed"].tolist() == [True, True] and r.llen("commands:queue:1:5") == 2
    out = adm.cancel_jobs(admin.load("command_queues").head(1))  # from a frame
    assert out.frame["removed"].tolist() == [True, True] and r.llen("commands:queue:1:5") == 1
    # a wait=True result under the documented jobqueue:<guid> form is cloned
    job = json.loads(r.lindex("commands:queue:1:5", 0)) | {"state": "ERROR"}
    r.rpush(f"jobqueue:{job['guid']}", json.dumps(job))
    r.hdel("jobs:1", job["guid"])
    results = admin.load("job_results")
    assert results["key"].tolist() == [f"jobqueue:{job['guid']}"]
    assert adm.requeue_jobs(results).frame["source_guid"].tolist() == [job["guid"]]


def test_requeue_skips_an_expired_result_with_a_note(adm: _A, r: redis.Redis, redis_url: str) -> None:
    frame = _enqueue(adm, 3, wait=True)
    r.delete(QUEUE)
    for guid in frame["guid"]:
        job = json.loads(r.hget("jobs:1", guid)) | {"state": "ERROR"}
        r.hdel("jobs:1", guid)
        r.rpush(f"queues:jobqueue:{guid}", json.dumps(job))
    failed = jsadmin.connect(redis_url).load("job_results", state="ERROR")
    assert len(failed) == 3
    r.delete(f"queues:jobqueue:{frame['guid'][1]}")  # its 60 s TTL ran out meanwhile
    out = adm.requeue_jobs(failed)
    assert sorted(out.frame["source_guid"]) == sorted([frame["guid"][0], frame["guid"][2]])
    assert out.not_found == (frame["guid"][1],) and frame["guid"][1] in out.note
    plan = adm.requeue_jobs(failed, dry_run=True)
    assert plan.warnings == [out.note]


def test_requeue_reads_every_worker_job_form(adm: _A, r: redis.Redis) -> None:
    frame = _enqueue(adm, 3)
    jobs_ = [json.loads(r.hget("jobs:1", g)) | {"state": "ERROR"} for g in frame["guid"]]
    r.delete("jobs:1")
    r.set("workers:jobs:11", json.dumps(jobs_[0]))
    r.set("workers:jobs12", json.dumps(jobs_[1]))  # the colon-less form written on wait timeouts
    r.hset("workers:jobs", "13", json.dumps(jobs_[2]))  # the legacy hash form
    sel = pd.DataFrame({"key": ["workers:jobs:11", "workers:jobs12", "workers:jobs"],
                        "field": [None, None, "13"], "guid": list(frame["guid"])})
    assert adm.requeue_jobs(sel).frame["source_guid"].tolist() == list(frame["guid"])


def test_undo_of_an_entry_written_by_an_older_jsadmin(adm: _A, r: redis.Redis) -> None:
    """Single-line entries (every removed value inline, no chunks) are still undone, once."""
    values = [f"v{i}".encode() for i in range(1500)]
    old = {"id": "0" * 32, "time": "2026-01-01T00:00:00.000000+00:00", "helper": "purge_queue", "url": adm.url,
           "commands": [["LRANGE", QUEUE, 0, -1], ["DEL", QUEUE]],
           "removed": [{"type": "list", "key": QUEUE, "position": i, "value": {"text": v.decode()}}
                       for i, v in enumerate(values)],
           "result": {"key": QUEUE, "removed": 1500}, "undo_of": None}
    adm._journal().path.parent.mkdir(parents=True, exist_ok=True)
    adm._journal().path.write_text(json.dumps(old) + "\n")
    assert adm.journal()["removed"].tolist() == [1500]
    assert adm.undo("0" * 32).pushed == 1500
    assert r.lrange(QUEUE, 0, -1) == values
    assert adm.journal().set_index("id").loc["0" * 32, "undone"]


def test_cancel_of_1000_jobs_spread_over_a_100k_queue_keeps_scripts_short(
    adm: _A, r: redis.Redis, redis_url: str
) -> None:
    n = 100_000
    jobs_ = [{"guid": f"{i:032x}", "gid": 1, "nid": 5, "cmd": "echo", "args": {"i": i}, "state": "SCHEDULED"}
             for i in range(n)]
    values = [json.dumps(j).encode() for j in jobs_]
    pipe = r.pipeline(transaction=False)
    for i in range(0, n, 5000):
        pipe.rpush(QUEUE, *values[i:i + 5000])
        pipe.execute_command("HMSET", "jobs:1", *[x for k in range(i, i + 5000) for x in (jobs_[k]["guid"], values[k])])
    pipe.execute()
    queued = jsadmin.connect(redis_url).load("command_queues", limit=None)
    pick = queued[queued["position"] % 100 == 99]  # 1000 jobs, the deepest at position 99,999
    assert len(pick) == 1000
    r.config_set("slowlog-log-slower-than", 1000)
    adm.purge_queue("nothing")  # loads nothing; the first chunk below loads the script
    _reset_stats(r)
    t0 = time.perf_counter()
    out = adm.cancel_jobs(pick)
    took = time.perf_counter() - t0
    durations, _ = _script_stats(r)
    r.config_set("slowlog-log-slower-than", 10_000)
    chunks = len(adm._journal().find(out.journal_id)["chunks"])
    print(f"\ncancel 1000 of 100k: {took:.2f}s, {chunks} chunks, longest script {durations[0] / 1000:.1f} ms")
    assert out.frame["removed"].sum() == 2000 and r.llen(QUEUE) == n - 1000 and r.hlen("jobs:1") == n - 1000
    assert _short_scripts(durations)
    res = adm.undo(out.journal_id)
    assert res.pushed == 1000 and res.restored == 1000
    assert sorted(r.lrange(QUEUE, 0, -1)) == sorted(values) and r.hlen("jobs:1") == n


def test_a_chunk_refused_mid_way_is_reported_and_what_landed_is_journalled(
    adm: _A, r: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another client turns the second queue into a hash after the type check: its chunk is
    refused whole by the script, the first chunk's removals stand, both are in the journal."""
    q2 = "queues:commands:queue:1:6"
    frame = _enqueue(adm, 2)
    frame2 = _enqueue(adm, 2, nid=6)
    monkeypatch.setattr(manage, "CHUNK", 2)
    real_chunk = Journal.chunk

    def chunk_then_race(self: Journal, entry_id: str, n: int, **kw: object) -> None:
        real_chunk(self, entry_id, n, **kw)
        if n == 1:  # the intent of chunk 1 is on disk; now the key changes type
            r.delete(q2)
            r.hset(q2, "x", "y")

    monkeypatch.setattr(Journal, "chunk", chunk_then_race)
    with pytest.raises(PartialWriteError, match=r"removed 2 of 4 values; 2 not removed; 0 unknown") as err:
        adm.cancel_jobs([frame["guid"][0], frame2["guid"][0]])
    out = err.value.result
    assert out.frame["removed"].tolist() == [True, True, False, False] and out.frame["key"].tolist() == [QUEUE, "jobs:1", q2, "jobs:1"]
    assert r.llen(QUEUE) == 1 and r.hlen("jobs:1") == 3 and r.hgetall(q2) == {b"x": b"y"}
    entry = adm._journal().find(out.journal_id)
    assert entry["status"] == "partial"
    assert [c["status"] for c in entry["chunks"].values()] == ["applied", "not_applied"]
    assert "is a hash, not a list" in entry["chunks"][1]["result"]
    monkeypatch.setattr(Journal, "chunk", real_chunk)
    assert adm.undo(out.journal_id).pushed == 1  # only what really landed comes back
    assert r.llen(QUEUE) == 2 and r.hlen("jobs:1") == 4


def test_delete_legacy_worker_jobs_hash_fields(adm: _A, r: redis.Redis, redis_url: str) -> None:
    r.hset("workers:jobs", "13", json.dumps({"id": 13, "guid": "a" * 32, "state": "ERROR"}))
    r.hset("workers:jobs", "14", json.dumps({"id": 14, "guid": "b" * 32, "state": "OK"}))
    rows = jsadmin.connect(redis_url).load("worker_jobs")
    assert sorted(rows["key"]) == ["workers:jobs", "workers:jobs"]
    out = adm.delete_jobs(rows[rows["state"] == "ERROR"])
    assert out.frame["removed"].tolist() == [True] and r.hkeys("workers:jobs") == [b"14"]
    adm.undo(out.journal_id)
    assert sorted(r.hkeys("workers:jobs")) == [b"13", b"14"]


def test_cancel_of_jobs_all_gone_writes_and_journals_nothing(adm: _A, r: redis.Redis) -> None:
    r.config_resetstat()
    out = adm.cancel_jobs(["a" * 32, "b" * 32])
    assert len(out) == 0 and out.journal_id is None and out.not_found == ("a" * 32, "b" * 32)
    assert writes_seen(r) == set() and not adm._journal().path.exists()


def test_a_lost_request_is_fenced_reported_and_a_rerun_completes(
    r: redis.Redis, redis_url: str, journal_file
) -> None:
    values = [f"v{i}".encode() for i in range(30)]
    r.rpush(QUEUE, *values)
    adm = _stalled(redis_url, journal_file)
    _warm(adm, r)
    LoseNextReply.armed.append("request")  # the trim never reaches the server
    with pytest.raises(WriteNotApplied, match="purge_queue removed 0 of 30 values"):
        adm.purge_queue(QUEUE)
    assert r.lrange(QUEUE, 0, -1) == values  # the fenced chunk can never run later
    out = adm.purge_queue(QUEUE)  # "safe to retry"
    assert out.removed == 30 and r.llen(QUEUE) == 0
    LoseNextReply.armed.append("request")
    with pytest.raises(WriteNotApplied, match="run undo again"):
        adm.undo(out.journal_id)
    assert r.get(f"jsadmin:write:undo:{out.journal_id}:0") == b'"fenced"' and r.llen(QUEUE) == 0
    assert adm.undo(out.journal_id).pushed == 30  # walks past the fenced undo:<id>:0 to :0:1
    assert r.exists(f"jsadmin:write:undo:{out.journal_id}:0:1") and r.lrange(QUEUE, 0, -1) == values
    other = _A(r, journal_path=journal_file.with_name("other.jsonl"))  # a second undoer walks the same ids
    shutil.copy(journal_file, other._journal().path)
    with pytest.raises(WriteValidationError, match="already undone"):
        other.undo(out.journal_id)
    assert r.lrange(QUEUE, 0, -1) == values
    frame = _enqueue(adm, 2)
    LoseNextReply.armed.append("request")
    with pytest.raises(WriteNotApplied, match="cancel_jobs removed 0 of 4 values; 4 not removed; 0 unknown"):
        adm.cancel_jobs(frame["guid"].tolist())
    assert adm.cancel_jobs(frame["guid"].tolist()).frame["removed"].tolist() == [True] * 4
    assert r.lrange(QUEUE, 0, -1) == values


def test_a_purge_cut_off_between_chunks_says_what_landed(r: redis.Redis, redis_url: str, journal_file) -> None:
    values = [f"v{i}".encode() for i in range(2500)]
    r.rpush(QUEUE, *values)
    adm = _stalled(redis_url, journal_file)
    LoseNextReply.lranges[:] = [False, True, True, True]  # chunk 0 reads fine; the next window never comes
    with pytest.raises(PartialWriteError, match="purge_queue removed 1000 of 2500 values") as err:
        adm.purge_queue(QUEUE)
    LoseNextReply.lranges.clear()
    assert r.lrange(QUEUE, 0, -1) == values[1000:] and err.value.result.removed == 1000
    entry = adm._journal().find(err.value.result.journal_id)
    assert entry["status"] == "partial" and [c["status"] for c in entry["chunks"].values()] == ["applied"]
    adm.undo(entry["id"])
    assert r.lrange(QUEUE, 0, -1) == values


def test_cancel_refuses_a_selected_queue_that_changed_type_before_reading_it(
    adm: _A, r: redis.Redis, redis_url: str
) -> None:
    _enqueue(adm, 2)
    _enqueue(adm, 2, nid=6)
    sel = jsadmin.connect(redis_url).load("command_queues")  # no raw bytes: the queues are read again
    r.delete("queues:commands:queue:1:6")
    r.hset("queues:commands:queue:1:6", "f", "v")
    before = snapshot(r)
    with pytest.raises(WriteValidationError, match="queues:commands:queue:1:6 is a hash, not a list"):
        adm.cancel_jobs(sel)
    assert snapshot(r) == before
    r.set("queues:commands:queue:1:7", "a stray string matching the queue pattern")
    assert adm.cancel_jobs(sel["guid"].tolist()[:2]).removed == 4  # found by guid, the stray skipped
