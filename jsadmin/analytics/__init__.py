"""Analytics over loaded frames: latency, queues, liveness, errors; recorder, history and probes.

Pure pandas over frames (``Admin.load_all()`` or :func:`load_history`); only
:func:`queue_depths`, the :class:`Recorder` and :func:`probe` talk to Redis. Plots live in
:mod:`jsadmin.display.plots` (matplotlib is never imported from here).

>>> from jsadmin.analytics import latency_summary, finished_jobs    # doctest: +SKIP
>>> latency_summary(finished_jobs(admin.load_all()), by="cmd")       # doctest: +SKIP
"""

from __future__ import annotations

from .api import AnalyticsMixin
from .demo_history import write_demo_history
from .errors import error_summary
from .history import load_history
from .jobs import copy_rank, jumpscript_ids, one_row_per_job
from .latency import finished_jobs, job_latency, latency_series, latency_summary
from .liveness import (
    grid_health,
    healthchecks,
    heartbeat_ages,
    leftovers,
    stale_workers,
    stuck_jobs,
)
from .probe import probe
from .queues import queue_depths
from .recorder import Recorder, run_recorder
from .source import History, history

__all__ = [
    "AnalyticsMixin",
    "History",
    "Recorder",
    "copy_rank",
    "error_summary",
    "finished_jobs",
    "grid_health",
    "healthchecks",
    "heartbeat_ages",
    "history",
    "job_latency",
    "jumpscript_ids",
    "latency_series",
    "latency_summary",
    "leftovers",
    "load_history",
    "one_row_per_job",
    "probe",
    "queue_depths",
    "run_recorder",
    "stale_workers",
    "stuck_jobs",
    "write_demo_history",
]
