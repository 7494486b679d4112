"""The job browser's pure logic: union, filters, paging, details (hand-built and real frames)."""

from __future__ import annotations

import pandas as pd
import pytest

from jsadmin.display.jobquery import (
    JobQuery,
    copies_of_job,
    filter_jobs,
    job_eco,
    job_record,
    job_rows,
    job_timings,
    page_count,
    page_of,
    parse_time,
    union_jobs,
)

NOW = pd.Timestamp("2026-01-01T12:00:00Z")


def _frame(rows: list[dict]) -> pd.DataFrame:
    df = pd.DataFrame(rows)
    for col in ("gid", "nid", "id"):
        df[col] = df[col].astype("Int64")
    for col in ("timeCreate", "timeStart", "timeStop"):
        df[col] = pd.to_datetime(df[col], utc=True)
    df["state"] = df["state"].astype("category")
    for col in ("guid", "category", "cmd", "role"):
        df[col] = df[col].astype("string")
    return df


@pytest.fixture()
def frames() -> dict[str, pd.DataFrame]:
    base = {"gid": 1, "category": "jumpscale", "timeStart": None, "timeStop": None, "result": None}
    queued = _frame([
        {**base, "key": "queues:commands:queue:1:5", "position": i, "nid": 5, "id": i + 1, "guid": f"q{i}",
         "role": None, "cmd": "echo", "state": "SCHEDULED", "args": {"msg": f"hello {i}"},
         "timeCreate": NOW - pd.Timedelta(minutes=i)}
        for i in range(7)
    ])
    results = _frame([
        {**base, "key": "queues:jobqueue:r1", "position": 0, "nid": 2, "id": 100, "guid": "r1", "role": "node",
         "cmd": "disk_check", "state": "ERROR", "args": {"path": "/data"},
         "result": {"errormessage": "disk /data full", "category": "workers.executejob", "backtrace": "~ x"},
         "timeCreate": NOW - pd.Timedelta(hours=2), "timeStart": NOW - pd.Timedelta(hours=2) + pd.Timedelta(seconds=3),
         "timeStop": NOW - pd.Timedelta(hours=2) + pd.Timedelta(seconds=2.5)},
        {**base, "key": "queues:jobqueue:r2", "position": 0, "nid": 3, "id": 101, "guid": "r2", "role": None,
         "cmd": "echo", "state": "OK", "args": {"msg": "x"}, "result": "x", "gid": 2,
         "timeCreate": NOW - pd.Timedelta(hours=1), "timeStart": NOW - pd.Timedelta(hours=1) + pd.Timedelta(seconds=1),
         "timeStop": NOW - pd.Timedelta(hours=1) + pd.Timedelta(seconds=4)},
    ])
    return {"command_queues": queued, "job_results": results}


def test_union_keeps_provenance_and_maps_back(frames: dict[str, pd.DataFrame]) -> None:
    jobs = union_jobs(frames)
    assert len(jobs) == 9
    assert list(jobs.columns[:2]) == ["family", "row"]
    assert jobs["family"].value_counts().to_dict() == {"command_queues": 7, "job_results": 2}
    r1 = jobs[jobs["guid"] == "r1"].iloc[0]
    assert frames[r1["family"]].loc[r1["row"], "guid"] == "r1"
    assert "disk /data full" in r1["_search"]


def test_job_rows_fold_copies_and_filter_on_jobs(frames: dict[str, pd.DataFrame]) -> None:
    q0 = frames["command_queues"].iloc[[0]].assign(state=pd.Categorical(["STARTED"]), key="jobs:1")
    with_copy = {**frames, "jobs": q0.reset_index(drop=True)}
    rows = job_rows(with_copy)
    assert len(rows) == 9 and rows["guid"].is_unique  # 10 copies, 9 jobs
    job = rows.set_index("guid").loc["q0"]
    assert job["seen_in"] == "command_queues+jobs" and job["copies"] == 2
    assert str(job["state"]) == "STARTED" and job["family"] == "jobs"  # STARTED beats SCHEDULED
    assert filter_jobs(rows, JobQuery(families=("jobs",)))["guid"].tolist() == ["q0"]
    assert filter_jobs(rows, JobQuery(cmd="jumpscale__disk"))["guid"].tolist() == ["r1"]
    assert len(filter_jobs(rows, JobQuery(states=("SCHEDULED",)))) == 6  # q0 is counted once, as STARTED
    copies = copies_of_job(union_jobs(with_copy), rows.set_index("guid").loc["q0"].to_dict() | {"guid": "q0"})
    assert copies["family"].tolist() == ["jobs", "command_queues"]


def test_filters_each_dimension(frames: dict[str, pd.DataFrame]) -> None:
    jobs = union_jobs(frames)

    def guids(**kw: object) -> list[str]:
        return filter_jobs(jobs, JobQuery(**kw), now=NOW)["guid"].tolist()

    assert guids(states=("ERROR",)) == ["r1"]
    assert guids(gid=2) == ["r2"]
    assert guids(nid="5") == [f"q{i}" for i in range(7)]  # newest first
    assert guids(role="NODE") == ["r1"]
    assert guids(cmd="jumpscale/disk") == ["r1"]
    assert guids(text="hello 3") == ["q3"]
    assert guids(text="DISK /DATA FULL") == ["r1"]
    assert guids(since="-3min") == ["q0", "q1", "q2", "q3"]
    assert guids(since="-3h", until="-30min") == ["r2", "r1"]
    assert guids(families=("job_results",), states=("OK",)) == ["r2"]
    assert guids(nid=5, text="nothing like this") == []


def test_bad_filter_values_say_what_is_wrong(frames: dict[str, pd.DataFrame]) -> None:
    jobs = union_jobs(frames)
    with pytest.raises(ValueError, match="nid must be an integer"):
        filter_jobs(jobs, JobQuery(nid="five"))
    with pytest.raises(ValueError, match="relative like -15min"):
        filter_jobs(jobs, JobQuery(since="yesterday-ish"))


def test_parse_time_forms() -> None:
    assert parse_time("", now=NOW) is None
    assert parse_time("-2h", now=NOW) == NOW - pd.Timedelta(hours=2)
    assert parse_time("-1d", now=NOW) == NOW - pd.Timedelta(days=1)
    assert parse_time("2026-01-01T10:00", now=NOW) == pd.Timestamp("2026-01-01T10:00Z")


def test_paging_never_returns_more_than_a_page() -> None:
    df = pd.DataFrame({"a": range(100_000)})
    assert page_count(len(df), 50) == 2000
    assert page_of(df, page=0, size=50)["a"].tolist() == list(range(50))
    assert page_of(df, page=1999, size=50)["a"].tolist() == list(range(99_950, 100_000))
    assert len(page_of(df, page=5000, size=50)) == 50  # clamped to the last page
    assert page_count(0, 50) == 1 and page_of(df.iloc[0:0], page=3, size=50).empty
    with pytest.raises(ValueError):
        page_of(df, page=0, size=0)


def test_details_timings_and_eco(frames: dict[str, pd.DataFrame]) -> None:
    jobs = union_jobs(frames)
    row = jobs[jobs["guid"] == "r1"].iloc[0].to_dict()
    t = job_timings(row)
    assert t["queue_wait_s"] == pytest.approx(3.0)
    assert t["run_time_s"] == 0.0  # timeStop truncated before timeStart: clamped (spec §4.7)
    assert t["end_to_end_s"] == pytest.approx(2.5)
    assert job_eco(row)["errormessage"] == "disk /data full"
    rec = job_record(row)
    assert rec["timeCreate"] == "2026-01-01T10:00:00+00:00" and rec["gid"] == 1
    assert "_search" not in rec and "row" not in rec
    queued = jobs[jobs["guid"] == "q0"].iloc[0].to_dict()
    assert job_timings(queued) == {"queue_wait_s": None, "run_time_s": None, "end_to_end_s": None}
    ecos = pd.DataFrame({"jid": pd.array(["q0"], dtype="string"), "errormessage": ["boom"]})
    assert job_eco(queued, ecos)["errormessage"] == "boom"


def test_union_of_real_frames(admin) -> None:
    for i in range(3):
        admin.enqueue_job(1, nid=4, category="jumpscale", cmd="echo", args={"msg": f"real {i}"})
    admin.enqueue_job(1, role="node", category="jumpscale", cmd="info")
    frames = {name: admin.load(name) for name in ("jobs", "command_queues")}
    jobs = union_jobs(frames)
    assert jobs["family"].value_counts().to_dict() == {"jobs": 4, "command_queues": 4}
    hit = filter_jobs(jobs, JobQuery(text="real 1", families=("command_queues",)))
    assert len(hit) == 1 and hit.iloc[0]["key"] == "queues:commands:queue:1:4"
    role = filter_jobs(jobs, JobQuery(role="node", families=("command_queues",)))
    assert role["key"].tolist() == ["queues:commands:queue:1:node"]
