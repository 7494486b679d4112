"""``jsadmin.lab``: the grid it starts is live, and the JupyterLab command points at the notebooks."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

import jsadmin
from jsadmin import lab


def test_check_starts_a_live_grid_and_stops_it(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert lab.main(["--check", "--notebooks", str(tmp_path), "--no-browser", "--port", "8899"]) == 0
    out = capsys.readouterr().out
    url = out.split("live demo grid at ")[1].split()[0]
    assert url.startswith("redis://127.0.0.1:")
    assert f"--ServerApp.root_dir={tmp_path.resolve()}" in out and "--ServerApp.port=8899" in out
    assert "--no-browser" in out
    with pytest.raises(Exception):  # noqa: B017 - the server is gone after main() returns
        jsadmin.connect(url)


def test_grid_runs_jobs_for_the_notebooks(monkeypatch: pytest.MonkeyPatch) -> None:
    server, grid, url = lab.start_grid(quiet=True)
    try:
        monkeypatch.setenv("JSADMIN_URL", url)
        admin = jsadmin.connect()  # what every notebook does
        assert admin.url == url and admin.load("jumpscripts_by_name").shape[0] > 0
        job = admin.enqueue_job(1, nid=1, category="jumpscale", cmd="echo", args={"msg": "lab"}, wait=True)
        assert admin.wait_job(job["guid"], 30)["result"] == "lab"
        admin.close()
    finally:
        grid.stop()
        server.stop()


def test_usage_errors_are_clear(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert lab.main(["--notebooks", str(tmp_path / "missing")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_default_notebooks_is_the_checkout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(lab.NOTEBOOKS_ENV, raising=False)
    nb = lab.default_notebooks()
    assert (nb / "04_control_panels.ipynb").exists()
    cmd = lab.lab_command(nb, port=None, open_browser=True)
    assert cmd[:3] == [sys.executable, "-m", "jupyterlab"] and "--no-browser" not in cmd
