"""Recorded history beyond one machine: ``jsadmin.history(dir)`` is a read-protocol source, and its
lazy frames (polars ``scan_parquet``, dask on a ``distributed.LocalCluster``) give the same latency
and error summaries as the eager frames, over Parquet the real recorder wrote from a live demo grid.
"""

from __future__ import annotations

import dataclasses
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from analytics_helpers import open_admin
from pandas.testing import assert_frame_equal
from redis_servers import ServerFactory

import jsadmin
from jsadmin.analytics import error_summary, finished_jobs, latency_series, latency_summary
from jsadmin.analytics.history import (
    ANALYTICS_COLUMNS,
    RENAMED_ON_READ,
    read_table,
    to_table,
    write_table,
)
from jsadmin.analytics.lazy import engine_of
from jsadmin.demogrid import grid as grid_mod
from jsadmin.errors import UnknownFamilyError, UnknownFilterError
from jsadmin.snapshot import apply_filters
from jsadmin.sources import Source

pytestmark = [
    pytest.mark.filterwarnings("ignore:The inplace keyword in DataFrame.reset_index"),  # inside dask
    # Parquet in, tables out: recording a live grid on every Redis version is tests/analytics/test_recorder.py's job
    pytest.mark.version_independent,
]

GROUPINGS = ["cmd", ["nid", "jumpscript"], "category", "state", None]


@pytest.fixture(scope="module")
def recorded(redis_factory: ServerFactory, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Seconds of live demo-grid traffic (errors and timeouts included), recorded by the Recorder."""
    server = redis_factory.start()
    out = tmp_path_factory.mktemp("recorded")
    scenario = dataclasses.replace(
        grid_mod.Scenario.default(), error_rate=0.15, timeout_rate=0.02, traffic_rate=20.0
    )
    admin = open_admin(server.url, readonly=True)
    with grid_mod.LiveGrid(server.url, scenario=scenario, speed=2.0, poll=0.1):
        rec = admin.record(out, interval=0.25)
        time.sleep(6.0)
        rec.stop()
    rec.poll()
    admin.redis.close()
    yield out
    server.stop()


def _assert_same(eager: pd.DataFrame, lazy: pd.DataFrame) -> None:
    assert_frame_equal(eager, lazy)
    assert eager.attrs == lazy.attrs


@pytest.mark.slow
@pytest.mark.version_independent
def test_recorded_grid_has_what_the_comparison_needs(recorded: Path) -> None:
    jobs = jsadmin.history(recorded)["jobs"]
    assert len(jobs) >= 50, len(jobs)
    assert jobs["jumpscript" if "jumpscript" in jobs else "cmd"].nunique() >= 3
    assert (jobs["state"] == "ERROR").sum() >= 2, jobs["state"].value_counts()
    assert error_summary(jsadmin.history(recorded))["items"].sum() >= 2


@pytest.mark.slow
@pytest.mark.version_independent
@pytest.mark.parametrize("by", GROUPINGS, ids=str)
def test_polars_lazy_summaries_equal_the_eager_ones(recorded: Path, by: object) -> None:
    hist = jsadmin.history(recorded)
    lf = hist.lazy(engine="polars")
    assert isinstance(lf, pl.LazyFrame) and engine_of(lf) == "polars"
    for metric in ("run_time", "queue_wait", "end_to_end"):
        eager = latency_summary(hist["jobs"], by=by, metric=metric)  # type: ignore[arg-type]
        _assert_same(eager, latency_summary(lf, by=by, metric=metric))  # type: ignore[arg-type]
        # the same table over finished_jobs(history): what the README shows
        _assert_same(latency_summary(finished_jobs(hist), by=by, metric=metric), eager)  # type: ignore[arg-type]
        series = latency_series(hist["jobs"], freq="1s", by=by, metric=metric)  # type: ignore[arg-type]
        assert len(series) >= 3  # several seconds of traffic: several buckets
        _assert_same(series, latency_series(lf, freq="1s", by=by, metric=metric))  # type: ignore[arg-type]
    now = pd.Timestamp.now(tz="UTC")
    assert_frame_equal(error_summary(hist, now=now), error_summary(lf, now=now))


@pytest.mark.slow
@pytest.mark.version_independent
def test_dask_summaries_on_a_local_cluster_equal_the_eager_ones(recorded: Path) -> None:
    distributed = pytest.importorskip("distributed")
    hist = jsadmin.history(recorded)
    now = pd.Timestamp.now(tz="UTC")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        ddf = hist.lazy(engine="dask", columns=ANALYTICS_COLUMNS)
        assert engine_of(ddf) == "dask"
        with distributed.get_task_stream(client) as stream:
            latency_summary(ddf, by="cmd")
        assert {t["worker"] for t in stream.data} == set(client.scheduler_info()["workers"])
        for by in GROUPINGS:
            for metric in ("run_time", "end_to_end"):
                _assert_same(latency_summary(hist["jobs"], by=by, metric=metric),  # type: ignore[arg-type]
                             latency_summary(ddf, by=by, metric=metric))  # type: ignore[arg-type]
            _assert_same(latency_series(hist["jobs"], freq="2s", by=by),  # type: ignore[arg-type]
                         latency_series(ddf, freq="2s", by=by))  # type: ignore[arg-type]
        assert_frame_equal(error_summary(hist, now=now), error_summary(ddf, now=now))


@pytest.mark.version_independent
@pytest.mark.parametrize("engine", ["polars", "dask"])
def test_lazy_jobs_are_one_row_per_guid_like_the_eager_ones(tmp_path: Path, engine: str) -> None:
    """A guid recorded twice (a TIMEOUT copy without timeStop, later its OK copy) counts once."""
    t0 = pd.Timestamp("2026-11-27T10:00:00Z")
    rows = pd.DataFrame({
        "guid": ["a", "a", "b", "c", "c", None],
        "state": ["TIMEOUT", "OK", "ERROR", "OK", "TIMEOUT", "OK"],
        "category": ["jumpscale", "jumpscale", "jumpscale", "jumpscript", "jumpscript", "x"],
        "cmd": ["echo", "echo", "fail", "backup/dirs", "backup/dirs", "y"],
        "nid": [1, 1, 2, 1, 1, None],
        "timeCreate": [t0] * 6,
        "timeStart": [t0 + pd.Timedelta("1s")] * 6,
        "timeStop": [pd.NaT, t0 + pd.Timedelta("3s"), t0 + pd.Timedelta("2s"), t0 + pd.Timedelta("9s"),
                     t0 + pd.Timedelta("4s"), t0 + pd.Timedelta("5s")],
        "family": ["jobs", "job_results", "worker_jobs", "job_results", "jobs", "jobs"],
        "captured": [t0 + pd.Timedelta(f"{i}s") for i in range(10, 16)],
    })
    write_table(tmp_path, "jobs", rows.iloc[:3])  # two files: the later copy in the second one
    write_table(tmp_path, "jobs", rows.iloc[3:])
    assert read_table(tmp_path, "jobs").num_rows == 6
    hist = jsadmin.history(tmp_path)
    eager = hist["jobs"]
    assert eager.attrs["duplicates"] == 2 and len(eager) == 4
    lazy = hist.lazy(engine=engine)
    got = lazy.collect().to_pandas() if engine == "polars" else lazy.compute()
    def copies(df: pd.DataFrame) -> list[tuple[str, str]]:  # row order is not part of the claim (dask appends)
        return sorted(zip(df["guid"].astype("string").fillna("-"), df["state"].astype(str), strict=True))

    assert copies(got) == copies(eager) == [("-", "OK"), ("a", "OK"), ("b", "ERROR"), ("c", "OK")]
    for by in GROUPINGS:
        _assert_same(latency_summary(eager, by=by), latency_summary(lazy, by=by))  # type: ignore[arg-type]
    # a job without nid keeps its percentiles when grouped with another key (it lost them once)
    by_node = latency_summary(eager, by=["nid", "cmd"]).reset_index()
    assert by_node.loc[by_node["nid"].isna(), "p50"].tolist() == [pd.Timedelta("4s")]
    now = t0 + pd.Timedelta("1h")
    assert_frame_equal(error_summary(hist, now=now), error_summary(lazy, now=now))
    # since/until skip what lies outside, on both paths
    later = jsadmin.history(tmp_path, since=t0 + pd.Timedelta("4s"))
    lazy_later = later.lazy(engine=engine)
    got = lazy_later.collect().to_pandas() if engine == "polars" else lazy_later.compute()
    assert sorted(got["guid"].dropna()) == sorted(later["jobs"]["guid"].dropna()) == ["c"]


@pytest.mark.version_independent
def test_history_reads_like_every_other_source(tmp_path: Path) -> None:
    from jsadmin.analytics import write_demo_history

    path = write_demo_history(tmp_path / "h", hours=1, jobs_per_minute=30, end="2026-11-27T12:00:00Z")
    hist = jsadmin.history(path)
    assert isinstance(hist, Source) and isinstance(hist, jsadmin.History)
    fams = hist.families()
    assert fams["family"].tolist() == ["jobs", "queues", "heartbeats"]
    for table in ("jobs", "queues", "heartbeats"):
        assert fams.set_index("family").loc[table, "rows"] == read_table(path, table).num_rows
    assert list(hist.load_all()) == ["jobs", "queues", "heartbeats"]
    assert list(hist.problems().columns) == ["family", "key", "field", "error", "raw"]
    assert hist.problems().empty

    jobs = hist["jobs"]
    errors = hist.load("jobs", state="ERROR", nid=[1, 2])
    assert len(errors) and set(errors["state"].astype(str)) == {"ERROR"} and set(errors["nid"]) <= {1, 2}
    assert len(errors) == int(((jobs["state"] == "ERROR") & jobs["nid"].isin([1, 2])).sum())
    expanded = hist.load("jobs", expand="args")
    assert any(c.startswith("args.") for c in expanded.columns)
    assert isinstance(hist.load("queues", backend="polars"), pl.DataFrame)

    # the same bad call fails the same way as on a Snapshot (one check_filters)
    with pytest.raises(UnknownFilterError) as ours:
        hist.load("jobs", gdi=1)
    with pytest.raises(UnknownFilterError) as theirs:
        apply_filters(jobs, gdi=1)
    assert str(ours.value).split(" for family")[0] == str(theirs.value).split(" for family")[0]
    assert "did you mean 'gid'" in str(ours.value)
    with pytest.raises(UnknownFamilyError) as ours_family:
        hist.load("jbos")
    with pytest.raises(UnknownFamilyError) as catalog_family:
        jsadmin.family("jbos")
    assert str(ours_family.value).split(";")[0] == str(catalog_family.value).split(";")[0]
    with pytest.raises(UnknownFamilyError, match=re.escape("'queue' (did you mean 'queues'?); recorded history")):
        hist.load("queue")
    with pytest.raises(ValueError, match="unknown engine"):
        hist.lazy(engine="spark")
    with pytest.raises(FileNotFoundError):
        jsadmin.history(tmp_path / "nothing")

    # every earlier use of history(...) as a dict of frames still works
    assert set(hist) == {"jobs", "queues", "heartbeats"} and hist["jobs"] is hist["jobs"]
    assert dict(hist).keys() == {"jobs", "queues", "heartbeats"}
    assert len(finished_jobs(hist)) == int(jobs["state"].isin(["OK", "ERROR", "TIMEOUT", "NOWORK"]).sum())


@pytest.mark.version_independent
@pytest.mark.parametrize("engine", ["polars", "dask"])
def test_an_empty_history_summarises_like_the_eager_one(tmp_path: Path, engine: str) -> None:
    hist = jsadmin.history(tmp_path)  # the recorder has not written anything yet
    lazy = hist.lazy(engine=engine)
    for by in GROUPINGS:
        _assert_same(latency_summary(hist["jobs"], by=by), latency_summary(lazy, by=by))  # type: ignore[arg-type]
    assert_frame_equal(error_summary(hist), error_summary(lazy))
    assert error_summary(lazy).empty


@pytest.mark.version_independent
@pytest.mark.parametrize("engine", ["polars", "dask"])
def test_half_millisecond_durations_round_alike_on_every_engine(tmp_path: Path, engine: str) -> None:
    """Jobs whose durations are exactly x.xxx5 s, at nanosecond start times of 2026: the polars
    summary once said 1001 ms where the eager one said 1000 ms (float epoch seconds subtracted, and
    polars divided by 1e9 through the reciprocal), so the live-grid comparison failed now and then."""
    starts = [1795773600124004588, 1795773600131004847, 1795773600178006586, 1795773600000000000]
    n = len(starts)
    start = pd.to_datetime(pd.Series(starts), utc=True)
    rows = pd.DataFrame({
        "guid": [f"g{i}" for i in range(n)],
        "state": ["OK"] * n,
        "category": ["jumpscale"] * n,
        "cmd": [f"job{i}" for i in range(n)],
        "nid": [1] * n,
        "timeCreate": start - pd.Timedelta(microseconds=500_500),
        "timeStart": start,
        "timeStop": start + pd.Timedelta(microseconds=1_000_500),
        "family": ["job_results"] * n,
        "captured": start + pd.Timedelta("2s"),
    })
    # two jobs whose interpolated median is a half-millisecond tie (1.000 s and 1.001 s)
    pair = rows.iloc[[0, 1]].assign(guid=["p0", "p1"], cmd="pair")
    pair["timeStop"] = pair["timeStart"] + pd.to_timedelta(["1000ms", "1001ms"])
    write_table(tmp_path, "jobs", pd.concat([rows, pair], ignore_index=True))
    hist = jsadmin.history(tmp_path)
    lazy = hist.lazy(engine=engine)
    for metric in ("run_time", "queue_wait", "end_to_end"):
        eager = latency_summary(hist["jobs"], by="cmd", metric=metric)
        _assert_same(eager, latency_summary(lazy, by="cmd", metric=metric))
        _assert_same(latency_series(hist["jobs"], freq="1ms", metric=metric),
                     latency_series(lazy, freq="1ms", metric=metric))
        # a duration does not depend on when the job ran: the jobs at nanosecond times say what
        # the one starting on a whole second says
        singles = eager.drop(index="jumpscale__pair")
        for col in ("p50", "p90", "p99", "mean", "max"):
            assert singles[col].nunique() == 1, (metric, col, singles[col].tolist())


@pytest.mark.version_independent
@pytest.mark.parametrize("engine", ["polars", "dask"])
def test_lazy_series_buckets_like_the_eager_one(tmp_path: Path, engine: str) -> None:
    """Per-bucket latency on the engine: jobs on a bucket's edge (a nanosecond either side), jobs
    without timeStop (counted as excluded, in no bucket), an empty bucket between two (filled
    when ungrouped), grouped by jumpscript and node."""
    edge = pd.Timestamp("2026-11-27T10:01:00Z")
    stops = [edge - pd.Timedelta(1, "ns"), edge, edge + pd.Timedelta(1, "ns"), edge + pd.Timedelta("150s"), pd.NaT, pd.NaT]
    n = len(stops)
    rows = pd.DataFrame({
        "guid": [f"g{i}" for i in range(n)],
        "state": ["OK", "ERROR", "OK", "TIMEOUT", "STARTED", "OK"],
        "category": ["jumpscale"] * n,
        "cmd": ["echo", "fail", "echo", "sleep", "echo", "echo"],
        "nid": [1, 2, 1, None, 1, 2],
        "timeCreate": [edge - pd.Timedelta("10s")] * n,
        "timeStart": [edge - pd.Timedelta("5s")] * (n - 1) + [pd.NaT],
        "timeStop": stops,
        "family": ["job_results"] * n,
        "captured": [edge + pd.Timedelta("200s")] * n,
    })
    write_table(tmp_path, "jobs", rows)
    hist = jsadmin.history(tmp_path)
    lazy = hist.lazy(engine=engine)
    for by in GROUPINGS:
        for metric in ("run_time", "end_to_end"):
            eager = latency_series(hist["jobs"], freq="1min", by=by, metric=metric)  # type: ignore[arg-type]
            _assert_same(eager, latency_series(lazy, freq="1min", by=by, metric=metric))  # type: ignore[arg-type]
    whole = latency_series(lazy, freq="1min")
    assert whole.index.tolist() == pd.date_range("2026-11-27T10:00:00Z", periods=4, freq="1min").tolist()
    assert whole["jobs"].tolist() == [1, 2, 0, 1]  # the edge job opens its bucket; 10:02 is empty
    assert whole.attrs["excluded"] == {"unfinished": 1, "no_timeStart": 1, "no_timeStop": 0}
    assert latency_series(lazy, freq="1min", by="cmd").index.names == ["time", "jumpscript"]
    with pytest.raises(ValueError, match="fixed frequency"):
        latency_series(lazy, freq="1 fortnight")


@pytest.mark.version_independent
@pytest.mark.parametrize("engine", ["polars", "dask"])
def test_lazy_reads_rename_columns_of_older_histories(tmp_path: Path, engine: str) -> None:
    """A history whose first files were recorded before ``source`` became ``family`` (jobs) and
    ``beat`` (heartbeats), later files under the new names: the lazy tables read both under the
    new names, as the eager ones do, and the summaries grouped by ``family`` agree."""
    assert RENAMED_ON_READ == {"jobs": {"source": "family"}, "heartbeats": {"source": "beat"}}
    t0 = pd.Timestamp("2026-11-27T10:00:00Z")
    rows = pd.DataFrame({
        "guid": ["a", "b", "c", "d"],
        "state": ["OK", "ERROR", "OK", "TIMEOUT"],
        "category": ["jumpscale"] * 4,
        "cmd": ["echo", "fail", "echo", "sleep"],
        "nid": [1, 2, 1, None],
        "timeCreate": [t0] * 4,
        "timeStart": [t0 + pd.Timedelta("1s")] * 4,
        "timeStop": [t0 + pd.Timedelta(s) for s in ("3s", "2s", "75s", "130s")],
        "family": ["job_results", "jobs", "worker_jobs", "jobs"],
        "captured": [t0 + pd.Timedelta("200s")] * 4,
    })

    def renamed(tbl: pa.Table, new: str) -> pa.Table:  # the file an earlier recorder wrote
        return tbl.rename_columns(["source" if n == new else n for n in tbl.schema.names])

    old_jobs = renamed(to_table(rows.iloc[:2], "jobs"), "family").drop_columns(["key"])  # and lacking a column
    write_table(tmp_path, "jobs", old_jobs)
    write_table(tmp_path, "jobs", rows.iloc[2:])
    beats = pd.DataFrame({"time": [t0, t0 + pd.Timedelta("1s")], "queue": ["default", "io"], "worker": ["w1", "w2"],
                          "beat": ["heartbeat", "watchdog"], "heartbeat": [t0, t0], "age": [1.0, 2.0]})
    write_table(tmp_path, "heartbeats", renamed(to_table(beats.iloc[:1], "heartbeats"), "beat"))
    write_table(tmp_path, "heartbeats", beats.iloc[1:])
    assert "family" not in pq.read_schema(sorted((tmp_path / "jobs").rglob("*.parquet"))[0]).names

    hist = jsadmin.history(tmp_path)
    assert hist["jobs"].set_index("guid")["family"].to_dict() == dict(zip(rows["guid"], rows["family"], strict=True))

    def collect(frame: object) -> pd.DataFrame:
        return frame.collect().to_pandas() if engine == "polars" else frame.compute()  # type: ignore[attr-defined]

    got = collect(hist.lazy(engine=engine)).sort_values("guid")
    assert list(got["family"]) == list(rows["family"]) and "source" not in got.columns
    assert got["key"].isna().all()  # the column the old file lacks reads as nulls
    assert sorted(collect(hist.lazy("heartbeats", engine=engine))["beat"]) == ["heartbeat", "watchdog"]
    lazy = hist.lazy(engine=engine, columns=ANALYTICS_COLUMNS)
    for by in ("family", ["family", "cmd"], None):
        _assert_same(latency_summary(hist["jobs"], by=by), latency_summary(lazy, by=by))
        _assert_same(latency_series(hist["jobs"], freq="1min", by=by), latency_series(lazy, freq="1min", by=by))
