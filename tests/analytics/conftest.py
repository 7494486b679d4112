"""Fixtures for the analytics tests: a real Redis, an ``Admin`` with the analytics (and write)
mixins, and helpers that write job copies in the byte forms of the spec."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from jsadmin.admin import Admin, connect
from jsadmin.analytics.api import AnalyticsMixin


def admin_class() -> type:
    """``Admin`` plus whichever of the analytics/write mixins the lead has not mixed in yet."""
    bases: list[type] = []
    if not issubclass(Admin, AnalyticsMixin):
        bases.append(AnalyticsMixin)
    try:
        from jsadmin.writes.api import WritesMixin
    except ImportError:  # pragma: no cover - the writes package is owned by another engineer
        WritesMixin = None
    if WritesMixin is not None and not issubclass(Admin, WritesMixin):
        bases.append(WritesMixin)
    if not bases:
        return Admin
    return type("AnalyticsTestAdmin", (*bases, Admin), {})


def open_admin(url: str, *, readonly: bool = False) -> Admin:
    base = connect(url, readonly=readonly)
    cls = admin_class()
    if cls is Admin:
        return base
    return cls(base.redis, url=base.url, readonly=readonly)


@pytest.fixture()
def admin(redis_url: str) -> Iterator[Admin]:
    adm = open_admin(redis_url)
    yield adm
    adm.redis.close()
