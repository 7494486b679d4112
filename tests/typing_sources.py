"""Checked by mypy in ``tests/test_typing.py``, never run: ``Admin``, ``Fleet``, ``Snapshot`` and
``History`` all implement the read protocol :class:`jsadmin.sources.Source`.

An assignment that does not hold (a renamed method, a changed signature) is a mypy error, so
the 0-error test fails.
"""

from __future__ import annotations

from jsadmin import Admin, Fleet, History, Snapshot
from jsadmin.sources import Source


def every_source_reads_alike(admin: Admin, fleet: Fleet, snap: Snapshot, hist: History) -> list[Source]:
    sources: list[Source] = [admin, fleet, snap, hist]
    return sources
