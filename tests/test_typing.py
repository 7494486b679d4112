"""mypy on ``jsadmin/`` (the ``[tool.mypy]`` config of pyproject.toml) reports 0 errors.

The same run checks ``tests/typing_overloads.py`` (the ``dry_run`` overloads of the write
methods) and ``tests/typing_sources.py`` (``Admin``, ``Fleet`` and ``Snapshot`` are each a
:class:`jsadmin.sources.Source`); a second run checks that wrong calls of the write helpers are
still mypy errors. It runs in the matrix's ``default`` leg only (the Redis binary does not matter to a
type checker); mypy's cache (``.mypy_cache/``) makes a repeated run take about a second, a cold
one about 15 s.

    python -m pytest -p no:cacheprovider -q tests/test_typing.py
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from jsadmin.embedded import ENV_BINARY

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.skipif(
    bool(os.environ.get(ENV_BINARY)),
    reason="mypy runs once, in the matrix's default leg (the selected redis-server does not matter to it)",
)
def test_mypy_reports_no_errors() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", "pyproject.toml", "jsadmin", "tests/typing_overloads.py", "tests/typing_sources.py"],
        cwd=ROOT, capture_output=True, text=True, timeout=240, check=False,
    )
    report = (proc.stdout + proc.stderr).strip()
    # no mypy at all shows here too ("No module named mypy"): it comes with the test extra
    assert proc.returncode == 0, f"mypy found errors (exit {proc.returncode}):\n{report}"
    assert report.startswith("Success: no issues found"), report


def test_py_typed_ships_in_the_package() -> None:
    """PEP 561: the marker is in the package and in its package data (so wheels carry it)."""
    assert (ROOT / "jsadmin" / "py.typed").is_file()
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert "py.typed" in setuptools["package-data"]["jsadmin"]


WRONG_WRITE_CALLS = '''\
from typing import Any
from typing_extensions import assert_type
from jsadmin import Admin, ManageResult, PurgeResult
from jsadmin.writes.plan import WritePlan

def wrong(adm: Admin) -> None:
    adm.enqueue_job(1, nid=1, cmd="echo")  # E: no category
    adm.enqueue_job(1, nid=1, category="jumpscale", cmd="echo", nosuch=1)  # E: unknown keyword
    adm.enqueue_job(1, nid=1, category="jumpscale", cmd="echo", wait="yes")  # E: wrong type
    assert_type(adm.enqueue_job(1, nid=1, category="j", cmd="e", dry_run=True), dict[str, Any])  # E
    adm.register_jumpscript("demo", "hi", "def action():\\n    pass\\n", period=[60])  # E: wrong type
    assert_type(adm.requeue_jobs(None, role="node", dry_run=True), ManageResult)  # E
    adm.requeue_jobs(None, nid=1.5)  # E: wrong type
    assert_type(adm.cancel_jobs(None, dry_run=True), ManageResult)  # E
    assert_type(adm.purge_queue("q"), WritePlan)  # E
    adm.purge_queue(5)  # E: the key is text
    adm.undo("e1", force=True)  # E: unknown keyword
    adm.register_jumpscript("demo", "hi", "src", roles=["node"], async_=True, replace=True)
    adm.requeue_jobs(None, args={"retries": 1}, role="node", states=None)
'''


WRONG_ANALYTICS_CALLS = '''\
import pandas as pd
from typing_extensions import assert_type
from jsadmin import Admin
from jsadmin.analytics import Analysed, finished_jobs, grid_health, latency_summary, load_history, probe

def wrong(adm: Admin, jobs: pd.DataFrame) -> None:
    grid_health({}, stale_afterr=60)  # E: unknown keyword
    grid_health({}, None, 60, 7)  # E: leftover_after is keyword-only
    latency_summary(jobs, "cmd", "run_time", 1)  # E: too many arguments
    finished_jobs({}, infos=1)  # E: wrong type
    probe(adm)  # E: no targets
    assert_type(grid_health({}), Analysed)  # E: the plain function gives the frame
    adm.grid_health(60, 7)  # E: leftover_after is keyword-only
    adm.latency(by="cmd", metrc="run_time")  # E: unknown keyword
    adm.jobs(1)  # E: takes no argument
    adm.queue_depths_with_info(now=1)  # E: unknown keyword
    load_history("rec").infos["jobs"].duplicates.upper()  # E: an int | None
    adm.grid_health(60, leftover_after="7D")
    grid_health({}, None, 60, leftover_after="7D", client=None, infos=None)
'''


@pytest.mark.skipif(
    bool(os.environ.get(ENV_BINARY)),
    reason="mypy runs once, in the matrix's default leg (the selected redis-server does not matter to it)",
)
@pytest.mark.parametrize(
    ("name", "source"),
    [("wrong_analytics_calls", WRONG_ANALYTICS_CALLS), ("wrong_write_calls", WRONG_WRITE_CALLS)],
)
def test_wrong_calls_are_mypy_errors(tmp_path: Path, name: str, source: str) -> None:
    """Signatures mypy checks argument by argument, not only the result type: each line marked
    ``# E`` is a mypy error, and only those lines.

    - ``wrong_analytics_calls``: a plain analytic derived by ``mirrored`` from its ``*_with_info``
      (functions and ``Admin`` methods) keeps that function's exact parameters (a
      ``Callable[..., DataFrame]`` would let them all through);
    - ``wrong_write_calls``: the ``dry_run`` overloads of the write helpers (a way of declaring
      them once that let wrong calls through would fail here).
    """
    path = tmp_path / f"{name}.py"
    path.write_text(source)
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", str(ROOT / "pyproject.toml"), str(path)],
        cwd=ROOT, capture_output=True, text=True, timeout=240, check=False,
    )
    flagged = {int(line.split(":")[1]) for line in proc.stdout.splitlines() if ": error:" in line}
    expected = {n for n, line in enumerate(source.splitlines(), 1) if "# E" in line}
    assert len(expected) == 11
    assert flagged == expected, proc.stdout
