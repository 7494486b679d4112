"""Checked by mypy in ``tests/test_typing.py``, never run: the ``dry_run`` overloads of the
write methods give a ``WritePlan`` for a literal ``dry_run=True``, the written result without
it, and the union for a ``bool`` known only at run time; the ``backend`` overloads of the loads
give pandas frames by default and polars frames for a literal ``backend="polars"``.

Each ``assert_type`` that does not hold is a mypy error, so the 0-error test fails.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import polars as pl
from typing_extensions import assert_type  # typing.assert_type is 3.11+; mypy depends on it

from jsadmin import Admin, Fleet, Snapshot
from jsadmin.writes.plan import WritePlan


def dry_run_overloads(adm: Admin, flag: bool) -> None:
    assert_type(adm.enqueue_job(1, nid=1, category="jumpscale", cmd="echo"), dict[str, Any])
    assert_type(adm.enqueue_job(1, nid=1, category="jumpscale", cmd="echo", dry_run=False), dict[str, Any])
    assert_type(adm.enqueue_job(1, nid=1, category="jumpscale", cmd="echo", dry_run=True), WritePlan)
    assert_type(adm.enqueue_job(1, nid=1, category="jumpscale", cmd="echo", dry_run=flag), dict[str, Any] | WritePlan)
    assert_type(adm.enqueue_jobs([{"gid": 1, "nid": 1, "category": "jumpscale", "cmd": "echo"}], dry_run=True), WritePlan)
    assert_type(adm.register_jumpscript("demo", "hi", "def action():\n    pass\n"), dict[str, Any])
    assert_type(adm.register_jumpscript("demo", "hi", "def action():\n    pass\n", dry_run=True), WritePlan)
    assert_type(adm.cancel_jobs(None, dry_run=True), WritePlan)
    assert_type(adm.purge_queue("queues:commands:queue:1:5"), dict[str, Any])
    assert_type(adm.purge_queue("queues:commands:queue:1:5", dry_run=True), WritePlan)
    assert_type(adm.purge_queue("queues:commands:queue:1:5", dry_run=flag), dict[str, Any] | WritePlan)
    assert_type(adm.requeue_jobs(None, role="node", dry_run=True), WritePlan)
    assert_type(adm.delete_jobs(None, dry_run=True), WritePlan)
    assert_type(adm.cleanup_leftovers(dry_run=True), WritePlan)
    assert_type(adm.undo("20260101T000000-abc"), dict[str, Any])
    assert_type(adm.undo("20260101T000000-abc", dry_run=True), WritePlan)


def backend_overloads(adm: Admin, fl: Fleet, snap: Snapshot, backend: str) -> None:
    """``load``/``load_all``: pandas by default, polars for a literal ``backend="polars"``, the union otherwise."""
    assert_type(adm.load("jobs"), pd.DataFrame)
    assert_type(adm.load("jobs", backend="pandas", gid=1), pd.DataFrame)
    assert_type(adm.load("jobs", backend="polars"), pl.DataFrame)
    assert_type(adm.load("jobs", backend=backend), pd.DataFrame | pl.DataFrame)
    assert_type(adm.load_all(), dict[str, pd.DataFrame])
    assert_type(adm.load_all(backend="polars"), dict[str, pl.DataFrame])
    assert_type(fl.load("jobs"), pd.DataFrame)
    assert_type(fl.load("jobs", backend="polars"), pl.DataFrame)
    assert_type(fl.load_all(backend="polars"), dict[str, pl.DataFrame])
    assert_type(snap.load("jobs"), pd.DataFrame)
    assert_type(snap.load("jobs", backend="polars"), pl.DataFrame)
    assert_type(snap.load_all(), dict[str, pd.DataFrame])
