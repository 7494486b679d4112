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
