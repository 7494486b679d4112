"""``jsadmin.history(dir)``: a recorded history with the read protocol of ``Admin``/``Fleet``/``Snapshot``.

:class:`History` implements :class:`jsadmin.sources.Source` (``families``, ``load``, ``load_all``,
``problems``) and :class:`~jsadmin.sources.InfoSource` (``load_with_info``, ``load_all_with_info``) over the tables the recorder writes (``jobs``, ``queues``, ``heartbeats``; layout in
:mod:`jsadmin.analytics.history`): filters and ``expand`` go through the same
:func:`~jsadmin.catalog.check_filters` / :func:`~jsadmin.reader.select_rows` as the other sources, so a
bad filter raises the same :class:`~jsadmin.errors.UnknownFilterError`. It is also a read-only
mapping ``{table: frame}`` (tables read on first use), so ``history(dir)["jobs"]``,
``latency_summary(finished_jobs(history(dir)))`` and ``error_summary(history(dir))`` work as they did
when ``history`` returned a dict. :meth:`History.lazy` hands a table to polars or dask instead
(:mod:`jsadmin.analytics.lazy`) when it does not fit in memory.

>>> hist = jsadmin.history("rec/")                                  # doctest: +SKIP
>>> hist.load("jobs", state="ERROR", nid=[1, 2])                    # doctest: +SKIP
>>> latency_summary(hist.lazy(engine="polars"), by="cmd")            # doctest: +SKIP
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, ParamSpec

import pandas as pd
import pyarrow.parquet as pq

from ..backends import LoadsFamilies
from ..catalog import check_filters, did_you_mean
from ..errors import UnknownFamilyError
from ..loadinfo import Loaded, LoadInfo, problems_frame
from ..reader import select_rows
from .history import SCHEMAS, TABLES, check_history_dir, load_table_with_info, part_files
from .info import HistoryInfo, with_attrs
from .lazy import check_engine, scan

DESCRIPTIONS = {
    "jobs": "finished jobs, one row per guid (the most final copy the recorder caught)",
    "queues": "queue depth samples: length and oldest entry of each command and worker queue",
    "heartbeats": "heartbeat age samples of each worker queue (and JS6 watchdog worker)",
}
"""What each recorded table holds (:meth:`History.families`)."""

P = ParamSpec("P")


class History(LoadsFamilies, Mapping[str, pd.DataFrame]):
    """A recorded history directory, read like ``Admin``/``Fleet``/``Snapshot`` (no Redis needed);
    ``jsadmin.history`` is this class.

    Options apply to every read: ``decode_json=False`` leaves JSON job columns as text,
    ``columns`` loads only those job columns, ``since``/``until`` keep rows in ``[since, until)``
    (see :func:`load_history`, which reads every table at once).

    >>> hist = History("rec/", since="2026-11-27")          # doctest: +SKIP
    >>> hist["jobs"].shape, hist.load("queues", kind="command").shape, hist.families()   # doctest: +SKIP
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        decode_json: bool = True,
        columns: Sequence[str] | None = None,
        since: object | None = None,
        until: object | None = None,
    ) -> None:
        self.path = check_history_dir(path)
        self.url = f"history:{self.path}"
        self._options: dict[str, Any] = {"decode_json": decode_json, "columns": columns}
        self.since, self.until = since, until
        self._frames: dict[str, pd.DataFrame] = {}
        self._infos: dict[str, HistoryInfo] = {}

    def __repr__(self) -> str:
        files = {t: len(part_files(self.path, t, since=self.since, until=self.until)) for t in TABLES}
        shown = ", ".join(f"{t}: {n} file(s)" for t, n in files.items())
        return f"<History {self.path} ({shown})>"

    # --- the mapping {table: frame} ---------------------------------------------------------

    def __getitem__(self, table: str) -> pd.DataFrame:
        if table not in TABLES:
            raise KeyError(table)
        if table not in self._frames:
            loaded = load_table_with_info(self.path, table, since=self.since, until=self.until, **self._options)
            self._frames[table], self._infos[table] = with_attrs(loaded), loaded.info
        return self._frames[table]

    @property
    def infos(self) -> Mapping[str, HistoryInfo]:
        """``{table: HistoryInfo}`` (e.g. ``infos["jobs"].duplicates``), each read with its table on
        first use; ``finished_jobs`` and ``error_summary`` read ``unique_guids`` here.

        >>> jsadmin.history("rec/").infos["jobs"].unique_guids     # doctest: +SKIP
        True
        """
        return _TableInfos(self)

    def __iter__(self) -> Iterator[str]:
        return iter(TABLES)

    def __len__(self) -> int:
        return len(TABLES)

    # --- the read protocol ------------------------------------------------------------------

    def _table(self, name: str) -> str:
        if name not in TABLES:
            raise UnknownFamilyError(  # worded like catalog.family's error, with the tables recorded
                f"unknown family {name!r}{did_you_mean(name, TABLES)}; "
                f"recorded history {self.path} has: {', '.join(TABLES)}"
            )
        return name

    def families(self) -> pd.DataFrame:
        """One row per recorded table: ``family``, ``description``, ``files`` and ``rows`` on disk
        (from the Parquet footers: nothing else is read; ``jobs`` rows count copies before de-duplication).

        >>> jsadmin.history("rec/").families()               # doctest: +SKIP
        """
        rows = []
        for table in TABLES:
            files = part_files(self.path, table, since=self.since, until=self.until)
            rows.append({
                "family": table,
                "description": DESCRIPTIONS[table],
                "files": len(files),
                "rows": sum(pq.ParquetFile(f).metadata.num_rows for f in files),
            })
        df = pd.DataFrame(rows)
        df["family"] = df["family"].astype("string")
        df["description"] = df["description"].astype("string")
        df["files"] = df["files"].astype("Int64")
        df["rows"] = df["rows"].astype("Int64")
        return df

    def load_with_info(self, name: str, **filters: Any) -> Loaded:
        """One recorded table (``jobs``, ``queues``, ``heartbeats``) as a typed frame, and its
        :class:`~jsadmin.loadinfo.LoadInfo` (no problems: see :meth:`problems`); ``load`` returns the
        frame alone (``backend="polars"`` as in ``Admin.load``).

        Filters as on every source: ``column=value`` or ``column=[values]`` (``state="ERROR"``,
        ``nid=[1, 2]``), ``expand="args"``; an unknown column raises
        :class:`~jsadmin.errors.UnknownFilterError` before anything is read.

        >>> jsadmin.history("rec/").load("jobs", state="ERROR", expand="args")   # doctest: +SKIP
        """
        table = self._table(name)
        expand = filters.pop("expand", None)
        check_filters(table, filters, self._columns(table))
        return Loaded(select_rows(self[table], filters, expand=expand), LoadInfo(table, problems_frame([])))

    def _columns(self, table: str) -> list[str]:
        names = list(SCHEMAS[table].names)
        wanted = self._options["columns"]
        if table != "jobs" or wanted is None:
            return names
        return [c for c in names if c in set(wanted) | {"guid", "state", "timeStop", "captured"}]

    def load_all_with_info(self, **options: Any) -> dict[str, Loaded]:
        """Every recorded table: ``{table: Loaded(frame, info)}``; a history takes no options
        (give them to :func:`history`)."""
        if options:
            raise TypeError(f"History.load_all() takes no options, got {', '.join(sorted(options))}")
        return {table: self.load_with_info(table) for table in TABLES}

    def problems(self) -> pd.DataFrame:
        """Values that did not decode: always empty for a recorded history (``family, key, field,
        error, raw``). The recorder stores frames the reader already decoded; what failed to decode
        was reported by ``admin.problems()`` when it was read, and is not recorded."""
        return problems_frame([])

    # --- beyond one machine -----------------------------------------------------------------

    def lazy(self, table: str = "jobs", *, engine: str = "polars", columns: Sequence[str] | None = None) -> Any:
        """One table as a lazy frame: ``engine="polars"`` a ``polars.LazyFrame`` (``scan_parquet``),
        ``engine="dask"`` a ``dask.dataframe.DataFrame`` (``read_parquet``; computed on the current
        ``distributed`` client, if any). ``jobs`` is one row per guid, like ``self["jobs"]``;
        ``latency_summary`` and ``error_summary`` accept it (see :mod:`jsadmin.analytics.lazy`).

        >>> lf = jsadmin.history("rec/").lazy(engine="polars", columns=ANALYTICS_COLUMNS)   # doctest: +SKIP
        >>> latency_summary(lf, by="cmd")                                                   # doctest: +SKIP
        """
        check_engine(engine)
        self._table(table)
        return scan(self.path, table, engine=engine, columns=columns, since=self.since, until=self.until)


class _TableInfos(Mapping[str, HistoryInfo]):
    """:attr:`History.infos`: a table's :class:`~jsadmin.analytics.info.HistoryInfo`, read with the table."""

    def __init__(self, hist: History) -> None:
        self._hist = hist

    def __getitem__(self, table: str) -> HistoryInfo:
        self._hist[table]  # reads the table (and its info) once; KeyError for an unknown table
        return self._hist._infos[table]

    def __iter__(self) -> Iterator[str]:
        return iter(TABLES)

    def __len__(self) -> int:
        return len(TABLES)


history = History
"""``jsadmin.history(dir, ...)``: open a recorded history directory (``admin.record(dir)``,
``jsadmin record --out dir``). The class itself, under the name the package has always used:
a function that only passed its options on to :class:`History` repeated its signature.

>>> jsadmin.history("rec/")["jobs"].shape                      # doctest: +SKIP
"""


class HistoryTables(dict[str, pd.DataFrame]):
    """The ``{table: frame}`` dict :func:`load_history` returns, with ``infos``: ``{table: HistoryInfo}``.

    >>> HistoryTables({}, infos={}).infos
    {}
    """

    def __init__(self, frames: Mapping[str, pd.DataFrame], *, infos: Mapping[str, HistoryInfo]) -> None:
        super().__init__(frames)
        self.infos: dict[str, HistoryInfo] = dict(infos)


def _read_whole(open_history: Callable[P, History], doc: str) -> Callable[P, HistoryTables]:
    """What :func:`load_history` is to :class:`History`: the same parameters (for mypy, and for
    ``help()`` through ``__signature__``), every table read at once into a :class:`HistoryTables`."""

    def load_history(*args: P.args, **kwargs: P.kwargs) -> HistoryTables:
        hist = open_history(*args, **kwargs)
        return HistoryTables({table: hist[table] for table in TABLES}, infos=dict(hist.infos))

    load_history.__doc__ = inspect.cleandoc(doc)
    load_history.__signature__ = inspect.signature(open_history).replace(  # type: ignore[attr-defined]
        return_annotation="HistoryTables")
    return load_history


load_history = _read_whole(History, """Load a recorded history: ``{"jobs": ..., "queues": ..., "heartbeats": ...}``.

    ``jobs`` has the job columns and dtypes of the live job frames (``Int64`` ids, ``string``
    text, ``category`` state, UTC datetimes, decoded ``args``/``result``) plus ``family``, ``key`` and
    ``captured``, one row per guid (the most final copy). Options for big histories:
    ``decode_json=False`` leaves the JSON columns as text; ``columns`` loads only those job
    columns (e.g. :data:`~jsadmin.analytics.history.ANALYTICS_COLUMNS`; guid/state/timeStop/captured are always loaded);
    ``since``/``until`` keep jobs finished (and samples taken) in ``[since, until)``.
    It is :class:`History` (``jsadmin.history(dir)``, same parameters) with every table read
    now; a ``History`` reads them on demand, and lazily with polars or dask. The dict's ``infos`` holds each table's
    :class:`~jsadmin.analytics.info.HistoryInfo` (e.g. ``infos["jobs"].duplicates``); for one release each frame's ``attrs``
    mirror it (deprecated).

    >>> frames = load_history("rec/", since="2026-11-27")                        # doctest: +SKIP
    >>> frames = load_history("rec/", columns=ANALYTICS_COLUMNS, decode_json=False)   # doctest: +SKIP
    """)


__all__ = ["DESCRIPTIONS", "History", "HistoryTables", "history", "load_history"]

