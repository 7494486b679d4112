"""The ``source`` column: naming the Redis instances of a multi-source read and merging their frames.

Below :mod:`jsadmin.snapshot`, :mod:`jsadmin.diffs` and :mod:`jsadmin.fleets`, which all speak of
sources: a :class:`MultiSource` (a ``Fleet``) is recognised by what it does, so none of them imports
another's class.

>>> source_name("redis://10.0.0.5:9999")
'10.0.0.5:9999'
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import pandas as pd

from .connection import parse_url
from .loadinfo import Loaded, LoadInfo, ProblemFrame

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

    A family's own ``source`` column (of a family registered at run time; the built-in ones name
    a jumpscript's code ``code``) is renamed ``source_code``.
    Categorical columns keep a categorical dtype (union of categories). ``attrs`` are not
    carried: :func:`merge_loaded` merges what the loads found.

    >>> merge_sources({"a": pd.DataFrame({"x": [1]}), "b": pd.DataFrame({"x": [2]})})["source"].tolist()
    ['a', 'b']
    """
    source_dtype = _source_dtype(frames, sources)
    if not frames:
        return pd.DataFrame({SOURCE: pd.Series([], dtype=source_dtype)})
    return concat_sources([_tagged(name, frame, source_dtype) for name, frame in frames.items()])


def _tagged(name: str, frame: pd.DataFrame, source_dtype: pd.CategoricalDtype) -> pd.DataFrame:
    part = _bare(frame)
    if SOURCE in part.columns:  # a family registered with a "source" column of its own
        part = part.rename(columns={SOURCE: SOURCE_CODE})
    part.insert(0, SOURCE, pd.Series([name] * len(part), index=part.index, dtype=source_dtype))
    return part


def concat_sources(frames: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """Concatenate frames that already have their ``source`` column: the :func:`merge_sources` of
    consecutive groups of the same sources (``sources=`` alike) give the frame it makes of all of
    them at once. Categorical columns keep a categorical dtype (union of categories, in order).

    >>> a = merge_sources({"a": pd.DataFrame({"x": [1]})}, sources=["a", "b"])
    >>> b = merge_sources({"b": pd.DataFrame({"x": [2]})}, sources=["a", "b"])
    >>> concat_sources([a, b]).equals(merge_sources({"a": pd.DataFrame({"x": [1]}), "b": pd.DataFrame({"x": [2]})}))
    True
    """
    if len(frames) == 1 and frames[0].index.equals(pd.RangeIndex(len(frames[0]))):
        return _bare(frames[0])
    cat_cols: dict[str, list[Any]] = {}
    for frame in frames:
        for col, dtype in frame.dtypes.items():
            if isinstance(dtype, pd.CategoricalDtype):
                seen = cat_cols.setdefault(str(col), [])
                seen.extend(c for c in dtype.categories if c not in seen)
    parts: list[pd.DataFrame] = []
    for frame in frames:
        part = _bare(frame)
        for col, cats in cat_cols.items():
            dtype = part.dtypes.get(col)
            if dtype is not None and not (isinstance(dtype, pd.CategoricalDtype) and list(dtype.categories) == cats):
                part[col] = part[col].astype(pd.CategoricalDtype(cats))
        parts.append(part)
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
    if not loaded:
        frame = merge_sources({}, sources=source_dtype.categories)
        return Loaded(frame, LoadInfo(family, ProblemFrame(_empty_problems(source_dtype))))
    tagged = []
    for name, (frame, info) in loaded.items():
        if len(info.problems):
            prob = _bare(info.problems)
            prob.insert(0, SOURCE, pd.Series([name] * len(prob), index=prob.index, dtype=source_dtype))
        else:
            prob = _empty_problems(source_dtype)
        capped = tuple(c._replace(source=name) for c in info.capped)
        tagged.append(Loaded(_tagged(name, frame, source_dtype), LoadInfo(family, ProblemFrame(prob), capped, info.moved)))
    return concat_loaded(tagged, family=family)


def concat_loaded(parts: Sequence[Loaded], *, family: str) -> Loaded:
    """:func:`concat_sources` for loads: the :func:`merge_loaded` of consecutive groups of the same
    sources give the one it makes of all of them (problems and capped keys in order, moved lists once).

    >>> from jsadmin.loadinfo import LoadInfo
    >>> one = Loaded(pd.DataFrame({"x": [1]}), LoadInfo("jobs"))
    >>> a = merge_loaded({"a": one}, family="jobs", sources=["a", "b"])
    >>> b = merge_loaded({"b": one}, family="jobs", sources=["a", "b"])
    >>> concat_loaded([a, b], family="jobs").frame["source"].tolist()
    ['a', 'b']
    """
    frame = concat_sources([x.frame for x in parts])
    problems = [x.info.problems for x in parts if len(x.info.problems)]
    merged_problems = (
        ProblemFrame(pd.concat([_bare(p) for p in problems], ignore_index=True)) if problems
        else parts[0].info.problems
    )
    capped = tuple(c for x in parts for c in x.info.capped)
    moved: list[str] = []
    for x in parts:
        moved += [k for k in x.info.moved if k not in moved]
    return Loaded(frame, LoadInfo(family, merged_problems, capped, tuple(moved)))


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

    def stage_snapshot(self, directory: Path, *, limit: int | None, batch_rows: int) -> dict[str, Any]:
        """Stage every source under ``directory``: ``{source: snapshot.StagedSource}`` of those that answered."""
        ...

    def status(self) -> pd.DataFrame: ...
