"""Against the live demo grid: record a few seconds of real traffic, and probe nodes and roles."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import redis
from analytics_helpers import open_admin
from redis_servers import wait_for

from jsadmin import keys
from jsadmin.analytics import latency_summary, load_history
from jsadmin.analytics.history import read_table
from jsadmin.analytics.probe import probe
from jsadmin.demogrid import grid as grid_mod
from jsadmin.errors import ReadOnlyError, WriteValidationError


def _final_results(r: redis.Redis) -> set[str]:
    """Guids of the final copies still on ``queues:jobqueue:*`` (read with SCAN + LINDEX)."""
    import json

    guids = set()
    for key in r.scan_iter(match=keys.JOBQUEUE_PREFIX + "*", count=1000):
        raw = r.lindex(key, 0)
        if raw:
            job = json.loads(raw)
            if job.get("state") in ("OK", "ERROR", "TIMEOUT"):
                guids.add(job["guid"])
    return guids


@pytest.mark.slow
def test_record_live_traffic_exactly_once(redis_url: str, r: redis.Redis, tmp_path: Path) -> None:
    scenario = grid_mod.Scenario.default()
    admin = open_admin(redis_url, readonly=True)
    with grid_mod.LiveGrid(redis_url, scenario=scenario, speed=4.0, poll=0.2):
        rec = admin.record(tmp_path, interval=0.25)
        # several polls over live traffic (what "exactly once" is about), not a fixed 4 s
        wait_for(lambda: rec.stats["polls"] >= 6 and rec.stats["jobs"] >= 10, timeout=60,
                 what="6 polls that recorded 10 job copies")
        rec.stop()
    rec.poll()  # one last look after the grid stopped: catch what finished in between
    in_redis = _final_results(r)
    hist = load_history(tmp_path)
    jobs = hist["jobs"]
    assert len(jobs) >= 5, rec.stats
    assert jobs["guid"].is_unique
    raw = read_table(tmp_path, "jobs").to_pandas()
    # on disk a guid appears twice only when a more final copy replaced a recorded one
    dup = raw[raw["guid"].duplicated(keep=False)]
    assert dup.groupby("guid")["timeStop"].apply(lambda s: s.isna().any()).all() if len(dup) else True
    assert in_redis <= set(jobs["guid"]), "a final copy still in Redis was not recorded"
    assert set(jobs["family"]) <= {"job_results", "jobs", "worker_jobs"}
    summary = latency_summary(jobs, by="cmd")
    assert summary["measured"].sum() > 0
    assert (summary["p50"].dropna() >= pd.Timedelta(0)).all()
    assert len(hist["heartbeats"]) > 0 and set(hist["heartbeats"]["beat"]) == {"heartbeat"}
    assert len(hist["queues"]) > 0
    assert rec.stats["errors"] == 0


@pytest.mark.slow
def test_probe_round_trips_through_the_live_grid(redis_url: str) -> None:
    admin = open_admin(redis_url)
    with grid_mod.LiveGrid(redis_url, scenario=grid_mod.Scenario.quiet(), poll=0.2):
        result = probe(admin, [1, "node"], n=3, timeout=15, gid=1)
    assert list(result.columns) == ["target", "guid", "sent", "received", "round_trip", "state", "error"]
    assert result.groupby("target").size().to_dict() == {"1": 3, "node": 3}
    assert (result["state"] == "OK").all(), result
    assert (result["round_trip"] > pd.Timedelta(0)).all() and pd.api.types.is_timedelta64_dtype(result["round_trip"])
    elapsed = (result["received"] - result["sent"]).dt.total_seconds()
    assert elapsed.tolist() == pytest.approx(result["round_trip"].dt.total_seconds().tolist(), abs=1e-3)
    assert result["guid"].is_unique
    assert isinstance(result["sent"].dtype, pd.DatetimeTZDtype)


def test_probe_refuses_read_only_and_bad_input(redis_url: str) -> None:
    ro = open_admin(redis_url, readonly=True)
    with pytest.raises(ReadOnlyError):
        probe(ro, [1])
    with pytest.raises(ReadOnlyError):
        ro.probe([1])
    rw = open_admin(redis_url)
    with pytest.raises(WriteValidationError, match="target"):
        probe(rw, [])
    with pytest.raises(WriteValidationError, match="jumpscript"):
        probe(rw, [1], jumpscript="echo")
    with pytest.raises(WriteValidationError, match="grid id"):
        probe(rw, [1])  # empty Redis: no jobs:last, so the gid must be given
