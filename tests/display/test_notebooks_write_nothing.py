"""Executing a notebook writes nothing to the grid ``$JSADMIN_URL`` names.

Each notebook is executed top to bottom (a real kernel, via nbclient) with ``JSADMIN_URL``
pointing at a real, seeded redis-server with no other client. Afterwards every key's ``DUMP``
is unchanged and ``INFO commandstats`` counts no write command. The notebooks meant to be
served (the control panels, the dashboards) read that grid; the tutorials that demonstrate
writes open their own embedded demo grid instead, and say so.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
import redis
from nbclient import NotebookClient
from redis_servers import commandstats

from jsadmin.display.cost import server_writes
from jsadmin.embedded import EmbeddedRedis

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
READS_THE_GRID = {"01_tour", "04_control_panels", "06_fleet_health"}
"""Notebooks that open ``$JSADMIN_URL`` (and so must only read it); the others write, to a demo grid."""

pytestmark = pytest.mark.slow


@pytest.fixture()
def grid_url(demo_grid: EmbeddedRedis) -> str:
    """A real redis-server holding a seeded (not live) demo grid: nothing writes to it."""
    return demo_grid.url


def _keyspace(r: redis.Redis) -> dict[bytes, bytes | None]:
    return {k: r.dump(k) for k in r.scan_iter(count=1000)}


def _execute(path: Path, timeout: int = 240) -> None:
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=timeout, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()


def test_the_served_notebooks_are_the_ones_expected() -> None:
    names = {p.stem for p in NOTEBOOKS.glob("*.ipynb")}
    assert names >= READS_THE_GRID and len(names) == 7
    for name in names - READS_THE_GRID:  # the writing tutorials say they use their own demo grid
        source = "\n".join(c.source for c in nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4).cells)
        assert "jsadmin.demo(live=True)" in source and "This notebook writes" in source, name
        assert "jsadmin.connect(" not in source.replace("`jsadmin.connect(url)`", ""), name


@pytest.mark.parametrize("name", [
    # the tutorials that write never open $JSADMIN_URL (they open their own demo grid, like the
    # notebooks/ run itself, which is in the default leg only): version-independent
    name if name in READS_THE_GRID else pytest.param(name, marks=pytest.mark.version_independent)
    for name in sorted(p.stem for p in NOTEBOOKS.glob("*.ipynb"))
])
def test_executing_a_notebook_writes_nothing_to_the_grid(name: str, grid_url: str, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JSADMIN_URL", grid_url)
    monkeypatch.setenv("JSADMIN_JOURNAL", str(tmp_path / "journal.jsonl"))
    r = redis.Redis.from_url(grid_url, protocol=2)
    before, calls_before = _keyspace(r), commandstats(r)
    _execute(NOTEBOOKS / f"{name}.ipynb")
    calls_after = commandstats(r)
    delta = {c: n - calls_before.get(c, 0) for c, n in calls_after.items() if n != calls_before.get(c, 0)}
    writes = server_writes(delta)  # a script's writes count under their own names
    assert writes == {}, f"{name} sent write commands to $JSADMIN_URL: {writes}"
    assert _keyspace(r) == before
    if name in READS_THE_GRID:  # it really read this grid (the check above is not vacuous)
        assert delta.get("scan", 0) + delta.get("hscan", 0) + delta.get("lrange", 0) > 0, delta
    r.close()
