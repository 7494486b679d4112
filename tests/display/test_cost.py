"""CommandCounter counts exactly what a block sends, through any client on the same pool."""

from __future__ import annotations

import redis

from jsadmin.display.cost import CommandCounter, commandstats
from jsadmin.scan import raw_client


def test_counts_single_and_pipelined_commands(r: redis.Redis) -> None:
    r.rpush("l", *range(10))
    with CommandCounter(r) as cost:
        r.llen("l")
        pipe = r.pipeline(transaction=False)
        for i in range(5):
            pipe.lindex("l", i)
        pipe.execute()
        list(r.scan_iter(match="l*", count=100))
    assert cost.by_command["llen"] == 1
    assert cost.by_command["lindex"] == 5
    assert cost.by_command["scan"] >= 1
    assert cost.writes == []
    assert cost.server_commands == cost.commands  # nobody else talks to this server
    assert cost.ms > 0
    assert "LINDEX 5" in cost.summary()


def test_counts_clients_sharing_the_pool_and_uninstalls(r: redis.Redis) -> None:
    raw = raw_client(r)  # how Admin reads
    with CommandCounter(r) as cost:
        raw.execute_command("HSET", "h", "f", "v")
        raw.execute_command("HGET", "h", "f")
    assert dict(cost.by_command) == {"hset": 1, "hget": 1}
    assert cost.writes == ["hset"]
    before = commandstats(r)["hget"]
    r.hget("h", "f")
    assert cost.commands == 2  # nothing counted after the block
    assert commandstats(r)["hget"] == before + 1
    for conn in r.connection_pool._available_connections:
        assert type(conn._command_packer).__name__ != "_CountingPacker"


def test_read_only_scripts_are_not_writes_other_scripts_are(r: redis.Redis) -> None:
    """jsadmin's read-only key script (EVALSHA, or EVAL when not cached) is counted, not as a write;
    any other script still is, since it may write."""
    from jsadmin.keyinfo import KEYINFO_SHA1, key_info

    r.set("s", "v")
    r.script_flush()
    with CommandCounter(r) as cost:
        infos = key_info(raw_client(r), [b"s"])
        infos += key_info(raw_client(r), [b"s"])
    assert [i.value for i in infos] == [b"v", b"v"]
    assert cost.by_command["evalsha"] == 2 and cost.by_command["eval"] == 1  # NOSCRIPT once, then cached
    assert cost.read_scripts == {"evalsha": 2, "eval": 1}
    assert cost.writes == []
    with CommandCounter(r) as cost:
        key_info(raw_client(r), [b"s"])
        r.eval("return redis.call('SET', KEYS[1], 'w')", 1, "s")
        raw_client(r).execute_command("EVALSHA", KEYINFO_SHA1.upper(), 1, "s", "0", "1", -1, "tail", 1, 1, "0", 1)
    assert cost.writes == ["eval"] and r.get("s") == b"w"
    assert cost.read_scripts == {"evalsha": 2}


def test_server_writes_sees_what_a_script_writes_not_what_it_reads(r: redis.Redis) -> None:
    """In ``INFO commandstats`` the server counts each command a script runs under its own name, so a
    writing script shows as its writes and jsadmin's read-only key script as reads only."""
    from jsadmin.display.cost import server_writes
    from jsadmin.keyinfo import key_info

    r.set("s", "v")
    r.rpush("l", "a", "b")

    def delta(fn: object) -> dict[str, int]:
        before = commandstats(r)
        fn()  # type: ignore[operator]
        after = commandstats(r)
        return {c: n - before.get(c, 0) for c, n in after.items() if n != before.get(c, 0)}

    reads = delta(lambda: key_info(raw_client(r), [b"s", b"l", b"gone"], ttl=True))
    assert {"eval", "evalsha"} & set(reads) and reads.get("type") == 3 and reads.get("lrange") == 1
    assert server_writes(reads) == {}
    writes = delta(lambda: r.eval("return redis.call('SET', KEYS[1], 'w')", 1, "s"))
    assert server_writes(writes) == {"set": 1} and r.get("s") == b"w"
