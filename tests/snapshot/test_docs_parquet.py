"""docs/fleet.md's "reading a family without jsadmin" block runs: pandas, pyarrow and dask read a
fleet snapshot's ``jobs`` (the ``source=`` directories become a column) and find every row."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from jsadmin.embedded import EmbeddedRedis
from jsadmin.fleets import fleet
from jsadmin.snapshot import open_snapshot

DOC = Path(__file__).resolve().parents[2] / "docs" / "fleet.md"


def _block(marker: str) -> str:
    blocks = re.findall(r"```python\n(.*?)\n```", DOC.read_text(encoding="utf-8"), re.S)
    found = [b for b in blocks if marker in b]
    assert len(found) == 1, f"one ```python block of {DOC.name} holds {marker!r}"
    return found[0]


@pytest.mark.version_independent
@pytest.mark.filterwarnings("ignore:The inplace keyword in DataFrame.reset_index")  # inside dask
def test_fleet_md_reads_a_snapshot_with_pandas_pyarrow_and_dask(
    seeded: EmbeddedRedis, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("dask.dataframe")
    grid = fleet({"node-a": seeded.url, "node-b": seeded.url})
    grid.snapshot(tmp_path / "snaps" / "grid-0900")
    expected = open_snapshot(tmp_path / "snaps" / "grid-0900").load("jobs")
    monkeypatch.chdir(tmp_path)
    ns: dict[str, object] = {}
    exec(compile(_block("dd.read_parquet"), str(DOC), "exec"), ns)
    jobs, table, lazy = ns["jobs"], ns["table"], ns["lazy_jobs"]
    assert len(expected) > 0
    assert len(jobs) == table.num_rows == len(lazy.compute()) == len(expected)  # type: ignore[arg-type, attr-defined]
    per_source = lazy.groupby("source").size().compute().to_dict()  # type: ignore[attr-defined]
    assert {str(k): int(v) for k, v in per_source.items()} == expected.groupby("source", observed=True).size().to_dict()
