"""Fixtures of the fault suite: real servers, a fault proxy, Admins.

Every test runs on the selected Redis (``redis_binary`` of ``tests/conftest.py``:
``$JSADMIN_REDIS_SERVER`` or ``pytest --redis-server``; the version matrix runs the suite on
2.8.17, 3.0.5, 6.2 and 7.0). Each test gets its own server, its own journal and ``$HOME``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

import jsadmin
from jsadmin.admin import Admin

from .proxy import FaultProxy
from .servers import FaultServer


@pytest.fixture(autouse=True)
def private_journal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test writes its own journal: ``$HOME`` and ``$JSADMIN_JOURNAL`` point into tmp."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    path = tmp_path / "journal" / "journal.jsonl"
    monkeypatch.setenv("JSADMIN_JOURNAL", str(path))
    return path


@pytest.fixture()
def server(redis_binary: Path, tmp_path: Path) -> Iterator[FaultServer]:
    """A fresh server (no persistence) for this test only."""
    srv = FaultServer.start(redis_binary, tmp_path / "data")
    yield srv
    srv.stop()


@pytest.fixture()
def aof_server(redis_binary: Path, tmp_path: Path) -> Iterator[FaultServer]:
    """A fresh server with ``appendonly yes`` + ``appendfsync always``: survives SIGKILL + restart."""
    srv = FaultServer.start(redis_binary, tmp_path / "aofdata", aof=True)
    yield srv
    srv.stop()


@pytest.fixture()
def proxy(server: FaultServer) -> Iterator[FaultProxy]:
    with FaultProxy(server.port) as p:
        yield p


@pytest.fixture()
def aof_proxy(aof_server: FaultServer) -> Iterator[FaultProxy]:
    with FaultProxy(aof_server.port) as p:
        yield p


@pytest.fixture()
def r(server: FaultServer) -> redis.Redis:
    """A raw client straight to the server (bypasses the proxy), for setup and reconciliation."""
    return server.client()


@pytest.fixture()
def connect() -> Iterator[Callable[..., Admin]]:
    """``connect(url, **redis_options)`` -> a real ``jsadmin.Admin`` (closed at teardown)."""
    made: list[Admin] = []

    def _connect(url: str, **options: Any) -> Admin:
        adm = jsadmin.connect(url, **options)
        made.append(adm)
        return adm

    yield _connect
    for adm in made:
        adm.redis.close()
