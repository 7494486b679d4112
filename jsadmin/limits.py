"""Bounded reads of lists that can grow without limit: which end is newest, and the default cap.

JumpScale pushes most lists with ``RPUSH`` (newest at the tail) and one with ``LPUSH``
(``workers:action:*``, newest at the head), spec §4. Lists nobody drains grow for ever:
``queues:logs`` has a broken 2000-item trim, and a command or worker queue whose consumer is down
keeps its whole backlog. Those families (:attr:`jsadmin.catalog.Family.bounded`, see
:func:`jsadmin.catalog.bounded_families`) load the newest :data:`DEFAULT_LIMIT` entries per key
unless ``limit=`` says otherwise; the frame then carries a note and a :class:`TruncatedWarning`.

>>> list_span(2_000_000, 100_000, "tail")
(1900000, 1999999)
>>> list_span(5, 3, "head")
(0, 2)
"""

from __future__ import annotations

from typing import NamedTuple

from .catalog import FAMILIES, End, bounded_families

DEFAULT_LIMIT = 100_000
"""Entries per key that a bounded family loads unless ``limit=`` is given (``limit=None``: all).

100,000 log records make a 23 MiB frame and load in about 1 s with a 66 MiB peak; 2,000,000
make a 454 MiB frame, take 14-22 s and peak at 870 MiB (``benchmarks/bench_memory.py``, 2 busy cores)."""


class Capped(NamedTuple):
    """One list key a load did not read whole: ``kept`` of its ``total`` entries, from the ``keep`` end.

    ``source`` names the instance in a multi-source read (a ``Fleet`` or a fleet snapshot).

    >>> Capped("queues:logs", 10, 25, source="node5").note()
    'node5: queues:logs: newest 10 of 25 entries; pass `limit=None` for all'
    """

    key: str
    kept: int
    total: int
    keep: str = "newest"
    source: str | None = None

    def note(self) -> str:
        """The human note (see :func:`truncation_note`), after ``source:`` when it has one."""
        text = truncation_note(self.key, self.kept, self.total, self.keep)
        return text if self.source is None else f"{self.source}: {text}"

    def as_dict(self) -> dict[str, int | str]:
        """``{"kept": .., "total": .., "keep": ..}``: one value of ``LoadInfo.truncated``."""
        return {"kept": self.kept, "total": self.total, "keep": self.keep}


class TruncatedWarning(UserWarning):
    """A load kept only the newest entries of a long list (``limit=None`` reads them all)."""


def newest_end(family: str) -> End:
    """Which end of the family's lists holds the newest entry (:attr:`jsadmin.catalog.Family.newest`;
    ``tail`` for a name the catalog does not know).

    >>> newest_end("logs"), newest_end("worker_actions")
    ('tail', 'head')
    """
    fam = FAMILIES.get(family)
    return fam.newest if fam is not None else "tail"


def list_span(length: int, limit: int | None, end: End) -> tuple[int, int]:
    """Inclusive ``(start, stop)`` positions to read from a list of ``length`` entries.

    ``limit=None`` reads everything; otherwise the ``limit`` entries nearest ``end``. An empty
    selection is ``(0, -1)``.

    >>> list_span(10, None, "tail"), list_span(10, 4, "tail"), list_span(0, 4, "head")
    ((0, 9), (6, 9), (0, -1))
    """
    if limit is None or length <= limit:
        return 0, length - 1
    if limit <= 0:
        return 0, -1
    return (length - limit, length - 1) if end == "tail" else (0, limit - 1)


def truncation_note(key: str, kept: int, total: int, keep: str = "newest") -> str:
    """The note a capped load carries (``LoadInfo.notes`` and the warning).

    >>> truncation_note("queues:logs", 100_000, 2_000_000)
    'queues:logs: newest 100,000 of 2,000,000 entries; pass `limit=None` for all'
    """
    return f"{key}: {keep} {kept:,} of {total:,} entries; pass `limit=None` for all"


__all__ = [
    "DEFAULT_LIMIT",
    "Capped",
    "End",
    "TruncatedWarning",
    "bounded_families",
    "list_span",
    "newest_end",
    "truncation_note",
]
