"""diff() between snapshots and live servers, with changes made by raw redis-py in between."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest
import redis
from redis_servers import ServerFactory, wait_for

import jsadmin
from jsadmin.diffs import FINAL_STATES, JOB_FAMILIES, diff, diff_frames, diff_identity
from jsadmin.embedded import EmbeddedRedis
from jsadmin.fleets import fleet
from jsadmin.snapshot import open_snapshot, snapshot

INFLIGHT = {"SCHEDULED", "STARTED"}


@pytest.fixture()
def server(redis_factory: ServerFactory) -> Iterator[EmbeddedRedis]:
    srv = redis_factory.seeded(seed=5, nodes=2, jobs=40)
    client = redis.Redis.from_url(protocol=2, url=srv.url)
    now = int(time.time())
    client.delete("workers:heartbeat")
    # HMSET: multi-field HSET needs Redis 4.0 and the suite also runs on 2.8
    client.execute_command("HMSET", "workers:heartbeat", "default", now - 100, "io", now - 100, "process", now - 2)
    client.close()
    yield srv
    srv.stop()


def _jobs_by_family(frames: dict[str, pd.DataFrame]) -> dict[str, dict[str, str]]:
    """guid -> {family: state} over every job-bearing family."""
    out: dict[str, dict[str, str]] = {}
    for fam in JOB_FAMILIES:
        for guid, state in zip(frames[fam]["guid"], frames[fam]["state"], strict=True):
            if isinstance(guid, str):
                out.setdefault(guid, {})[fam] = str(state)
    return out


class _TagBalance(HTMLParser):
    VOID = frozenset({"br", "hr", "img", "meta", "input", "col", "wbr"})

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.errors: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack.pop() != tag:
            self.errors.append(tag)


def test_diff_of_two_snapshots_finds_exactly_what_changed(server: EmbeddedRedis, tmp_path: Path) -> None:
    admin = jsadmin.connect(server.url, readonly=True)
    before = open_snapshot(snapshot(admin, tmp_path / "a"))
    frames = before.load_all()
    jobs = _jobs_by_family(frames)
    only_hash = [g for g, fams in jobs.items() if set(fams) == {"jobs"}]
    started = [g for g in only_hash if jobs[g]["jobs"] == "STARTED"]
    g_fin = started[0]
    g_del = next(g for g in only_hash if jobs[g]["jobs"] in INFLIGHT and g != g_fin)
    raw = redis.Redis.from_url(protocol=2, url=server.url)
    job = json.loads(raw.hget("jobs:1", g_fin))
    raw.hset("jobs:1", g_fin, json.dumps({**job, "state": "OK", "timeStop": int(time.time())}))
    raw.hdel("jobs:1", g_del)
    g_new, g_q = "a" * 32, "b" * 32
    raw.hset("jobs:1", g_new, json.dumps({**job, "guid": g_new, "state": "SCHEDULED"}))
    queue = "queues:commands:queue:1:2"
    depth = raw.llen(queue)
    raw.rpush(queue, json.dumps({**job, "guid": g_q, "state": "SCHEDULED"}))
    raw.hset("workers:heartbeat", "io", int(time.time()))
    raw.hincrby("jobs:last", "1", 1)
    raw.close()
    after = open_snapshot(snapshot(admin, tmp_path / "b"))

    d = diff(before, after)
    moved = d.summary(all_families=False).set_index("family")[["added", "removed", "changed"]]
    assert moved.to_dict("index") == {
        "jobs_last": {"added": 0, "removed": 0, "changed": 1},
        "jobs": {"added": 1, "removed": 1, "changed": 1},
        "command_queues": {"added": 1, "removed": 0, "changed": 0},
        "worker_heartbeat": {"added": 0, "removed": 0, "changed": 1},
    }
    assert len(d.summary()) == len(jsadmin.FAMILIES)
    rows = d["jobs"].set_index("guid")
    assert rows.loc[g_new, "change"] == "added" and rows.loc[g_del, "change"] == "removed"
    assert rows.loc[g_fin, "change"] == "changed"
    assert set(rows.loc[g_fin, "changed"]) == {"state", "timeStop"}
    assert rows.loc[g_fin, "before"]["state"] == "STARTED"
    (old_values,) = d["jobs_last"]["before"].tolist()
    ((column, old_value),) = old_values.items()
    assert d["jobs_last"][column].iloc[0] == old_value + 1

    assert set(d.new_jobs["guid"]) == {g_new, g_q}
    assert dict(zip(d.finished_jobs["guid"], d.finished_jobs["outcome"], strict=True)) == {g_fin: "OK", g_del: "gone"}
    inflight_before = {g for g, fams in jobs.items() if any(s in INFLIGHT for s in fams.values())}
    final_before = {g for g, fams in jobs.items() if any(s in FINAL_STATES for s in fams.values())}
    in_both = inflight_before - final_before - {g_fin, g_del}
    created: dict[str, pd.Timestamp] = {}
    timeout: dict[str, float] = {}
    for fam in JOB_FAMILIES:
        df = frames[fam]
        when = pd.to_datetime(df["timeCreate"], utc=True).fillna(pd.to_datetime(df["timeStart"], utc=True))
        for guid, at, tmo in zip(df["guid"], when, df["timeout"], strict=True):
            if guid in in_both and not pd.isna(at):
                created.setdefault(guid, at)
                if not pd.isna(tmo) and tmo > 0:
                    timeout.setdefault(guid, float(tmo))
    late = {g for g in in_both if (before.created_at - created[g]).total_seconds() > timeout.get(g, 600)}
    ancient = {g for g in in_both if after.created_at - created[g] > pd.Timedelta("7D")}
    assert late - ancient and ancient  # the seeded grid has both kinds
    # stuck: in flight in both observations and past its own timeout, but not a leftover
    assert set(d.stuck_jobs["guid"]) == late - ancient
    # past its timeout (the set above is exact); the age shown is rounded to the second, so it may equal it
    assert (d.stuck_jobs["age"] >= d.stuck_jobs["timeout"]).all()
    left = d.leftovers
    assert set(left.loc[left["kind"] == "job", "what"]) == ancient
    assert (left.loc[left["kind"] == "job", "age"] > pd.Timedelta("7D")).all()
    assert d.grown_queues[["family", "key", "before", "after", "growth"]].values.tolist() == [
        ["command_queues", queue, depth, depth + 1, 1]
    ]
    hb = d.stopped_workers[d.stopped_workers["family"] == "worker_heartbeat"]
    assert hb["worker"].tolist() == ["default"]
    # the JS6 watchdog never moves: a leftover, not a stopped worker
    assert "worker_watchdog" not in set(d.stopped_workers["family"])
    watchdog = set(frames["worker_watchdog"]["worker"])
    assert watchdog and set(left.loc[left["family"] == "worker_watchdog", "what"]) == watchdog

    parser = _TagBalance()
    parser.feed(d._repr_html_())
    assert parser.errors == [] and parser.stack == []
    assert "finished jobs" in d._repr_html_() and "new_jobs=2" in repr(d)
    admin.close()


def test_no_change_means_an_empty_diff(server: EmbeddedRedis, tmp_path: Path) -> None:
    admin = jsadmin.connect(server.url, readonly=True)
    snap = open_snapshot(snapshot(admin, tmp_path / "s"))
    for other in (snap, admin, tmp_path / "s"):
        d = diff(snap, other)
        assert d.summary(all_families=False).empty, other
        assert d.new_jobs.empty and d.finished_jobs.empty and d.grown_queues.empty
    admin.close()


def test_fleet_diff_keeps_sources_apart(tmp_path: Path, redis_factory: ServerFactory) -> None:
    # the SAME seed: identical guids on both nodes
    servers = [redis_factory.seeded(seed=1, nodes=1, jobs=30) for _ in range(2)]
    try:
        f = fleet({"a": servers[0].url, "b": servers[1].url})
        before = f.snapshot(tmp_path / "before")
        client = redis.Redis.from_url(protocol=2, url=servers[1].url)
        guid = next(g.decode() for g, _ in client.hscan_iter("jobs:1", count=100))
        client.hdel("jobs:1", guid)
        client.close()
        d = diff(before, f)
        rows = d["jobs"]
        assert rows[["change", "source", "guid"]].values.tolist() == [["removed", "b", guid]]
        assert d.summary(all_families=False)["family"].tolist() == ["jobs"]
        # rows were matched by guid within each source: a typed field, not the frame's attrs
        assert set(d.identity) == set(d.families) and "guid" in d.identity["jobs"]
        assert "source" in d.identity["jobs"] and rows.attrs == {}
    finally:
        for srv in servers:
            srv.stop()


def test_diff_frames_generic_rules() -> None:
    a = pd.DataFrame({"key": ["l", "l", "l"], "position": [0, 1, 2], "value": ["x", "y", "x"]})
    b = pd.DataFrame({"key": ["l", "l"], "position": [0, 1], "value": ["y", "x"]})
    d = diff_frames("a_list", a, b)  # the list was popped from the left: one "x" removed
    assert d[["change", "value"]].values.tolist() == [["removed", "x"]]
    h1 = pd.DataFrame({"key": ["h", "h"], "field": ["f1", "f2"], "n": [1, 2], "ttl": [5.0, 5.0]})
    h2 = pd.DataFrame({"key": ["h", "h"], "field": ["f1", "f2"], "n": [1, 3], "ttl": [1.0, 1.0]})
    assert diff_identity("a_hash", h1, h2) == ["key", "field"]
    d = diff_frames("a_hash", h1, h2)  # ttl moves by itself and is not a change
    assert d[["change", "field", "n"]].values.tolist() == [["changed", "f2", 3]]
    assert d["before"].tolist() == [{"n": 2}]


def test_diff_refuses_other_things() -> None:
    with pytest.raises(TypeError, match="snapshots, Admins or Fleets"):
        diff(1, 2)


def test_seconds_apart_on_a_healthy_grid_nothing_is_stuck_and_leftovers_stay_apart(
    tmp_path: Path, redis_factory: ServerFactory
) -> None:
    """A healthy grid that still holds JumpScale 6 leftovers: jobs running within their timeout,
    fresh heartbeats, a 2014 watchdog and a decade-old in-flight worker copy."""
    srv = redis_factory.start()
    raw = redis.Redis.from_url(protocol=2, url=srv.url)
    try:
        now = int(time.time())
        fresh = {"id": 1, "gid": 1, "nid": 1, "guid": "c" * 32, "category": "jumpscale", "cmd": "sleep",
                 "state": "STARTED", "timeCreate": now - 5, "timeStart": now - 4, "timeStop": 0, "timeout": 60}
        ancient = {**fresh, "id": 2, "guid": "d" * 32, "timeCreate": 1400000000, "timeStart": 1400000001}
        raw.hset("jobs:1", fresh["guid"], json.dumps(fresh))
        raw.set("workers:jobs:7", json.dumps(ancient))
        raw.hset("workers:heartbeat", "default", now)
        raw.execute_command("HMSET", "workers:watchdog", "worker_default_0", 1400000000, "worker_io_0", 0)
        admin = jsadmin.connect(srv.url, readonly=True)
        a = open_snapshot(snapshot(admin, tmp_path / "a"))
        taken = int(time.time())
        wait_for(lambda: int(time.time()) > taken, what="the next second")  # b: a later observation
        raw.hset("workers:heartbeat", "default", int(time.time()))
        b = open_snapshot(snapshot(admin, tmp_path / "b"))
        d = diff(a, b)
        assert d.stuck_jobs.empty
        assert d.stopped_workers.empty
        left = d.leftovers.set_index("what")
        assert left.loc["d" * 32, "kind"] == "job" and left.loc["d" * 32, "age"] > pd.Timedelta(days=3650)
        assert set(left[left["family"] == "worker_watchdog"].index) == {"worker_default_0", "worker_io_0"}
        assert "leftovers=3" in repr(d) and "stuck_jobs=0" in repr(d)
        # the same job past its timeout in both observations is stuck
        late = {**fresh, "timeCreate": now - 120, "timeout": 10}
        raw.hset("jobs:1", fresh["guid"], json.dumps(late))
        c = open_snapshot(snapshot(admin, tmp_path / "c"))
        assert diff(c, admin).stuck_jobs["guid"].tolist() == ["c" * 32]
        assert diff(b, c).stuck_jobs.empty  # within its timeout at b: not stuck yet
        admin.close()
    finally:
        raw.close()
        srv.stop()
