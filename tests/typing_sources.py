"""Checked by mypy in ``tests/test_typing.py``, never run: ``Admin``, ``Fleet``, ``Snapshot`` and
``History`` all implement the read protocol :class:`jsadmin.sources.Source` and its extension :class:`jsadmin.sources.InfoSource` (``load_with_info``,
``load_all_with_info``).

An assignment that does not hold (a renamed method, a changed signature) is a mypy error, so
the 0-error test fails.
"""

from __future__ import annotations

from jsadmin import Admin, Fleet, History, Snapshot
from jsadmin.sources import InfoSource, Source


def every_source_reads_alike(admin: Admin, fleet: Fleet, snap: Snapshot, hist: History) -> list[Source]:
    sources: list[Source] = [admin, fleet, snap, hist]
    return sources


def every_source_says_what_it_found(admin: Admin, fleet: Fleet, snap: Snapshot, hist: History) -> list[InfoSource]:
    sources: list[InfoSource] = [admin, fleet, snap, hist]
    return sources
