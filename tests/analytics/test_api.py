"""``Admin`` analytics methods on the seeded demo grid: typed results, and not one write."""

from __future__ import annotations

import pandas as pd
import pytest
import redis
from analytics_helpers import assert_read_only, open_admin, reset_stats

from jsadmin.analytics import finished_jobs, grid_health, latency_summary
from jsadmin.analytics.api import AnalyticsMixin
from jsadmin.demogrid import seed


@pytest.fixture()
def seeded(redis_url: str, r: redis.Redis):
    seed.seed_demo(r, seed=7)
    return open_admin(redis_url, readonly=True)


def test_admin_has_the_analytics_methods() -> None:
    from jsadmin.admin import Admin

    assert issubclass(Admin, AnalyticsMixin)
    for name in ("latency", "queue_depths", "grid_health", "errors", "record", "probe", "finished_jobs"):
        assert callable(getattr(Admin, name))


def test_read_methods_on_the_demo_never_write(seeded, r: redis.Redis) -> None:
    reset_stats(r)
    lat = seeded.latency(by=["cmd"], metric="run_time")
    depths = seeded.queue_depths()
    health = seeded.grid_health(stale_after=120)
    errors = seeded.errors()
    jobs = seeded.finished_jobs()
    used = assert_read_only(r)
    assert "scan" in used and "hscan" in used

    # the same numbers as the pure functions over the same frames
    frames = seeded.load_all()
    pd.testing.assert_frame_equal(lat, latency_summary(finished_jobs(frames), by=["cmd"]))
    assert set(jobs["family"]) <= {"job_results", "jobs", "worker_jobs"}
    assert jobs["guid"].is_unique
    assert lat["measured"].sum() > 0
    # every finished job is either measured or excluded with a reason
    assert lat["measured"].sum() + sum(lat.attrs["excluded"].values()) == len(finished_jobs(frames))
    assert {"command", "worker"} <= set(depths["kind"])
    assert (depths["length"] > 0).all()  # Redis holds no empty lists
    assert list(health.columns) == ["component", "kind", "status", "signal", "age", "why", "detail"]
    assert {"heartbeat", "queue", "job"} <= set(health["kind"])
    expected = grid_health(frames, now=health.attrs["time"], stale_after=120)
    assert sorted(health["component"]) == sorted(expected["component"])
    assert {"eco", "job"} <= set(errors["kind"])
    assert (errors["occurrences"] >= errors["items"]).all()
