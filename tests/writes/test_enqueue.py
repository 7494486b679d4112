"""enqueue_job / enqueue_jobs against a real redis-server: exact keys, bytes, fields."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest
import redis
from redis_servers import commandstats

from jsadmin.errors import (
    PartialWriteError,
    ReadOnlyError,
    WriteNotApplied,
    WriteRefused,
    WriteValidationError,
)
from jsadmin.writes import WritePlan
from jsadmin.writes.jobs import Batch, enqueue_one, prepare_job
from jsadmin.writes.scripts import SCRIPTS

from ._proxy import ReplyDroppingProxy
from .conftest import _A, snapshot, writes_seen

# Field set of the spec §4.3 queue-entry example, in its order.
SPEC_43_FIELDS = [
    "id", "sessionid", "gid", "nid", "cmd", "wait", "category", "roles", "args", "queue",
    "timeout", "result", "parent", "resultcode", "state", "timeCreate", "timeStart", "timeStop",
    "log", "errorreport", "tags", "guid", "_ckey", "_meta", "jscriptid",
]


def _ordered_keys(raw: bytes) -> list[str]:
    return list(json.loads(raw, object_pairs_hook=lambda pairs: dict(pairs)).keys())


def test_node_job_golden(adm: _A, r: redis.Redis) -> None:
    job = adm.enqueue_job(1, nid=5, category="jumpscale", cmd="echo", args={"msg": "hi"}, wait=True)
    found = sorted(k.decode() for k in r.scan_iter("*"))
    markers = [k for k in found if k.startswith("jsadmin:write:")]
    assert [k for k in found if k not in markers] == ["jobs:1", "jobs:last", "queues:commands:queue:1:5"]
    assert len(markers) == 1 and len(markers[0]) == len("jsadmin:write:") + 32  # the write's marker
    assert json.loads(r.get(markers[0])) == {"first": "1", "n": 1} and 0 < r.ttl(markers[0]) <= 7 * 86400
    assert r.hget("jobs:last", "1") == b"1"
    raw_hash = r.hget("jobs:1", job["guid"])
    assert r.lrange("queues:commands:queue:1:5", 0, -1) == [raw_hash]
    assert _ordered_keys(raw_hash) == SPEC_43_FIELDS
    stored = json.loads(raw_hash)
    assert stored == job
    assert stored["id"] == 1 and stored["gid"] == 1 and stored["nid"] == 5 and stored["roles"] == []
    assert stored["state"] == "SCHEDULED" and stored["wait"] is True and stored["log"] is True
    assert stored["timeStart"] == 0 and stored["timeStop"] == 0 and isinstance(stored["timeCreate"], int)
    assert stored["result"] is None and stored["parent"] is None and stored["resultcode"] is None
    assert stored["_ckey"] == "" and stored["_meta"] == ["system", "job", 1]
    assert stored["jscriptid"] is None and stored["sessionid"] is None and stored["tags"] is None
    assert re.fullmatch(r"[0-9a-f]{32}", stored["guid"])  # 32 lower-case hex digits
    # compact ujson: no spaces outside strings, id spliced first
    assert raw_hash.startswith(b'{"id":1,"sessionid":null,"gid":1,"nid":5,"cmd":"echo","wait":true,')
    assert b", " not in raw_hash and b'": ' not in raw_hash


def test_role_job_goes_to_role_queue_with_null_nid(adm: _A, r: redis.Redis) -> None:
    job = adm.enqueue_job("2", role="node", category="jumpscale", cmd="echo")
    assert r.llen("queues:commands:queue:2:node") == 1
    stored = json.loads(r.lindex("queues:commands:queue:2:node", 0))
    assert stored["nid"] is None and stored["roles"] == ["node"] and stored["gid"] == 2
    assert r.hexists("jobs:2", job["guid"]) and r.hget("jobs:last", "2") == b"1"


def test_hincrby_continues_existing_counter_per_gid(adm: _A, r: redis.Redis) -> None:
    r.execute_command("HMSET", "jobs:last", "1", 41, "7", 3)
    a = adm.enqueue_job(1, nid=1, category="c", cmd="x")
    b = adm.enqueue_job(7, nid=1, category="c", cmd="x")
    c = adm.enqueue_job(1, nid=2, category="c", cmd="x")
    assert (a["id"], b["id"], c["id"]) == (42, 4, 43)
    assert r.hgetall("jobs:last") == {b"1": b"43", b"7": b"4"}


def test_escaping_and_float_precision_are_byte_exact(adm: _A, r: redis.Redis) -> None:
    args = {"path": "/opt/jumpscale7/x", "name": "café ☃", "f": 0.1234567890123, "big": 12345678901234567890,
            "neg": -1.5e-300, "epoch": 1539600000.1234567}
    job = adm.enqueue_job(1, nid=5, category="jumpscale", cmd="echo", args=args)
    raw = r.hget("jobs:1", job["guid"])
    assert b'"path":"\\/opt\\/jumpscale7\\/x"' in raw
    assert b'"name":"caf\\u00e9 \\u2603"' in raw
    assert b'"f":0.1234567890123' in raw and b'"big":12345678901234567890' in raw
    assert b'"epoch":1539600000.1234567' in raw and b'"neg":-1.5e-300' in raw
    assert raw.isascii()
    assert json.loads(raw)["args"] == args


def test_single_enqueue_is_one_round_trip(adm: _A, r: redis.Redis) -> None:
    adm.enqueue_job(1, nid=1, category="c", cmd="warm")  # loads the script
    r.config_resetstat()
    adm.enqueue_job(1, nid=1, category="c", cmd="x")
    calls = commandstats(r)
    assert calls.get("evalsha") == 1 and "eval" not in calls
    # HMSET, not multi-field HSET (Redis 2.8); SET stores the marker
    assert calls.get("hincrby") == 1 and calls.get("hmset") == 1 and calls.get("rpush") == 1
    assert calls.get("set") == 1 and "hset" not in calls


def test_noscript_loads_the_script_and_sends_once_more(adm: _A, r: redis.Redis) -> None:
    r.script_flush()
    r.config_resetstat()
    job = adm.enqueue_job(1, nid=1, category="c", cmd="x")
    calls = commandstats(r)
    assert calls.get("script") == 1 and r.hexists("jobs:1", job["guid"]) and r.hlen("jobs:1") == 1
    r.script_flush()
    frame = adm.enqueue_jobs([{"gid": 1, "nid": 1, "category": "c", "cmd": "y"}] * 3)
    assert frame["id"].tolist() == [2, 3, 4]


def test_dry_run_touches_nothing(adm: _A, r: redis.Redis) -> None:
    r.set("marker", "1")
    r.config_resetstat()
    plan = adm.enqueue_job(1, nid=5, category="jumpscale", cmd="echo", args={"a": 1}, dry_run=True)
    plan2 = adm.enqueue_jobs([{"gid": 1, "role": "node", "category": "c", "cmd": "x"}] * 3, dry_run=True)
    assert isinstance(plan, WritePlan) and isinstance(plan2, WritePlan)
    assert r.dbsize() == 1 and writes_seen(r) == set()
    assert [c[0] for c in plan.commands] == ["HINCRBY", "HSET", "RPUSH"]
    assert plan.commands[0] == ("HINCRBY", "jobs:last", "1", 1)
    assert plan.commands[1][1] == "jobs:1" and plan.commands[2][1] == "queues:commands:queue:1:5"
    assert plan.commands[2][2].startswith('{"id":<next value of HINCRBY jobs:last 1>,"sessionid":null')
    assert plan.result["id"] == "<next value of HINCRBY jobs:last 1>"
    assert len(plan2.commands) == 7 and plan2.commands[0] == ("HINCRBY", "jobs:last", "1", 3)
    frame = plan.to_frame()
    assert frame["command"].tolist() == ["HINCRBY", "HSET", "RPUSH"]
    assert "HINCRBY jobs:last 1 1" in repr(plan) and "nothing written" in repr(plan)


def test_plan_html_is_well_formed(adm: _A) -> None:
    import xml.etree.ElementTree as ET

    plan = adm.enqueue_job(1, nid=5, category="a<b", cmd="x&y", args={"s": "</td>"}, dry_run=True)
    root = ET.fromstring(plan._repr_html_())
    assert root.tag == "div" and len(root.findall(".//tr")) == 4


def test_readonly_refuses_everything_before_touching_redis(r: redis.Redis, journal_file) -> None:
    ro = _A(r, readonly=True, journal_path=journal_file)
    r.config_resetstat()
    calls = [
        lambda: ro.enqueue_job(1, nid=1, category="c", cmd="x"),
        lambda: ro.enqueue_job(1, nid=1, category="c", cmd="x", dry_run=True),
        lambda: ro.enqueue_jobs([{"gid": 1, "nid": 1, "category": "c", "cmd": "x"}]),
        lambda: ro.wait_job("0" * 32, 1),
        lambda: ro.register_jumpscript("o", "n", "def action():\n    pass\n", descr="d"),
        lambda: ro.cancel_jobs(["0" * 32]),
        lambda: ro.purge_queue("queues:commands:queue:1:1"),
        lambda: ro.requeue_jobs(["0" * 32]),
        lambda: ro.delete_jobs(["0" * 32]),
        lambda: ro.undo("x"),
    ]
    for call in calls:
        with pytest.raises(ReadOnlyError, match="read-only"):
            call()
    assert set(commandstats(r)) <= {"config", "info"} and r.dbsize() == 0
    assert not journal_file.exists()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"gid": "one", "nid": 1}, "gid must be an integer"),
        ({"gid": 1.5, "nid": 1}, "gid must be an integer"),
        ({"gid": True, "nid": 1}, "gid must be an integer"),
        ({"gid": 1}, "exactly one of nid"),
        ({"gid": 1, "nid": 1, "role": "node"}, "exactly one of nid"),
        ({"gid": 1, "nid": 1, "args": [1, 2]}, "args must be a dict"),
        ({"gid": 1, "nid": 1, "args": {"x": object()}}, "args is not JSON-serialisable"),
        ({"gid": 1, "nid": 1, "args": {"x": float("nan")}}, "args is not JSON-serialisable"),
        ({"gid": 1, "nid": 1, "tags": {1, 2}}, "tags is not JSON-serialisable"),
        ({"gid": 1, "nid": 1, "wait": "yes"}, "wait must be True or False"),
        ({"gid": 1, "nid": 1, "timeout": -1}, "timeout"),
        ({"gid": 1, "role": "a:b"}, "plain role name"),
        ({"gid": 1, "role": "*"}, "glob character"),
        ({"gid": 1, "role": "node\n"}, r"U\+000A"),
        ({"gid": 1, "role": "no de"}, "U\\+0020 SPACE"),
        ({"gid": 1, "role": "a\0"}, r"U\+0000"),
        ({"gid": 1, "role": "../x"}, "contains '/'"),
        ({"gid": 1, "role": "n" * 201}, "at most 200"),
        ({"gid": 1, "nid": 1, "queue": "io:x"}, "plain queue name"),
    ],
)
def test_validation_errors_write_nothing(adm: _A, r: redis.Redis, kwargs, message) -> None:
    r.config_resetstat()
    with pytest.raises(WriteValidationError, match=message):
        adm.enqueue_job(category="c", cmd="x", **kwargs)
    with pytest.raises(WriteValidationError, match=message):
        adm.enqueue_jobs([{"category": "c", "cmd": "x", **kwargs}])
    assert r.dbsize() == 0 and writes_seen(r) == set()


@pytest.mark.parametrize(("field", "value"), [("category", "a b"), ("cmd", "ec\nho"), ("cmd", "x" * 500),
                                              ("category", "js\0"), ("cmd", "a/b"), ("cmd", "ech?")])
def test_category_and_cmd_that_would_form_another_lookup_are_refused(adm: _A, r: redis.Redis, field, value) -> None:
    args = {"category": "jumpscale", "cmd": "echo", field: value}
    with pytest.raises(WriteValidationError, match=field):
        adm.enqueue_job(1, nid=1, **args)
    assert r.dbsize() == 0


def test_bulk_validation_names_the_job_and_writes_nothing(adm: _A, r: redis.Redis) -> None:
    jobs = [{"gid": 1, "nid": 1, "category": "c", "cmd": "x"}] * 5 + [{"gid": 1, "category": "c", "cmd": "x"}]
    with pytest.raises(WriteValidationError, match="job #5"):
        adm.enqueue_jobs(jobs)
    with pytest.raises(WriteValidationError, match="unknown"):
        adm.enqueue_jobs([{"gid": 1, "nid": 1, "category": "c", "cmd": "x", "colour": "red"}])
    with pytest.raises(WriteValidationError, match="batch_size"):
        adm.enqueue_jobs([{"gid": 1, "nid": 1, "category": "c", "cmd": "x"}], batch_size=0)
    assert r.dbsize() == 0


def test_enqueue_jobs_frame_and_redis_agree(adm: _A, r: redis.Redis) -> None:
    jobs = [
        {"gid": 1 + i % 2, **({"nid": i % 3} if i % 4 else {"role": "node"}), "category": "jumpscale",
         "cmd": "echo", "args": {"i": i}}
        for i in range(2500)
    ]
    frame = adm.enqueue_jobs(jobs, batch_size=300)
    assert list(frame.columns) == [
        "gid", "nid", "role", "id", "guid", "queue_key", "jobs_key", "category", "cmd", "queue", "wait", "timeCreate",
        "write_id", "written",
    ]
    assert frame["written"].all() and frame.groupby("queue_key")["write_id"].nunique().sum() == frame["write_id"].nunique()
    assert str(frame["id"].dtype) == "Int64" and str(frame["timeCreate"].dtype) == "datetime64[ns, UTC]"
    assert len(frame) == 2500 and frame["guid"].is_unique
    for gid in (1, 2):
        ids = sorted(frame.loc[frame.gid == gid, "id"])
        assert ids == list(range(1, 1251)) and r.hget("jobs:last", str(gid)) == b"1250"
        assert r.hlen(f"jobs:{gid}") == 1250
    for key, group in frame.groupby("queue_key"):
        stored = [json.loads(x) for x in r.lrange(key, 0, -1)]
        assert [s["guid"] for s in stored] == group["guid"].tolist()  # input order kept per queue
        assert [s["args"]["i"] for s in stored] == [int(g) for g in group.index]
    for row in frame.sample(50, random_state=1).itertuples():
        stored = json.loads(r.hget(row.jobs_key, row.guid))
        assert stored["id"] == row.id and stored["gid"] == row.gid


def test_enqueue_jobs_accepts_a_dataframe(adm: _A, r: redis.Redis) -> None:
    frame_in = pd.DataFrame(
        {
            "gid": [1, 1, 1],
            "nid": pd.array([5, None, 6], dtype="Int64"),
            "role": [None, "node", None],
            "category": ["jumpscale"] * 3,
            "cmd": ["echo"] * 3,
            "args": [{"a": 1}, None, {"b": "x/y"}],
            "wait": [True, False, True],
            "timeout": [600, 60.5, None],
        }
    )
    out = adm.enqueue_jobs(frame_in)
    assert out["queue_key"].tolist() == [
        "queues:commands:queue:1:5", "queues:commands:queue:1:node", "queues:commands:queue:1:6",
    ]
    stored = [json.loads(r.hget("jobs:1", g)) for g in out["guid"]]
    assert [s["args"] for s in stored] == [{"a": 1}, {}, {"b": "x/y"}]
    assert [s["timeout"] for s in stored] == [600, 60.5, None]
    assert [s["nid"] for s in stored] == [5, None, 6]


def test_prepared_job_text_splices_the_id() -> None:
    job = prepare_job(3, nid=1, category="c", cmd="x", args={"v": 1.0000000001})
    assert job.text(99).startswith('{"id":99,"sessionid":null,"gid":3,')
    assert json.loads(job.text(99))["args"]["v"] == 1.0000000001


def test_bulk_templates_give_the_same_bytes_as_single_jobs() -> None:
    import re

    from jsadmin.writes.jobs import prepare_jobs

    rows = [
        {"gid": 1, "nid": 5, "category": "jumpscale", "cmd": "echo", "args": {"i": 1}},
        {"gid": 1, "nid": 5, "category": "jumpscale", "cmd": "echo", "args": {"i": 2}, "tags": ["a/b"]},
        {"gid": True, "nid": 5, "category": "jumpscale", "cmd": "echo"},  # must not reuse gid=1's template
        {"gid": 1, "nid": 5.0, "category": "jumpscale", "cmd": "echo", "timeout": None},
        {"gid": "1", "role": "node", "category": "jumpscale", "cmd": "echo", "timeout": 1.5, "wait": True,
         "log": False, "errorreport": True, "jscriptid": "jumpscale_echo", "sessionid": "1_5_0_x"},
        {"gid": 1, "nid": 5, "category": "jumpscale", "cmd": "echo", "queue": "io", "jscriptid": 7},
    ]
    with pytest.raises(WriteValidationError, match="job #2: gid must be an integer"):
        prepare_jobs(rows)
    del rows[2]
    bulk = prepare_jobs(rows)
    strip = lambda text: re.sub(r'"timeCreate":\d+', '"timeCreate":0', text)  # noqa: E731
    for row, job in zip(rows, bulk, strict=True):
        single = prepare_job(**row, guid=job.guid)
        assert strip(single.body) == strip(job.body)
        assert (single.queue_key, single.jobs_key) == (job.queue_key, job.jobs_key)
    assert json.loads(bulk[2].text(1))["timeout"] is None and json.loads(bulk[0].text(1))["timeout"] == 600


def test_newlines_and_control_characters_survive_the_payload(adm: _A, r: redis.Redis) -> None:
    args = {"script": "line1\nline2\r\n\tend\u0000", "msg": "a\nb"}
    frame = adm.enqueue_jobs([{"gid": 1, "nid": 1, "category": "c", "cmd": "x", "args": args}] * 3)
    for guid in frame["guid"]:
        raw = r.hget("jobs:1", guid)
        assert b"\n" not in raw and json.loads(raw)["args"] == args and json.loads(raw)["guid"] == guid


def test_failing_batch_is_reported_and_the_others_journalled(adm: _A, r: redis.Redis) -> None:
    r.hset("jobs:last", "2", "not-a-number")  # grid 2's counter is refused before any write
    jobs = [{"gid": g, "nid": 1, "category": "c", "cmd": "x"} for g in (1, 2, 1)]
    with pytest.raises(PartialWriteError, match=r"wrote 2 of 3 jobs; 1 not written; 0 unknown") as info:
        adm.enqueue_jobs(jobs)
    assert r.hlen("jobs:1") == 2 and r.llen("queues:commands:queue:1:1") == 2
    assert not r.exists("jobs:2") and not r.exists("queues:commands:queue:2:1")
    assert r.hget("jobs:last", "2") == b"not-a-number"
    frame = info.value.result
    assert frame["written"].tolist() == [True, False, True] and frame["id"].tolist()[::2] == [1, 2]
    assert pd.isna(frame["id"].iloc[1])
    journal = adm.journal()
    assert journal["helper"].tolist() == ["enqueue_jobs.plan", "enqueue_jobs"]
    plan, entry = journal["result"].tolist()
    assert [b["write_id"] for b in plan["batches"]] == sorted(frame["write_id"].unique(), key=frame["write_id"].tolist().index)
    assert entry["jobs"] == 2 and entry["not_written"] == [frame["write_id"].iloc[1]] and entry["unknown"] == []


# -- faults: preconditions first, lost replies, partial bulk writes (issue 9 items 1, 4, 5) --


def _port(url: str) -> int:
    return int(url.rsplit(":", 1)[1].split("/")[0])


def _job_keys(r: redis.Redis) -> list[bytes]:
    return sorted(k for k in r.scan_iter("*") if not k.startswith(b"jsadmin:write:"))


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        (lambda r: r.hset("queues:commands:queue:1:5", "f", "v"), "queues:commands:queue:1:5 holds a hash, not a list"),
        (lambda r: r.set("jobs:1", "x"), "jobs:1 holds a string, not a hash"),
        (lambda r: r.rpush("jobs:last", "x"), "jobs:last holds a list, not a hash"),
        (lambda r: r.hset("jobs:last", "1", "12abc"), "jobs:last field 1 is not an integer: 12abc"),
        (lambda r: r.hset("jobs:last", "1", "9223372036854775807"), "beyond the ids Lua can count exactly"),
    ],
)
def test_wrong_type_keys_leave_nothing_behind_and_burn_no_id(adm: _A, r: redis.Redis, setup, message) -> None:
    setup(r)
    if r.type("jobs:last") in (b"none", b"hash"):
        r.hset("jobs:last", "7", "41")  # another grid's counter, to see that nothing moves
    before = snapshot(r)
    with pytest.raises(WriteRefused, match=message) as info:
        adm.enqueue_job(1, nid=5, category="c", cmd="x")
    assert snapshot(r) == before  # no orphan in jobs:1, no id burned in jobs:last, no marker
    assert info.value.write_id and not r.exists(f"jsadmin:write:{info.value.write_id}")
    with pytest.raises(PartialWriteError, match="wrote 0 of 2 jobs; 2 not written; 0 unknown"):
        adm.enqueue_jobs([{"gid": 1, "nid": 5, "category": "c", "cmd": "x"}] * 2)
    assert snapshot(r) == before


def test_a_guid_already_present_is_refused(adm: _A, r: redis.Redis) -> None:
    first = adm.enqueue_job(1, nid=5, category="c", cmd="x")
    again = prepare_job(1, nid=5, category="c", cmd="x", guid=first["guid"])
    with pytest.raises(WriteRefused, match=f"jobs:1 already holds job {first['guid']}"):
        enqueue_one(r, again, url="test", journal=adm._journal())
    assert r.hlen("jobs:1") == 1 and r.llen("queues:commands:queue:1:5") == 1 and r.hget("jobs:last", "1") == b"1"


def test_rerun_of_the_same_write_id_enqueues_once(r: redis.Redis) -> None:
    job = prepare_job(1, nid=5, category="c", cmd="x")
    call = Batch(1, job.queue_key, [(0, job)]).call()
    one = SCRIPTS["enqueue"].run(r, call[0], call[1], write_id=call[2])
    two = SCRIPTS["enqueue"].run(r, call[0], call[1], write_id=call[2])
    assert one == two == {"first": "1", "n": 1}
    assert r.hlen("jobs:1") == 1 and r.llen(job.queue_key) == 1 and r.hget("jobs:last", "1") == b"1"


def test_lost_reply_enqueues_exactly_one_job(redis_url: str, r: redis.Redis, journal_file) -> None:
    r.script_load(SCRIPTS["enqueue"].source)  # the EVALSHA whose reply is lost does run
    proxy = ReplyDroppingProxy(_port(redis_url), drop_reply=1)
    try:
        adm = _A(redis.Redis.from_url(proxy.url, protocol=2), journal_path=journal_file)
        job = adm.enqueue_job(1, nid=5, category="c", cmd="x", args={"n": 1})
    finally:
        proxy.close()
    assert proxy.dropped == 1
    assert r.llen("queues:commands:queue:1:5") == 1 and r.hlen("jobs:1") == 1 and r.hget("jobs:last", "1") == b"1"
    assert json.loads(r.lindex("queues:commands:queue:1:5", 0)) == job


def test_lost_request_is_not_applied_and_safe_to_retry(redis_url: str, r: redis.Redis, journal_file) -> None:
    r.script_load(SCRIPTS["enqueue"].source)
    proxy = ReplyDroppingProxy(_port(redis_url), drop_request=1)
    try:
        adm = _A(redis.Redis.from_url(proxy.url, protocol=2), journal_path=journal_file)
        with pytest.raises(WriteNotApplied, match="safe to retry") as info:
            adm.enqueue_job(1, nid=5, category="c", cmd="x")
        assert r.get(f"jsadmin:write:{info.value.write_id}") == b'"fenced"'
        assert _job_keys(r) == []
        assert adm.write_status(info.value.write_id) == {"write_id": info.value.write_id, "applied": False,
                                                         "result": None}
        adm.enqueue_job(1, nid=5, category="c", cmd="x")  # the retry
    finally:
        proxy.close()
    assert r.llen("queues:commands:queue:1:5") == 1 and r.hget("jobs:last", "1") == b"1"


@pytest.mark.parametrize("fault", ["drop_reply", "drop_request"])
def test_bulk_with_a_lost_reply_reports_exactly_what_landed_and_resumes(
    redis_url: str, r: redis.Redis, journal_file, fault: str
) -> None:
    r.script_load(SCRIPTS["enqueue"].source)
    jobs = pd.DataFrame({"gid": 1, "nid": 5, "category": "c", "cmd": "x", "args": [{"i": i} for i in range(3000)]})
    jobs.index = jobs.index + 100  # the result keeps the input's index
    proxy = ReplyDroppingProxy(_port(redis_url), skip=2, **{fault: 1})
    try:
        adm = _A(redis.Redis.from_url(proxy.url, protocol=2), journal_path=journal_file)
        try:
            frame = adm.enqueue_jobs(jobs, batch_size=100)
        except PartialWriteError as exc:
            frame = exc.result
            assert re.search(r"wrote (\d+) of 3000 jobs; (\d+) not written; 0 unknown", str(exc))
    finally:
        proxy.close()
    assert proxy.dropped == 1 and frame.index.equals(jobs.index)
    if fault == "drop_request":  # the batches in the lost chunk and after it never ran
        assert 0 < frame.written.sum() < 3000
    landed = {g.decode(): json.loads(v) for g, v in r.hgetall("jobs:1").items()}
    assert frame.loc[frame.written, "guid"].tolist() == [g for g in frame.guid if g in landed]
    assert set(frame.loc[frame.written, "guid"]) == set(landed)
    for row in frame[frame.written].itertuples():
        assert landed[row.guid]["id"] == row.id
    # resume: the input rows not written, passed back as the docs say
    rest = jobs[~frame.written.to_numpy(bool)]
    adm = _A(r, journal_path=journal_file)
    if len(rest):
        assert adm.enqueue_jobs(rest, batch_size=100)["written"].all()
    queued = [json.loads(x)["args"]["i"] for x in r.lrange("queues:commands:queue:1:5", 0, -1)]
    assert sorted(queued) == list(range(3000)) and r.hget("jobs:last", "1") == b"3000"


def test_unknown_outcomes_are_na_and_write_status_settles_them(redis_url: str, r: redis.Redis, journal_file) -> None:
    r.script_load(SCRIPTS["enqueue"].source)
    proxy = ReplyDroppingProxy(_port(redis_url), drop_reply=1, refuse_after_drop=True)
    jobs = [{"gid": 1, "nid": 5, "category": "c", "cmd": "x", "args": {"i": i}} for i in range(500)]
    adm = _A(redis.Redis.from_url(proxy.url, protocol=2), journal_path=journal_file)
    try:
        with pytest.raises(PartialWriteError, match=r"unknown") as info, pytest.MonkeyPatch.context() as mp:
            mp.setattr("jsadmin.writes.scripts.RESOLVE_TIMEOUT", 0.3)
            adm.enqueue_jobs(jobs, batch_size=50)
    finally:
        proxy.close()
    frame = info.value.result
    unknown = frame[frame.written.isna()]
    assert len(unknown) > 0
    with pytest.raises(ValueError):  # resuming refuses while some outcome is unknown
        frame.written.to_numpy(bool)
    direct = _A(r, journal_path=journal_file)
    for wid in unknown.write_id.unique():
        status = direct.write_status(wid)
        rows = frame[frame.write_id == wid]
        assert status["applied"] == all(r.hexists("jobs:1", g) for g in rows.guid)
        assert status["applied"] or not any(r.hexists("jobs:1", g) for g in rows.guid)


def test_batches_are_cut_by_bytes_too_so_each_script_stays_short(adm: _A, r: redis.Redis) -> None:
    jobs = [{"gid": 1, "nid": 1, "category": "c", "cmd": "x", "args": {"blob": "y" * 10_000, "i": i}}
            for i in range(300)]  # 3 MB of job JSON in one queue, batch_size allows all of it
    r.config_resetstat()
    frame = adm.enqueue_jobs(jobs, batch_size=1000)
    assert frame["written"].all() and frame["write_id"].nunique() == 4  # <= 1 MB per script
    calls = commandstats(r)  # Redis < 5 counts an EVALSHA it propagates as EVAL under "eval"
    assert calls.get("evalsha", 0) + calls.get("eval", 0) == 4
    stored = [json.loads(x)["args"]["i"] for x in r.lrange("queues:commands:queue:1:1", 0, -1)]
    assert stored == list(range(300))


def test_out_of_memory_writes_nothing_and_says_so(adm: _A, r: redis.Redis) -> None:
    adm.enqueue_job(1, nid=5, category="c", cmd="x")
    before = snapshot(r)
    r.config_set("maxmemory-policy", "noeviction")
    r.config_set("maxmemory", 1)  # every write refused from now on
    try:
        with pytest.raises(WriteNotApplied, match=r"OOM|OutOfMemory") as info:
            adm.enqueue_job(1, nid=5, category="c", cmd="x")
        assert not isinstance(info.value, WriteRefused)
        with pytest.raises(PartialWriteError, match="wrote 0 of 3 jobs; 3 not written; 0 unknown"):
            adm.enqueue_jobs([{"gid": 1, "nid": 5, "category": "c", "cmd": "x"}] * 3)
    finally:
        r.config_set("maxmemory", 0)
    assert snapshot(r) == before
