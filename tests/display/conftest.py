"""Fixtures for the display tests: a real Admin (with the write helpers) on the emptied test server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import jsadmin


def make_admin(url: str, *, readonly: bool = False) -> Any:
    """A real Admin on ``url`` (with the write helpers), as a user would open it."""
    return jsadmin.connect(url, readonly=readonly)


@pytest.fixture(autouse=True)
def _journal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JSADMIN_JOURNAL", str(tmp_path / "journal.jsonl"))


@pytest.fixture()
def admin(redis_url: str) -> Iterator[Any]:
    adm = make_admin(redis_url)
    yield adm
    adm.redis.close()


@pytest.fixture()
def readonly_admin(redis_url: str) -> Iterator[Any]:
    adm = make_admin(redis_url, readonly=True)
    yield adm
    adm.redis.close()


@pytest.fixture()
def grid(redis_url: str) -> Iterator[Any]:
    """A quiet live grid (jumpscripts registered, workers running) on the test server."""
    from jsadmin.demogrid.grid import LiveGrid, Scenario

    live = LiveGrid(redis_url, scenario=Scenario.quiet(), poll=0.2).start()
    yield live
    live.stop()
