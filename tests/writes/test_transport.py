"""The write transport against real servers: markers, send-once, lost replies resolved by fence."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import redis
from redis_servers import ServerFactory

from jsadmin.errors import WriteError, WriteNotApplied, WriteOutcomeUnknown, WriteRefused
from jsadmin.writes.scripts import MARKER_TTL, SCRIPTS, LuaScript, marker_key, new_write_id, resolve

from ._proxy import ReplyDroppingProxy

COUNT = LuaScript.from_body(
    "count",
    "if redis.call('TYPE', KEYS[2]).ok ~= 'none' and redis.call('TYPE', KEYS[2]).ok ~= 'list' then\n"
    "  return refuse(KEYS[2] .. ' is not a list')\nend\n"
    "redis.call('RPUSH', KEYS[2], ARGV[2])\n"
    "return finish({n = redis.call('LLEN', KEYS[2]), v = ARGV[2]})\n",
)


def _port(url: str) -> int:
    return int(url.rsplit(":", 1)[1].split("/")[0])


@pytest.fixture()
def proxy(redis_url: str) -> Iterator[ReplyDroppingProxy]:
    p = ReplyDroppingProxy(_port(redis_url))
    yield p
    p.close()


def _client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, protocol=2)


def test_run_stores_result_in_marker_with_ttl_and_rerun_is_harmless(r: redis.Redis) -> None:
    wid = new_write_id()
    assert COUNT.run(r, ["l"], ["a"], write_id=wid) == {"n": 1, "v": "a"}
    assert json.loads(r.get(marker_key(wid))) == {"n": 1, "v": "a"}
    assert MARKER_TTL - 5 < r.ttl(marker_key(wid)) <= MARKER_TTL
    assert COUNT.run(r, ["l"], ["b"], write_id=wid) == {"n": 1, "v": "a"}  # same id: no second write
    assert r.lrange("l", 0, -1) == [b"a"]


def test_refused_precondition_writes_nothing(r: redis.Redis) -> None:
    r.hset("l", "f", "v")
    wid = new_write_id()
    with pytest.raises(WriteRefused, match="l is not a list; nothing was written") as info:
        COUNT.run(r, ["l"], ["a"], write_id=wid)
    assert info.value.write_id == wid
    assert r.exists(marker_key(wid)) == 0


def test_lost_reply_is_resolved_not_resent(r: redis.Redis, proxy: ReplyDroppingProxy) -> None:
    r.script_load(COUNT.source)  # so the first EVALSHA (whose reply is dropped) runs
    proxy.drop_reply = 1
    client = _client(proxy.url)
    assert COUNT.run(client, ["l"], ["a"]) == {"n": 1, "v": "a"}
    assert proxy.dropped == 1
    assert r.lrange("l", 0, -1) == [b"a"]  # exactly once, although the reply was lost


def test_lost_request_is_fenced_and_a_late_copy_does_nothing(r: redis.Redis, proxy: ReplyDroppingProxy) -> None:
    r.script_load(COUNT.source)
    proxy.drop_request = 1
    wid = new_write_id()
    with pytest.raises(WriteNotApplied, match=r"fenced .*nothing was written; safe to retry"):
        COUNT.run(_client(proxy.url), ["l"], ["a"], write_id=wid)
    assert r.get(marker_key(wid)) == b'"fenced"'
    # the delayed copy of the same write arrives after the fence: it must not write
    late = r.evalsha(COUNT.sha1, 2, marker_key(wid), "l", MARKER_TTL, "a")
    assert late == b'"fenced"'
    assert r.exists("l") == 0
    with pytest.raises(WriteNotApplied):
        COUNT.run(r, ["l"], ["a"], write_id=wid)


def test_unreachable_server_gives_outcome_unknown_then_write_status(r: redis.Redis, proxy: ReplyDroppingProxy) -> None:
    r.script_load(COUNT.source)
    proxy.drop_reply = 1
    proxy.refuse_after_drop = True
    client = _client(proxy.url)
    with pytest.raises(WriteOutcomeUnknown, match="write_status") as info:
        COUNT.run(client, ["l"], ["a"], resolve_timeout=0.5)
    wid = info.value.write_id
    assert wid is not None
    assert resolve(r, [wid]) == [{"n": 1, "v": "a"}]  # it did run; the marker says so
    assert r.lrange("l", 0, -1) == [b"a"]


def test_stream_resolves_each_unanswered_call(r: redis.Redis, proxy: ReplyDroppingProxy) -> None:
    client = _client(proxy.url)
    calls = [(["l"], [str(i)], new_write_id()) for i in range(5)]
    # cut the connection after the first chunk holding an EVALSHA reached the server
    proxy.drop_reply = 1
    outcomes, error = COUNT.stream(client, calls)
    assert error is not None
    landed = r.lrange("l", 0, -1)
    ok = [o for o in outcomes if not isinstance(o, WriteError)]
    failed = [o for o in outcomes if isinstance(o, WriteError)]
    assert len(ok) == len(landed)  # every call reported exactly as Redis has it
    assert all(isinstance(o, WriteNotApplied) for o in failed)
    for (_, args, wid), o in zip(calls, outcomes, strict=True):
        marker = r.get(marker_key(wid))
        if isinstance(o, WriteNotApplied) and marker is not None:
            assert marker == b'"fenced"'
        if not isinstance(o, WriteError):
            assert o["v"] == args[0]


def test_legacy_scripts_still_load() -> None:
    for name in ("purge", "remove_values", "restore"):
        assert SCRIPTS[name].sha1
    assert SCRIPTS["fence"].uses_marker is False


def test_a_server_that_refuses_script_load_gets_nothing_written(tmp_path, redis_factory: ServerFactory) -> None:
    server = redis_factory.start(args=("--rename-command", "SCRIPT", ""))
    try:
        client = _client(server.url)
        with pytest.raises(WriteNotApplied, match="refused SCRIPT LOAD"):
            COUNT.run(client, ["l"], ["a"])
        outcomes, error = COUNT.stream(client, [(["l"], ["b"], new_write_id())])
        assert error is None and isinstance(outcomes[0], WriteNotApplied)
        assert client.exists("l") == 0
        client.close()
    finally:
        server.stop()
