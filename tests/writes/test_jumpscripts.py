"""register_jumpscript: the 20-key PM form, id allocation rules, refusal and RELOAD on replace."""

from __future__ import annotations

import json

import pytest
import redis

from jsadmin.errors import WriteRefused, WriteValidationError
from jsadmin.writes import WritePlan

from .conftest import _A, snapshot, writes_seen

SRC = "descr = 'echo'\n\ndef action(msg='hi'):\n    return msg\n"
SRC2 = "descr = 'echo v2'\n\ndef action(msg='hi'):\n    return msg.upper()\n"
PM_KEYS = {
    "name", "organization", "category", "author", "license", "version", "descr", "roles", "source",
    "path", "queue", "async", "period", "order", "log", "enable", "startatboot", "gid", "id", "timeout",
}


def test_golden_twenty_keys_in_both_hashes(adm: _A, r: redis.Redis) -> None:
    js = adm.register_jumpscript("jumpscale", "echo", SRC, descr="echo back", roles=["node", "*"],
                                 queue="io", period=60, timeout=60.0, gid=1, category="demo.tools")
    assert js["id"] == 1000001
    by_name = r.hget("workers:jumpscripts:name", "jumpscale__echo")
    assert r.hget("workers:jumpscripts:id", "1000001") == by_name
    stored = json.loads(by_name)
    assert set(stored) == PM_KEYS and len(stored) == 20
    assert stored == js
    assert stored["roles"] == ["node"] and stored["path"] is None and stored["source"] == SRC
    assert stored["organization"] == "jumpscale" and stored["category"] == "demo.tools"
    assert stored["async"] is False and stored["timeout"] == 60.0 and stored["gid"] == 1
    assert b'"name":"echo","organization":"jumpscale"' in by_name and by_name.isascii()
    assert r.get("workers:jumpscriptlastid") == b"1000001"
    assert r.hgetall("workers:jumpscripthashes") == {_md5(SRC).encode(): b"1000001"}


def _md5(text: str) -> str:
    import hashlib

    return hashlib.md5(text.encode()).hexdigest()


@pytest.mark.parametrize(("start", "expected"), [(None, 1000001), (b"12", 1000001), (b"999999", 1000001),
                                                  (b"1000000", 1000001), (b"1000500", 1000501)])
def test_id_floor(adm: _A, r: redis.Redis, start, expected) -> None:
    if start is not None:
        r.set("workers:jumpscriptlastid", start)
    assert adm.register_jumpscript("o", "n", SRC, descr="d", gid=1)["id"] == expected
    assert int(r.get("workers:jumpscriptlastid")) == expected >= 1000001


def test_same_source_reuses_id(adm: _A, r: redis.Redis) -> None:
    a = adm.register_jumpscript("o", "first", SRC, descr="d", gid=1)
    b = adm.register_jumpscript("o", "second", SRC, descr="d", gid=1)
    again = adm.register_jumpscript("o", "first", SRC, descr="d", gid=1)
    assert a["id"] == b["id"] == again["id"] == 1000001
    assert r.get("workers:jumpscriptlastid") == b"1000001"
    c = adm.register_jumpscript("o", "third", SRC2, descr="d", gid=1)
    assert c["id"] == 1000002


def test_different_source_refused_without_replace(adm: _A, r: redis.Redis) -> None:
    adm.register_jumpscript("o", "n", SRC, descr="d", gid=1)
    before = snapshot(r)
    with pytest.raises(WriteValidationError, match="replace=True"):
        adm.register_jumpscript("o", "n", SRC2, descr="d", gid=1)
    with pytest.raises(WriteValidationError, match="replace=True"):
        adm.register_jumpscript("o", "n", SRC2, descr="d", gid=1, dry_run=True)
    assert snapshot(r) == before


def test_replace_pushes_reload_to_registered_workers(adm: _A, r: redis.Redis) -> None:
    adm.register_jumpscript("o", "n", SRC, descr="d", gid=1)
    workers = [("default", "0b5c9a1e-3d0f-4b8e-9a51-2f7c6d1e8a90"), ("io", "1c6dab2f-4e10-4c9f-8b62-308d7e2f9ba1")]
    for q, w in workers:
        r.set(f"workers:worker:{q}:{w}", "1")
    r.lpush("workers:action:process:dead-worker", "RESTART")  # a dead worker's list: not registered
    js = adm.register_jumpscript("o", "n", SRC2, descr="d", gid=1, replace=True)
    assert js["id"] == 1000002 and json.loads(r.hget("workers:jumpscripts:name", "o__n"))["source"] == SRC2
    for q, w in workers:
        assert r.lrange(f"workers:action:{q}:{w}", 0, -1) == [b"RELOAD"]
    assert r.lrange("workers:action:process:dead-worker", 0, -1) == [b"RESTART"]
    assert r.hexists("workers:jumpscripts:id", "1000001")  # old entries stay, like the real PM
    # registering the identical value again changes nothing and reloads nobody
    adm.register_jumpscript("o", "n", SRC2, descr="d", gid=1)
    assert r.llen(f"workers:action:{workers[0][0]}:{workers[0][1]}") == 1


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"source": "def action_x():\n    pass\n"}, "no module-level function `action`"),
        ({"source": "x = 1\0\ndef action():\n    pass\n"}, "NUL"),
        ({"source": "def action():\n    pass\n", "descr": None}, "descr is required"),
        ({"name": "a/b"}, "contains '/'"),
        ({"organization": "../../../../etc"}, "contains '/'"),
        ({"organization": ".."}, r"'\.\.'"),
        ({"name": "a\0b"}, r"U\+0000"),
        ({"name": "a\nb"}, r"U\+000A"),
        ({"name": "a b"}, "U\\+0020 SPACE"),
        ({"name": "x" * 100_000}, "100000 characters long; at most 200"),
        ({"name": "ech*"}, "glob character"),
        ({"roles": ["node\n"]}, r"role 'node\\n' contains"),
        ({"roles": ["a:b"]}, "plain role name"),
        ({"queue": "io:x"}, "plain queue name"),
        ({"category": "a\tb"}, "U\\+0009"),
        ({"gid": "one"}, "gid must be an integer"),
        ({"source": "def other():\n    pass\n"}, "no module-level function `action`"),
        ({"source": "class X:\n    def action(self):\n        pass\n"}, "no module-level function `action`"),
        ({"descr": ""}, "descr is required"),
        ({"descr": "   "}, "descr is required"),
        ({"name": ""}, "name must not be empty"),
        ({"organization": "a__b"}, "must not contain '__'"),
        ({"roles": "node"}, "list of role names"),
        ({"async_": "yes"}, "async_ must be True or False"),
    ],
)
def test_validation_errors_write_nothing(adm: _A, r: redis.Redis, kwargs, message) -> None:
    args = {"organization": "o", "name": "n", "source": SRC, "descr": "d", "gid": 1, **kwargs}
    r.config_resetstat()
    with pytest.raises(WriteValidationError, match=message):
        adm.register_jumpscript(args.pop("organization"), args.pop("name"), args.pop("source"), **args)
    assert r.dbsize() == 0 and writes_seen(r) == set()


def test_dry_run_shows_id_allocation_and_touches_nothing(adm: _A, r: redis.Redis) -> None:
    r.config_resetstat()
    plan = adm.register_jumpscript("o", "n", SRC, descr="d", gid=1, dry_run=True)
    assert isinstance(plan, WritePlan) and r.dbsize() == 0 and writes_seen(r) == set()
    assert [c[0] for c in plan.commands] == ["SET", "INCR", "HSET", "HSET", "HSET"]
    assert plan.commands[0] == ("SET", "workers:jumpscriptlastid", "1000000")
    assert plan.result["id"] == "<next value of INCR workers:jumpscriptlastid>"
    adm.register_jumpscript("o", "n", SRC, descr="d", gid=1)
    plan = adm.register_jumpscript("o", "other", SRC, descr="d", gid=1, dry_run=True)
    assert plan.result["id"] == "1000001" and [c[0] for c in plan.commands] == ["HSET", "HSET"]


PY2_SRC = '''from JSModule import j

descr = """
Report the disks of a node (a JumpScale 7 jumpscript: Python 2)
"""
organization = "jumpscale"
category = "monitor.disks"
roles = ["node"]

def action():
    print "checking disks"
    result = {}
    for name, disk in j.system.platform.diskmanager.partitionsFind().iteritems():
        result[name] = disk.free
    return result
'''


def test_python2_jumpscript_is_accepted_byte_exact(adm: _A, r: redis.Redis) -> None:
    js = adm.register_jumpscript("jumpscale", "disks", PY2_SRC, gid=3)
    stored = json.loads(r.hget("workers:jumpscripts:name", "jumpscale__disks"))
    assert stored["source"] == PY2_SRC and stored == js
    assert stored["descr"] == "\nReport the disks of a node (a JumpScale 7 jumpscript: Python 2)\n"


def test_gid_is_written_as_an_int(adm: _A, r: redis.Redis) -> None:
    adm.register_jumpscript("o", "n", SRC, descr="d", gid="7")
    raw = r.hget("workers:jumpscripts:name", "o__n")
    assert b'"gid":7,' in raw and json.loads(raw)["gid"] == 7


def test_gid_comes_from_the_nodes_own_jumpscripts(adm: _A, r: redis.Redis) -> None:
    pm_form = {"name": "exec", "organization": "jumpscale", "gid": 12, "source": "def action():\n    pass\n"}
    r.hset("workers:jumpscripts:name", "jumpscale__exec", json.dumps(pm_form))
    js = adm.register_jumpscript("o", "n", SRC, descr="d")
    assert js["gid"] == 12 and json.loads(r.hget("workers:jumpscripts:name", "o__n"))["gid"] == 12
    plan = adm.register_jumpscript("o", "m", SRC2, descr="d", dry_run=True)
    assert plan.result["gid"] == 12


def test_gid_comes_from_a_single_grid_master(adm: _A, r: redis.Redis) -> None:
    r.hset("jobs:last", "4", "100")
    assert adm.register_jumpscript("o", "n", SRC, descr="d")["gid"] == 4


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        (lambda r: None, "cannot tell this node's grid id"),
        (lambda r: r.execute_command("HMSET", "jobs:last", "1", "5", "2", "9"), "cannot tell this node's grid id"),
        (lambda r: r.execute_command(
            "HMSET", "workers:jumpscripts:name", "a__x", json.dumps({"gid": 1}), "a__y", json.dumps({"gid": 2})),
         r"several grid ids \[1, 2\]"),
    ],
)
def test_unknown_gid_is_refused_clearly(adm: _A, r: redis.Redis, setup, message) -> None:
    setup(r)
    before = snapshot(r)
    with pytest.raises(WriteValidationError, match=message):
        adm.register_jumpscript("o", "n", SRC, descr="d")
    assert snapshot(r) == before


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        (lambda r: r.set("workers:jumpscripts:id", "x"), "workers:jumpscripts:id holds a string, not a hash"),
        (lambda r: r.rpush("workers:jumpscriptlastid", "x"), "workers:jumpscriptlastid holds a list, not a string"),
        (lambda r: r.set("workers:jumpscriptlastid", "abc"), "workers:jumpscriptlastid is not an integer: abc"),
        (lambda r: r.hset("workers:jumpscripthashes", _md5(SRC), "None"), "holds None, not an id"),
    ],
)
def test_preconditions_first_nothing_half_written(adm: _A, r: redis.Redis, setup, message) -> None:
    setup(r)
    before = snapshot(r)
    with pytest.raises(WriteRefused, match=message):
        adm.register_jumpscript("o", "n", SRC, descr="d", gid=1)
    assert snapshot(r) == before


def test_worker_action_of_the_wrong_type_refuses_before_writing(adm: _A, r: redis.Redis) -> None:
    adm.register_jumpscript("o", "n", SRC, descr="d", gid=1)
    r.set("workers:worker:default:w1", "1")
    r.set("workers:action:default:w1", "oops")
    before = snapshot(r)
    with pytest.raises(WriteRefused, match="workers:action:default:w1 holds a string, not a list"):
        adm.register_jumpscript("o", "n", SRC2, descr="d", gid=1, replace=True)
    assert snapshot(r) == before  # old code: both hashes replaced, then the LPUSH failed


def test_lost_reply_registers_once(redis_url: str, r: redis.Redis, journal_file) -> None:
    from jsadmin.writes.scripts import SCRIPTS

    from ._proxy import ReplyDroppingProxy

    r.script_load(SCRIPTS["register_jumpscript"].source)
    r.set("workers:worker:default:w1", "1")
    adm = _A(r, journal_path=journal_file)
    adm.register_jumpscript("o", "n", SRC, descr="d", gid=1)
    proxy = ReplyDroppingProxy(int(redis_url.rsplit(":", 1)[1].split("/")[0]), drop_reply=1)
    try:
        via = _A(redis.Redis.from_url(proxy.url, protocol=2), journal_path=journal_file)
        js = via.register_jumpscript("o", "n", SRC2, descr="d", gid=1, replace=True)
    finally:
        proxy.close()
    assert proxy.dropped == 1 and js["id"] == 1000002
    assert r.lrange("workers:action:default:w1", 0, -1) == [b"RELOAD"]  # one RELOAD, not two
    assert r.get("workers:jumpscriptlastid") == b"1000002"
