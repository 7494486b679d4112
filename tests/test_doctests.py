"""The usage examples in jsadmin's docstrings run (doctest), with a demo ``admin`` in their namespace.

Every ``>>>`` example of every ``jsadmin`` module is run, but those marked ``# doctest: +SKIP``
(they need what a docstring cannot set up: a live grid, a browser, a journal of real writes). An
example may use ``admin``: a writable :func:`jsadmin.connect` on a seeded demo grid of its own.
Doctests check the documentation, not the server: they run once, in the default leg::

    pytest -p no:cacheprovider -q tests/test_doctests.py
"""

from __future__ import annotations

import doctest
import importlib
import io
import pkgutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from redis_servers import ServerFactory

import jsadmin

MODULES = sorted(
    m.name for m in pkgutil.walk_packages(jsadmin.__path__, "jsadmin.") if not m.name.endswith("__main__")
)
"""Every module of the package (``__main__`` would run the command line on import)."""

FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


@pytest.fixture(scope="module")
def doctest_globals(redis_factory: ServerFactory) -> Iterator[dict[str, Any]]:
    """What examples may use without importing it: ``admin`` on a seeded demo grid."""
    srv = redis_factory.seeded(seed=7, nodes=2, jobs=40)
    admin = jsadmin.connect(srv.url)
    yield {"admin": admin}
    admin.close()
    srv.stop()


@pytest.mark.version_independent
def test_docstring_examples_run(
    doctest_globals: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # an example that writes a file writes it here
    monkeypatch.setenv("JSADMIN_JOURNAL", str(tmp_path / "journal.jsonl"))
    finder = doctest.DocTestFinder()
    report = io.StringIO()
    attempted = failed = 0
    for name in MODULES:
        module = importlib.import_module(name)
        runner = doctest.DocTestRunner(optionflags=FLAGS)
        for test in finder.find(module, name, extraglobs=doctest_globals):
            if test.examples:
                runner.run(test, out=report.write)
        result = runner.summarize(verbose=False)
        attempted += result.attempted
        failed += result.failed
    assert failed == 0, f"{failed} of {attempted} docstring examples failed:\n{report.getvalue()[-6000:]}"
    assert attempted >= 100, f"only {attempted} docstring examples found: is the finder still finding them?"
