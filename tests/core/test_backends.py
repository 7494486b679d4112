"""``load(..., backend="polars")``: the same data as the pandas frame, typed, for every family.

Compared on the demo grid value by value (datetimes to the nanosecond, JSON columns as the very
objects the reader decoded), through ``Admin``, ``Fleet`` and ``Snapshot``. Problems stay in
``admin.problems()``; an unknown backend and a missing polars fail before anything is read.
Without polars, the missing-extra error is checked in a subprocess whose import machinery finds
no polars (as in an environment without it), like tests/test_extras.py.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import redis

import jsadmin
from jsadmin.backends import BACKENDS, to_polars
from jsadmin.embedded import EmbeddedRedis
from jsadmin.extras import MissingExtraError
from jsadmin.snapshot import open_snapshot, snapshot

pl = pytest.importorskip("polars")

ROOT = Path(__file__).resolve().parents[2]


def _null(value: Any) -> bool:
    return value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and math.isnan(value))


def expected_dtype(dtype: Any) -> Any:
    """The polars dtype promised for each pandas dtype the reader produces."""
    if isinstance(dtype, pd.CategoricalDtype):
        return pl.Enum([str(c) for c in dtype.categories])
    if isinstance(dtype, pd.DatetimeTZDtype):
        return pl.Datetime("ns", "UTC")
    return {"Int64": pl.Int64, "Float64": pl.Float64, "boolean": pl.Boolean, "string": pl.String,
            "object": pl.Object,
            # plain numpy/str columns appear only from expand= (pandas' own inference)
            "str": pl.String, "int64": pl.Int64, "float64": pl.Float64, "bool": pl.Boolean}[str(dtype)]


def assert_same(pdf: pd.DataFrame, plf: Any, where: str) -> None:
    """``plf`` holds ``pdf``'s columns, in order, with the promised dtypes and the same values."""
    assert isinstance(plf, pl.DataFrame), where
    assert plf.columns == [str(c) for c in pdf.columns], where
    assert plf.height == len(pdf), where
    for name in pdf.columns:
        col, got = pdf[name], plf[str(name)]
        assert got.dtype == expected_dtype(col.dtype), (where, name, col.dtype, got.dtype)
        if isinstance(col.dtype, pd.DatetimeTZDtype):
            want = [None if _null(v) else v.value for v in col.astype("datetime64[ns, UTC]")]
            assert got.dt.epoch("ns").to_list() == want, (where, name)
        elif pd.api.types.is_object_dtype(col.dtype):
            pairs = zip(got.to_list(), col.tolist())
            assert all(a == b or (_null(a) and _null(b)) for a, b in pairs), (where, name)
        else:
            want = [None if _null(v) else v for v in col.astype(object).tolist()]
            assert [None if _null(v) else v for v in got.to_list()] == want, (where, name)


def test_every_family_of_the_demo_grid_is_the_same_in_polars(demo_grid: EmbeddedRedis) -> None:
    admin = jsadmin.connect(demo_grid.url, readonly=True)
    pandas_frames = admin.load_all()
    polars_frames = admin.load_all(backend="polars")
    assert list(polars_frames) == list(pandas_frames)
    assert sum(len(df) for df in pandas_frames.values()) > 100
    seen: set[str] = set()
    for name, pdf in pandas_frames.items():
        assert_same(pdf, polars_frames[name], name)
        assert_same(pdf, admin.load(name, backend="polars"), f"load({name!r})")
        seen |= {str(t) for t in pdf.dtypes}
    # the grid exercises every dtype of the mapping
    assert {"Int64", "Float64", "boolean", "string", "object", "category", "datetime64[ns, UTC]"} <= seen
    admin.close()


def test_filters_expand_and_the_explicit_pandas_backend(demo_grid: EmbeddedRedis) -> None:
    admin = jsadmin.connect(demo_grid.url, readonly=True)
    pdf = admin.load("jobs", gid=1, expand="args")
    assert len(pdf) and any(str(c).startswith("args.") for c in pdf.columns)
    assert_same(pdf, admin.load("jobs", gid=1, expand="args", backend="polars"), "jobs gid=1 expand=args")
    assert admin.load("jobs", backend="pandas").equals(admin.load("jobs"))
    jobs = admin.load("jobs", backend="polars")
    assert jobs["state"].dtype == pl.Enum(list(pdf["state"].cat.categories))
    assert jobs.group_by("state").len()["len"].sum() == jobs.height
    admin.close()


def test_dtype_mapping_on_a_frame_with_nulls_and_unobserved_categories() -> None:
    ts = pd.Series(pd.to_datetime([1_700_000_000_123_456_789, None], utc=True)).astype("datetime64[ns, UTC]")
    pdf = pd.DataFrame({
        "id": pd.array([1, None], dtype="Int64"),
        "ratio": pd.array([0.5, None], dtype="Float64"),
        "ok": pd.array([True, None], dtype="boolean"),
        "name": pd.array(["a", None], dtype="string"),
        "state": pd.Categorical(["OK", None], categories=["ERROR", "OK", "TIMEOUT"]),
        "at": ts,
        "args": [{"x": [1, 2]}, None],
    })
    out = to_polars(pdf)
    assert dict(out.schema) == {
        "id": pl.Int64, "ratio": pl.Float64, "ok": pl.Boolean, "name": pl.String,
        "state": pl.Enum(["ERROR", "OK", "TIMEOUT"]), "at": pl.Datetime("ns", "UTC"), "args": pl.Object,
    }
    assert out["at"].dt.epoch("ns").to_list() == [1_700_000_000_123_456_789, None]  # nanoseconds kept
    assert out["state"].dtype.categories.to_list() == ["ERROR", "OK", "TIMEOUT"]
    assert out["args"][0] is pdf["args"][0]  # the decoded object itself: nothing decoded again
    assert_same(pdf, out, "built")
    assert_same(pdf.iloc[:0], to_polars(pdf.iloc[:0]), "empty")


def test_problems_stay_reachable_with_polars(r: redis.Redis, redis_url: str) -> None:
    r.hset("jobs:1", "good", json.dumps({"id": 1, "gid": 1, "nid": 1, "state": "OK", "guid": "good"}))
    r.hset("jobs:1", "bad", b'{"id": 2, "state": ')
    admin = jsadmin.connect(redis_url, readonly=True)
    jobs = admin.load("jobs", backend="polars")
    assert isinstance(jobs, pl.DataFrame) and jobs.height == 1
    problems = admin.problems()
    assert problems[["family", "key", "field"]].values.tolist() == [["jobs", "jobs:1", "bad"]]
    admin.close()


def test_an_unknown_backend_names_the_choices_before_reading(demo_grid: EmbeddedRedis) -> None:
    admin = jsadmin.connect(demo_grid.url, readonly=True)
    for call in (lambda: admin.load("jobs", backend="arrow"), lambda: admin.load_all(backend="arrow")):
        with pytest.raises(ValueError, match=r"unknown backend 'arrow'; choose one of: 'pandas', 'polars'"):
            call()
    assert BACKENDS == ("pandas", "polars")
    assert admin.problems().empty  # nothing was read
    admin.close()


def test_fleet_and_snapshot_loads_take_the_backend(demo_grid: EmbeddedRedis, tmp_path: Path) -> None:
    f = jsadmin.fleet({"a": demo_grid.url, "b": demo_grid.url}, readonly=True)
    try:
        merged = f.load("worker_heartbeat")
        assert_same(merged, f.load("worker_heartbeat", backend="polars"), "fleet load")
        both = f.load_all(backend="polars")
        assert_same(f.load("jobs"), both["jobs"], "fleet load_all")
        with pytest.raises(ValueError, match="unknown backend"):
            f.load("jobs", backend="arrow")
    finally:
        f.close()
    admin = jsadmin.connect(demo_grid.url, readonly=True)
    snap = open_snapshot(snapshot(admin, tmp_path / "s"))
    admin.close()
    assert_same(snap.load("jobs"), snap.load("jobs", backend="polars"), "snapshot load")
    frames = snap.load_all(backend="polars")
    for name, pdf in snap.load_all().items():
        assert_same(pdf, frames[name], f"snapshot {name}")


HIDE_POLARS = r'''
import json, sys

class Hidden:
    def __init__(self, finder):
        self.finder = finder
    def find_spec(self, name, path=None, target=None):
        return None if name.partition(".")[0] == "polars" else self.finder.find_spec(name, path, target)
    def __getattr__(self, attr):
        return getattr(self.finder, attr)

sys.meta_path[:] = [Hidden(f) for f in sys.meta_path]
import jsadmin
from jsadmin.extras import MissingExtraError

admin = jsadmin.connect(sys.argv[1], readonly=True)
out = {"pandas_rows": len(admin.load("jobs"))}
for label, call in (("load", lambda: admin.load("jobs", backend="polars")),
                    ("load_all", lambda: admin.load_all(backend="polars"))):
    try:
        call()
    except MissingExtraError as exc:
        out[label] = [type(exc).__name__, str(exc), isinstance(exc, ImportError)]
out["polars_imported"] = "polars" in sys.modules
print(json.dumps(out))
'''


def test_polars_backend_without_polars_names_the_extra(demo_grid: EmbeddedRedis, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "JSADMIN_URL"}
    env.update(JSADMIN_JOURNAL=str(tmp_path / "journal"), HOME=str(tmp_path))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    proc = subprocess.run([sys.executable, "-c", HIDE_POLARS, demo_grid.url], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr[-4000:]
    out = json.loads(proc.stdout.splitlines()[-1])
    assert out["pandas_rows"] > 0 and not out["polars_imported"]
    message = ('load(..., backend="polars") needs polars, which is not installed: '
               'pip install "jsadmin[polars]"')
    assert out["load"] == ["MissingExtraError", message, True]
    assert out["load_all"] == ["MissingExtraError", message, True]
    assert issubclass(MissingExtraError, ImportError)
