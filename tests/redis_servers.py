"""Real redis-server processes for the tests, all from the binary selected for the run.

Imported by ``tests/conftest.py`` (fixtures ``redis_factory``, ``redis_info``, ``redis_binary``)
and by other conftests and tests (``tests/`` is on ``sys.path``)::

    from redis_servers import require_feature
    require_feature("acl")      # skips where the selected server is older than Redis 6.0
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.context
import multiprocessing.pool
import multiprocessing.process
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import pytest
import redis

from jsadmin.compat import FEATURES, ServerInfo
from jsadmin.display.cost import commandstats as commandstats  # one helper for tests and library
from jsadmin.embedded import ENV_BINARY, EmbeddedRedis, binary_version, find_redis_server, free_port

T = TypeVar("T")


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



def default_leg() -> bool:
    """True when the run uses jsadmin's own redis-server (no ``--redis-server``/``$JSADMIN_REDIS_SERVER``):
    the matrix's ``default`` leg, where tests marked ``version_independent`` run (once, not per leg)."""
    return not os.environ.get(ENV_BINARY)


def wait_for(condition: Callable[[], T], *, timeout: float = 10.0, every: float = 0.02, what: str = "") -> T:
    """Poll ``condition`` until it returns something truthy (returned), or fail after ``timeout`` s.

    >>> wait_for(lambda: r.llen("q") == 2, what="two queued jobs")   # doctest: +SKIP
    True
    """
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what or condition}")
        time.sleep(every)


def _context(preload: tuple[str, ...]) -> multiprocessing.context.BaseContext:
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["pandas", "jsadmin", "jsadmin.admin", "jsadmin.writes", __name__, *preload])
    return ctx


def _adopt(environ: dict[str, str], cwd: str) -> None:
    """In a child: the parent's environment and directory of now (not the forkserver's of then)."""
    os.environ.clear()
    os.environ.update(environ)
    os.chdir(cwd)


def _adopt_and_run(environ: dict[str, str], cwd: str, target: Callable[..., object], args: tuple[object, ...]) -> None:
    _adopt(environ, cwd)
    target(*args)


def child_pool(processes: int, *preload: str) -> multiprocessing.pool.Pool:
    """A pool of ``processes`` separate processes for the concurrency tests, like a ``spawn`` pool
    but started from a ``forkserver`` that imported jsadmin and pandas once (plus the modules
    ``preload`` names): each child forks in milliseconds instead of importing them afresh (about a
    second of CPU each). Each child has its own connections (the forkserver never opened one) and
    the test's environment and directory at the time of the call (``$JSADMIN_JOURNAL``, ``$HOME``).
    The preload counts when the session's forkserver starts; a child imports what it lacks itself.

    >>> with child_pool(8, _procs.__name__) as pool:            # doctest: +SKIP
    ...     counts = pool.starmap(_procs.enqueue_worker, args)
    """
    return _context(preload).Pool(processes, initializer=_adopt, initargs=(dict(os.environ), os.getcwd()))


def child_process(target: Callable[..., object], *args: object) -> multiprocessing.process.BaseProcess:
    """One started daemon process running ``target(*args)``, forked like :func:`child_pool`'s.

    >>> victim = child_process(workers.enqueue_then_hang, url, probe, 6000, 7, 500)   # doctest: +SKIP
    """
    ctx = _context((target.__module__,))
    proc = ctx.Process(target=_adopt_and_run, args=(dict(os.environ), os.getcwd(), target, args), daemon=True)
    proc.start()
    return proc


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
        self, *, tcp: bool = True, port: int | None = None, args: tuple[str, ...] = (), binary: Path | None = None,
        password: str | None = None,
    ) -> EmbeddedRedis:
        """A new server (stop it yourself with ``.stop()``, or it is stopped at session end).

        ``password`` sets ``requirepass`` once it runs (``EmbeddedRedis.start`` PINGs without AUTH).
        """
        srv = EmbeddedRedis.start(port=port or (free_port() if tcp else None), args=args, binary=binary or self.binary)
        self.started.append(srv)
        if password is not None:
            client = self.client(srv)
            client.config_set("requirepass", password)
            client.close()
        return srv

    def seeded(
        self, *, seed: int = 7, nodes: int = 6, jobs: int = 240, password: str | None = None,
        tcp: bool = True, args: tuple[str, ...] = (), binary: Path | None = None,
    ) -> EmbeddedRedis:
        """A new server holding ``seed_demo(seed=, nodes=, jobs=)``, then locked by ``password``
        (seeded over the unix socket first: ``EmbeddedRedis.start`` PINGs without AUTH)."""
        from jsadmin.demogrid import seed_demo

        srv = self.start(tcp=tcp, args=args, binary=binary)
        client = self.client(srv)
        try:
            seed_demo(client, seed=seed, nodes=nodes, jobs=jobs)
            if password is not None:
                client.config_set("requirepass", password)
        finally:
            client.close()
        return srv

    @staticmethod
    def url(srv: EmbeddedRedis, password: str | None = None) -> str:
        """``redis://[:password@]127.0.0.1:<port>/0`` of a TCP server."""
        auth = f":{password}@" if password else ""
        return f"redis://{auth}127.0.0.1:{srv.port}/0"

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
