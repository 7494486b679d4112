"""What an analytic found besides its table: one frozen ``*Info`` per analytic, and
:class:`Analysed` = frame + info.

Every analytic that used to annotate its frame in ``DataFrame.attrs`` has a ``*_with_info``
form returning an :class:`Analysed` (``latency_summary_with_info``, ``grid_health_with_info``,
...): the frame, and a typed info (excluded job counts, the metric, the stale threshold,
...). jsadmin passes these values as this object, never through ``attrs``.

Each analytic is defined once, as its ``*_with_info`` function; the plain name (``latency_summary``,
``grid_health``, ...) is derived from it by :func:`mirrored`: the same parameters, the frame alone,
and for one release the info mirrored into ``df.attrs`` under the keys it used to fill, through
:func:`with_attrs`, the only place jsadmin writes analytics annotations to ``attrs``; nothing inside
jsadmin reads them back.
pandas copies or drops ``attrs`` unpredictably (``reset_index``, ``merge``, a new frame), so new
code should use the ``*_with_info`` functions.

>>> frame, info = Analysed(pd.DataFrame(), FinishedInfo(duplicates=2))
>>> info.duplicates, with_attrs(Analysed(frame, info)).attrs
(2, {'duplicates': 2})
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import inspect
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Generic, ParamSpec, TypeVar

import pandas as pd

InfoT = TypeVar("InfoT", bound="AnalysisInfo")
P = ParamSpec("P")


class AnalysisInfo:
    """Base of the ``*Info`` classes: :meth:`attrs` is what the deprecated ``attrs`` mirror holds."""

    def attrs(self) -> dict[str, Any]:
        """The ``df.attrs`` keys the plain function still fills (fields that are not ``None``;
        tuples as lists, as they were).

        >>> QueueInfo(pd.Timestamp(0, tz="UTC"), ("queues:commands:queue:1:1",)).attrs()["oldest_unknown"]
        ['queues:commands:queue:1:1']
        """
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            if value is not None:
                out[f.name] = list(value) if isinstance(value, tuple) else value
        return out


@dataclass(frozen=True)
class JobLatencyInfo(AnalysisInfo):
    """What :func:`~jsadmin.analytics.latency.job_latency` dropped or adjusted.

    ``excluded``: rows dropped for lack of timestamps, by reason (``unfinished``, ``no_timeStart``,
    ``no_timeStop``); ``legacy``: kept rows without ``timeCreate`` (only ``end_to_end``);
    ``clamped``: negative run times set to 0.

    >>> JobLatencyInfo({"unfinished": 1}, legacy=0, clamped=2).clamped
    2
    """

    excluded: Mapping[str, int]
    legacy: int
    clamped: int


@dataclass(frozen=True)
class LatencyInfo(AnalysisInfo):
    """What a :func:`~jsadmin.analytics.latency.latency_summary` or
    :func:`~jsadmin.analytics.latency.latency_series` table measured.

    ``metric``: the duration (``run_time``, ...); ``excluded``: jobs without the timestamps it
    needs, by reason; ``columns``: what each column counts (:data:`~jsadmin.analytics.latency.COLUMN_DOCS`);
    ``legacy``: measured jobs without ``timeCreate`` (summary only, else ``None``); ``freq``: the
    bucket of a series (else ``None``).

    >>> LatencyInfo("run_time", {"unfinished": 0}, {}, legacy=3).attrs()
    {'metric': 'run_time', 'excluded': {'unfinished': 0}, 'columns': {}, 'legacy': 3}
    """

    metric: str
    excluded: Mapping[str, int]
    columns: Mapping[str, str]
    legacy: int | None = None
    freq: str | None = None


@dataclass(frozen=True)
class JobsInfo(AnalysisInfo):
    """How :func:`~jsadmin.analytics.jobs.one_row_per_job` folded copies into jobs.

    ``copies``: rows read; ``jobs``: rows out; ``duplicates``: copies folded away
    (``copies - jobs``); ``no_guid``: copies without a guid (each kept as its own job).

    >>> JobsInfo(copies=10, jobs=4, duplicates=6, no_guid=0).duplicates
    6
    """

    copies: int
    jobs: int
    duplicates: int
    no_guid: int


@dataclass(frozen=True)
class FinishedInfo(AnalysisInfo):
    """:func:`~jsadmin.analytics.latency.finished_jobs`: ``duplicates`` = final copies folded into another.

    >>> FinishedInfo(duplicates=0).attrs()
    {'duplicates': 0}
    """

    duplicates: int


@dataclass(frozen=True)
class HistoryInfo(AnalysisInfo):
    """One table of a recorded history (:func:`~jsadmin.analytics.history.load_table`).

    ``table``: ``jobs``, ``queues`` or ``heartbeats``; ``path``: the history directory (``None``
    for jobs a lazy engine selected); ``duplicates``: job copies dropped so one row per guid is
    left (``None`` for other tables); ``unique_guids``: the frame holds one row per guid already
    (:func:`~jsadmin.analytics.latency.finished_jobs` then skips folding copies).

    >>> HistoryInfo("jobs", "rec", duplicates=1, unique_guids=True).attrs()
    {'duplicates': 1, 'unique_guids': True, 'family': 'history.jobs', 'history': 'rec'}
    """

    table: str
    path: str | None
    duplicates: int | None = None
    unique_guids: bool = False

    def attrs(self) -> dict[str, Any]:
        """The keys ``load_table`` filled: ``duplicates``/``unique_guids`` for jobs, ``family``/``history``."""
        out: dict[str, Any] = {}
        if self.duplicates is not None:
            out["duplicates"] = self.duplicates
        if self.unique_guids:
            out["unique_guids"] = True
        if self.path is not None:
            out.update(family=f"history.{self.table}", history=self.path)
        return out


@dataclass(frozen=True)
class QueueInfo(AnalysisInfo):
    """A queue depth frame (:func:`~jsadmin.analytics.queues.queue_depths`, ``depths_from_frames``).

    ``time``: when the ages were computed (UTC); ``oldest_unknown``: capped queues whose oldest
    entry was not loaded nor read (``None`` when depths were sampled from Redis directly).

    >>> QueueInfo(pd.Timestamp("2026-01-01", tz="UTC")).attrs()
    {'time': Timestamp('2026-01-01 00:00:00+0000', tz='UTC')}
    """

    time: pd.Timestamp
    oldest_unknown: tuple[str, ...] | None = None


@dataclass(frozen=True)
class HealthInfo(AnalysisInfo):
    """The thresholds a :func:`~jsadmin.analytics.liveness.grid_health` frame was judged by.

    ``time``: its "now" (UTC); ``stale_after``: a heartbeat or queue older than this is stale
    (what :func:`~jsadmin.display.plots.plot_heartbeat_age` draws); ``leftover_after``: older
    rows are leftovers.

    >>> HealthInfo(pd.Timestamp(0, tz="UTC"), pd.Timedelta("2min"), pd.Timedelta("7D")).stale_after
    Timedelta('0 days 00:02:00')
    """

    time: pd.Timestamp
    stale_after: pd.Timedelta
    leftover_after: pd.Timedelta


@dataclass(frozen=True)
class ProbeInfo(AnalysisInfo):
    """What :func:`~jsadmin.analytics.probe.probe` sent: ``jumpscript`` (``category__cmd``) on grid ``gid``.

    >>> ProbeInfo("jumpscale__echo", 1).attrs()
    {'jumpscript': 'jumpscale__echo', 'gid': 1}
    """

    jumpscript: str
    gid: int


@dataclass(frozen=True, eq=False)
class Analysed(Generic[InfoT]):
    """An analytic's result: ``frame`` (what the plain function returns) and its typed ``info``.

    It unpacks like :class:`~jsadmin.loadinfo.Loaded`: ``table, info = latency_summary_with_info(jobs)``
    (a frozen dataclass rather than a generic named tuple, which Python 3.10 cannot define; the
    attributes keep their types for a type checker, unpacked names do not).

    >>> table, info = latency_summary_with_info(jobs, by="cmd")     # doctest: +SKIP
    >>> info.excluded                                              # doctest: +SKIP
    {'unfinished': 0, 'no_timeStart': 0, 'no_timeStop': 2}
    """

    frame: pd.DataFrame
    info: InfoT

    def __iter__(self) -> Iterator[Any]:
        return iter((self.frame, self.info))


def with_attrs(result: Analysed[Any]) -> pd.DataFrame:
    """The frame of ``result`` with its info mirrored into ``attrs`` (compatibility, one release).

    The keys are those the plain function filled before the ``*Info`` types existed
    (:meth:`AnalysisInfo.attrs`). Use the ``*_with_info`` functions instead: nothing inside
    jsadmin reads these.

    >>> with_attrs(Analysed(pd.DataFrame(), ProbeInfo("jumpscale__echo", 1))).attrs["gid"]
    1
    """
    result.frame.attrs.update(copy.deepcopy(result.info.attrs()))  # the info stays as it was
    return result.frame


def mirrored_stale_after(frame: pd.DataFrame) -> pd.Timedelta | None:
    """The ``stale_after`` a plain ``grid_health()`` frame carries in its deprecated ``attrs``
    mirror, or None: read for one release, so a plot of that frame draws the threshold its
    statuses were judged by, not a default that contradicts them.

    >>> mirrored_stale_after(with_attrs(Analysed(pd.DataFrame(), HealthInfo(
    ...     pd.Timestamp(0, tz="UTC"), pd.Timedelta("1min"), pd.Timedelta("7D")))))
    Timedelta('0 days 00:01:00')
    >>> mirrored_stale_after(pd.DataFrame()) is None
    True
    """
    value = frame.attrs.get("stale_after")
    try:
        return None if value is None else pd.Timedelta(value)
    except (TypeError, ValueError):
        return None


_SUFFIX = "_with_info"


def mirrored(with_info: Callable[P, Analysed[Any]], doc: str) -> Callable[P, pd.DataFrame]:
    """The plain analytic of ``with_info`` (a ``*_with_info`` function or method): same
    parameters, returns :func:`with_attrs` of its result (the frame, info mirrored in ``attrs``).

    The one definition of an analytic is its ``*_with_info`` function; this derives the plain name
    instead of restating its signature. ``doc`` is the plain function's docstring (with its usage
    example). Its name drops the ``_with_info`` suffix; ``inspect.signature`` and ``help()`` show
    ``with_info``'s parameters returning ``pd.DataFrame``, and mypy sees the same (``ParamSpec``).
    In a class body it makes a method, as ``def`` would.

    >>> def count_with_info(n: int) -> Analysed[FinishedInfo]:
    ...     return Analysed(pd.DataFrame({"x": range(n)}), FinishedInfo(duplicates=0))
    >>> count = mirrored(count_with_info, "The frame alone.")
    >>> count.__name__, str(inspect.signature(count)), count(2).attrs
    ('count', "(n: 'int') -> 'pd.DataFrame'", {'duplicates': 0})
    """
    name = with_info.__name__
    if not name.endswith(_SUFFIX):
        raise ValueError(f"mirrored() derives a plain analytic from a *{_SUFFIX} function, not {name!r}")

    @functools.wraps(with_info)
    def plain(*args: P.args, **kwargs: P.kwargs) -> pd.DataFrame:
        return with_attrs(with_info(*args, **kwargs))

    plain.__name__ = name.removesuffix(_SUFFIX)
    plain.__qualname__ = with_info.__qualname__.removesuffix(_SUFFIX)
    plain.__doc__ = inspect.cleandoc(doc)
    plain.__annotations__ = {**with_info.__annotations__, "return": "pd.DataFrame"}
    plain.__signature__ = inspect.signature(with_info).replace(  # type: ignore[attr-defined]
        return_annotation=plain.__annotations__["return"])
    return plain


__all__ = [  # the typed results, re-exported by jsadmin.analytics; mirrored/with_attrs are jsadmin's own tools
    "Analysed",
    "AnalysisInfo",
    "FinishedInfo",
    "HealthInfo",
    "HistoryInfo",
    "JobLatencyInfo",
    "JobsInfo",
    "LatencyInfo",
    "ProbeInfo",
    "QueueInfo",
]
