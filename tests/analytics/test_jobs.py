"""One row per job over copies written to a real Redis, and one identity per jumpscript."""

from __future__ import annotations

import time
import uuid
from collections import Counter

import pandas as pd
import pytest
import redis
from analytics_helpers import (
    make_job,
    open_admin,
    put_cached,
    put_queued,
    put_result,
    put_worker_job,
    ujson,
)

from jsadmin import keys
from jsadmin.analytics import finished_jobs, latency_summary
from jsadmin.analytics.jobs import (
    COPY_FAMILIES,
    TOP_RANK,
    copy_rank,
    jumpscript_id,
    one_row_per_job,
)
from jsadmin.demogrid import seed


def _frames(admin) -> dict[str, pd.DataFrame]:
    return {name: admin.load(name) for name in COPY_FAMILIES}


def test_copies_of_one_job_fold_into_one_row(redis_url: str, r: redis.Redis) -> None:
    now = time.time()
    # job A went the whole way: command queue, jobs hash, worker queue, worker copy, result
    a = make_job(state="SCHEDULED", job_id=1, created=now - 10, nid=None)
    a["roles"] = ["node"]
    put_queued(r, keys.command_queue(1, "node"), a)
    put_cached(r, dict(a, state="STARTED", nid=3))
    put_queued(r, keys.worker_queue("default"), dict(a, state="STARTED", nid=3), pretty=True)
    put_worker_job(r, dict(a, state="STARTED", nid=3, timeStart=now - 5))
    put_result(r, dict(a, state="OK", nid=3, timeStart=now - 5, timeStop=now - 4, result="hi"))
    # job B: queued and in the jobs hash only
    b = make_job(state="SCHEDULED", job_id=2, created=now - 3, cmd="backup_dirs", category="backup")
    put_queued(r, keys.command_queue(1, 1), b)
    put_cached(r, b)
    # job C: an AC wait timeout (no timeStop) in the hash, the worker's ERROR copy with timeStop
    c = make_job(state="TIMEOUT", job_id=3, created=now - 100)
    put_cached(r, c)
    put_worker_job(r, dict(c, state="ERROR", timeStart=now - 99, timeStop=now - 90))
    # a legacy local job (JS6 shape) of the same jumpscript as B: a worker copy with a 40-hex guid
    legacy = make_job(state="OK", job_id=9, guid=uuid.uuid4().hex + "0" * 8, cmd="backup/backup_dirs",
                      category="jumpscript", start=now - 8, stop=now - 2)
    r.set(keys.worker_job(9), ujson(dict(legacy, internal=True)))

    admin = open_admin(redis_url, readonly=True)
    frames = _frames(admin)
    copies = sum(len(df) for df in frames.values())
    jobs = one_row_per_job(frames).set_index("guid")

    assert copies == 10 and len(jobs) == 4
    assert jobs.attrs["copies"] == 10 and jobs.attrs["duplicates"] == 6
    assert jobs.index.is_unique
    row = jobs.loc[a["guid"]]
    assert str(row["state"]) == "OK" and row["family"] == "job_results"
    assert row["seen_in"] == "command_queues+jobs+worker_queues+worker_jobs+job_results"
    assert row["copies"] == 5 and row["nid"] == 3 and row["result"] == "hi"
    assert row["jumpscript"] == "jumpscale__echo" and row["origin"] == "ac"
    assert jobs.loc[b["guid"], "seen_in"] == "command_queues+jobs"
    assert str(jobs.loc[b["guid"], "state"]) == "SCHEDULED"
    # a final copy with timeStop beats the AC's wait-timeout copy without one
    assert str(jobs.loc[c["guid"], "state"]) == "ERROR" and jobs.loc[c["guid"], "family"] == "worker_jobs"
    # the legacy local job is its own job, under the same jumpscript identity as B
    assert jobs.loc[legacy["guid"], "origin"] == "legacy-local"
    assert jobs.loc[legacy["guid"], "jumpscript"] == jobs.loc[b["guid"], "jumpscript"] == "backup__backup_dirs"
    # counts are counts of jobs
    assert jobs["state"].astype(str).value_counts().to_dict() == {"OK": 2, "SCHEDULED": 1, "ERROR": 1}
    # the admin method is the same view
    pd.testing.assert_frame_equal(admin.jobs(), one_row_per_job(frames))


def test_demo_grid_counts_jobs_not_copies(redis_url: str, r: redis.Redis) -> None:
    seed.seed_demo(r, seed=7)
    admin = open_admin(redis_url, readonly=True)
    frames = _frames(admin)
    jobs = admin.jobs()
    by_guid: Counter[str] = Counter()
    families: dict[str, set[str]] = {}
    no_guid = 0
    for name, df in frames.items():
        for guid in df["guid"].tolist():
            if guid is None or guid is pd.NA or guid == "":
                no_guid += 1
                continue
            by_guid[guid] += 1
            families.setdefault(guid, set()).add(name)
    # the demo really seeds copies of one job in several families
    assert sum(1 for n in by_guid.values() if n > 1) > 50
    assert len(jobs) == len(by_guid) + no_guid
    assert jobs["copies"].sum() == sum(len(df) for df in frames.values())
    got = jobs.set_index("guid")
    for guid, fams in families.items():
        assert set(got.loc[guid, "seen_in"].split("+")) == fams
    # node-local jobs (40-hex Tiger guids, internal) appear as jobs of their own
    assert (jobs["origin"] == "local").sum() > 0
    # the latest state never goes back: a job seen final anywhere is final here
    final_somewhere = {g for name, df in frames.items()
                       for g, s in zip(df["guid"], df["state"].astype(str), strict=True)
                       if s in ("OK", "ERROR", "TIMEOUT", "NOWORK")}
    assert {g for g in final_somewhere if g in got.index} == set(
        got.index[got["state"].astype(str).isin(["OK", "ERROR", "TIMEOUT", "NOWORK"])])
    # finished_jobs (the latency input) is the final part of the same view: one row per job
    fin = finished_jobs(frames)
    assert fin["guid"].is_unique
    assert set(fin["guid"]) == {g for g in final_somewhere if g in got.index}


def test_latency_by_cmd_on_the_demo_is_one_row_per_jumpscript(redis_url: str, r: redis.Redis) -> None:
    seed.seed_demo(r, seed=7)
    admin = open_admin(redis_url, readonly=True)
    lat = admin.latency(by=["cmd"])
    names = list(lat.index)
    # the demo holds the legacy "backup/backup_dirs" worker copy and AC "backup_dirs" jobs: one row
    assert "backup__backup_dirs" in names
    assert not any("/" in n for n in names) and "backup_dirs" not in names
    assert all("__" in n or n.startswith("(") for n in names)
    assert "(blank cmd)" in names and "" not in names
    assert lat.index.name == "jumpscript"
    assert list(lat.columns[:4]) == ["jobs", "measured", "errors", "timeouts"]
    assert set(lat.attrs["columns"]) == set(lat.columns)
    assert str(lat["p50"].dtype).startswith("timedelta64")
    # every duration is rounded to the millisecond
    ns = lat["max"].dropna().dt.total_seconds() * 1000
    assert ((ns - ns.round()).abs() < 1e-6).all()
    # one job is counted once: jobs per jumpscript add up to the finished jobs
    assert lat["jobs"].sum() == finished_jobs(_frames(admin))["state"].astype(str).isin(["OK", "ERROR", "TIMEOUT"]).sum()


def test_copy_rank_final_beats_in_flight_and_top_rank() -> None:
    stop = pd.Series(pd.to_datetime([None, None, None, 1_700_000_000, 1_700_000_000, None], unit="s", utc=True))
    state = pd.Series(["SCHEDULED", "STARTED", "TIMEOUT", "NOWORK", "OK", "WEIRD"])
    rank = copy_rank(state, stop)
    assert rank[0] < rank[1] < rank[2] < rank[3] < rank[4] == TOP_RANK
    assert rank[5] > rank[1]  # any other string is a worker's final status


@pytest.mark.parametrize(
    ("category", "cmd", "expected"),
    [
        ("jumpscale", "echo", "jumpscale__echo"),
        ("jumpscript", "jumpscale/echo", "jumpscale__echo"),
        ("monitor", "", "monitor__(blank cmd)"),
        ("", "", "(blank cmd)"),
        (None, None, "(no cmd)"),
        ("", "freemem", "(no organization)__freemem"),
        ("unknown", "x", "unknown__x"),
    ],
)
def test_jumpscript_identity(category, cmd, expected) -> None:
    assert jumpscript_id(category, cmd) == expected


def test_empty_input_gives_an_empty_typed_view() -> None:
    out = one_row_per_job({})
    assert out.empty and "seen_in" in out.columns and out.attrs["jobs"] == 0
    assert latency_summary(finished_jobs({}), by="cmd").empty


def test_copies_without_a_guid_stay_separate_jobs() -> None:
    frame = pd.DataFrame({
        "guid": pd.array([None, None, "g"], dtype="string"),
        "state": pd.Categorical(["OK", "OK", "STARTED"]),
        "category": pd.array(["jumpscale"] * 3, dtype="string"),
        "cmd": pd.array(["echo"] * 3, dtype="string"),
    })
    queued = frame.iloc[[2]].assign(state=pd.Categorical(["SCHEDULED"]))
    out = one_row_per_job({"worker_jobs": frame, "command_queues": queued})
    assert len(out) == 3 and out.attrs["no_guid"] == 2
    assert out.loc[out["guid"] == "g", "seen_in"].item() == "command_queues+worker_jobs"
    assert out["guid"].isna().sum() == 2 and (out.loc[out["guid"].isna(), "copies"] == 1).all()
