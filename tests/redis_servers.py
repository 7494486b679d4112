"""Real redis-server processes for the tests, all from the binary selected for the run.

Imported by ``tests/conftest.py`` (fixtures ``redis_factory``, ``redis_info``, ``redis_binary``)
and by other conftests and tests (``tests/`` is on ``sys.path``)::

    from redis_servers import require_feature
    require_feature("acl")      # skips where the selected server is older than Redis 6.0
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import redis

from jsadmin.compat import FEATURES, ServerInfo
from jsadmin.embedded import EmbeddedRedis, binary_version, find_redis_server, free_port


def selected_binary() -> Path:
    """The redis-server binary of this run (what ``EmbeddedRedis.start()`` will use)."""
    return find_redis_server()


_info: dict[Path, ServerInfo] = {}


def selected_server() -> ServerInfo:
    """The version of the selected binary (``redis-server --version``), asked once."""
    binary = selected_binary()
    if binary not in _info:
        _info[binary] = ServerInfo(binary_version(binary))
    return _info[binary]


def require_feature(feature: str) -> None:
    """Skip the calling test (or fixture) when the selected server lacks ``feature``."""
    info = selected_server()
    if not info.has(feature):
        first, what = FEATURES[feature]
        pytest.skip(f"{what}: needs Redis {first[0]}.{first[1]}+, the selected server is Redis {info.version_text}")



@dataclass
class ServerFactory:
    """Starts real servers from the selected binary and stops whatever is left at session end.

    >>> srv = redis_factory.start()              # TCP on a free port  # doctest: +SKIP
    >>> srv = redis_factory.start(tcp=False)     # unix socket only    # doctest: +SKIP
    >>> redis_factory.client(srv).ping()         # RESP2 redis-py client # doctest: +SKIP
    """

    binary: Path
    info: ServerInfo
    started: list[EmbeddedRedis] = field(default_factory=list)

    def start(
        self, *, tcp: bool = True, port: int | None = None, args: tuple[str, ...] = (), binary: Path | None = None
    ) -> EmbeddedRedis:
        """A new server (stop it yourself with ``.stop()``, or it is stopped at session end)."""
        srv = EmbeddedRedis.start(port=port or (free_port() if tcp else None), args=args, binary=binary or self.binary)
        self.started.append(srv)
        return srv

    @staticmethod
    def client(srv: EmbeddedRedis, **options: object) -> redis.Redis:
        """A raw RESP2 client on ``srv`` over its unix socket (works before a password is set)."""
        return redis.Redis(protocol=2, unix_socket_path=str(srv.socket_path), **options)  # type: ignore[arg-type]

    def stop_all(self) -> None:
        for srv in self.started:
            srv.stop()
        self.started.clear()


def old_binary() -> Path | None:
    """A redis-server older than 6.0 (no ACL, no TLS): the selected one if it is, else a cached
    2.8.17/3.0.5 build (``python -m tests.matrix --build-only`` makes them), else None."""
    from matrix import SDISTS, cached_binary

    if not selected_server().has("acl"):
        return selected_binary()
    for version in SDISTS:
        path = cached_binary(version)
        if path.is_file() and os.access(path, os.X_OK):
            return path
    return None
