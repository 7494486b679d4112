"""Fixtures for the analytics tests: a real Redis, an ``Admin`` with the analytics (and write)
mixins, and helpers that write job copies in the byte forms of the spec."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from analytics_helpers import open_admin

from jsadmin.admin import Admin


@pytest.fixture()
def admin(redis_url: str) -> Iterator[Admin]:
    adm = open_admin(redis_url)
    yield adm
    adm.redis.close()
