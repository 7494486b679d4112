"""Reads are safe on a production Redis: no writes, no KEYS/HGETALL, every command bounded.

Proved against a real server two ways: ``INFO commandstats`` before/after, and ``MONITOR``
capturing every command the loads issue.
"""

from __future__ import annotations

import threading

import pytest
import redis
from redis_servers import commandstats, wait_for

import jsadmin
from jsadmin.demogrid import seed_demo
from jsadmin.scan import HSCAN_COUNT, LRANGE_WINDOW, SCAN_COUNT

READ_COMMANDS = {"scan", "hscan", "sscan", "lrange", "llen", "type", "get", "pttl", "exists", "hlen", "scard", "ping"}
# commands the test itself, the client handshake and INFO use
HOUSEKEEPING = {"info", "client", "hello", "select", "monitor", "command", "auth"}


@pytest.fixture()
def big(r: redis.Redis) -> redis.Redis:
    """The demo grid plus a hash, a list and a set bigger than one bounded read."""
    seed_demo(r)
    job = b'{"guid":"%d","id":%d,"gid":7,"state":"OK","timeCreate":1539600000}'
    pipe = r.pipeline(transaction=False)
    for i in range(HSCAN_COUNT * 2 + 17):
        pipe.hset("jobs:7", str(i), job % (i, i))
    pipe.rpush("queues:logs", *[b'{"message":"m","level":5,"epoch":1539600000}'] * (LRANGE_WINDOW * 2 + 3))
    pipe.sadd("eco:secos", *[f"k{i}" for i in range(3000)])
    pipe.execute()
    return r


def test_reads_never_write_or_use_unbounded_commands(big: redis.Redis, redis_url: str) -> None:
    admin = jsadmin.connect(redis_url)
    before = commandstats(big)
    dirty_before = big.info("persistence")["rdb_changes_since_last_save"]
    admin.families()
    frames = admin.load_all()
    for name in ("jobs", "command_queues", "logs"):
        admin.load(name)
    after = commandstats(big)
    used = {c for c in after if after[c] != before.get(c, 0)}
    assert used - HOUSEKEEPING <= READ_COMMANDS, used - HOUSEKEEPING - READ_COMMANDS
    assert "keys" not in used and "hgetall" not in used and "smembers" not in used
    assert big.info("persistence")["rdb_changes_since_last_save"] == dirty_before  # nothing written
    assert len(frames["jobs"]) >= HSCAN_COUNT * 2 + 17
    assert len(frames["logs"]) >= LRANGE_WINDOW * 2 + 3 and len(frames["eco_secos"]) >= 3000
    admin.close()


def test_every_command_is_bounded(big: redis.Redis, redis_url: str) -> None:
    """MONITOR sees every command: SCANs carry COUNT, LRANGE windows are bounded."""
    watched: list[tuple[str, list[str]]] = []
    t, stop = _watch(redis_url, watched)
    admin = jsadmin.connect(redis_url)
    admin.load_all()
    admin.load("logs", limit=LRANGE_WINDOW + 5)  # the newest N: read from a negative index on
    stop.set()
    big.echo("done")
    t.join(10)
    admin.close()
    seen = [parts for _, parts in watched]
    names = [p[0].upper() for p in seen]
    assert any(p[0].upper() == "LRANGE" and int(p[2]) < 0 for p in seen)
    assert "SCAN" in names and "HSCAN" in names and "LRANGE" in names and "SSCAN" in names
    for parts in seen:
        name = parts[0].upper()
        if name in ("SCAN", "HSCAN", "SSCAN"):
            assert "COUNT" in [p.upper() for p in parts], parts
            count = int(parts[[p.upper() for p in parts].index("COUNT") + 1])
            assert count <= max(SCAN_COUNT, HSCAN_COUNT)
        elif name == "LRANGE":
            start, stop_ = int(parts[2]), int(parts[3])
            assert (0 <= start <= stop_ or start <= stop_ < 0) and stop_ - start + 1 <= LRANGE_WINDOW, parts
        else:
            assert name.lower() in READ_COMMANDS | HOUSEKEEPING | {"echo"}, parts


def _watch(redis_url: str, seen: list[tuple[str, list[str]]]) -> tuple[threading.Thread, threading.Event]:
    """MONITOR in a thread: ``(client type, command parts)`` of every command until ``ECHO`` after ``stop``."""
    ready = threading.Event()
    stop = threading.Event()

    def watch() -> None:
        mon_client = redis.Redis.from_url(protocol=2, url=redis_url)
        with mon_client.monitor() as m:
            ready.set()
            for cmd in m.listen():
                parts = cmd["command"].split(" ")
                seen.append((str(cmd.get("client_type", "")), parts))
                if stop.is_set() and parts[0].upper() == "ECHO":
                    break
        mon_client.close()

    t = threading.Thread(target=watch, daemon=True)
    t.start()
    ready.wait(5)
    probe = redis.Redis.from_url(redis_url, protocol=2)  # MONITOR is on once it reports our ECHO
    wait_for(lambda: probe.echo("monitor?") and any(p[0].upper() == "ECHO" for _, p in seen), what="MONITOR")
    probe.close()
    return t, stop


def test_batched_reads_run_only_read_only_scripts(big: redis.Redis, redis_url: str) -> None:
    """The health board's batched refresh sends EVALSHA/EVAL, of jsadmin's read-only key script only:
    the commands it runs inside the server are reads (commandstats counts them, MONITOR shows them
    as the ``lua`` client), each bounded, and nothing is written."""
    from jsadmin.display.panels.health import collect
    from jsadmin.keyinfo import READ_ONLY_SCRIPTS

    big.script_flush()  # the first call must fall back to EVAL (NOSCRIPT)
    admin = jsadmin.connect(redis_url)
    before = commandstats(big)
    dirty_before = big.info("persistence")["rdb_changes_since_last_save"]
    seen: list[tuple[str, list[str]]] = []
    t, stop = _watch(redis_url, seen)
    collect(admin)
    for name in ("jobs", "worker_jobs", "command_queues", "logs", "eco_secos"):
        admin.load(name, batched=True)
    after = commandstats(big)
    stop.set()
    big.echo("done")
    t.join(10)
    used = {c for c in after if after[c] != before.get(c, 0)}
    assert {"eval", "evalsha"} & used  # Redis < 5 may count an EVALSHA as "eval"
    assert used - HOUSEKEEPING - {"eval", "evalsha", "echo"} <= READ_COMMANDS, used - HOUSEKEEPING - READ_COMMANDS
    assert "keys" not in used and "hgetall" not in used and "smembers" not in used
    assert big.info("persistence")["rdb_changes_since_last_save"] == dirty_before  # nothing written
    admin.close()
    names = [p[0].upper() for _, p in seen]
    assert "EVALSHA" in names and "EVAL" in names
    inside = [p for client, p in seen if client == "lua"]
    assert {p[0].upper() for p in inside} >= {"TYPE", "GET", "PTTL", "LLEN", "LRANGE"}
    for client, parts in seen:
        name = parts[0].upper()
        if name == "EVALSHA":
            assert parts[1].lower() in READ_ONLY_SCRIPTS, parts[:2]
            assert int(parts[2]) <= 200, parts[:3]  # keys per call
        elif name == "EVAL":
            assert "keyinfo: a READ" in " ".join(parts), parts[:3]
        elif name == "LRANGE":
            start, stop_ = int(parts[2]), int(parts[3])
            assert (0 <= start <= stop_ or start <= stop_ < 0) and stop_ - start + 1 <= LRANGE_WINDOW, parts
        elif name in ("SCAN", "HSCAN", "SSCAN"):
            assert "COUNT" in [p.upper() for p in parts], parts
        else:
            assert name.lower() in READ_COMMANDS | HOUSEKEEPING | {"echo"}, (client, parts)


def test_readonly_refuses_writes_before_touching_redis(r: redis.Redis, redis_url: str) -> None:
    admin = jsadmin.connect(redis_url, readonly=True)
    before = commandstats(r)
    with pytest.raises(jsadmin.ReadOnlyError, match="read-only"):
        admin.enqueue_job(1, nid=5, category="jumpscale", cmd="echo")
    with pytest.raises(jsadmin.ReadOnlyError):
        admin.register_jumpscript("jumpscale", "x", "def action():\n    pass\n", descr="x")
    after = commandstats(r)
    assert {c for c in after if after[c] != before.get(c, 0)} <= HOUSEKEEPING
    assert r.dbsize() == 0
    admin.close()
