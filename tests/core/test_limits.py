"""Bounded memory: long lists load their newest entries by default, with a note; streaming is exact."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from collections.abc import Iterator

import pandas as pd
import pytest
import redis

import jsadmin
from jsadmin import limits
from jsadmin.catalog import family
from jsadmin.limits import DEFAULT_LIMIT, TruncatedWarning
from jsadmin.reader import read_family, read_loaded, stream_family
from jsadmin.scan import raw_client


def log(i: int) -> bytes:
    return b'{"message":"m%d","level":5,"category":"c","gid":1,"nid":2,"pid":0,"epoch":%d}' % (i, 1539600000 + i)


@pytest.fixture()
def admin(redis_url: str) -> Iterator[jsadmin.Admin]:
    a = jsadmin.connect(redis_url)
    yield a
    a.close()


def push_logs(r: redis.Redis, n: int) -> None:
    for start in range(0, n, 10_000):
        r.rpush("queues:logs", *[log(i) for i in range(start, min(start + 10_000, n))])


def test_logs_load_the_newest_default_limit_with_a_note_and_a_warning(r: redis.Redis, admin: jsadmin.Admin) -> None:
    n = DEFAULT_LIMIT + 25
    push_logs(r, n)  # RPUSH, like logs.lua: the newest record is at the tail
    with pytest.warns(TruncatedWarning, match=r"newest 100,000 of 100,025 entries; pass `limit=None` for all"):
        df, df_info = admin.load_with_info("logs")
    assert len(df) == DEFAULT_LIMIT
    assert df["position"].iloc[0] == 25 and df["position"].iloc[-1] == n - 1  # real list positions
    assert df["message"].iloc[0] == "m25" and df["message"].iloc[-1] == f"m{n - 1}"
    assert df_info.notes == ["queues:logs: newest 100,000 of 100,025 entries; pass `limit=None` for all"]
    assert df_info.truncated == {"queues:logs": {"kept": DEFAULT_LIMIT, "total": n, "keep": "newest"}}
    assert df_info.problems.empty
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        full, full_info = admin.load_with_info("logs", limit=None)
    assert len(full) == n and full["message"].iloc[0] == "m0" and full_info.notes == []
    assert full_info.truncated == {}
    assert full["position"].tolist() == list(range(n))


def test_explicit_limit_and_keep_oldest(r: redis.Redis, admin: jsadmin.Admin) -> None:
    push_logs(r, 10)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a limit the caller chose is noted, not warned about
        newest, newest_info = admin.load_with_info("logs", limit=3)
        oldest, oldest_info = admin.load_with_info("logs", limit=3, keep="oldest")
    assert newest["message"].tolist() == ["m7", "m8", "m9"] and newest["position"].tolist() == [7, 8, 9]
    assert newest_info.notes == ["queues:logs: newest 3 of 10 entries; pass `limit=None` for all"]
    assert oldest["message"].tolist() == ["m0", "m1", "m2"] and oldest["position"].tolist() == [0, 1, 2]
    assert oldest_info.notes == ["queues:logs: oldest 3 of 10 entries; pass `limit=None` for all"]
    assert admin.load("logs", limit=0).empty
    for bad in (-1, 2.5, "10", True):
        with pytest.raises(ValueError, match="limit must be"):
            admin.load("logs", limit=bad)
    with pytest.raises(ValueError, match="keep must be"):
        admin.load("logs", limit=3, keep="middle")


def test_lpush_family_keeps_the_head(r: redis.Redis, admin: jsadmin.Admin) -> None:
    key = "workers:action:default:worker_default_0"
    for action in ("RELOAD", "RELOAD", "RELOAD", "RESTART"):
        r.lpush(key, action)  # scheduleAction LPUSHes: the newest action is at the head
    df, df_info = admin.load_with_info("worker_actions", limit=1)
    assert df["action"].tolist() == ["RESTART"] and df["position"].tolist() == [0]
    assert df_info.notes == [f"{key}: newest 1 of 4 entries; pass `limit=None` for all"]


def test_default_cap_is_per_key_on_queue_families_only(
    r: redis.Redis, admin: jsadmin.Admin, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("jsadmin.reader.DEFAULT_LIMIT", 3)
    job = b'{"guid":"g%d","state":"SCHEDULED","gid":1,"nid":%d}'
    r.rpush("queues:commands:queue:1:5", *[job % (i, 5) for i in range(5)])
    r.rpush("queues:commands:queue:1:6", *[job % (10 + i, 6) for i in range(2)])
    r.rpush("queues:jobqueue:abc", *[job % (20 + i, 7) for i in range(4)])  # job_results: not capped
    with pytest.warns(TruncatedWarning, match="command_queues: queues:commands:queue:1:5: newest 3 of 5"):
        q, q_info = admin.load_with_info("command_queues")
    assert q.groupby("key").size().to_dict() == {"queues:commands:queue:1:5": 3, "queues:commands:queue:1:6": 2}
    assert q[q["key"] == "queues:commands:queue:1:5"]["guid"].tolist() == ["g2", "g3", "g4"]
    assert len(q_info.notes) == 1
    assert len(admin.load("job_results")) == 4
    frames = admin.load_all_with_info(limit=None)
    assert len(frames["command_queues"].frame) == 7 and frames["command_queues"].info.notes == []
    with pytest.warns(TruncatedWarning):
        assert len(admin.load_all()["command_queues"]) == 5


def test_stream_family_frames_concatenate_to_the_full_load(r: redis.Redis, admin: jsadmin.Admin) -> None:
    push_logs(r, 120_001)
    r.rpush("queues:logs", b"{not json")  # a problem in the last batch
    raw = raw_client(admin.redis)
    frames: list[pd.DataFrame] = []
    out = stream_family(raw, family("logs"), frames.append, batch_rows=50_000)
    assert out.batches == len(frames) >= 3 and out.rows == 120_001
    assert max(len(f) for f in frames) <= 50_000 + 20_000  # a batch closes at the first piece past the mark
    full, full_info = read_loaded(raw, family("logs"), limit=None)
    pd.testing.assert_frame_equal(pd.concat(frames, ignore_index=True), full)
    assert [p.error for p in out.problems] == full_info.problems["error"].tolist() and len(out.problems) == 1


def test_stream_family_of_hashes_and_empty_families(r: redis.Redis, admin: jsadmin.Admin) -> None:
    for gid in (1, 2):
        for i in range(7):
            r.hset(f"jobs:{gid}", f"g{gid}{i}", b'{"guid":"g%d%d","gid":%d,"state":"OK"}' % (gid, i, gid))
    raw = raw_client(admin.redis)
    frames: list[pd.DataFrame] = []
    out = stream_family(raw, family("jobs"), frames.append, batch_rows=3)
    assert out.rows == 14 and out.batches >= 2
    streamed = pd.concat(frames, ignore_index=True).sort_values("field", ignore_index=True)
    loaded = read_family(raw, family("jobs")).sort_values("field", ignore_index=True)
    pd.testing.assert_frame_equal(streamed, loaded)
    empty: list[pd.DataFrame] = []
    assert stream_family(raw, family("eco_queue"), empty.append).batches == 1
    pd.testing.assert_frame_equal(empty[0], read_family(raw, family("eco_queue")))


PEAK_SCRIPT = """
import json, sys, warnings
import pandas, pyarrow, redis, orjson, jsadmin
warnings.simplefilter("ignore")
def hwm():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
admin = jsadmin.connect(sys.argv[1])
base = hwm()
df, df_info = admin.load_with_info("logs", limit=None)
print(json.dumps([hwm() - base, df.memory_usage(deep=True).sum() / 2**20, len(df)]))
"""


def full_log(i: int) -> bytes:
    """A §5.7 record with every field, as logs.lua pushes it (a third logged inside a job)."""
    jid = b"%032x" % (i * 7919) if i % 3 == 0 else b""
    return (
        b'{"message":"Job %s finished in 0.%02ds","level":3,"category":"jumpscale_worker","gid":1,"nid":%d,'
        b'"pid":0,"appname":"%s","tags":"","jid":"%s","parentjid":"","masterjid":"","epoch":%d,'
        b'"order":0,"private":0}'
    ) % (jid or b"-", i % 100, i % 50, b"jumpscale:worker:default" if jid else b"jsagent", jid, 1539600000 + i // 20)


@pytest.mark.slow
@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="needs /proc (VmHWM)")
def test_unbounded_load_peaks_under_2_5x_its_frame(r: redis.Redis, redis_url: str) -> None:
    n = 600_000
    for start in range(0, n, 10_000):
        r.rpush("queues:logs", *[full_log(i) for i in range(start, start + 10_000)])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.run([sys.executable, "-c", PEAK_SCRIPT, redis_url], capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr
    growth, size, rows = json.loads(proc.stdout.strip().splitlines()[-1])
    assert rows == n
    assert growth <= 2.5 * size, f"peak RSS growth {growth:.0f} MiB for a {size:.0f} MiB frame"


def test_bounded_families_are_lists_with_a_known_newest_end() -> None:
    assert set(limits.bounded_families()) == {"logs", "eco_queue", "alerts", "command_queues", "worker_queues", "worker_actions"}
    for name in limits.bounded_families():
        assert family(name).redis_type == "list"
    assert limits.newest_end("worker_actions") == "head" and limits.newest_end("logs") == "tail"
