"""mypy on ``jsadmin/`` (the ``[tool.mypy]`` config of pyproject.toml) reports 0 errors.

The same run checks ``tests/typing_overloads.py`` (the ``dry_run`` overloads of the write
methods) and ``tests/typing_sources.py`` (``Admin``, ``Fleet`` and ``Snapshot`` are each a
:class:`jsadmin.sources.Source`). It runs in the matrix's ``default`` leg only (the Redis binary does not matter to a
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
