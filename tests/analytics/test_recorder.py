"""Recorder and history on a real Redis: captures final copies once, never writes, reloads typed."""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
import redis
from analytics_helpers import (
    assert_read_only,
    make_job,
    put_cached,
    put_queued,
    put_result,
    put_worker_job,
    reset_stats,
)

import jsadmin
from jsadmin import keys
from jsadmin.analytics import load_history
from jsadmin.analytics.history import read_table
from jsadmin.analytics.latency import latency_summary
from jsadmin.analytics.recorder import Recorder, run_recorder


def finished(state: str = "OK", **kw) -> dict:
    now = time.time()
    return make_job(state=state, created=now - 3, start=now - 2.5, stop=int(now - 1), **kw)


def test_assert_read_only_catches_a_write(r: redis.Redis) -> None:
    reset_stats(r)
    r.set("some:key", b"1")
    with pytest.raises(AssertionError, match="set"):
        assert_read_only(r)


def test_recorder_captures_each_finished_job_once(r: redis.Redis, admin, tmp_path: Path) -> None:
    a = finished("OK", job_id=1)
    b = finished("ERROR", job_id=2, cmd="exec", result={"category": "workers.executejob"})
    c = make_job(state="STARTED", job_id=3)  # in flight: not recorded yet
    put_result(r, a)
    put_worker_job(r, dict(a))  # the same job seen in a second family
    put_worker_job(r, b)
    put_cached(r, c)
    r.hset(keys.WORKER_HEARTBEAT, "default", int(time.time()) - 4)
    put_queued(r, keys.command_queue(1, 2), make_job(state="SCHEDULED", created=time.time() - 9))

    reset_stats(r)
    rec = Recorder(admin, tmp_path, interval=0.1)
    first = rec.poll()
    second = rec.poll()
    assert first["jobs"] == 2 and second["jobs"] == 0
    # the queue that holds an entry, and the (empty, so absent) worker queue of the heartbeat
    assert first["heartbeats"] == 1 and first["queues"] == 2
    used = assert_read_only(r)  # two polls, not one write command
    assert "scan" in used

    # c finishes: its final copy briefly sits in jobs:<gid> (spec §6.5) and is caught then
    c_done = dict(c, state="OK", timeStart=time.time() - 1.2, timeStop=int(time.time()))
    put_cached(r, c_done)
    reset_stats(r)
    assert rec.poll()["jobs"] == 1
    assert_read_only(r)

    hist = load_history(tmp_path)
    jobs = hist["jobs"]
    assert sorted(jobs["guid"]) == sorted([a["guid"], b["guid"], c["guid"]])
    assert jobs["guid"].is_unique and jobs.attrs["duplicates"] == 0
    raw_rows = read_table(tmp_path, "jobs").num_rows
    assert raw_rows == 3  # on disk too: nothing written twice
    by = jobs.set_index("guid")
    assert by.loc[a["guid"], "family"] == "job_results"  # preferred over the worker copy
    assert by.loc[b["guid"], "family"] == "worker_jobs"
    assert by.loc[c["guid"], "family"] == "jobs"
    assert by.loc[b["guid"], "result"] == {"category": "workers.executejob"}
    assert jobs["nid"].dtype == "Int64" and isinstance(jobs["state"].dtype, pd.CategoricalDtype)
    assert str(jobs["timeStop"].dtype) == "datetime64[ns, UTC]"
    # latency functions work on the history as on live frames
    summary = latency_summary(jobs, by="cmd")
    assert summary.loc["jumpscale__echo", "measured"] == 2
    assert summary.loc["jumpscale__echo", "p50"].total_seconds() == pytest.approx(
        (jobs[jobs.cmd == "echo"].timeStop - jobs[jobs.cmd == "echo"].timeStart).dt.total_seconds().clip(lower=0).median(),
        abs=5e-4,  # tables round durations to the millisecond
    )
    # partitioned by day, one folder per date
    days = sorted(p.name for p in (tmp_path / "jobs").iterdir())
    assert days == sorted({f"date={d:%Y-%m-%d}" for d in jobs["timeStop"]})
    beats = hist["heartbeats"]
    assert beats["queue"].tolist() == ["default", "default", "default"]
    assert beats["age"].iloc[0] == pytest.approx(4, abs=1.5)
    queues = hist["queues"]
    lengths = queues.groupby("key")["length"].apply(list).to_dict()
    assert lengths == {keys.command_queue(1, 2): [1, 1, 1], keys.worker_queue("default"): [0, 0, 0]}
    assert queues.loc[queues["length"] == 0, "oldest_age"].isna().all()


def test_a_more_final_copy_replaces_a_recorded_timeout(r: redis.Redis, admin, tmp_path: Path) -> None:
    job = make_job(state="SCHEDULED", job_id=7)
    timed_out = dict(job, state="TIMEOUT", resultcode=1)  # AC wait timeout: no executor stamps
    put_cached(r, timed_out)
    rec = Recorder(admin, tmp_path, interval=0.1)
    assert rec.poll()["jobs"] == 1
    r.delete(keys.jobs(1))
    put_result(r, dict(job, state="OK", timeStart=time.time() - 1, timeStop=int(time.time())))
    assert rec.poll()["jobs"] == 1
    assert rec.poll()["jobs"] == 0
    jobs = load_history(tmp_path)["jobs"]
    assert jobs["guid"].tolist() == [job["guid"]]
    assert jobs["state"].tolist() == ["OK"]
    assert read_table(tmp_path, "jobs").num_rows == 2  # both copies kept on disk, one loaded


def test_a_restarted_recorder_does_not_record_twice(r: redis.Redis, admin, tmp_path: Path) -> None:
    put_result(r, finished("OK"))
    assert Recorder(admin, tmp_path).poll()["jobs"] == 1
    assert Recorder(admin, tmp_path).poll()["jobs"] == 0
    assert len(load_history(tmp_path)["jobs"]) == 1


def test_background_thread_and_run_recorder(r: redis.Redis, redis_url: str, admin, tmp_path: Path) -> None:
    rec = Recorder(admin, tmp_path / "bg", interval=0.05)
    rec.start()
    assert rec.running
    put_result(r, finished("OK"))
    deadline = time.monotonic() + 10
    while rec.stats["jobs"] < 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    stats = rec.stop()
    assert not rec.running
    assert stats["jobs"] == 1 and stats["polls"] >= 1 and stats["errors"] == 0
    assert "stopped" in repr(rec)

    put_result(r, finished("ERROR"))
    reset_stats(r)
    assert run_recorder(jsadmin.connect(redis_url, readonly=True), tmp_path / "cli", interval=0.1, duration=0.3) == 0
    assert_read_only(r)
    assert len(load_history(tmp_path / "cli")["jobs"]) == 2


def test_recorder_rejects_bad_arguments(admin, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="interval"):
        Recorder(admin, tmp_path, interval=0)
    with pytest.raises(TypeError, match="Admin"):
        Recorder(42, tmp_path)
    with pytest.raises(FileNotFoundError):
        load_history(tmp_path / "nothing-here")


def test_parquet_files_carry_the_schema(r: redis.Redis, admin, tmp_path: Path) -> None:
    put_result(r, finished("OK"))
    Recorder(admin, tmp_path).poll()
    files = list((tmp_path / "jobs").glob("date=*/part-*.parquet"))
    assert len(files) == 1
    schema = pq.read_schema(files[0])
    assert str(schema.field("timeStop").type) == "timestamp[ns, tz=UTC]"
    assert str(schema.field("args").type) == "string"  # JSON text on disk, decoded on load
