"""Fleet reads in worker processes give what the threads give: frames, problems, status, warnings.

Real redis-servers: the 10 seeded nodes of tests/fleet/conftest.py, one behind a password, one
port nobody listens on, one wrong password, and one node holding a value that does not decode.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import re
import signal
import subprocess
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import redis
from redis_servers import ServerFactory

import jsadmin
from jsadmin.catalog import Family, register, unregister
from jsadmin.fleetpool import AUTO_MIN_SOURCES, Call, Chunk, auto_processes, chunks, usable_cpus
from jsadmin.fleets import Fleet, fleet
from jsadmin.keys import LOGS_QUEUE
from jsadmin.limits import DEFAULT_LIMIT, TruncatedWarning
from jsadmin.loadinfo import Loaded, LoadInfo, ProblemFrame
from jsadmin.snapshot import open_snapshot

FleetServers = Any  # tests/fleet/conftest.py
PASSWORD = "s3cret-fleet-pw"

# Process and thread mode send the same commands through the same Admin: what differs is where the
# decoding runs, not what the server does (thread-mode fleets run on every leg in tests/fleet/).
pytestmark = pytest.mark.version_independent


@pytest.fixture(scope="module")
def broken(redis_factory: ServerFactory) -> Iterator[str]:
    """A seeded node with one job that is not JSON."""
    srv = redis_factory.seeded(seed=42, nodes=1, jobs=20)
    client = redis.Redis.from_url(srv.url, protocol=2)
    client.hset("jobs:1", "deadbeef", b"{not json")
    client.close()
    yield srv.url
    srv.stop()


@pytest.fixture(scope="module")
def targets(servers: FleetServers, broken: str) -> dict[str, str]:
    out = servers.targets()
    out["badauth"] = out["locked"].replace(PASSWORD, "not-the-pw")
    out["broken"] = broken
    return out


@pytest.fixture(scope="module")
def both(targets: dict[str, str]) -> Iterator[tuple[Fleet, Fleet]]:
    procs = fleet(targets, readonly=True, timeout=2, processes=2)
    threads = fleet(targets, readonly=True, timeout=2, processes=0)
    yield procs, threads
    procs.close()
    threads.close()


def _same_loaded(got: Loaded, want: Loaded, what: str) -> None:
    """Equal frames and equal :class:`LoadInfo`: family, problems (dtypes too), capped keys with
    their source, moved lists."""
    pd.testing.assert_frame_equal(got.frame, want.frame, obj=what)
    assert isinstance(got.info, LoadInfo) and isinstance(got.info.problems, ProblemFrame), what
    assert got.info.family == want.info.family, what
    pd.testing.assert_frame_equal(pd.DataFrame(got.info.problems), pd.DataFrame(want.info.problems), obj=f"{what} problems")
    assert got.info.capped == want.info.capped, what
    assert got.info.moved == want.info.moved, what
    assert (got.info.notes, got.info.truncated) == (want.info.notes, want.info.truncated), what


def _same_frame(a: pd.DataFrame, b: pd.DataFrame, what: str) -> None:
    """Equal frames from ``load`` (the deprecated ``attrs`` mirror included)."""
    pd.testing.assert_frame_equal(a, b, obj=what)
    assert a.attrs.keys() == b.attrs.keys(), what
    assert a.attrs.get("family") == b.attrs.get("family"), what
    if "problems" in b.attrs:
        pd.testing.assert_frame_equal(pd.DataFrame(a.attrs["problems"]), pd.DataFrame(b.attrs["problems"]), obj=f"{what} problems")


def _status(f: Fleet) -> pd.DataFrame:
    return f.status().drop(columns=["elapsed"])


def test_load_all_equal_in_processes_and_threads(both: tuple[Fleet, Fleet], targets: dict[str, str]) -> None:
    procs, threads = both
    got, want = procs.load_all(), threads.load_all()
    # the reads really ran in the worker processes: no connection was opened here
    assert procs.processes == 2 and procs._admins == {} and len(threads._admins) == len(targets) - 2
    assert list(got) == list(want) == list(jsadmin.FAMILIES)
    for name in want:
        _same_frame(got[name], want[name], name)
    got_info, want_info = procs.load_all_with_info(), threads.load_all_with_info()
    assert list(got_info) == list(want_info) == list(jsadmin.FAMILIES)
    for name in want_info:
        _same_loaded(got_info[name], want_info[name], name)
    jobs, info = got_info["jobs"]
    assert set(jobs["source"]) == set(targets) - {"down", "badauth"}
    assert info.family == "jobs" and info.problems["source"].tolist() == ["broken"]
    assert info.problems["key"].tolist() == ["jobs:1"]
    assert list(info.problems["source"].cat.categories) == list(targets)
    pd.testing.assert_frame_equal(_status(procs), _status(threads))
    st = procs.status().set_index("source")
    assert st.loc["down", "error"].startswith("ConnectionError") and "refused" in st.loc["down", "error"]
    assert st.loc["badauth", "error"].startswith("AuthenticationError")
    assert (st["operation"] == "load_all").all() and st["elapsed"].between(0, 10).all()
    assert st["ok"].sum() == len(targets) - 2
    text = procs.status().to_string() + repr(procs) + repr(procs.status().to_dict())
    assert PASSWORD not in text and "not-the-pw" not in text
    pd.testing.assert_frame_equal(procs.problems(), threads.problems())
    assert procs.problems()["source"].tolist() == ["broken"]
    # a capped read: capped keys name their source, in both modes
    capped, capped_threads = procs.load_all_with_info(limit=1), threads.load_all_with_info(limit=1)
    for name in capped_threads:
        _same_loaded(capped[name], capped_threads[name], f"{name} limit=1")
    capped_at = {name for name, x in capped.items() if x.info.capped}
    assert capped_at and all({c.source for c in capped[n].info.capped} <= set(targets) for n in capped_at)
    assert len({c.source for n in capped_at for c in capped[n].info.capped}) > 1


def test_load_with_filters_and_families_equal(both: tuple[Fleet, Fleet]) -> None:
    procs, threads = both
    for name, filters in (("jobs", {}), ("jobs", {"gid": 1}), ("command_queues", {"key_role": "node"}),
                          ("worker_heartbeat", {}), ("jobs", {"expand": "args"})):
        got, want = procs.load(name, **filters), threads.load(name, **filters)
        _same_frame(got, want, f"{name} {filters}")
        _same_loaded(procs.load_with_info(name, **filters), threads.load_with_info(name, **filters), f"{name} {filters}")
    assert len(procs.load("jobs", gid=1)) > 0
    pd.testing.assert_frame_equal(procs.families(), threads.families())
    pd.testing.assert_frame_equal(procs.families(wide=True), threads.families(wide=True))
    pd.testing.assert_frame_equal(_status(procs), _status(threads))
    assert (procs.status()["operation"] == "families").all()


def _manifest(path: Path) -> dict[str, Any]:
    """A snapshot's manifest without what differs between two runs (creation time, elapsed seconds)."""
    manifest = json.loads((path / "manifest.json").read_text())
    del manifest["created_at"]
    for row in manifest["status"]:
        del row["elapsed"]
    return manifest


def _files(path: Path) -> list[str]:
    return sorted(str(p.relative_to(path)) for p in path.rglob("*"))


def test_snapshot_written_by_the_workers_equals_the_threaded_one(
    both: tuple[Fleet, Fleet], targets: dict[str, str], tmp_path: Path
) -> None:
    procs, threads = both
    got_path, want_path = procs.snapshot(tmp_path / "procs"), threads.snapshot(tmp_path / "threads")
    # the worker processes read and wrote: no connection was opened in this process
    assert procs.processes == 2 and procs._admins == {}
    assert _files(got_path) == _files(want_path)
    assert _manifest(got_path) == _manifest(want_path)
    assert _manifest(got_path)["answered"] == [s for s in targets if s not in ("down", "badauth")]
    got, want = open_snapshot(got_path), open_snapshot(want_path)
    got_all, want_all = got.load_all_with_info(), want.load_all_with_info()
    assert list(got_all) == list(want_all) and "jobs" in want_all
    for name in want_all:
        _same_loaded(got_all[name], want_all[name], f"snapshot {name}")
    assert len(want_all["jobs"].frame) > 100
    pd.testing.assert_frame_equal(got.families(), want.families())
    # status and problems() report the snapshot's reads, as after a threaded snapshot
    pd.testing.assert_frame_equal(_status(procs), _status(threads))
    assert (procs.status()["operation"] == "snapshot").all()
    pd.testing.assert_frame_equal(procs.problems(), threads.problems())
    assert procs.problems()[["source", "family", "key"]].astype(str).values.tolist() == [["broken", "jobs", "jobs:1"]]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["procs", "threads"]  # no staging leftovers


def test_progress_counts_every_source(both: tuple[Fleet, Fleet], targets: dict[str, str]) -> None:
    procs, _ = both
    calls: list[tuple[int, int]] = []
    procs.progress = lambda done, total: calls.append((done, total))
    try:
        procs.load("jobs_last")
    finally:
        procs.progress = None
    assert calls == [(i, len(targets)) for i in range(1, len(targets) + 1)]


def test_polars_backend_equal(both: tuple[Fleet, Fleet]) -> None:
    pytest.importorskip("polars")
    import polars as pl

    procs, threads = both
    got, want = procs.load("jobs", backend="polars"), threads.load("jobs", backend="polars")
    objects = [c for c in want.columns if want[c].dtype == pl.Object]  # polars compares these by identity
    assert objects and got.schema == want.schema
    assert got.drop(objects).equals(want.drop(objects))
    assert all(got[c].to_list() == want[c].to_list() for c in objects)


def test_problems_follow_the_last_read_as_with_threads(servers: FleetServers, redis_factory: ServerFactory) -> None:
    extra = redis_factory.seeded(seed=7, nodes=1, jobs=20)
    client = redis.Redis.from_url(extra.url, protocol=2)
    try:
        urls = {"good": servers.up["node03"].url, "extra": extra.url}
        procs, threads = fleet(urls, processes=2), fleet(urls, processes=0)
        client.hset("jobs:1", "cafe", b"{not json")
        for f in (procs, threads):
            f.load("jobs")
            f.load("command_queues")
        pd.testing.assert_frame_equal(procs.problems(), threads.problems())
        assert procs.problems()[["source", "family", "key"]].astype(str).values.tolist() == [["extra", "jobs", "jobs:1"]]
        client.hdel("jobs:1", "cafe")  # repaired: the next read of the family has no problem left
        for f in (procs, threads):
            f.load("jobs")
        pd.testing.assert_frame_equal(procs.problems(), threads.problems())
        assert len(procs.problems()) == 0
        procs.close()
    finally:
        client.close()
        extra.stop()


def test_more_processes_than_sources_and_one_process(servers: FleetServers) -> None:
    urls = {n: s.url for n, s in list(servers.up.items())[:3]}
    want = fleet(urls, processes=0).load("jobs")
    want_info = fleet(urls, processes=0).load_with_info("logs", limit=3)
    assert want_info.info.capped  # the info of a capped read, merged from several chunks
    for n in (1, 2, 5):
        f = fleet(urls, processes=n)
        _same_frame(f.load("jobs"), want, f"processes={n}")
        _same_loaded(f.load_with_info("logs", limit=3), want_info, f"logs processes={n}")
        f.close()


def test_no_source_answers(servers: FleetServers) -> None:
    targets = {"down": f"redis://127.0.0.1:{servers.down_port}/0", "down2": f"redis://127.0.0.1:{servers.down_port}/1"}
    got = fleet(targets, processes=2, timeout=1)
    want = fleet(targets, processes=0, timeout=1)
    _same_frame(got.load("jobs"), want.load("jobs"), "jobs")
    _same_loaded(got.load_with_info("jobs"), want.load_with_info("jobs"), "jobs")
    assert got.load_all() == {} == want.load_all()
    assert not got.status()["ok"].any()
    got.close()


def test_default_limit_warning_reaches_the_caller(servers: FleetServers, redis_factory: ServerFactory) -> None:
    big = redis_factory.start()
    try:
        client = redis.Redis.from_url(big.url, protocol=2)
        pipe = client.pipeline(transaction=False)
        for start in range(0, DEFAULT_LIMIT + 5, 20_000):
            pipe.rpush(LOGS_QUEUE, *[b"{}"] * min(20_000, DEFAULT_LIMIT + 5 - start))
        pipe.execute()
        client.close()
        f = fleet({"big": big.url, "small": servers.up["node01"].url}, processes=2)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            logs, info = f.load_with_info("logs")
        assert [w.category for w in caught] == [TruncatedWarning]
        assert "newest 100,000 of 100,005" in str(caught[0].message)
        assert (logs["source"] == "big").sum() == DEFAULT_LIMIT
        assert [(c.source, c.key, c.kept, c.total) for c in info.capped] == [("big", LOGS_QUEUE, DEFAULT_LIMIT, DEFAULT_LIMIT + 5)]
        f.close()
    finally:
        big.stop()


def test_a_hung_instance_times_out_in_a_worker(servers: FleetServers, redis_factory: ServerFactory) -> None:
    hung = redis_factory.start()
    os.kill(hung.process.pid, signal.SIGSTOP)  # accepts TCP (kernel backlog) but never answers
    try:
        f = fleet({"good": servers.up["node01"].url, "hung": hung.url}, timeout=0.5, processes=2)
        frame = f.load("jobs_last")
        st = f.status().set_index("source")
        assert bool(st.loc["good", "ok"]) and not bool(st.loc["hung", "ok"])
        assert "Timeout" in st.loc["hung", "error"] and st.loc["hung", "elapsed"] < 5
        assert set(frame["source"]) == {"good"}
        f.close()
    finally:
        os.kill(hung.process.pid, signal.SIGCONT)
        hung.stop()


def test_chunks_keep_fleet_order_and_hide_urls() -> None:
    targets = [(f"n{i}", f"redis://:{PASSWORD}@h{i}") for i in range(7)]
    parts = chunks(targets, 3)
    assert [len(p) for p in parts] == [3, 3, 1]
    assert [t for p in parts for t in p] == targets
    chunk = Chunk("tok", parts[0], ("n0",), Call("load", "jobs"), True, 1.0, threads=2, secrets=(PASSWORD,))
    assert PASSWORD not in repr(chunk) and PASSWORD not in str(chunk)


def test_auto_uses_processes_only_for_big_fleets() -> None:
    many = [f"redis://10.0.0.{i}" for i in range(AUTO_MIN_SOURCES)]
    assert fleet(many[:AUTO_MIN_SOURCES - 1]).processes == 0
    assert fleet(many).processes == (min(usable_cpus(), 8) if usable_cpus() >= 2 else 0)
    assert auto_processes(1000) <= 8
    assert fleet(many, processes=0).processes == 0
    # a lambda cannot cross a process boundary: "auto" reads with threads, an explicit count refuses
    assert fleet(many, connect=lambda url, **kw: jsadmin.connect(url, **kw)).processes == 0
    with pytest.raises(ValueError, match="module-level connect"):
        Fleet(many, processes=2, connect=lambda url, **kw: jsadmin.connect(url, **kw))
    for bad in (-1, 1.5, True, "many"):
        with pytest.raises(ValueError, match="processes must be"):
            fleet(many, processes=bad)


UPTIME = Family(
    "uptime_test", "string", ("uptime_test:<nid>",), ("uptime_test:*",),
    re.compile(r"uptime_test:(?P<key_nid>\d+)"), "current", "Boot time per node.",
    "epoch", {"booted": "datetime"}, key_columns={"key_nid": "Int64"},
)


def test_families_registered_at_run_time_reach_the_workers(servers: FleetServers) -> None:
    urls = {n: s.url for n, s in list(servers.up.items())[:3]}
    client = redis.Redis.from_url(urls["node02"], protocol=2)
    client.set("uptime_test:7", b"1539600000")
    f = fleet(urls, processes=2)
    try:
        register(UPTIME)
        got = f.load("uptime_test")
        assert got["key_nid"].tolist() == [7] and got["source"].tolist() == ["node02"]
        _same_frame(got, fleet(urls, processes=0).load("uptime_test"), "uptime_test")
        assert list(f.load_all()) == list(jsadmin.FAMILIES)
    finally:
        unregister("uptime_test")
        client.delete("uptime_test:7")
        client.close()
    assert "uptime_test" not in f.load_all()  # the workers forget it too
    f.close()


def test_auto_leaves_a_plain_script_alone(tmp_path: Any) -> None:
    # workers would import an unguarded script again (and redo what it did): auto uses threads there
    code = ("import jsadmin\n"
            "print(jsadmin.fleet([f'redis://10.0.0.{i}' for i in range(20)]).processes)\n")
    script = tmp_path / "plain.py"
    script.write_text(code)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    as_script = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env, check=True)
    as_c = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert as_script.stdout.strip() == "0"
    assert as_c.stdout.strip() == str(min(usable_cpus(), 8) if usable_cpus() >= 2 else 0)


def exit_in_worker(url: str, **options: Any) -> jsadmin.Admin:
    """A connect= that kills any worker process it runs in (and connects normally in the main one)."""
    if mp.current_process().name != "MainProcess":
        os._exit(3)
    return jsadmin.connect(url, **options)


def test_a_dead_worker_falls_back_to_threads(servers: FleetServers) -> None:
    urls = {n: s.url for n, s in list(servers.up.items())[:4]}
    f = Fleet(urls, processes=2, connect=exit_in_worker)
    with pytest.warns(RuntimeWarning, match="worker processes failed"):
        jobs = f.load("jobs")
    assert f.processes == 0 and f.status()["ok"].all()
    _same_frame(jobs, fleet(urls, processes=0).load("jobs"), "jobs")
    f.close()


def test_a_dead_worker_mid_snapshot_leaves_a_whole_snapshot(servers: FleetServers, tmp_path: Path) -> None:
    urls = {n: s.url for n, s in list(servers.up.items())[:4]}
    f = Fleet(urls, processes=2, connect=exit_in_worker)
    with pytest.warns(RuntimeWarning, match="worker processes failed"):
        path = f.snapshot(tmp_path / "snap")
    assert f.processes == 0 and f.status()["ok"].all()
    want = fleet(urls, processes=0).snapshot(tmp_path / "want")
    assert _files(path) == _files(want) and _manifest(path) == _manifest(want)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["snap", "want"]
    f.close()
