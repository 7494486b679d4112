"""Checked by mypy in ``tests/test_typing.py``, never run: the ``dry_run`` overloads of the
write methods give a ``WritePlan`` for a literal ``dry_run=True``, the written result without
it (a ``ManageResult``, ``PurgeResult`` or ``UndoResult`` for the management helpers), and the
union for a ``bool`` known only at run time; ``load_with_info`` gives a frame and a typed
``LoadInfo`` on every source; the ``backend`` overloads of the loads
give pandas frames by default and polars frames for a literal ``backend="polars"``.

Each ``assert_type`` that does not hold is a mypy error, so the 0-error test fails.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd
import polars as pl
from typing_extensions import assert_type  # typing.assert_type is 3.11+; mypy depends on it

from jsadmin import Admin, Fleet, Loaded, LoadInfo, ManageResult, PurgeResult, Snapshot, UndoResult
from jsadmin.analytics import (
    HistoryInfo,
    JobsInfo,
    LatencyInfo,
    ProbeInfo,
    grid_health,
    job_latency_with_info,
    latency_series_with_info,
    latency_summary,
    load_history,
)
from jsadmin.limits import Capped
from jsadmin.loadinfo import ProblemFrame
from jsadmin.writes.plan import EnqueuePreview, WritePlan


def dry_run_overloads(adm: Admin, flag: bool) -> None:
    assert_type(adm.enqueue_job(1, nid=1, category="jumpscale", cmd="echo"), dict[str, Any])
    assert_type(adm.enqueue_job(1, nid=1, category="jumpscale", cmd="echo", dry_run=False), dict[str, Any])
    assert_type(adm.enqueue_job(1, nid=1, category="jumpscale", cmd="echo", dry_run=True), WritePlan[EnqueuePreview])
    assert_type(adm.enqueue_job(1, nid=1, category="jumpscale", cmd="echo", dry_run=flag), dict[str, Any] | WritePlan[EnqueuePreview])
    jobs = [{"gid": 1, "nid": 1, "category": "jumpscale", "cmd": "echo"}]
    assert_type(adm.enqueue_jobs(jobs), pd.DataFrame)
    assert_type(adm.enqueue_jobs(jobs, dry_run=False), pd.DataFrame)
    assert_type(adm.enqueue_jobs(jobs, dry_run=True), WritePlan[EnqueuePreview])
    assert_type(adm.enqueue_jobs(jobs, dry_run=flag), pd.DataFrame | WritePlan[EnqueuePreview])
    src = "def action():\n    pass\n"
    assert_type(adm.register_jumpscript("demo", "hi", src), dict[str, Any])
    assert_type(adm.register_jumpscript("demo", "hi", src, dry_run=False), dict[str, Any])
    assert_type(adm.register_jumpscript("demo", "hi", src, dry_run=True), WritePlan[dict[str, Any]])
    assert_type(adm.register_jumpscript("demo", "hi", src, dry_run=flag), dict[str, Any] | WritePlan[dict[str, Any]])
    for manage in (adm.cancel_jobs, adm.delete_jobs):
        assert_type(manage(None), ManageResult)
        assert_type(manage(None, dry_run=False), ManageResult)
        assert_type(manage(None, dry_run=True), WritePlan[pd.DataFrame])
        assert_type(manage(None, dry_run=flag), ManageResult | WritePlan[pd.DataFrame])
    assert_type(adm.requeue_jobs(None, role="node"), ManageResult)
    assert_type(adm.requeue_jobs(None, role="node", dry_run=False), ManageResult)
    assert_type(adm.requeue_jobs(None, role="node", dry_run=True), WritePlan[EnqueuePreview])
    assert_type(adm.requeue_jobs(None, role="node", dry_run=flag), ManageResult | WritePlan[EnqueuePreview])
    assert_type(adm.cleanup_leftovers(), ManageResult)
    assert_type(adm.cleanup_leftovers(dry_run=False), ManageResult)
    assert_type(adm.cleanup_leftovers(dry_run=True), WritePlan[pd.DataFrame])
    assert_type(adm.cleanup_leftovers(dry_run=flag), ManageResult | WritePlan[pd.DataFrame])
    assert_type(adm.purge_queue("queues:commands:queue:1:5"), PurgeResult)
    assert_type(adm.purge_queue("queues:commands:queue:1:5", dry_run=False), PurgeResult)
    assert_type(adm.purge_queue("queues:commands:queue:1:5", dry_run=True), WritePlan[dict[str, Any]])
    assert_type(adm.purge_queue("queues:commands:queue:1:5", dry_run=flag), PurgeResult | WritePlan[dict[str, Any]])
    assert_type(adm.undo("20260101T000000-abc"), UndoResult)
    assert_type(adm.undo("20260101T000000-abc", dry_run=False), UndoResult)
    assert_type(adm.undo("20260101T000000-abc", dry_run=True), WritePlan[dict[str, Any]])
    assert_type(adm.undo("20260101T000000-abc", dry_run=flag), UndoResult | WritePlan[dict[str, Any]])
    done = adm.cancel_jobs(None)
    assert_type(done.journal_id, str | None)
    assert_type(done.not_found, tuple[str, ...])
    assert_type(adm.undo(done), UndoResult)  # a result is an entry undo takes
    assert_type(adm.undo(adm.purge_queue("q")).pushed, int)
    assert_type(adm.purge_queue("q", dry_run=True).result, dict[str, Any] | None)  # the plan's result is typed
    assert_type(adm.cancel_jobs(None, dry_run=True).result, pd.DataFrame | None)
    assert_type(adm.enqueue_job(1, nid=1, category="jumpscale", cmd="echo", dry_run=True).result, EnqueuePreview | None)


def analytics_infos(adm: Admin) -> None:
    """The ``*_with_info`` analytics give the frame and a typed info (never ``attrs``)."""
    assert_type(adm.latency_with_info().info, LatencyInfo)
    assert_type(adm.latency_with_info().frame, pd.DataFrame)
    assert_type(adm.latency_with_info().info.excluded, Mapping[str, int])
    assert_type(adm.grid_health_with_info().info.stale_after, pd.Timedelta)
    assert_type(adm.finished_jobs_with_info().info.duplicates, int)
    assert_type(adm.jobs_with_info().info, JobsInfo)
    assert_type(adm.queue_depths_with_info().info.oldest_unknown, tuple[str, ...] | None)
    assert_type(adm.probe_with_info([1]).info, ProbeInfo)
    jobs = adm.finished_jobs()
    assert_type(job_latency_with_info(jobs).info.clamped, int)
    assert_type(latency_series_with_info(jobs).info.freq, str | None)
    assert_type(load_history("rec").infos["jobs"], HistoryInfo)


def mirrored_analytics(adm: Admin, frames: Mapping[str, pd.DataFrame]) -> None:
    """A plain analytic (``mirrored`` from its ``*_with_info``) keeps that function's parameters and
    gives the frame: functions and ``Admin`` methods alike (wrong calls: tests/test_typing.py)."""
    assert_type(grid_health(frames, stale_after=60, leftover_after="7D"), pd.DataFrame)
    assert_type(latency_summary(frames["jobs"], by="cmd", metric="run_time"), pd.DataFrame)
    assert_type(adm.grid_health(60, leftover_after="7D"), pd.DataFrame)
    assert_type(adm.latency(by=["nid"], metric="queue_wait"), pd.DataFrame)
    assert_type(adm.jobs(), pd.DataFrame)
    assert_type(adm.probe([1], n=2), pd.DataFrame)


def load_info_types(adm: Admin, fl: Fleet, snap: Snapshot) -> None:
    """``load_with_info`` gives a pandas frame and a typed :class:`LoadInfo` on every source."""
    for src in (adm, fl, snap):
        frame, info = src.load_with_info("logs", limit=10)
        assert_type(frame, pd.DataFrame)
        assert_type(info, LoadInfo)
        assert_type(info.problems, ProblemFrame)
        assert_type(info.notes, list[str])
        assert_type(info.capped, tuple[Capped, ...])
        assert_type(src.load_all_with_info(), dict[str, Loaded])


def backend_overloads(adm: Admin, fl: Fleet, snap: Snapshot, backend: str) -> None:
    """``load``/``load_all``: pandas by default, polars for a literal ``backend="polars"``, the union otherwise."""
    assert_type(adm.load("jobs"), pd.DataFrame)
    assert_type(adm.load("jobs", backend="pandas", gid=1), pd.DataFrame)
    assert_type(adm.load("jobs", backend="polars"), pl.DataFrame)
    assert_type(adm.load("jobs", backend=backend), pd.DataFrame | pl.DataFrame)
    assert_type(adm.load_all(), dict[str, pd.DataFrame])
    assert_type(adm.load_all(backend="polars"), dict[str, pl.DataFrame])
    assert_type(fl.load("jobs"), pd.DataFrame)
    assert_type(fl.load("jobs", backend="polars"), pl.DataFrame)
    assert_type(fl.load_all(backend="polars"), dict[str, pl.DataFrame])
    assert_type(snap.load("jobs"), pd.DataFrame)
    assert_type(snap.load("jobs", backend="polars"), pl.DataFrame)
    assert_type(snap.load_all(), dict[str, pd.DataFrame])
