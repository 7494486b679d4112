"""Analytics over loaded frames: latency, queues, liveness, errors; recorder, history and probes.

Pure pandas over frames (``Admin.load_all()`` or :func:`load_history`); only
:func:`queue_depths`, the :class:`Recorder` and :func:`probe` talk to Redis. Plots live in
:mod:`jsadmin.display.plots` (matplotlib is never imported from here).

>>> from jsadmin.analytics import latency_summary, finished_jobs    # doctest: +SKIP
>>> latency_summary(finished_jobs(admin.load_all()), by="cmd")       # doctest: +SKIP

What an analytic found besides its table (excluded jobs, the stale threshold, ...) comes typed
from its ``*_with_info`` function as :class:`Analysed` (frame + info, :mod:`jsadmin.analytics.info`),
the analytic's one definition; the plain name takes the same parameters and returns the frame (the
``attrs`` it still fills are a deprecated one-release mirror).

>>> table, info = latency_summary_with_info(jobs, by="cmd")          # doctest: +SKIP
"""

from __future__ import annotations

from . import info
from .api import AnalyticsMixin
from .demo_history import write_demo_history
from .errors import error_summary
from .info import *  # noqa: F403  (the typed results: info.__all__ is their one list)
from .jobs import copy_rank, jumpscript_ids, one_row_per_job, one_row_per_job_with_info
from .latency import (
    finished_jobs,
    finished_jobs_with_info,
    job_latency,
    job_latency_with_info,
    latency_series,
    latency_series_with_info,
    latency_summary,
    latency_summary_with_info,
)
from .liveness import (
    grid_health,
    grid_health_with_info,
    healthchecks,
    heartbeat_ages,
    leftovers,
    stale_workers,
    stuck_jobs,
)
from .probe import probe, probe_with_info
from .queues import queue_depths, queue_depths_with_info
from .recorder import Recorder, run_recorder
from .source import History, history, load_history

__all__ = [
    "AnalyticsMixin",
    "History",
    "Recorder",
    "copy_rank",
    "error_summary",
    "finished_jobs",
    "finished_jobs_with_info",
    "grid_health",
    "grid_health_with_info",
    "healthchecks",
    "heartbeat_ages",
    "history",
    "job_latency",
    "job_latency_with_info",
    "jumpscript_ids",
    "latency_series",
    "latency_series_with_info",
    "latency_summary",
    "latency_summary_with_info",
    "leftovers",
    "load_history",
    "one_row_per_job",
    "one_row_per_job_with_info",
    "probe",
    "probe_with_info",
    "queue_depths",
    "queue_depths_with_info",
    "run_recorder",
    "stale_workers",
    "stuck_jobs",
    "write_demo_history",
]
__all__ += info.__all__
