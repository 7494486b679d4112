"""The version matrix machinery: ``--redis-server``, the server factory and ``tests/matrix.py``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import redis
from matrix import SDISTS, cached_binary, main
from redis_servers import ServerFactory

from jsadmin.compat import ServerInfo, server_info
from jsadmin.embedded import ENV_BINARY, binary_version, find_redis_server

ROOT = Path(__file__).resolve().parents[2]
SMALL = "tests/core/test_keys.py"  # a quick test file that starts no server


def _pytest(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if k != ENV_BINARY}
    full.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-o", "addopts=", *args],
        cwd=ROOT, capture_output=True, text=True, timeout=300, env=full, check=False,
    )


def test_factory_servers_run_the_selected_binary(redis_factory: ServerFactory, redis_info: ServerInfo) -> None:
    srv = redis_factory.start()
    client = redis.Redis(protocol=2, port=srv.port)
    try:
        assert srv.binary == find_redis_server()
        assert server_info(client) == redis_info  # INFO server agrees with redis-server --version
        assert redis_info.version == binary_version(srv.binary)
    finally:
        client.close()
        srv.stop()
    unix = redis_factory.start(tcp=False)
    assert unix.port is None and redis_factory.client(unix).ping()
    unix.stop()


@pytest.mark.version_independent  # checks the runner, which picks its own binaries
def test_redis_server_option_selects_the_binary_for_the_whole_run() -> None:
    system = Path("/usr/bin/redis-server")
    if not system.is_file():
        pytest.skip("needs Debian's /usr/bin/redis-server")
    proc = _pytest("--redis-server", str(system), "tests/core/test_embedded.py::test_lifecycle_unix_socket")
    version = ".".join(map(str, binary_version(system)))
    assert proc.returncode == 0, proc.stdout[-2000:]
    assert f"redis-server: {system} (Redis {version})" in proc.stdout  # the session header says which


@pytest.mark.version_independent  # checks the runner, which picks its own binaries
def test_feature_marks_skip_by_version_with_the_reason(tmp_path: Path) -> None:
    old = next((cached_binary(v) for v in SDISTS if cached_binary(v).is_file()), None)
    if old is None:
        pytest.skip("no cached old Redis: python -m tests.matrix --build-only")
    test = tmp_path / "test_marked.py"
    test.write_text(
        "import pytest\n\n@pytest.mark.redis_feature('acl')\ndef test_acl():\n    pass\n\n"
        "@pytest.mark.redis_feature('hset_multi')\ndef test_hset():\n    pass\n"
    )
    proc = _pytest("-rs", "--rootdir", str(ROOT), "-c", str(ROOT / "pyproject.toml"),
                   "--confcutdir", str(ROOT), "-p", "conftest", str(test),
                   env={ENV_BINARY: str(old), "PYTHONPATH": os.pathsep.join([str(ROOT / "tests"), str(ROOT)])})
    version = ".".join(map(str, binary_version(old)))
    assert "2 skipped" in proc.stdout, proc.stdout[-2000:]
    assert f"ACL users: needs Redis 6.0+, the selected server is Redis {version}" in proc.stdout


@pytest.mark.version_independent  # checks the runner, which picks its own binaries
def test_matrix_runs_a_leg_and_ends_with_its_pytest_summary(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--legs", "default", "--", SMALL, "-q"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[-1].startswith("[default ") and " passed in " in lines[-1]


@pytest.mark.version_independent  # checks the runner, which picks its own binaries
def test_matrix_fails_when_a_leg_fails(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--legs", "default", "--", SMALL, "-q", "-k", "no_such_test_anywhere"]) == 1
    out = capsys.readouterr().out
    assert "matrix: FAILED default: pytest exit status 5" in out  # 5: no tests ran
    with pytest.raises(SystemExit):
        main(["--legs", "nosuchleg"])
