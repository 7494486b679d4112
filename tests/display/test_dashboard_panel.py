"""The dashboard panel and the ``jsadmin dashboard`` launcher, without a browser (tests/browser has that).

Real redis-server, real ipywidgets; the launcher's pieces (notebook, command line, environment)
are checked for what they carry, and its argument checks run before anything starts.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

import jsadmin
from jsadmin.dashboard import dashboard_notebook, voila_command, voila_env
from jsadmin.display.panels.dashboard import DASHBOARD_READONLY, Dashboard, dashboard_from_env

pytest.importorskip("ipywidgets")


def test_read_only_by_default_with_the_reason(seeded_url: str) -> None:
    board = dashboard_from_env({"JSADMIN_URL": seeded_url, "JSADMIN_DASHBOARD_REFRESH": "30"})
    try:
        assert board.readonly and board.admin.readonly
        assert all(c.disabled for p in board.panels() for c in p._write_controls)
        assert "--allow-writes" in board.readonly_note.value
        assert board.jobs.cancel_button.tooltip == DASHBOARD_READONLY
        with pytest.raises(PermissionError):
            board.jobs.preview_action("cancel")
        assert board.health.running and board.refresh_every == 30
    finally:
        board.stop()
        board.admin.redis.close()
    assert not board.health.running


def test_allow_writes_enables_the_controls(seeded_url: str) -> None:
    board = dashboard_from_env({"JSADMIN_URL": seeded_url, "JSADMIN_DASHBOARD_WRITES": "1"})
    try:
        assert not board.readonly and not board.admin.readonly
        assert not board.jobs.cancel_button.disabled and board.jobs.confirm_button.disabled  # nothing previewed
        assert board.readonly_note.value == ""
    finally:
        board.stop()
        board.admin.redis.close()


def test_the_job_browser_refreshes_but_never_under_a_selection(seeded_url: str) -> None:
    admin = jsadmin.connect(seeded_url, readonly=True)
    board = Dashboard(admin, refresh=0.5, start=False)
    writer = jsadmin.connect(seeded_url)
    try:
        board.jobs.nid.value = "77"
        assert len(board.jobs.matches) == 0
        job = writer.enqueue_job(1, nid=77, category="jumpscale", cmd="echo", args={"msg": "x"})
        assert board.refresh_jobs() is True
        assert job["guid"] in set(board.jobs.matches["guid"])  # the filter was kept
        board.jobs.select(positions=[0])
        writer.enqueue_job(1, nid=77, category="jumpscale", cmd="echo", args={"msg": "y"})
        assert board.refresh_jobs() is False  # a selected row is not pulled away
        board.jobs.rows.value = ()
        board.start()
        deadline = time.monotonic() + 20
        while (len(board.jobs.matches) < 2 or board.cycles < 2) and time.monotonic() < deadline:  # 2 jobs (jobs:1 + queue copy each)
            time.sleep(0.2)
        assert len(board.jobs.matches) == 2 and board.cycles >= 2
        assert set(board.jobs.matches["seen_in"]) == {"command_queues+jobs"}
        assert "(#" in board.header.value and "***" not in board.header.value
    finally:
        board.stop()
        admin.redis.close()
        writer.redis.close()


def test_the_launcher_keeps_the_url_off_command_lines(tmp_path: Path) -> None:
    url = "redis://:pw-on-no-cmdline@10.0.0.1:9999/2"
    nb = dashboard_notebook()
    assert "JSADMIN_URL" in nb["cells"][0]["source"] and url not in json.dumps(nb)
    cmd = voila_command(tmp_path / "d.ipynb", port=8866, addr="127.0.0.1")
    assert not any("pw-on-no-cmdline" in part for part in cmd) and "--port=8866" in cmd
    env = voila_env(url, allow_writes=False, refresh=2.5, base={})
    assert env == {"JSADMIN_URL": url, "JSADMIN_DASHBOARD_WRITES": "0", "JSADMIN_DASHBOARD_REFRESH": "2.5"}


@pytest.mark.version_independent  # argument parsing, refused before any server is opened
@pytest.mark.parametrize(("args", "message"), [
    (["--refresh", "0.1"], "'--refresh': 0.1 is not in the range x>=0.5"),
    (["--port", "0"], "'--port': 0 is not in the range 1<=x<=65535"),
    ([], "set JSADMIN_URL"),
    (["--inventory", "grid.yaml"], "--inventory is not supported"),
])
def test_bad_arguments_are_usage_errors_before_anything_starts(args: list[str], message: str) -> None:
    env = {k: v for k, v in os.environ.items() if k != "JSADMIN_URL"}
    proc = subprocess.run([sys.executable, "-m", "jsadmin", "dashboard", *args], capture_output=True, text=True,
                          env=env, timeout=60)
    assert proc.returncode == 2 and message in proc.stderr, proc.stderr


def test_an_unreachable_grid_fails_fast_with_exit_1(tmp_path: Path) -> None:
    from jsadmin.embedded import free_port

    env = {**os.environ, "JSADMIN_URL": f"redis://:secretpw@127.0.0.1:{free_port()}/0"}
    proc = subprocess.run([sys.executable, "-m", "jsadmin", "dashboard", "--timeout", "1"], capture_output=True,
                          text=True, env=env, timeout=60)
    assert proc.returncode == 1, proc.stderr
    assert "secretpw" not in proc.stderr and "jsadmin dashboard: error" in proc.stderr
