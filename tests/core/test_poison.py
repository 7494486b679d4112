"""Poison-proof reads on real servers: odd values and keys that move under the read.

Each odd value becomes a row of ``problems()`` naming its key and field; the rest of the family
loads; no reader, analytics function, CLI command, fleet, snapshot or recorder raises.

Keys that change while they are read are changed by a second, real client at an exact moment of
the read: :class:`Interfering` runs an action right after a given command of the reader returns.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import redis

import jsadmin
from jsadmin.analytics import (
    error_summary,
    finished_jobs,
    grid_health,
    healthchecks,
    heartbeat_ages,
    latency_summary,
    stale_workers,
    stuck_jobs,
)
from jsadmin.analytics.queues import depth_frame, depths_from_frames
from jsadmin.analytics.recorder import Recorder
from jsadmin.catalog import FAMILIES, family
from jsadmin.loadinfo import LoadInfo
from jsadmin.reader import read_loaded, stream_family
from jsadmin.scan import LRANGE_WINDOW, raw_client

NOW = int(time.time())
DEEP = b"[" * 3000 + b"]" * 3000


def job(guid: str, **fields: Any) -> bytes:
    base: dict[str, Any] = {"guid": guid, "id": 1, "gid": 1, "nid": 5, "cmd": "echo", "category": "jumpscale",
                            "state": "OK", "timeCreate": NOW - 30, "timeStart": NOW - 20, "timeStop": NOW - 10,
                            "args": {"msg": "hi"}, "timeout": 60}
    base.update(fields)
    return json.dumps(base).encode()


def deep_job(guid: str) -> bytes:
    return job(guid).replace(b'{"msg": "hi"}', DEEP)


@pytest.fixture()
def admin(redis_url: str) -> Iterator[jsadmin.Admin]:
    a = jsadmin.connect(redis_url)
    yield a
    a.close()


def problems_of(info: LoadInfo) -> dict[tuple[str, Any], str]:
    p = info.problems
    return {(k, f): e for k, f, e in zip(p["key"], p["field"], p["error"])}


# ------------------------------------------------------------------------------ deep nesting
def test_deep_job_is_one_problem_in_every_reader(r: redis.Redis, admin: jsadmin.Admin, redis_url: str, tmp_path: Path) -> None:
    r.hset("jobs:1", "good", job("good"))
    r.hset("jobs:1", "deep", deep_job("deep"))
    r.rpush("queues:commands:queue:1:5", job("q1", state="SCHEDULED"), deep_job("q2"))
    r.rpush("queues:jobqueue:good", job("good"))
    r.set("workers:jobs:9", deep_job("w9"))
    df, df_info = admin.load_with_info("jobs")
    assert df["field"].tolist() == ["good"]
    assert "nested deeper than 100 levels" in problems_of(df_info)[("jobs:1", "deep")]
    assert problems_of(df_info)[("jobs:1", "deep")] and df_info.problems["raw"].iloc[0] == deep_job("deep")[:200]
    frames = admin.load_all()
    assert len(frames["command_queues"]) == 1 and len(frames["worker_jobs"]) == 0
    found = set(zip(admin.problems()["family"], admin.problems()["key"]))
    assert found == {("jobs", "jobs:1"), ("command_queues", "queues:commands:queue:1:5"), ("worker_jobs", "workers:jobs:9")}
    # every other reader of the same grid
    admin.snapshot(tmp_path / "snap")
    snap = jsadmin.open_snapshot(tmp_path / "snap")
    assert len(snap.load("jobs")) == 1 and len(snap.problems()) == 3
    admin.grid_health()
    admin.errors()
    admin.latency()
    assert Recorder(admin, tmp_path / "rec", interval=1).poll()["jobs"] == 1  # the good final job
    with jsadmin.fleet({"a": redis_url, "b": redis_url}) as f:
        jobs = f.load("jobs")
        assert sorted(jobs["source"].astype(str)) == ["a", "b"]
        assert f.status()["ok"].all()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(jsadmin.__file__).parents[1]), os.environ.get("PYTHONPATH", "")])}
    for argv in (["summary"], ["load", "jobs", "--format", "json"], ["snapshot", str(tmp_path / "cli-snap")]):
        out = subprocess.run([sys.executable, "-m", "jsadmin", *argv, "--url", redis_url],
                             capture_output=True, text=True, timeout=120, env=env)
        assert out.returncode == 0, (argv, out.stderr[-2000:])
        assert "Traceback" not in out.stderr and "RecursionError" not in out.stderr, argv


# ------------------------------------------------------------------------------ numbers and text
def test_out_of_range_numbers_are_reported_never_wrapped(r: redis.Redis, admin: jsadmin.Admin) -> None:
    r.hset("jobs:1", "inf_id", b'{"guid":"a","id":1e400,"gid":1}')
    r.hset("jobs:1", "nan_id", b'{"guid":"b","id":NaN,"nid":Infinity,"gid":1}')
    r.hset("jobs:1", "big_gid", b'{"guid":"c","id":3,"gid":9223372036854775808}')
    r.hset("jobs:1", "beyond_64", b'{"guid":"d","id":-9223372036854775809,"gid":18446744073709551616}')
    r.hset("jobs:1", "max", b'{"guid":"e","id":9223372036854775807,"gid":-9223372036854775808}')
    r.set("workers:joblastid", b"99999999999999999999999")
    r.hset("jobs:last", "1", b"1e400")
    df = admin.load("jobs").set_index("field")
    p = problems_of(admin.load_with_info("jobs").info)
    assert pd.isna(df.loc["inf_id", "id"]) and "column id" in p[("jobs:1", "inf_id")]
    nan_errors = admin.load_with_info("jobs").info.problems.query("field == 'nan_id'")["error"].tolist()
    assert any("NaN where an integer is expected" in e for e in nan_errors)
    assert any("column nid" in e for e in nan_errors)
    assert pd.isna(df.loc["big_gid", "gid"]) and "outside the Int64 range" in p[("jobs:1", "big_gid")]
    assert pd.isna(df.loc["beyond_64", "id"]) and pd.isna(df.loc["beyond_64", "gid"])
    assert df.loc["max", "id"] == 2**63 - 1 and df.loc["max", "gid"] == -(2**63)
    assert df.loc["big_gid", "id"] == 3  # the rest of the value still loads
    raw = admin.load_with_info("jobs").info.problems.query("field == 'big_gid'")["raw"].item()
    assert raw == b"9223372036854775808"  # the offending value, for a field that decoded
    last, last_info = admin.load_with_info("worker_joblastid")
    assert last["value"].isna().all() and "outside the Int64 range" in last_info.problems["error"].item()
    assert "not an integer" in admin.load_with_info("jobs_last").info.problems["error"].item()


def test_text_that_is_not_utf8_is_reported(r: redis.Redis, admin: jsadmin.Admin) -> None:
    r.hset("jobs:1", "bytes", b'{"guid":"a","cmd":"\xff\xfe"}')
    r.hset("jobs:1", "surrogate", b'{"guid":"b","cmd":"x\\ud800","t":NaN}')  # stdlib-parsed
    r.hset("jobs:1", "good", job("g"))
    r.rpush("queues:alerts", b"\xff\xfeguid", b"4b1a")
    df, df_info = admin.load_with_info("jobs")
    assert df["field"].tolist() == ["good"]
    p = problems_of(df_info)
    assert "utf-8" in p[("jobs:1", "bytes")] and "surrogate" in p[("jobs:1", "surrogate")]
    alerts, alerts_info = admin.load_with_info("alerts")
    assert alerts["alert"].tolist() == ["4b1a"]
    assert "not UTF-8" in alerts_info.problems["error"].item()


def test_epochs_in_milliseconds_are_converted_and_impossible_ones_reported(r: redis.Redis, admin: jsadmin.Admin) -> None:
    """JumpScale writes seconds. 1e11..9.2e12 only makes sense as milliseconds (1973..2262): converted.
    Beyond 2262 in both units, NaN and Infinity: reported. 0 and negatives: unset (NaT, no problem)."""
    r.hset("jobs:1", "ms", job("ms", timeCreate=1539600000123))
    r.hset("jobs:1", "s", job("s", timeCreate=1539600000.5))
    r.hset("jobs:1", "far", b'{"guid":"far","timeCreate":1e20}')
    r.hset("jobs:1", "between", b'{"guid":"between","timeCreate":40000000000}')
    r.hset("jobs:1", "unset", b'{"guid":"unset","timeCreate":0,"timeStart":-1}')
    r.hset("workers:heartbeat", "default", str(NOW * 1000))
    r.hset("workers:heartbeat", "io", "1e400")
    df = admin.load("jobs").set_index("field")
    assert df.loc["ms", "timeCreate"] == pd.Timestamp("2018-10-15 10:40:00.123", tz="UTC")
    assert df.loc["s", "timeCreate"] == pd.Timestamp("2018-10-15 10:40:00.5", tz="UTC")
    p = problems_of(admin.load_with_info("jobs").info)
    assert pd.isna(df.loc["far", "timeCreate"]) and "beyond the year 2262" in p[("jobs:1", "far")]
    assert "beyond the year 2262" in p[("jobs:1", "between")]
    assert pd.isna(df.loc["unset", "timeCreate"]) and ("jobs:1", "unset") not in p
    hb, hb_info = admin.load_with_info("worker_heartbeat")
    assert hb.set_index("queue").loc["default", "heartbeat"] == pd.Timestamp(NOW, unit="s", tz="UTC")
    assert "not a finite epoch" in problems_of(hb_info)[("workers:heartbeat", "io")]


# ------------------------------------------------------------------------------ keys that move
class Interfering(redis.Redis):
    """A raw client (no response callbacks) that runs ``action`` once, right after the ``nth``
    reply to ``command`` (also inside pipelines): another client's change lands at that moment."""

    def __init__(self, client: redis.Redis, command: str, action: Callable[[], None], nth: int = 1) -> None:
        super().__init__(connection_pool=raw_client(client).connection_pool)
        self.response_callbacks = type(self.response_callbacks)({})
        self.command, self.action, self.nth, self.seen = command.upper(), action, nth, 0

    def _after(self, names: list[str]) -> None:
        self.seen += sum(1 for n in names if str(n).upper() == self.command)
        if self.seen >= self.nth and self.action is not None:
            action, self.action = self.action, None  # type: ignore[assignment]
            action()

    def execute_command(self, *args: Any, **options: Any) -> Any:
        try:
            return super().execute_command(*args, **options)
        finally:
            self._after([args[0]])

    def pipeline(self, transaction: bool = True, shard_hint: Any = None) -> Any:
        pipe = super().pipeline(transaction, shard_hint)
        execute = pipe.execute

        def run(raise_on_error: bool = True) -> list[Any]:
            names = [c[0][0] for c in pipe.command_stack]
            try:
                return execute(raise_on_error=raise_on_error)
            finally:
                self._after(names)

        pipe.execute = run  # type: ignore[method-assign]
        return pipe


def test_hash_replaced_by_a_string_during_hscan_names_the_key(r: redis.Redis) -> None:
    pipe = r.pipeline(transaction=False)
    for i in range(12000):  # several HSCAN steps
        pipe.hset("jobs:1", f"g{i}", job(f"g{i}"))
    pipe.hset("jobs:2", "other", job("other"))
    pipe.execute()

    def replace() -> None:
        r.delete("jobs:1")
        r.set("jobs:1", "oops")

    raw = Interfering(r, "HSCAN", replace)
    df, df_info = read_loaded(raw, family("jobs"))
    p = df_info.problems
    changed = p[p["key"] == "jobs:1"]["error"].item()
    assert "key changed type while it was read" in changed and "WRONGTYPE" in changed
    assert "fields read before" in changed
    assert (df["key"] == "jobs:2").sum() == 1  # the rest of the family loads
    assert 0 < (df["key"] == "jobs:1").sum() < 12000  # what was read before is kept, and said to be partial


def test_hash_deleted_during_hscan_is_reported(r: redis.Redis) -> None:
    pipe = r.pipeline(transaction=False)
    for i in range(12000):
        pipe.hset("eco:objects", f"k{i}", b'{"guid":"x","state":"NEW"}')
    pipe.execute()
    df_info = read_loaded(Interfering(r, "HSCAN", lambda: r.delete("eco:objects")), family("ecos")).info
    assert "key vanished while it was read" in df_info.problems["error"].item()
    assert df_info.problems["key"].item() == "eco:objects"


def test_keys_deleted_during_a_load_are_each_reported(r: redis.Redis, admin: jsadmin.Admin) -> None:
    n = 2000
    pipe = r.pipeline(transaction=False)
    for i in range(n):
        pipe.set(f"workers:jobs:{i}", job(f"w{i}"))
    pipe.execute()
    gone = [f"workers:jobs:{i}" for i in range(0, n, 3)]
    raw = Interfering(r, "TYPE", lambda: r.delete(*gone))  # after TYPE, before GET: a 60 s TTL expiring
    df, df_info = read_loaded(raw, family("worker_jobs"))
    p = df_info.problems
    assert len(df) == n - len(gone)
    assert sorted(p["key"]) == sorted(gone) and p["error"].str.contains("vanished").all()
    # a key deleted after SCAN but before TYPE (load_all knows types from its own SCAN pass)
    frames_before = admin._keyspace()["worker_jobs"]
    r.delete("workers:jobs:1")
    df, df_info = read_loaded(raw_client(r), family("worker_jobs"), keys=list(frames_before), types=frames_before)
    assert "workers:jobs:1" in set(df_info.problems["key"])


def test_fixed_keys_that_do_not_exist_are_not_problems(admin: jsadmin.Admin) -> None:
    admin.load_all()
    assert admin.problems().empty
    assert admin.load_with_info("jobs", gid=3).info.problems.empty


@pytest.mark.parametrize("popped", [500, 5000, 25000])
def test_list_popped_while_read_returns_each_entry_once(r: redis.Redis, popped: int) -> None:
    """A consumer LPOPs (and a producer RPUSHes) between two pipelined rounds of LRANGE windows."""
    key = "queues:workers:work:default"
    n = 50_000
    entries = [job(f"g{i}", state="SCHEDULED") for i in range(n)]
    for start in range(0, n, 10_000):
        r.rpush(key, *entries[start : start + 10_000])
    new = [job(f"new{i}", state="SCHEDULED") for i in range(300)]

    def consume() -> None:
        pipe = r.pipeline(transaction=False)
        for _ in range(popped):
            pipe.lpop(key)
        pipe.rpush(key, *new)
        pipe.execute()

    df, df_info = read_loaded(Interfering(r, "LRANGE", consume), family("worker_queues"))
    guids = df["guid"].tolist()
    assert len(guids) == len(set(guids)), "an entry was returned twice"
    stayed = {f"g{i}" for i in range(popped, n)} | {f"new{i}" for i in range(300)}
    assert stayed <= set(guids), f"{len(stayed - set(guids))} entries that stayed are missing"
    assert set(guids) <= {f"g{i}" for i in range(n)} | {f"new{i}" for i in range(300)}
    assert df_info.moved == (key,)
    assert "list moved while it was read" in df_info.problems["error"].item()


def test_list_that_did_not_move_reads_exactly(r: redis.Redis) -> None:
    key = "queues:logs"
    r.rpush(key, *[b'{"message":"m%d","level":5}' % i for i in range(LRANGE_WINDOW * 3 + 7)])
    df, df_info = read_loaded(raw_client(r), family("logs"))
    assert df["message"].tolist() == [f"m{i}" for i in range(LRANGE_WINDOW * 3 + 7)]
    assert df["position"].tolist() == list(range(LRANGE_WINDOW * 3 + 7))
    assert not df_info.moved and df_info.problems.empty


# ------------------------------------------------------------------------------ analytics
def test_grid_health_with_one_stale_job_and_nothing_else(r: redis.Redis, admin: jsadmin.Admin) -> None:
    r.hset("jobs:1", "g", job("g", state="STARTED", timeCreate=NOW - 3600, timeout=60))
    health = admin.grid_health()
    assert health["kind"].tolist() == ["job"] and health["status"].astype(str).tolist() == ["error"]
    assert health["component"].item() == "g"


def test_concat_of_slices_of_one_load_keeps_working(r: redis.Redis, admin: jsadmin.Admin) -> None:
    r.hset("jobs:1", "a", job("a"))
    r.hset("jobs:1", "b", b"{broken")
    df = admin.load("jobs")  # the deprecated attrs mirror: compared on concat as one bool, not a frame
    both = pd.concat([df.iloc[:1], df.iloc[:1]])
    assert len(both) == 2 and len(both.attrs["problems"]) == 1
    assert isinstance(pd.concat([df, admin.load("jobs")]), pd.DataFrame)


ANALYTICS: dict[str, Callable[[dict[str, pd.DataFrame]], Any]] = {
    "grid_health": grid_health,
    "healthchecks": healthchecks,
    "heartbeat_ages": heartbeat_ages,
    "stuck_jobs": stuck_jobs,
    "stale_workers": stale_workers,
    "error_summary": error_summary,
    "depths_from_frames": depths_from_frames,
    "finished_jobs": finished_jobs,
    "latency_summary": lambda frames: latency_summary(finished_jobs(frames)),
    "latency_by_node": lambda frames: latency_summary(finished_jobs(frames), by=["nid"], metric="queue_wait"),
}

ONE_ROW = {
    "jobs": [("hset", "jobs:1", "g", job("g", state="STARTED", timeCreate=NOW - 9999))],
    "job_results": [("rpush", "queues:jobqueue:g", job("g"))],
    "worker_jobs": [("set", "workers:jobs:1", job("g", state="ERROR"))],
    "command_queues": [("rpush", "queues:commands:queue:1:5", job("q", state="SCHEDULED", timeCreate=1539600000123))],
    "worker_queues": [("rpush", "queues:system", b'{"state":"SCHEDULED"}')],
    "worker_heartbeat": [("hset", "workers:heartbeat", "default", b"0")],
    "worker_watchdog": [("hset", "workers:watchdog", "worker_x", b"-5")],
    "worker_registry": [("set", "workers:worker:default:w1", b"1")],
    "healthcheck_status": [("hset", "healthcheck:status", "disks", b"maybe")],
    "healthcheck_lastcheck": [("hset", "healthcheck:lastcheck", "disks", b"1e400")],
    "health_status": [("set", "health.status", b"")],
    "ecos": [("hset", "eco:objects", "k", b'{"state":"NEW","occurrences":1e400,"epoch":NaN}')],
}


@pytest.mark.parametrize("case", sorted(ONE_ROW))
def test_every_analytics_function_on_a_nearly_empty_grid(case: str, r: redis.Redis, admin: jsadmin.Admin) -> None:
    for op, key, *rest in ONE_ROW[case]:
        getattr(r, op)(key, *rest)
    frames = admin.load_all()
    for name, fn in ANALYTICS.items():
        out = fn(frames)
        assert isinstance(out, pd.DataFrame), name
    for name, fn in ANALYTICS.items():  # odd inputs: nothing, empty frames, frames without columns
        for odd in ({}, {f: pd.DataFrame() for f in FAMILIES}, {case: frames[case].iloc[0:0]}):
            assert isinstance(fn(odd), pd.DataFrame), (name, odd.keys())
    admin.queue_depths()
    depth_frame([("queues:system", 1, b"[" * 5000), ("queues:system", 2, b'{"timeCreate":1e400}')])


def test_diff_and_snapshot_of_odd_values(r: redis.Redis, admin: jsadmin.Admin, tmp_path: Path) -> None:
    """Ints beyond 64 bits and NaN inside args (kept by the stdlib fallback) through snapshot and diff."""
    r.hset("jobs:1", "a", b'{"guid":"a","id":1e400,"args":{"x":NaN,"big":%d},"timeCreate":1539600000123}' % 2**70)
    r.hset("jobs:1", "deep", deep_job("deep"))
    r.rpush("queues:logs", b"\xff", b'{"message":"x","t":NaN}')
    before = admin.snapshot(tmp_path / "before")
    r.hset("jobs:1", "c", b'{"guid":"c","gid":9223372036854775808}')
    d = jsadmin.diff(jsadmin.open_snapshot(before), admin)
    assert "new_jobs=1" in repr(d)
    assert (d["jobs"]["change"].astype(str) == "added").sum() == 1
    assert jsadmin.open_snapshot(before).load("jobs")["args"].iloc[0]["big"] == 2**70


def test_list_pushed_at_the_head_while_read_returns_each_entry_once(r: redis.Redis) -> None:
    """An LPUSH at the head (e.g. workers:action) shifts the list the other way."""
    key = "queues:eco"
    n = 30_000
    for start in range(0, n, 10_000):
        r.rpush(key, *[b"k%d" % i for i in range(start, start + 10_000)])
    head = [b"h%d" % i for i in range(700)]
    df, df_info = read_loaded(Interfering(r, "LRANGE", lambda: r.lpush(key, *head)), family("eco_queue"))
    seen = df["uniquekey"].tolist()
    assert len(seen) == len(set(seen))
    assert {f"k{i}" for i in range(n)} <= set(seen)
    assert df_info.moved == (key,)


# ------------------------------------------------------------------------------ capped and streamed reads that move
def push_logs(r: redis.Redis, n: int) -> None:
    for start in range(0, n, 10_000):
        r.rpush("queues:logs", *[b'{"message":"m%d","level":5}' % i for i in range(start, min(start + 10_000, n))])


@pytest.mark.parametrize(
    "change, expected",
    [
        ("lpop", [f"m{i}" for i in range(20_000, 30_000)]),  # popped entries were older than the newest 10,000
        ("rpush", [f"m{i}" for i in range(20_300, 30_000)] + [f"new{i}" for i in range(300)]),
    ],
)
def test_newest_entries_of_a_list_that_moves_before_the_first_window(r: redis.Redis, change: str, expected: list[str]) -> None:
    """Between LLEN and the first LRANGE a consumer pops or a producer pushes: the newest N are still
    exactly the newest N at the first window, each once (the tail read starts at a negative index)."""
    push_logs(r, 30_000)

    def move() -> None:
        if change == "lpop":
            pipe = r.pipeline(transaction=False)
            for _ in range(500):
                pipe.lpop("queues:logs")
            pipe.execute()
        else:
            r.rpush("queues:logs", *[b'{"message":"new%d","level":5}' % i for i in range(300)])

    df, df_info = read_loaded(Interfering(r, "LLEN", move), family("logs"), limit=10_000)
    assert df["message"].tolist() == expected
    assert df_info.truncated["queues:logs"]["kept"] == 10_000


@pytest.mark.parametrize("popped", [5_000, 50_000])
def test_newest_entries_of_a_list_popped_while_read(r: redis.Redis, popped: int) -> None:
    """A capped (newest 60,000) read of a queue whose consumer pops between two round trips."""
    push_logs(r, 100_000)

    def consume() -> None:
        pipe = r.pipeline(transaction=False)
        for _ in range(popped):
            pipe.lpop("queues:logs")
        pipe.execute()

    df, df_info = read_loaded(Interfering(r, "LRANGE", consume), family("logs"), limit=60_000)
    assert df["message"].tolist() == [f"m{i}" for i in range(40_000, 100_000)]  # all stayed, each once
    assert df_info.moved == ("queues:logs",)
    assert "list moved while it was read" in df_info.problems["error"].item()


def test_streamed_list_popped_and_pushed_at_the_head_while_read(r: redis.Redis) -> None:
    """stream_family reads a list one window per round trip here: a consumer pops, then a producer
    LPUSHes (worker_actions: newest at the head) between two of them."""
    push_logs(r, 30_000)
    frames: list[pd.DataFrame] = []

    def consume() -> None:
        pipe = r.pipeline(transaction=False)
        for _ in range(700):
            pipe.lpop("queues:logs")
        pipe.execute()

    out = stream_family(Interfering(r, "LRANGE", consume, nth=3), family("logs"), frames.append, batch_rows=1_000)
    seen = pd.concat(frames, ignore_index=True)["message"].tolist()
    assert len(seen) == len(set(seen)), "an entry was returned twice"
    assert {f"m{i}" for i in range(700, 30_000)} <= set(seen)
    assert out.moved == ["queues:logs"] and "list moved" in out.problems[0].error

    key = "workers:action:default:worker_default_0"
    r.rpush(key, *[b"A%d" % i for i in range(10_000)])  # A0 is the newest here (at the head)
    frames.clear()
    raw = Interfering(r, "LRANGE", lambda: r.lpush(key, *[b"B%d" % i for i in range(150)]), nth=2)
    out = stream_family(raw, family("worker_actions"), frames.append, limit=5_000, batch_rows=1_000)
    got = pd.concat(frames, ignore_index=True)["action"].tolist()
    assert got == [f"A{i}" for i in range(5_000)]  # the newest 5,000 when the read began, each once
    assert out.moved == [key] and out.capped[0].kept == 5_000


def test_a_list_that_moves_beyond_the_search_bound_stops_with_a_note(r: redis.Redis, monkeypatch: pytest.MonkeyPatch) -> None:
    """The last entries read are searched for in a bounded number of windows; when a consumer
    popped further than that, the read stops and says so rather than start again at the head
    (which would return entries twice)."""
    monkeypatch.setattr("jsadmin.scan.LIST_RELOCATE_WINDOWS", 2)
    push_logs(r, 50_000)

    def consume() -> None:
        pipe = r.pipeline(transaction=False)
        for _ in range(15_000):
            pipe.lpop("queues:logs")
        pipe.execute()

    df, df_info = read_loaded(Interfering(r, "LRANGE", consume), family("logs"), limit=None)
    seen = df["message"].tolist()
    assert len(seen) == len(set(seen)) and seen == [f"m{i}" for i in range(len(seen))]
    assert df_info.moved == ("queues:logs",)
    assert "list moved too far while it was read to be followed; stopped after" in df_info.problems["error"].item()
