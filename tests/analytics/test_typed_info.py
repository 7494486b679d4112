"""Analytics results are typed (issue 13): each ``*_with_info`` gives the frame of the plain function
and an ``*Info`` holding what the plain function still mirrors into ``attrs`` (one release), on the
seeded demo grid; and the info survives what drops ``attrs``, so jsadmin's own callers keep working.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
from pathlib import Path

import pandas as pd
import pytest
import redis
from analytics_helpers import assert_read_only, open_admin, reset_stats
from pandas.testing import assert_frame_equal

import jsadmin
from jsadmin.analytics import (
    Analysed,
    FinishedInfo,
    HealthInfo,
    HistoryInfo,
    JobLatencyInfo,
    JobsInfo,
    LatencyInfo,
    QueueInfo,
    error_summary,
    finished_jobs,
    finished_jobs_with_info,
    grid_health,
    grid_health_with_info,
    job_latency,
    job_latency_with_info,
    latency_series,
    latency_series_with_info,
    latency_summary,
    latency_summary_with_info,
    load_history,
    one_row_per_job,
    one_row_per_job_with_info,
    queue_depths,
    queue_depths_with_info,
)
from jsadmin.analytics.demo_history import write_demo_history
from jsadmin.analytics.jobs import COPY_FAMILIES
from jsadmin.analytics.queues import depths_from_frames, depths_from_frames_with_info
from jsadmin.analytics.source import HistoryTables
from jsadmin.demogrid import seed

NOW = pd.Timestamp("2026-11-30T12:00:00Z")
END = "2026-01-01T12:00:00Z"


@pytest.fixture()
def seeded(redis_url: str, r: redis.Redis):
    seed.seed_demo(r, seed=7)
    return open_admin(redis_url, readonly=True)


@pytest.fixture(scope="module")
def hist_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_demo_history(tmp_path_factory.mktemp("typed-history"), hours=1, jobs_per_minute=60, end=END)


def _same(plain: pd.DataFrame, result: Analysed) -> None:
    """The plain function's frame is the typed one, and its ``attrs`` hold exactly the info."""
    assert_frame_equal(plain, result.frame)
    assert plain.attrs == result.info.attrs()


def test_infos_equal_the_attrs_mirror_on_the_seeded_grid(seeded, r: redis.Redis) -> None:
    frames = seeded.load_all()
    reset_stats(r)

    copies = {n: frames[n] for n in COPY_FAMILIES}
    jobs = one_row_per_job_with_info(copies)
    _same(one_row_per_job(copies), jobs)
    assert isinstance(jobs.info, JobsInfo)
    assert jobs.info.copies == sum(len(f) for f in copies.values()) and jobs.info.jobs == len(jobs.frame)
    assert jobs.info.duplicates == jobs.info.copies - jobs.info.jobs > 0  # the demo holds jobs in several families

    finished = finished_jobs_with_info(frames)
    _same(finished_jobs(frames), finished)
    assert isinstance(finished.info, FinishedInfo) and finished.frame["guid"].dropna().is_unique

    lat = job_latency_with_info(finished.frame)
    _same(job_latency(finished.frame), lat)
    assert isinstance(lat.info, JobLatencyInfo)
    assert len(lat.frame) + sum(lat.info.excluded.values()) == len(finished.frame)

    for by in ("cmd", ["nid", "jumpscript"], None):
        for metric in ("run_time", "end_to_end"):
            table = latency_summary_with_info(finished.frame, by=by, metric=metric)
            _same(latency_summary(finished.frame, by=by, metric=metric), table)
            assert table.info.metric == metric and table.info.freq is None
            assert set(table.info.columns) == set(map(str, table.frame.columns))
            assert table.frame["measured"].sum() + sum(table.info.excluded.values()) == len(finished.frame)

    series = latency_series_with_info(finished.frame, freq="30s")
    _same(latency_series(finished.frame, freq="30s"), series)
    assert series.info == LatencyInfo("run_time", series.info.excluded, series.info.columns, freq="30s")
    assert "legacy" not in series.info.attrs()  # a series never mirrored it

    health = grid_health_with_info(frames, now=NOW, stale_after=45)
    _same(grid_health(frames, now=NOW, stale_after=45), health)
    assert health.info == HealthInfo(NOW, pd.Timedelta(seconds=45), pd.Timedelta(days=7))

    depths = depths_from_frames_with_info(frames, now=NOW)
    _same(depths_from_frames(frames, now=NOW), depths)
    assert depths.info == QueueInfo(NOW, ())  # the whole queues were loaded: every oldest entry is known

    live = queue_depths_with_info(seeded, now=NOW)
    _same(queue_depths(seeded, now=NOW), live)
    assert live.info == QueueInfo(NOW) and live.info.oldest_unknown is None
    assert_read_only(r)


def test_admin_with_info_methods_match_the_plain_ones(seeded, r: redis.Redis) -> None:
    reset_stats(r)
    table, info = seeded.latency_with_info(by="nid", metric="queue_wait")
    plain = seeded.latency(by="nid", metric="queue_wait")
    assert_frame_equal(plain, table)
    assert plain.attrs == info.attrs() and info.metric == "queue_wait"
    health = seeded.grid_health_with_info(stale_after=90)
    assert health.info.stale_after == pd.Timedelta(seconds=90)
    again = grid_health(seeded.load_all(), now=health.info.time, stale_after=health.info.stale_after)
    assert_frame_equal(health.frame, again)  # the info holds what it takes to compute the frame again
    jobs, jobs_info = seeded.jobs_with_info()
    assert jobs_info.jobs == len(jobs) == len(seeded.jobs()) and jobs["guid"].dropna().is_unique
    finished, finished_info = seeded.finished_jobs_with_info()
    plain_finished = seeded.finished_jobs()
    assert_frame_equal(finished, plain_finished)
    assert finished_info == FinishedInfo(plain_finished.attrs["duplicates"])
    assert_read_only(r)


def test_the_info_outlives_operations_that_drop_attrs(seeded) -> None:
    frames = seeded.load_all()
    table, info = latency_summary_with_info(finished_jobs(frames), by="cmd")
    mirrored = latency_summary(finished_jobs(frames), by="cmd")
    # what a user does next: pandas loses the mirror ...
    reshaped = pd.concat([mirrored.reset_index(), pd.DataFrame({"jumpscript": ["x"]}).assign(tag=1)])
    assert reshaped.attrs == {}
    assert pd.DataFrame(mirrored.to_dict()).attrs == {}
    # ... the typed info is not on the frame, so nothing can drop it
    assert info.excluded == mirrored.attrs["excluded"] and info.metric == "run_time"
    table.attrs.clear()
    assert info.excluded == mirrored.attrs["excluded"]
    # and the mirror is a copy: editing it leaves the info as it was
    mirrored.attrs["excluded"]["unfinished"] = -1
    assert info.excluded["unfinished"] >= 0


def test_recorded_jobs_are_known_one_per_guid_without_attrs(hist_dir: Path) -> None:
    assert jsadmin.history(hist_dir).infos["jobs"].unique_guids  # a fresh history reads the table to say so
    hist = jsadmin.history(hist_dir)
    loaded = load_history(hist_dir)
    assert loaded.infos["jobs"] == HistoryInfo("jobs", str(hist_dir), duplicates=0, unique_guids=True)
    assert loaded["jobs"].attrs == loaded.infos["jobs"].attrs()  # the one-release mirror
    assert loaded.infos["queues"] == HistoryInfo("queues", str(hist_dir))
    expected = finished_jobs(hist)
    assert hist.infos["jobs"].unique_guids and "seen_in" not in expected  # kept as recorded, not re-folded
    # a new dict of attr-less frames: the history's info says what attrs used to
    bare = {"jobs": hist["jobs"].copy()}
    bare["jobs"].attrs = {}
    assert_frame_equal(finished_jobs(bare, infos=hist.infos), expected)
    assert_frame_equal(finished_jobs(loaded), expected)
    assert "seen_in" in finished_jobs(bare)  # without the info: folded as live copies would be
    errors = error_summary(hist, now=NOW)
    assert_frame_equal(error_summary(bare, now=NOW, infos=hist.infos), errors)
    assert errors["items"].sum() > 0


def test_load_history_is_a_history_read_whole(hist_dir: Path) -> None:
    """``load_history`` is derived from :class:`History` (one parameter list, one read path): the
    same parameters, and the same tables and infos, read at once into a dict."""
    params = inspect.signature(jsadmin.History).parameters
    assert inspect.signature(load_history).parameters == params and "columns" in params
    options = {"columns": ["guid", "state", "cmd"], "decode_json": False, "since": "2000-01-01"}
    loaded, hist = load_history(hist_dir, **options), jsadmin.history(hist_dir, **options)
    assert type(loaded) is HistoryTables and list(loaded) == list(hist) == ["jobs", "queues", "heartbeats"]
    for table in hist:
        assert_frame_equal(loaded[table], hist[table])
        assert loaded[table].attrs == hist[table].attrs and loaded.infos[table] == hist.infos[table]
    assert "timeCreate" not in loaded["jobs"] and len(loaded["jobs"]) > 0  # the options were applied
    with pytest.raises(FileNotFoundError):
        load_history(hist_dir / "missing")


def test_the_info_classes_are_frozen() -> None:
    info = HealthInfo(NOW, pd.Timedelta(seconds=1), pd.Timedelta(days=1))
    with pytest.raises(dataclasses.FrozenInstanceError):
        info.stale_after = pd.Timedelta(seconds=2)  # type: ignore[misc]
    frame, got = Analysed(pd.DataFrame(), info)
    assert got is info and frame.empty


PLAIN_ANALYTICS = [
    "finished_jobs", "grid_health", "job_latency", "latency_series", "latency_summary",
    "one_row_per_job", "probe", "queue_depths",
    "jsadmin.analytics.history.load_table", "jsadmin.analytics.queues.depth_frame",
    "jsadmin.analytics.queues.depths_from_frames", "jsadmin.analytics.lazy.failed_jobs",
    "Admin.jobs", "Admin.finished_jobs", "Admin.latency", "Admin.queue_depths", "Admin.grid_health",
]
"""Every plain analytic: ``jsadmin.analytics.<name>``, a dotted module path, or an ``Admin`` method."""


def _resolve(name: str) -> object:
    if name.startswith("Admin."):
        return getattr(jsadmin.Admin, name.partition(".")[2])
    module, _, attr = name.rpartition(".")
    return getattr(importlib.import_module(module or "jsadmin.analytics"), attr)


@pytest.mark.parametrize("name", PLAIN_ANALYTICS)
def test_each_plain_analytic_is_its_with_info_with_the_same_parameters(name: str) -> None:
    """One definition per analytic: the plain name is derived from its ``*_with_info`` (same
    parameters and defaults, returns a frame) and documents itself with an example, so ``help()``
    shows the real parameters and the doctest finder sees the example in the right module."""
    plain = _resolve(name)
    twin = _resolve(f"{name}_with_info")
    assert inspect.unwrap(plain) is twin  # type: ignore[arg-type]
    sig, twin_sig = inspect.signature(plain), inspect.signature(twin)  # type: ignore[arg-type]
    assert list(sig.parameters.values()) == list(twin_sig.parameters.values())
    assert sig.parameters and sig.return_annotation == "pd.DataFrame" != twin_sig.return_annotation
    assert plain.__name__ == name.rpartition(".")[2] and plain.__module__ == twin.__module__  # type: ignore[attr-defined]
    assert ">>> " in (plain.__doc__ or "") and plain.__doc__ != twin.__doc__
