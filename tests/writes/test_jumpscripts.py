"""register_jumpscript: the 20-key PM form, id allocation rules, refusal and RELOAD on replace."""

from __future__ import annotations

import json

import pytest
import redis

from jsadmin.errors import WriteValidationError
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
    assert adm.register_jumpscript("o", "n", SRC, descr="d")["id"] == expected
    assert int(r.get("workers:jumpscriptlastid")) == expected >= 1000001


def test_same_source_reuses_id(adm: _A, r: redis.Redis) -> None:
    a = adm.register_jumpscript("o", "first", SRC, descr="d")
    b = adm.register_jumpscript("o", "second", SRC, descr="d")
    again = adm.register_jumpscript("o", "first", SRC, descr="d")
    assert a["id"] == b["id"] == again["id"] == 1000001
    assert r.get("workers:jumpscriptlastid") == b"1000001"
    c = adm.register_jumpscript("o", "third", SRC2, descr="d")
    assert c["id"] == 1000002


def test_different_source_refused_without_replace(adm: _A, r: redis.Redis) -> None:
    adm.register_jumpscript("o", "n", SRC, descr="d")
    before = snapshot(r)
    with pytest.raises(WriteValidationError, match="replace=True"):
        adm.register_jumpscript("o", "n", SRC2, descr="d")
    with pytest.raises(WriteValidationError, match="replace=True"):
        adm.register_jumpscript("o", "n", SRC2, descr="d", dry_run=True)
    assert snapshot(r) == before


def test_replace_pushes_reload_to_registered_workers(adm: _A, r: redis.Redis) -> None:
    adm.register_jumpscript("o", "n", SRC, descr="d")
    workers = [("default", "0b5c9a1e-3d0f-4b8e-9a51-2f7c6d1e8a90"), ("io", "1c6dab2f-4e10-4c9f-8b62-308d7e2f9ba1")]
    for q, w in workers:
        r.set(f"workers:worker:{q}:{w}", "1")
    r.lpush("workers:action:process:dead-worker", "RESTART")  # a dead worker's list: not registered
    js = adm.register_jumpscript("o", "n", SRC2, descr="d", replace=True)
    assert js["id"] == 1000002 and json.loads(r.hget("workers:jumpscripts:name", "o__n"))["source"] == SRC2
    for q, w in workers:
        assert r.lrange(f"workers:action:{q}:{w}", 0, -1) == [b"RELOAD"]
    assert r.lrange("workers:action:process:dead-worker", 0, -1) == [b"RESTART"]
    assert r.hexists("workers:jumpscripts:id", "1000001")  # old entries stay, like the real PM
    # registering the identical value again changes nothing and reloads nobody
    adm.register_jumpscript("o", "n", SRC2, descr="d")
    assert r.llen(f"workers:action:{workers[0][0]}:{workers[0][1]}") == 1


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"source": "def action(:\n"}, "does not parse"),
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
    args = {"organization": "o", "name": "n", "source": SRC, "descr": "d", **kwargs}
    r.config_resetstat()
    with pytest.raises(WriteValidationError, match=message):
        adm.register_jumpscript(args.pop("organization"), args.pop("name"), args.pop("source"), **args)
    assert r.dbsize() == 0 and writes_seen(r) == set()


def test_dry_run_shows_id_allocation_and_touches_nothing(adm: _A, r: redis.Redis) -> None:
    r.config_resetstat()
    plan = adm.register_jumpscript("o", "n", SRC, descr="d", dry_run=True)
    assert isinstance(plan, WritePlan) and r.dbsize() == 0 and writes_seen(r) == set()
    assert [c[0] for c in plan.commands] == ["SET", "INCR", "HSET", "HSET", "HSET"]
    assert plan.commands[0] == ("SET", "workers:jumpscriptlastid", "1000000")
    assert plan.result["id"] == "<next value of INCR workers:jumpscriptlastid>"
    adm.register_jumpscript("o", "n", SRC, descr="d")
    plan = adm.register_jumpscript("o", "other", SRC, descr="d", dry_run=True)
    assert plan.result["id"] == "1000001" and [c[0] for c in plan.commands] == ["HSET", "HSET"]
