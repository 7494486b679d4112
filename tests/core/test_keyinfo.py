"""Per-key metadata in script batches (:mod:`jsadmin.keyinfo`) and the batched read path built on it.

Every claim is checked against a real server (run it on 2.8.17 too: ``TYPE`` inside Lua is a
status table there) and against the per-key pipelined path, which must give the same frames and
the same problems.
"""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
import pytest
import redis

from jsadmin.catalog import FAMILIES, family
from jsadmin.demogrid import seed_demo
from jsadmin.display.cost import CommandCounter
from jsadmin.keyinfo import KEYINFO_BATCH, family_keyspace, key_info
from jsadmin.reader import read_loaded
from jsadmin.scan import LRANGE_WINDOW, list_pieces, raw_client


def job(guid: str, **fields: Any) -> bytes:
    base = {"guid": guid, "id": 1, "gid": 1, "nid": 5, "cmd": "echo", "state": "SCHEDULED", "timeCreate": 1539600000}
    return json.dumps({**base, **fields}).encode()


def test_type_ttl_value_and_short_lists_in_one_call(r: redis.Redis) -> None:
    r.set("s", "v")
    r.execute_command("SETEX", "t", 100, "x")
    r.rpush("l", *[str(i) for i in range(10)])
    r.rpush("long", *[str(i) for i in range(LRANGE_WINDOW + 1)])
    r.hset("h", "a", "1")
    r.sadd("st", "1", "2")
    raw = raw_client(r)
    with CommandCounter(r) as cost:
        infos = {i.key: i for i in key_info(raw, [b"s", b"t", b"l", b"long", b"h", b"st", b"gone"], ttl=True, sizes=True)}
    assert cost.commands <= 2 and cost.writes == []  # EVALSHA (+ EVAL when not cached yet)
    assert [infos[k].type for k in (b"s", b"l", b"h", b"st", b"gone")] == ["string", "list", "hash", "set", "none"]
    assert infos[b"s"].value == b"v" and infos[b"s"].ttl is None
    assert 90 < infos[b"t"].ttl <= 100 and infos[b"t"].value == b"x"
    assert infos[b"l"].length == 10 and infos[b"l"].first == 0 and infos[b"l"].entries == [str(i).encode() for i in range(10)]
    assert infos[b"long"].length == LRANGE_WINDOW + 1 and infos[b"long"].entries is None  # more than one window
    assert infos[b"h"].length == 1 and infos[b"st"].length == 2
    assert infos[b"gone"].ttl is None and infos[b"gone"].value is None
    tail, head = key_info(raw, [b"l"], limit=3)[0], key_info(raw, [b"l"], limit=3, end="head")[0]
    assert (tail.first, tail.entries) == (7, [b"7", b"8", b"9"])
    assert (head.first, head.entries) == (0, [b"0", b"1", b"2"])
    budget = key_info(raw, [b"l", b"l"], budget=15)  # the second would pass the budget: length only
    assert budget[0].entries is not None and budget[1].entries is None and budget[1].length == 10
    by_bytes = key_info(raw, [b"l", b"l"], budget_bytes=5)  # 10 bytes read by the first: no more lists
    assert by_bytes[0].entries is not None and by_bytes[1].entries is None and by_bytes[1].length == 10


def test_one_command_per_batch_of_keys(r: redis.Redis) -> None:
    n = KEYINFO_BATCH * 2 + 7
    pipe = r.pipeline(transaction=False)
    for i in range(n):
        pipe.set(f"workers:jobs:{i}", job(f"g{i}"))
    pipe.execute()
    raw = raw_client(r)
    key_info(raw, [b"x"])  # cached on the server
    with CommandCounter(r) as cost:
        infos = key_info(raw, [f"workers:jobs:{i}".encode() for i in range(n)], ttl=True)
    assert dict(cost.by_command) == {"evalsha": 3} and all(i.type == "string" for i in infos)


def test_batched_read_equals_the_per_key_read(r: redis.Redis) -> None:
    """Same frames, same problems, same notes: short and long lists mixed (the long ones read in
    windows, in key order among the others), a capped list, strings with a TTL, odd keys."""
    seed_demo(r)
    for i in range(3):
        r.rpush(f"queues:commands:queue:1:{20 + i}", *[job(f"q{i}-{j}") for j in range(5 + i * LRANGE_WINDOW)])
    r.sadd("workers:jobs:991", "not a string")  # worker_jobs is string (or legacy hash): a problem
    r.set("workers:jobs:992", b"{not json")
    raw = raw_client(r)
    for name in FAMILIES:
        for options in ({}, {"limit": 200, "keep": "oldest"}, {"limit": 3}):
            per_key, per_key_info = read_loaded(raw, family(name), **options)
            batched, batched_info = read_loaded(raw, family(name), batched=True, **options)
            ttl = [c for c in per_key.columns if c == "ttl"]
            pd.testing.assert_frame_equal(batched.drop(columns=ttl), per_key.drop(columns=ttl), obj=f"{name} {options}")
            if ttl:
                assert ((batched["ttl"] - per_key["ttl"]).abs().fillna(0) < 5).all()
            assert batched_info.problems == per_key_info.problems, name
            assert batched_info.notes == per_key_info.notes, name
            assert batched_info.truncated == per_key_info.truncated, name
    oops = read_loaded(raw, family("worker_jobs"), batched=True).info.problems
    assert "unexpected Redis type 'set'" in oops[oops["key"] == "workers:jobs:991"]["error"].item()


def test_vanished_key_is_the_same_problem(r: redis.Redis) -> None:
    r.set("workers:jobs:1", job("a"))
    df_info = read_loaded(raw_client(r), family("worker_jobs"), keys=["workers:jobs:1", "workers:jobs:2"], batched=True).info
    p = df_info.problems
    assert p["key"].tolist() == ["workers:jobs:2"]
    assert p["error"].item() == "key vanished before it was read (deleted or expired after it was listed)"


def test_list_pieces_with_known_lengths_keeps_key_order(r: redis.Redis) -> None:
    r.rpush("a", "a0", "a1")
    r.rpush("b", *[f"b{i}" for i in range(LRANGE_WINDOW + 3)])
    r.rpush("c", "c0")
    raw = raw_client(r)
    keys = [b"a", b"b", b"c"]
    infos = key_info(raw, keys)
    known = [(i.length, i.first, i.entries) for i in infos]
    with CommandCounter(r) as cost:
        pieces = list(list_pieces(raw, keys, known=known))
    assert "llen" not in cost.by_command  # the lengths came with the script's answer
    order = [i for i, _, _ in pieces]
    assert order == sorted(order) and set(order) == {0, 1, 2}
    got = {keys[i]: [] for i in range(3)}
    for i, _, vals in pieces:
        got[keys[i]].extend(vals)
    assert got == {key: r.lrange(key, 0, -1) for key in keys}


@pytest.mark.parametrize("extra", [0, 1500])
def test_family_keyspace_is_one_scan_pass(r: redis.Redis, extra: int) -> None:
    seed_demo(r)
    pipe = r.pipeline(transaction=False)
    for i in range(extra):
        pipe.set(f"workers:jobs:{10_000 + i}", job(f"x{i}"))
    pipe.execute()
    raw = raw_client(r)
    names = list(FAMILIES)
    with CommandCounter(r) as cost:
        found = family_keyspace(raw, names)
    assert dict(cost.by_command) == {"scan": cost.by_command["scan"]}
    assert cost.by_command["scan"] <= r.dbsize() // 1000 + 2
    from jsadmin.reader import family_keys

    for name in names:
        assert found[name] == sorted(set(family_keys(raw, family(name))) | {k.encode() for k in family(name).fixed_keys})
