"""What a load found besides its rows: :class:`LoadInfo`, and :class:`Loaded` = frame + info.

Every source (``Admin``, ``Fleet``, ``Snapshot``) answers ``load_with_info(name, **filters)``
with a :class:`Loaded`: the same frame ``load`` returns, and a typed :class:`LoadInfo` (family,
the values that did not decode, the list keys a cap cut short, the lists that moved while they
were read). jsadmin passes these values around as this object, never through
``DataFrame.attrs``.

For one release, ``load`` also mirrors the info into ``df.attrs`` (``family``, ``problems``,
``notes``, ``truncated``, ``moved``) through :func:`with_attrs`, the only place jsadmin writes
load metadata to ``attrs``; nothing inside jsadmin reads it back. pandas copies or drops
``attrs`` unpredictably, so new code should use ``load_with_info``.

>>> info = LoadInfo("logs", problems_frame([]), (Capped("queues:logs", 3, 10),))
>>> info.notes, info.truncated
(['queues:logs: newest 3 of 10 entries; pass `limit=None` for all'], {'queues:logs': {'kept': 3, 'total': 10, 'keep': 'newest'}})
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import pandas as pd

from .decode import Problem
from .limits import Capped

PROBLEM_COLUMNS = ("family", "key", "field", "error", "raw")
"""Columns of a problems frame (``Admin.problems()``, :attr:`LoadInfo.problems`)."""

ATTRS_MIRROR = ("family", "problems", "notes", "truncated", "moved")
"""The ``df.attrs`` keys ``load`` still fills for one release (see :func:`with_attrs`)."""


class _ProblemShaped(type):
    """``isinstance(df, ProblemFrame)`` holds for any DataFrame with the problem columns (e.g. one
    read back from a snapshot), so problem frames compare alike wherever they came from."""

    def __instancecheck__(cls, obj: object) -> bool:
        if type.__instancecheck__(cls, obj):
            return True
        return isinstance(obj, pd.DataFrame) and set(PROBLEM_COLUMNS) <= set(map(str, obj.columns))


class ProblemFrame(pd.DataFrame, metaclass=_ProblemShaped):
    """The problems of a load (:attr:`LoadInfo.problems`): a DataFrame that is also safe in ``attrs``.

    pandas deep-copies ``attrs`` on every derived frame and compares them with ``==`` when it
    concatenates; a plain DataFrame there makes ``pd.concat`` of two slices of one load raise
    "truth value of a DataFrame is ambiguous". A ``ProblemFrame`` is shared rather than copied
    (reports are not edited in place) and two of them compare as one boolean (same rows or not).
    Frames derived from it (filters, ``concat``) stay ``ProblemFrame``; any DataFrame with the
    problem columns counts as one in ``isinstance``.

    >>> a = problems_frame([]); a == problems_frame([])
    True
    """

    @property
    def _constructor(self) -> type[ProblemFrame]:
        return ProblemFrame

    def __deepcopy__(self, memo: Any = None) -> ProblemFrame:
        return self

    def __eq__(self, other: object) -> Any:
        if isinstance(other, ProblemFrame):
            return other is self or _same_rows(self, other)
        return super().__eq__(other)

    def __ne__(self, other: object) -> Any:
        if isinstance(other, ProblemFrame):
            return not self.__eq__(other)
        return super().__ne__(other)

    __hash__ = None  # type: ignore[assignment]


def _same_rows(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    try:
        return bool(a.shape == b.shape and list(a.columns) == list(b.columns) and a.equals(b))
    except (TypeError, ValueError):
        return False


def concat_problems(frames: Iterable[pd.DataFrame]) -> pd.DataFrame:
    """The problems of several loads as one frame (``Admin.problems()``): the non-empty ones
    concatenated, or an empty frame with the problem columns.

    >>> list(concat_problems([problems_frame([])]).columns)
    ['family', 'key', 'field', 'error', 'raw']
    """
    found = [p for p in frames if len(p)]
    if not found:
        return pd.DataFrame(columns=list(PROBLEM_COLUMNS))
    return pd.concat(found, ignore_index=True)


def problems_frame(problems: Sequence[Problem]) -> ProblemFrame:
    """Problems as a DataFrame with columns ``family, key, field, error, raw``.

    >>> list(problems_frame([]).columns)
    ['family', 'key', 'field', 'error', 'raw']
    """
    return ProblemFrame([p.as_dict() for p in problems], columns=list(PROBLEM_COLUMNS))


@dataclass(frozen=True, eq=False)
class LoadInfo:
    """What one load of one family found besides its rows.

    ``problems``: one row per value that did not decode (``family, key, field, error, raw``; a
    ``source`` column first for a ``Fleet`` or a fleet snapshot). ``capped``: the list keys a
    ``limit`` (or the default cap) cut short, as :class:`~jsadmin.limits.Capped` (with their
    ``source`` in a multi-source read). ``moved``: list keys that moved while they were read
    (each is also a problem).

    >>> loaded = admin.load_with_info("logs")                       # doctest: +SKIP
    >>> loaded.info.notes                                           # doctest: +SKIP
    ['queues:logs: newest 100,000 of 2,000,000 entries; pass `limit=None` for all']
    """

    family: str
    problems: ProblemFrame = field(default_factory=lambda: problems_frame([]))
    capped: tuple[Capped, ...] = ()
    moved: tuple[str, ...] = ()

    @property
    def notes(self) -> list[str]:
        """One human note per capped key (``"queues:logs: newest 100,000 of 2,000,000 entries; ..."``)."""
        return [c.note() for c in self.capped]

    @property
    def truncated(self) -> dict[str, dict[str, int | str]]:
        """``{key: {"kept", "total", "keep"}}`` of every capped key (a key capped on two sources
        of a fleet appears once; :attr:`capped` keeps both)."""
        return {c.key: c.as_dict() for c in self.capped}

    def __repr__(self) -> str:
        parts = [f"{len(self.problems)} problem(s)"]
        if self.capped:
            parts.append(f"{len(self.capped)} capped key(s)")
        if self.moved:
            parts.append(f"moved: {', '.join(self.moved)}")
        return f"LoadInfo({self.family}: {', '.join(parts)})"


class Loaded(NamedTuple):
    """A loaded family: ``frame`` (what ``load`` returns) and its :class:`LoadInfo`.

    A named tuple, so it unpacks: ``jobs, info = admin.load_with_info("jobs")``.

    >>> jobs, info = admin.load_with_info("jobs", gid=1)            # doctest: +SKIP
    >>> info.problems.empty                                         # doctest: +SKIP
    True
    """

    frame: pd.DataFrame
    info: LoadInfo


def with_attrs(loaded: Loaded) -> pd.DataFrame:
    """The frame of ``loaded`` with the info mirrored into ``attrs`` (compatibility, one release).

    ``attrs["family"]``, ``["problems"]``, ``["notes"]``, ``["truncated"]`` and, when a list
    moved, ``["moved"]``, as ``load`` filled them before :class:`LoadInfo` existed. Use
    ``load_with_info`` instead: nothing inside jsadmin reads these.

    >>> df = with_attrs(Loaded(pd.DataFrame(), LoadInfo("jobs")))
    >>> sorted(df.attrs)
    ['family', 'notes', 'problems', 'truncated']
    """
    frame, info = loaded
    frame.attrs.update(family=info.family, problems=info.problems, notes=info.notes, truncated=info.truncated)
    if info.moved:
        frame.attrs["moved"] = list(info.moved)
    return frame


__all__ = ["ATTRS_MIRROR", "PROBLEM_COLUMNS", "LoadInfo", "Loaded", "ProblemFrame", "concat_problems", "problems_frame", "with_attrs"]
