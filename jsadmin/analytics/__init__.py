"""Analytics over loaded frames: latency, queues, liveness, errors; recorder and history.

Pure pandas over frames (``Admin.load_all()`` or :func:`load_history`); only
:func:`queue_depths`, the :class:`Recorder` and :func:`probe` talk to Redis.

>>> from jsadmin.analytics import latency_summary, finished_jobs    # doctest: +SKIP
>>> latency_summary(finished_jobs(admin.load_all()), by="cmd")       # doctest: +SKIP
"""

from __future__ import annotations

from .demo_history import write_demo_history
from .history import load_history
from .latency import finished_jobs, job_latency, latency_series, latency_summary

__all__ = [
    "finished_jobs",
    "job_latency",
    "latency_series",
    "latency_summary",
    "load_history",
    "write_demo_history",
]
