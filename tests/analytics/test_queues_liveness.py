"""Queue depths (real Redis, read-only), liveness, grid health and error summary."""

from __future__ import annotations

import pandas as pd
import pytest
import redis
from analytics_helpers import (
    assert_read_only,
    make_job,
    put_cached,
    put_queued,
    put_result,
    put_worker_job,
    reset_stats,
)

from jsadmin import keys
from jsadmin.analytics.errors import error_summary, jumpscript_from_tags
from jsadmin.analytics.liveness import (
    grid_health,
    healthchecks,
    heartbeat_ages,
    stale_workers,
    stuck_jobs,
)
from jsadmin.analytics.queues import classify_queue, depth_frame, depths_from_frames, queue_depths
from jsadmin.limits import TruncatedWarning

NOW = 1_800_000_000.0


def sec(value: float) -> pd.Timedelta:
    return pd.Timedelta(seconds=value)


def hmset(client: redis.Redis, key: str, mapping: dict) -> None:
    """Several hash fields in one command that Redis 2.8 has (multi-field HSET needs 4.0)."""
    client.execute_command("HMSET", key, *[x for kv in mapping.items() for x in kv])


def test_classify_queue_names() -> None:
    assert classify_queue("queues:system") == ("worker", "io")
    assert classify_queue("queues:workers:work:hypervisor") == ("worker", "hypervisor")
    assert classify_queue("queues:commands:queue:1:5") == ("command", "1:5")
    assert classify_queue("commands:queue:1:5") == ("command", "1:5")
    assert classify_queue("queues:jobqueue:abc") is None


def test_queue_depths_on_real_redis_lengths_and_oldest_age(r: redis.Redis, admin) -> None:
    for i, age in enumerate((300, 200, 100)):
        put_queued(r, keys.command_queue(1, 5), make_job(state="SCHEDULED", created=NOW - age, job_id=i))
    put_queued(r, keys.command_queue(1, "node"), make_job(state="SCHEDULED", created=NOW - 30, nid=None))
    put_queued(r, keys.worker_queue("io"), make_job(state="STARTED", created=NOW - 42), pretty=True)
    put_queued(r, keys.worker_queue("default"), make_job(state="STARTED", created=NOW - 7), pretty=True)
    r.rpush(keys.worker_queue("process"), b"not json at all")
    r.set("queues:workers:work:broken", b"a string, not a list")  # WRONGTYPE is skipped
    reset_stats(r)
    depths = queue_depths(admin, now=NOW).set_index("key")
    assert_read_only(r)
    assert depths.loc["queues:commands:queue:1:5", ["kind", "queue", "length"]].tolist() == ["command", "1:5", 3]
    assert depths.loc["queues:commands:queue:1:5", "oldest_age"] == sec(300)
    assert depths.loc["queues:commands:queue:1:node", "oldest_age"] == sec(30)
    assert depths.loc["queues:system", ["kind", "queue", "length", "oldest_age"]].tolist() == ["worker", "io", 1, sec(42)]
    assert depths.loc["queues:workers:work:default", "oldest_age"] == sec(7)
    assert pd.isna(depths.loc["queues:workers:work:process", "oldest_age"])
    assert "queues:workers:work:broken" not in depths.index
    assert depths["length"].dtype == "Int64"


def test_depth_frame_is_pure_and_typed() -> None:
    df = depth_frame([], now=NOW)
    assert list(df.columns) == ["key", "kind", "queue", "length", "oldest", "oldest_age"]
    df = depth_frame([("queues:workers:work:default", 2, b'{"timeCreate": 0, "timeStart": 1799999990.5}')], now=NOW)
    assert df["oldest_age"].iloc[0] == sec(9.5)  # legacy: timeStart is the creation time


def _frames(admin) -> dict[str, pd.DataFrame]:
    return admin.load_all()


def test_liveness_from_loaded_frames(r: redis.Redis, admin) -> None:
    hmset(r, keys.WORKER_HEARTBEAT, {"default": int(NOW - 5), "io": int(NOW - 700), "process": int(NOW - 80)})
    hmset(r, keys.WORKER_WATCHDOG, {"worker_default_0": int(NOW - 3), "worker_io_1": 0})
    r.set(keys.worker_registry("default", "w-alive"), 1)
    r.set(keys.worker_registry("io", "w-dead"), 1)
    r.set(keys.worker_registry("hypervisor", "w-never"), 1)
    hmset(r, keys.HEALTHCHECK_STATUS, {"disks": "True", "redis:9999": "False"})
    hmset(r, keys.HEALTHCHECK_LASTCHECK, {"disks": repr(NOW - 10.5), "redis:9999": repr(NOW - 3)})
    r.set(keys.HEALTH_STATUS, b"WARNING", ex=300)
    stuck = make_job(state="STARTED", created=NOW - 900, timeout=600, cmd="sleep")
    young = make_job(state="SCHEDULED", created=NOW - 10, timeout=600)
    put_cached(r, stuck)
    put_queued(r, keys.worker_queue("default"), stuck, pretty=True)  # same guid twice
    put_cached(r, young)
    frames = _frames(admin)

    beats = heartbeat_ages(frames, now=NOW, stale_after=120).set_index(["beat", "queue"])
    assert beats.loc[("heartbeat", "io"), "age"] == sec(700)
    assert beats.loc[("heartbeat", "io"), "status"] == "stale"
    assert beats.loc[("heartbeat", "process"), "status"] == "warn"  # > stale_after / 2
    assert beats.loc[("heartbeat", "default"), "status"] == "ok"
    watchdog = heartbeat_ages(frames, now=NOW).query("beat == 'watchdog'").set_index("worker")
    assert watchdog.loc["worker_default_0", "age"] == sec(3)
    assert (watchdog["signal"] == "leftover").all()  # JS6 family: a leftover however young
    assert pd.isna(watchdog.loc["worker_io_1", "age"]) and watchdog.loc["worker_io_1", "status"] == "warn"

    workers = stale_workers(frames, now=NOW, stale_after=120).set_index("worker")
    assert workers["stale"].to_dict() == {"w-alive": False, "w-dead": True, "w-never": True}

    checks = healthchecks(frames, now=NOW, stale_after=120).set_index("check")
    assert checks.loc["redis:9999", "status"] == "error"
    assert checks.loc["disks", "status"] == "ok" and checks.loc["disks", "age"] == sec(10.5)
    assert checks.loc["health.status", "status"] == "warn"
    assert checks.loc["health.status", "signal"] == "current" and checks.loc["disks", "signal"] == "leftover"
    assert "healthcheck:status is legacy" in checks.loc["disks", "why"]
    assert checks["signal"].iloc[0] == "current"  # current rows first

    jobs = stuck_jobs(frames, now=NOW)
    assert jobs["guid"].tolist() == [stuck["guid"]]
    assert jobs["age"].iloc[0] == sec(900) and jobs["over"].iloc[0] == 1.5
    assert jobs["timeout"].iloc[0] == sec(600) and jobs["signal"].iloc[0] == "current"

    health = grid_health(frames, now=NOW, stale_after=120)
    assert list(health.columns) == ["component", "kind", "status", "signal", "age", "why", "detail"]
    assert health["status"].iloc[0] == "error"  # worst first
    assert health["status"].cat.ordered
    current = health[health["signal"] == "current"]
    codes = current["status"].cat.codes.to_numpy()
    assert (codes[:-1] >= codes[1:]).all()
    assert (health["signal"].cat.codes.diff().dropna() >= 0).all()  # current rows, then leftovers
    by = health.set_index(["kind", "component"])
    assert by.loc[("job", stuck["guid"]), "status"] == "error"
    assert by.loc[("heartbeat", "io"), "status"] == "stale"
    assert by.loc[("worker", keys.worker_registry("io", "w-dead")), "status"] == "stale"
    assert by.loc[("queue", keys.worker_queue("default")), "age"] == sec(900)


def test_grid_health_of_empty_frames() -> None:
    health = grid_health({}, now=NOW)
    assert health.empty and list(health.columns) == ["component", "kind", "status", "signal", "age", "why", "detail"]


def test_error_summary_groups_ecos_and_failed_jobs(r: redis.Redis, admin) -> None:
    eco = {
        "guid": "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0", "uniquekey": "0f1e2d3c4b5a69788796a5b4c3d2e1f0",
        "gid": 1, "nid": 3, "category": "workers.executejob", "level": 1, "type": "BUG", "state": "NEW",
        "errormessage": "boom", "tags": "jscategory:x jsorganization:jumpscale jsname:exec",
        "epoch": int(NOW - 600), "lasttime": int(NOW - 60), "occurrences": 4, "pushtime": int(NOW - 60),
        "jid": 0, "appname": "worker", "pid": 0, "masterjid": 0,
    }
    import json

    r.hset(keys.ECO_OBJECTS, eco["uniquekey"], json.dumps(eco, separators=(",", ":")).replace("/", "\\/"))
    ok = make_job(state="OK", created=NOW - 50, start=NOW - 49, stop=NOW - 48)
    bad = make_job(state="ERROR", cmd="exec", nid=3, created=NOW - 40, start=NOW - 39.5, stop=NOW - 39,
                   result={"category": "workers.executejob", "errormessage": "exit 1"}, job_id=2)
    late = make_job(state="TIMEOUT", cmd="sleep", nid=2, created=NOW - 30, start=NOW - 29.5, stop=NOW - 20,
                    job_id=3)
    put_result(r, ok)
    put_result(r, bad)
    put_worker_job(r, bad)  # the same failure seen twice counts once
    put_worker_job(r, late)
    summary = error_summary(admin.load_all())
    rows = {(s, c, j, n): (o, i) for s, c, j, n, o, i in
            summary[["kind", "category", "jumpscript", "nid", "occurrences", "items"]].itertuples(index=False)}
    assert rows[("eco", "workers.executejob", "jumpscale__exec", 3)] == (4, 1)
    assert rows[("job", "workers.executejob", "jumpscale__exec", 3)] == (1, 1)
    assert rows[("job", "job.timeout", "jumpscale__sleep", 2)] == (1, 1)
    assert len(summary) == 3
    assert summary["occurrences"].iloc[0] == 4  # most frequent first
    eco_row = summary[summary["kind"] == "eco"].iloc[0]
    assert eco_row["first_seen"] == pd.Timestamp(NOW - 600, unit="s", tz="UTC")
    assert eco_row["last_seen"] == pd.Timestamp(NOW - 60, unit="s", tz="UTC")
    assert jumpscript_from_tags("jsname:x") == "(no organization)__x" and jumpscript_from_tags(None) is None
    assert (summary["signal"] == "current").all() and summary["age"].dtype == "timedelta64[ns]"
    # seen last more than leftover_after before `now`: a leftover, sorted after the current rows
    later = error_summary(admin.load_all(), now=NOW + 8 * 86400, leftover_after="7D")
    assert (later["signal"] == "leftover").all() and "leftover_after" in later["why"].iloc[0]
    mixed = error_summary(admin.load_all(), now=NOW + 30, leftover_after=60)
    # last seen 50 s (the timeout), 69 s (the failed exec) and 90 s (the ECO) before now
    assert dict(zip(mixed["category"], mixed["signal"], strict=True)) == {
        "job.timeout": "current", "workers.executejob": "leftover"}
    assert mixed["signal"].tolist() == ["current", "leftover", "leftover"]
    assert mixed["age"].tolist() == [pd.Timedelta(seconds=s) for s in (50, 90, 69)]  # current first, then by count


def test_error_summary_bad_and_empty_input() -> None:
    with pytest.raises(TypeError):
        error_summary([])  # type: ignore[arg-type]
    empty = error_summary({})
    assert empty.empty and "occurrences" in empty.columns


def test_capped_queue_reports_its_true_length_and_an_oldest_entry_it_did_not_load(
    r: redis.Redis, admin, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker queue with a backlog past the load's cap: the depth is the real LLEN, and the
    oldest entry (the head, not loaded when only the newest are kept) is read with LINDEX 0
    or, without a client, reported unknown and the queue is warn, never silently ok."""
    monkeypatch.setattr("jsadmin.reader.DEFAULT_LIMIT", 3)
    key = keys.worker_queue("default")
    for i, age in enumerate((5000, 400, 300, 200, 100)):  # head: the oldest, an hour and more
        put_queued(r, key, make_job(state="SCHEDULED", created=NOW - age, job_id=i))
    with pytest.warns(TruncatedWarning, match="newest 3 of 5"):
        loaded = admin.load_all_with_info()
    frames = {name: x.frame for name, x in loaded.items()}
    infos = {name: x.info for name, x in loaded.items()}
    assert len(frames["worker_queues"]) == 3  # only the newest 3 were loaded
    blind = depths_from_frames(frames, now=NOW).set_index("key")  # no infos: taken as loaded whole
    assert blind.loc[key, "length"] == 3
    pure = depths_from_frames(frames, now=NOW, infos=infos).set_index("key")
    assert pure.loc[key, "length"] == 5
    assert pd.isna(pure.loc[key, "oldest_age"])
    health = grid_health(frames, now=NOW, stale_after=600, infos=infos).set_index("component")
    assert health.loc[key, "status"] == "warn" and "oldest entry not loaded" in health.loc[key, "detail"]
    reset_stats(r)
    read = depths_from_frames(frames, now=NOW, client=admin.redis, infos=infos).set_index("key")
    assert_read_only(r)
    assert read.loc[key, "length"] == 5 and read.loc[key, "oldest_age"] == pd.Timedelta(seconds=5000)
    assert read.attrs["oldest_unknown"] == []
    health = grid_health(frames, now=NOW, stale_after=600, client=admin.redis, infos=infos).set_index("component")
    assert health.loc[key, "status"] == "stale" and health.loc[key, "detail"].startswith("5 queued")
    with pytest.warns(TruncatedWarning):  # Admin.grid_health passes its loads' infos itself: 5, not 3
        assert admin.grid_health(stale_after=600).set_index("component").loc[key, "detail"].startswith("5 queued")
    oldest, info = admin.load_with_info("worker_queues", limit=3, keep="oldest")
    kept = depths_from_frames({"worker_queues": oldest}, now=NOW, infos={"worker_queues": info}).set_index("key")
    assert kept.loc[key, "length"] == 5 and kept.loc[key, "oldest_age"] == pd.Timedelta(seconds=5000)  # the head was loaded


def test_health_checks_without_any_time_have_no_age_and_do_not_crash(r: redis.Redis, admin) -> None:
    """A check with a status but no lastcheck, and health.status without a TTL: every age is NaT
    (found by the fuzz run: an all-NaT column is inferred as datetime, not timedelta)."""
    hmset(r, keys.HEALTHCHECK_STATUS, {"disks": "True"})
    r.set(keys.HEALTH_STATUS, b"OK")
    frames = _frames(admin)
    checks = healthchecks(frames, now=NOW)
    assert checks["age"].dtype == "timedelta64[ns]" and checks["age"].isna().all()
    health = grid_health(frames, now=NOW)
    assert health["age"].dtype == "timedelta64[ns]"
    assert set(health["component"]) == {"disks", "health.status"}
    assert health.set_index("component").loc["disks", "signal"] == "leftover"


def test_empty_error_and_stuck_frames_are_typed() -> None:
    """Nothing failing and nothing stuck still gives the columns, in the dtypes a filled frame has."""
    errors = error_summary({}, now=NOW)
    assert list(errors.columns) and errors.empty
    assert {c: str(t) for c, t in errors.dtypes.items() if c in ("kind", "jumpscript", "nid", "last_seen")} == {
        "kind": "string", "jumpscript": "string", "nid": "Int64", "last_seen": "datetime64[ns, UTC]"}
    stuck = stuck_jobs({}, now=NOW)
    assert stuck.empty and str(stuck["family"].dtype) == "string" and str(stuck["nid"].dtype) == "Int64"
    assert isinstance(stuck["state"].dtype, pd.CategoricalDtype)
