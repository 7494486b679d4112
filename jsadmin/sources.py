"""The ``source`` column: naming the Redis instances of a multi-source read and merging their frames.

Below :mod:`jsadmin.snapshot`, :mod:`jsadmin.diffs` and :mod:`jsadmin.fleets`, which all speak of
sources: a :class:`MultiSource` (a ``Fleet``) is recognised by what it does, so none of them imports
another's class.

>>> source_name("redis://10.0.0.5:9999")
'10.0.0.5:9999'
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol, TypeVar, runtime_checkable

import pandas as pd

from .connection import parse_url
from .limits import Capped
from .loadinfo import Loaded, LoadInfo, ProblemFrame

T = TypeVar("T")

SOURCE = "source"
"""Name of the column that says which instance a row came from."""

SOURCE_CODE = "source_code"
"""Where a family's own ``source`` column (jumpscript code) goes in fleet frames and snapshots."""


def source_name(url: str) -> str:
    """The default source name of a URL: ``host:port`` (``host:port.db2`` for db 2), ``unix``.

    >>> source_name("redis://:pw@10.0.0.5:9999/0")
    '10.0.0.5:9999'
    """
    target = parse_url(url)
    base = "unix" if target.scheme == "unix" else f"{target.host}:{target.port}"
    return base if not target.db else f"{base}.db{target.db}"




def _bare(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy(deep=False)
    out.attrs = {}
    return out


def _source_dtype(frames: Iterable[str], sources: Iterable[str] | None) -> pd.CategoricalDtype:
    names = list(sources) if sources is not None else []
    for name in frames:
        if name not in names:
            names.append(name)
    return pd.CategoricalDtype(names)


def merge_sources(
    frames: Mapping[str, pd.DataFrame], *, sources: Iterable[str] | None = None
) -> pd.DataFrame:
    """Concatenate per-source frames, adding ``source`` first (a categorical of every source).

    A family's own ``source`` column (the code of a jumpscript) is renamed ``source_code``.
    Categorical columns keep a categorical dtype (union of categories). ``attrs`` are not
    carried: :func:`merge_loaded` merges what the loads found.

    >>> merge_sources({"a": pd.DataFrame({"x": [1]}), "b": pd.DataFrame({"x": [2]})})["source"].tolist()
    ['a', 'b']
    """
    source_dtype = _source_dtype(frames, sources)
    parts: list[pd.DataFrame] = []
    cat_cols: dict[str, list[Any]] = {}
    for frame in frames.values():
        for col, dtype in frame.dtypes.items():
            if isinstance(dtype, pd.CategoricalDtype):
                seen = cat_cols.setdefault(str(col), [])
                seen.extend(c for c in dtype.categories if c not in seen)
    for name, frame in frames.items():
        part = _bare(frame)
        if SOURCE in part.columns:  # jumpscript families have their own "source" (the code)
            part = part.rename(columns={SOURCE: SOURCE_CODE})
        for col, cats in cat_cols.items():
            if col in part.columns:
                part[col] = part[col].astype(pd.CategoricalDtype(cats))
        part.insert(0, SOURCE, pd.Series([name] * len(part), index=part.index, dtype=source_dtype))
        parts.append(part)
    if not parts:
        return pd.DataFrame({SOURCE: pd.Series([], dtype=source_dtype)})
    nonempty = [p for p in parts if len(p)] or parts[:1]
    merged = pd.concat(nonempty, ignore_index=True, sort=False)
    merged.attrs = {}
    for col, cats in cat_cols.items():
        if col in merged.columns and not isinstance(merged[col].dtype, pd.CategoricalDtype):
            merged[col] = merged[col].astype(pd.CategoricalDtype(cats))
    return merged


def merge_loaded(loaded: Mapping[str, Loaded], *, family: str, sources: Iterable[str] | None = None) -> Loaded:
    """Merge per-source loads of one family: :func:`merge_sources` of the frames, and one
    :class:`~jsadmin.loadinfo.LoadInfo` whose problems have a ``source`` column first and whose
    capped keys name their source.

    >>> from jsadmin.loadinfo import LoadInfo
    >>> one = Loaded(pd.DataFrame({"x": [1]}), LoadInfo("jobs"))
    >>> merged = merge_loaded({"a": one, "b": one}, family="jobs")
    >>> merged.frame["source"].tolist(), merged.info.family
    (['a', 'b'], 'jobs')
    """
    source_dtype = _source_dtype(loaded, sources)
    frame = merge_sources({n: x.frame for n, x in loaded.items()}, sources=source_dtype.categories)
    problems: list[pd.DataFrame] = []
    capped: list[Capped] = []
    moved: list[str] = []
    for name, (_, info) in loaded.items():
        if len(info.problems):
            prob = _bare(info.problems)
            prob.insert(0, SOURCE, pd.Series([name] * len(prob), index=prob.index, dtype=source_dtype))
            problems.append(prob)
        capped += [c._replace(source=name) for c in info.capped]
        moved += [k for k in info.moved if k not in moved]
    merged_problems = ProblemFrame(
        pd.concat(problems, ignore_index=True) if problems else _empty_problems(source_dtype)
    )
    return Loaded(frame, LoadInfo(family, merged_problems, tuple(capped), tuple(moved)))


def _empty_problems(source_dtype: pd.CategoricalDtype) -> pd.DataFrame:
    return pd.DataFrame(
        {
            SOURCE: pd.Series([], dtype=source_dtype),
            "family": pd.Series([], dtype="string"),
            "key": pd.Series([], dtype="string"),
            "field": pd.Series([], dtype="string"),
            "error": pd.Series([], dtype="string"),
            "raw": pd.Series([], dtype=object),
        }
    )


# --- the read protocol ----------------------------------------------------------------------


@runtime_checkable
class Source(Protocol):
    """The read protocol of every source: ``Admin`` (one live Redis), ``Fleet`` (many, with a
    ``source`` column), ``Snapshot`` (Parquet, offline) and ``History`` (recorded history,
    :mod:`jsadmin.analytics.source`).

    Code written against it reads any of them. The same bad call fails the same way on each:
    an unknown family raises :class:`~jsadmin.errors.UnknownFamilyError`, an unknown filter
    :class:`~jsadmin.errors.UnknownFilterError` (both from :mod:`jsadmin.catalog`).

    >>> def job_states(src: Source) -> pd.Series:
    ...     return src.load("jobs")["state"].value_counts()
    >>> isinstance(object(), Source)
    False
    """

    def families(self) -> pd.DataFrame:
        """One row per family: name, description, key and entry counts."""
        ...

    def load(self, name: str, **filters: Any) -> pd.DataFrame:
        """One family as a typed frame; ``filters`` keep rows by column value (``gid=1``)."""
        ...

    def load_all(self) -> dict[str, pd.DataFrame]:
        """Every family: ``{family: frame}``."""
        ...

    def problems(self) -> pd.DataFrame:
        """Values that did not decode: ``family, key, field, error, raw``."""
        ...


@runtime_checkable
class InfoSource(Source, Protocol):
    """A :class:`Source` that also says what each load found: ``Admin``, ``Fleet``, ``Snapshot``.

    ``load_with_info(name, **filters)`` returns a :class:`~jsadmin.loadinfo.Loaded`: the frame
    ``load`` returns and its typed :class:`~jsadmin.loadinfo.LoadInfo` (family, problems, capped
    keys, moved lists).

    >>> def capped_keys(src: InfoSource) -> list[str]:
    ...     return [c.key for c in src.load_with_info("logs").info.capped]
    >>> isinstance(object(), InfoSource)
    False
    """

    def load_with_info(self, name: str, **filters: Any) -> Loaded:
        """One family (pandas) and its :class:`~jsadmin.loadinfo.LoadInfo`."""
        ...

    def load_all_with_info(self) -> dict[str, Loaded]:
        """Every family: ``{family: Loaded}``."""
        ...


# --- the fleet ------------------------------------------------------------------------------


@runtime_checkable
class MultiSource(Protocol):
    """What snapshots need of many sources read as one (a :class:`jsadmin.fleets.Fleet`).

    >>> isinstance(object(), MultiSource)
    False
    """

    @property
    def sources(self) -> dict[str, str]: ...

    def map(self, fn: Callable[[Any], T], *, operation: str = ...) -> dict[str, T]: ...

    def status(self) -> pd.DataFrame: ...
