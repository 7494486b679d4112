"""The demo history tells its story, deterministically, in the recorder's exact format."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from jsadmin.analytics import latency_series, latency_summary, load_history, write_demo_history
from jsadmin.analytics.history import SCHEMAS, TABLES, to_table, write_table

END = "2026-11-27T12:00:00Z"

pytestmark = pytest.mark.version_independent  # a generated Parquet history, read back: no server


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, pd.DataFrame]]:
    path = write_demo_history(tmp_path_factory.mktemp("demo"), hours=3, jobs_per_minute=80, end=END)
    return path, load_history(path)


def test_same_format_as_the_recorder(demo) -> None:
    path, _ = demo
    for table in TABLES:
        files = sorted((path / table).glob("date=*/part-*.parquet"))
        assert files, table
        for f in files:
            assert pq.read_schema(f).remove_metadata().equals(SCHEMAS[table]), (table, f)


def test_volume_window_and_identity(demo) -> None:
    _, frames = demo
    jobs = frames["jobs"]
    assert 0.9 * 3 * 60 * 80 < len(jobs) <= 3 * 60 * 80
    end = pd.Timestamp(END)
    assert jobs["timeStop"].max() < end
    assert jobs["timeCreate"].min() >= end - pd.Timedelta(hours=3)
    assert jobs["guid"].is_unique and jobs["guid"].str.fullmatch(r"[0-9a-f]{32}").all()
    assert set(jobs["state"].astype(str)) == {"OK", "ERROR", "TIMEOUT"}
    # executor semantics: AC timeCreate and worker timeStop are whole seconds
    assert (jobs["timeCreate"].dt.microsecond == 0).all() and (jobs["timeStop"].dt.microsecond == 0).all()


def test_slow_node_and_long_tails(demo) -> None:
    _, frames = demo
    s = latency_summary(frames["jobs"], by=["nid", "jumpscript"])
    sleep = s.xs("jumpscale__sleep", level="jumpscript")["p50"]
    assert sleep.loc[4] > 3 * sleep.drop(index=4).max()
    by_script = latency_summary(frames["jobs"], by="jumpscript")
    assert by_script.loc["backup__backup_dirs", "p50"] > 10 * by_script.loc["jumpscale__exec", "p50"]
    assert (by_script["p99"] > by_script["p50"]).all()


def test_backed_up_queue_and_silent_heartbeat(demo) -> None:
    _, frames = demo
    jobs = frames["jobs"]
    waits = latency_series(jobs[jobs["queue"] == "hypervisor"], freq="30min", metric="queue_wait")["p50"]
    assert waits.iloc[-1] > 5 * waits.iloc[0]
    queues = frames["queues"]
    hyper = queues[queues["queue"] == "hypervisor"].sort_values("time")
    assert hyper["length"].tail(30).mean() > 5 * max(hyper["length"].head(30).mean(), 1)
    beats = frames["heartbeats"]
    last = beats[beats["time"] == beats["time"].max()].set_index("queue")["age"]
    assert last["process"] > 30 * 60 and last.drop("process").max() < 120


def test_error_bursts(demo) -> None:
    _, frames = demo
    jobs = frames["jobs"]
    series = latency_series(jobs[jobs["cmd"].isin(["exec", "flaky"])], freq="5min")
    assert series["error_rate"].max() > 0.3
    assert series["error_rate"].median() < 0.1


def test_deterministic_and_overwrites(tmp_path: Path) -> None:
    a = load_history(write_demo_history(tmp_path / "a", hours=0.5, end=END))["jobs"]
    b = load_history(write_demo_history(tmp_path / "b", hours=0.5, end=END))["jobs"]
    pd.testing.assert_frame_equal(a.drop(columns=["args", "result", "roles", "_meta"]),
                                  b.drop(columns=["args", "result", "roles", "_meta"]))
    again = load_history(write_demo_history(tmp_path / "a", hours=0.5, end=END))["jobs"]
    assert len(again) == len(a)  # overwrite=True replaced, not appended
    other = load_history(write_demo_history(tmp_path / "c", hours=0.5, end=END, seed=8))["jobs"]
    assert set(other["guid"]).isdisjoint(a["guid"])
    with pytest.raises(ValueError):
        write_demo_history(tmp_path / "d", hours=0)


def test_partitions_by_day_and_dedupes_on_load(tmp_path: Path) -> None:
    path = write_demo_history(tmp_path, hours=30, jobs_per_minute=2, end=END)
    days = sorted(p.name for p in (path / "jobs").iterdir())
    assert days == ["date=2026-11-26", "date=2026-11-27"]
    jobs = load_history(path)["jobs"]
    # append an older, less final copy of one job: load keeps the final one
    copy = jobs.iloc[[0]].assign(state="TIMEOUT", timeStop=pd.NaT, timeStart=pd.NaT)
    write_table(path, "jobs", copy)
    reloaded = load_history(path)["jobs"]
    assert len(reloaded) == len(jobs) and reloaded.attrs["duplicates"] == 1
    assert reloaded.set_index("guid").loc[jobs["guid"].iloc[0], "state"] == jobs["state"].iloc[0]


def test_load_history_columns_and_time_window(demo) -> None:
    path, frames = demo
    full = frames["jobs"]
    slim = load_history(path, columns=["cmd", "timeStart"], decode_json=False)["jobs"]
    assert set(slim.columns) == {"guid", "state", "timeStop", "captured", "cmd", "timeStart"}
    assert len(slim) == len(full)
    since = pd.Timestamp(END) - pd.Timedelta(hours=1)
    window = load_history(path, since=since, until=END)
    expected = full[(full["timeStop"] >= since) & (full["timeStop"] < pd.Timestamp(END))]
    assert sorted(window["jobs"]["guid"]) == sorted(expected["guid"])
    assert window["queues"]["time"].min() >= since
    with pytest.raises(KeyError, match="nosuch"):
        load_history(path, columns=["nosuch"])


def test_history_recorded_before_the_column_vocabulary_still_reads(tmp_path: Path) -> None:
    """Histories written with ``source`` (the family of a job copy, heartbeat/watchdog of a beat) read
    back as ``family``/``beat``, also mixed with files of today's schema in one history."""
    old_jobs = pd.DataFrame({"guid": ["a" * 32], "state": ["OK"], "category": ["jumpscale"], "cmd": ["echo"],
                             "timeStop": [pd.Timestamp("2026-11-27T10:00:00Z")], "family": ["job_results"],
                             "captured": [pd.Timestamp("2026-11-27T10:00:05Z")]})
    new_jobs = old_jobs.assign(guid=["b" * 32], family=["worker_jobs"])
    old_beats = pd.DataFrame({"time": [pd.Timestamp("2026-11-27T10:00:00Z")], "queue": ["default"], "worker": [None],
                              "beat": ["watchdog"], "heartbeat": [pd.Timestamp("2026-11-27T09:59:00Z")], "age": [60.0]})
    write_table(tmp_path, "jobs", new_jobs)
    write_table(tmp_path, "heartbeats", old_beats.assign(beat=["heartbeat"], time=[pd.Timestamp("2026-11-27T10:01:00Z")]))
    day = tmp_path / "jobs" / "date=2026-11-27"
    for table, frame, new in (("jobs", old_jobs, "family"), ("heartbeats", old_beats, "beat")):
        old_schema = pa.schema([pa.field("source" if f.name == new else f.name, f.type) for f in SCHEMAS[table]])
        old = to_table(frame, table).rename_columns(old_schema.names).cast(old_schema)
        pq.write_table(old, tmp_path / table / "date=2026-11-27" / "part-old.parquet")
    assert "source" in pq.read_schema(day / "part-old.parquet").names
    frames = load_history(tmp_path)
    jobs = frames["jobs"].set_index("guid")
    assert jobs["family"].to_dict() == {"a" * 32: "job_results", "b" * 32: "worker_jobs"}
    assert "source" not in frames["jobs"].columns and "source" not in frames["heartbeats"].columns
    assert sorted(frames["heartbeats"]["beat"]) == ["heartbeat", "watchdog"]
    only = load_history(tmp_path, columns=["guid", "family"])["jobs"]
    assert sorted(only["family"]) == ["job_results", "worker_jobs"]
