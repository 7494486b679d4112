"""``AnalyticsMixin``: the analytics methods of ``Admin`` (thin wrappers over the pure functions).

The mixin relies only on ``self.redis``, ``self.readonly``, ``self.url`` and the typed reads of
:class:`~jsadmin.backends.LoadsFamilies` (``load``, ``load_all_with_info``), which it inherits and
``Admin`` implements; it never imports :mod:`jsadmin.admin`.

>>> admin.latency(by="cmd", metric="run_time")          # doctest: +SKIP
>>> admin.grid_health().head()                          # doctest: +SKIP
>>> rec = admin.record("rec/", interval=1.0)            # background thread   # doctest: +SKIP

The ``*_with_info`` methods return :class:`~jsadmin.analytics.info.Analysed` (frame + typed info);
the plain ones return the frame, its info mirrored in ``attrs`` for one release (deprecated).

>>> table, info = admin.latency_with_info(by="cmd")     # doctest: +SKIP
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import pandas as pd

from ..backends import LoadsFamilies
from ._common import DEFAULT_LEFTOVER_AFTER, JOB_FAMILIES
from .errors import error_summary
from .info import Analysed, FinishedInfo, HealthInfo, JobsInfo, LatencyInfo, QueueInfo, mirrored
from .jobs import COPY_FAMILIES, one_row_per_job_with_info
from .latency import finished_jobs_with_info, latency_summary_with_info
from .liveness import DEFAULT_STALE_AFTER, grid_health_with_info
from .probe import probe, probe_with_info
from .queues import queue_depths_with_info
from .recorder import Recorder


class AnalyticsMixin(LoadsFamilies):
    """Latency, queue depths, grid health, errors, recording and probes on a live ``Admin``
    (its reads are the :class:`~jsadmin.backends.LoadsFamilies` ones the ``Admin`` implements)."""

    redis: Any
    readonly: bool
    url: str

    def jobs_with_info(self) -> Analysed[JobsInfo]:
        """Every job Redis holds, one row per guid, whichever families hold its copies
        (see :func:`~jsadmin.analytics.jobs.one_row_per_job`), and its
        :class:`~jsadmin.analytics.info.JobsInfo` (copies read, folded, without guid): ``state`` is
        its latest state, ``seen_in``/``copies`` where it was seen, ``jumpscript`` its
        ``<organization>__<name>``.

        >>> jobs, info = admin.jobs_with_info(); info.duplicates      # doctest: +SKIP
        """
        return one_row_per_job_with_info({name: self.load(name) for name in COPY_FAMILIES})

    jobs = mirrored(jobs_with_info, """The frame of :meth:`jobs_with_info` (its info mirrored in
        ``attrs`` for one release).

        >>> admin.jobs().groupby("state", observed=True).size()    # jobs, not copies   # doctest: +SKIP
        >>> admin.jobs().query("copies > 1")[["guid", "seen_in", "state"]]               # doctest: +SKIP
        """)

    def finished_jobs_with_info(self) -> Analysed[FinishedInfo]:
        """Final copies of the jobs Redis still holds (``job_results``, ``jobs``, ``worker_jobs``)
        and its :class:`~jsadmin.analytics.info.FinishedInfo` (``duplicates``).

        >>> jobs, info = admin.finished_jobs_with_info()              # doctest: +SKIP
        """
        return finished_jobs_with_info({name: self.load(name) for name in JOB_FAMILIES})

    finished_jobs = mirrored(finished_jobs_with_info, """The frame of
        :meth:`finished_jobs_with_info` (``duplicates`` mirrored in ``attrs`` for one release).

        >>> admin.finished_jobs().state.value_counts()     # doctest: +SKIP
        """)

    def latency_with_info(
        self, by: str | Sequence[str] | None = ("cmd",), metric: str = "run_time"
    ) -> Analysed[LatencyInfo]:
        """Latency summary of the finished jobs still in Redis, one job counted once (see
        :func:`latency_summary`), and its :class:`~jsadmin.analytics.info.LatencyInfo` (``excluded`` jobs, ...).

        ``by=["cmd"]`` (or ``"jumpscript"``) gives one row per jumpscript ``<organization>__<name>``;
        ``jobs``/``measured``/``errors``/``timeouts`` are counts, p50..max ``Timedelta`` (ms).

        Redis keeps finished jobs for about a minute: for history use :meth:`record` and
        ``jsadmin.history(dir)``.

        >>> table, info = admin.latency_with_info(by="nid"); info.excluded   # doctest: +SKIP
        """
        return latency_summary_with_info(self.finished_jobs_with_info().frame, by=by, metric=metric)

    latency = mirrored(latency_with_info, """The table of :meth:`latency_with_info` (its info
        mirrored in ``attrs`` for one release).

        >>> admin.latency(by=["nid"], metric="queue_wait")   # doctest: +SKIP
        """)

    def queue_depths_with_info(self) -> Analysed[QueueInfo]:
        """Length and oldest-entry age of every command and worker queue (bounded, read-only), and
        its :class:`~jsadmin.analytics.info.QueueInfo` (``time``).

        >>> depths, info = admin.queue_depths_with_info()              # doctest: +SKIP
        """
        return queue_depths_with_info(self)

    queue_depths = mirrored(queue_depths_with_info, """The frame of :meth:`queue_depths_with_info`
        (``time`` mirrored in ``attrs`` for one release).

        >>> admin.queue_depths()                              # doctest: +SKIP
        """)

    def grid_health_with_info(
        self, stale_after: float = DEFAULT_STALE_AFTER, *, leftover_after: Any = DEFAULT_LEFTOVER_AFTER
    ) -> Analysed[HealthInfo]:
        """Heartbeats, workers, queues, health checks and stuck jobs in one frame: current
        problems first (worst first), then leftovers (legacy families, entries older than
        ``leftover_after``, default 7 days); see :func:`grid_health` and :func:`leftovers`. Its
        :class:`~jsadmin.analytics.info.HealthInfo` (``stale_after``, ...) is what
        ``plot_heartbeat_age`` takes as it is.

        >>> plots.plot_heartbeat_age(admin.grid_health_with_info(stale_after=60))   # doctest: +SKIP
        """
        loaded = self.load_all_with_info()
        return grid_health_with_info(
            {name: x.frame for name, x in loaded.items()}, stale_after=stale_after, leftover_after=leftover_after,
            client=self.redis, infos={name: x.info for name, x in loaded.items()},
        )

    grid_health = mirrored(grid_health_with_info, """The frame of :meth:`grid_health_with_info` (its
        info mirrored in ``attrs`` for one release).

        >>> admin.grid_health(stale_after=60).query("signal == 'current' and status != 'ok'")   # doctest: +SKIP
        """)

    def errors(self, *, leftover_after: Any = DEFAULT_LEFTOVER_AFTER) -> pd.DataFrame:
        """ECOs and failed jobs grouped by category, jumpscript and node (see :func:`error_summary`).

        >>> admin.errors().head()                              # doctest: +SKIP
        """
        frames = {name: self.load(name) for name in (*JOB_FAMILIES, "ecos")}
        return error_summary(frames, leftover_after=leftover_after)

    def record(
        self,
        out: str | os.PathLike[str],
        interval: float = 1.0,
        duration: float | None = None,
        background: bool = True,
    ) -> Recorder:
        """Record finished jobs, queue depths and heartbeats to Parquet under ``out``.

        ``background=True`` (default) returns a started :class:`Recorder` (call ``.stop()``);
        ``False`` blocks for ``duration`` seconds (or until Ctrl-C) and returns it stopped.

        >>> rec = admin.record("rec/", interval=1); ...; rec.stop()   # doctest: +SKIP
        """
        rec = Recorder(self, out, interval)
        if background:
            return rec.start(duration)
        try:
            rec.run(duration)
        except KeyboardInterrupt:
            rec.stop()
        return rec

    probe = probe
    """``admin.probe([1, "node"], n=3)``: the free :func:`~jsadmin.analytics.probe.probe` as a method."""

    probe_with_info = probe_with_info
    """``admin.probe_with_info([1], n=3)``: :func:`~jsadmin.analytics.probe.probe_with_info` as a method."""
