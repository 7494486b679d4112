"""The notebooks are paired with jupytext: each ``notebooks/<name>.ipynb`` has a ``py:percent``
source ``notebooks/<name>.py``, the two hold the same cells, and the committed ``.ipynb`` holds no
outputs. After editing a ``.py``: ``jupytext --sync notebooks/*.py``.
"""

from __future__ import annotations

import sys
from itertools import zip_longest
from pathlib import Path
from typing import Any

import jupytext
import nbformat
import pytest

pytestmark = pytest.mark.version_independent  # notebook files and their jupytext pairs: no server

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
NAMES = sorted(p.stem for p in NOTEBOOKS.glob("*.ipynb"))
SYNC = "jupytext --sync notebooks/*.py"
NOT_PAIRS = {"conftest"}
"""Scripts in notebooks/ that are not notebook sources."""


def _cells(nb: Any) -> list[tuple[str, str, dict[str, Any]]]:
    """What a cell is, without what running it or the file format adds (ids, outputs, counts)."""
    return [(c.cell_type, c.source, dict(c.metadata)) for c in nb.cells]


def test_every_notebook_has_a_py_pair_and_the_pairing_is_configured() -> None:
    scripts = {p.stem for p in NOTEBOOKS.glob("*.py")} - NOT_PAIRS
    assert len(NAMES) == 7 and set(NAMES) == scripts, (NAMES, scripts)
    config = tomllib.loads((NOTEBOOKS / "jupytext.toml").read_text())
    assert config["formats"] == "ipynb,py:percent"
    assert not (NOTEBOOKS / "build_notebooks.py").exists(), "the .py pairs are the notebooks' sources now"


@pytest.mark.parametrize("name", NAMES)
def test_notebook_and_its_py_pair_hold_the_same_cells(name: str) -> None:
    committed = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    from_py = jupytext.read(NOTEBOOKS / f"{name}.py")  # what `jupytext --to ipynb` makes of the .py
    assert from_py.metadata["jupytext"]["text_representation"]["format_name"] == "percent"
    assert len(from_py.cells) > 5
    for i, (kept, authored) in enumerate(zip_longest(_cells(committed), _cells(from_py))):
        assert kept == authored, f"cell {i} of {name}.ipynb differs from {name}.py: run {SYNC}"
    assert committed.metadata["kernelspec"] == from_py.metadata["kernelspec"]


@pytest.mark.parametrize("name", NAMES)
def test_committed_notebook_has_no_outputs(name: str) -> None:
    nb = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    nbformat.validate(nb)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, (
                f"{name}.ipynb cell {i} holds outputs: clear them (jupyter nbconvert --clear-output --inplace)"
            )


def test_a_drifted_pair_is_caught(tmp_path: Path) -> None:
    name = NAMES[0]
    source = (NOTEBOOKS / f"{name}.py").read_text(encoding="utf-8")
    edited = source.replace("import jsadmin\n", "import jsadmin  # edited\n", 1)
    assert edited != source
    (tmp_path / f"{name}.py").write_text(edited, encoding="utf-8")
    committed = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    assert _cells(committed) != _cells(jupytext.read(tmp_path / f"{name}.py"))
