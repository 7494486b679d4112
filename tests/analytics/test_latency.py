"""Latency math on hand-built frames with known answers (spec §4.7)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from jsadmin.analytics.latency import (
    finished_jobs,
    job_latency,
    latency_series,
    latency_summary,
)


def ts(seconds: float | None) -> pd.Timestamp:
    """Epoch seconds -> UTC timestamp; 0/None -> NaT (how the readers map a 0 timestamp)."""
    return pd.Timestamp(seconds, unit="s", tz="UTC") if seconds else pd.NaT


def jobs_frame(rows: list[dict]) -> pd.DataFrame:
    df = pd.DataFrame(rows)
    for col in ("timeCreate", "timeStart", "timeStop"):
        df[col] = pd.to_datetime(df[col].map(ts), utc=True)
    for col in ("guid", "cmd", "category"):
        if col in df:
            df[col] = df[col].astype("string")
    if "nid" in df:
        df["nid"] = df["nid"].astype("Int64")
    df["state"] = df["state"].astype("category")
    return df


T0 = 1_700_000_000.0
ROWS = [
    # modern OK: waits 1.5 s, runs 0.5 s
    dict(guid="a", cmd="echo", category="jumpscale", nid=1, state="OK",
         timeCreate=T0, timeStart=T0 + 1.5, timeStop=T0 + 2),
    # sub-second job: worker truncated timeStop below timeStart -> run clamped to 0
    dict(guid="b", cmd="echo", category="jumpscale", nid=2, state="OK",
         timeCreate=T0, timeStart=T0 + 0.7, timeStop=T0),
    # legacy (no timeCreate): only end_to_end = timeStop - timeStart
    dict(guid="c", cmd="sleep", category="jumpscale", nid=1, state="ERROR",
         timeCreate=0, timeStart=T0 + 200, timeStop=T0 + 210),
    # unfinished copy: no timestamps yet
    dict(guid="d", cmd="sleep", category="jumpscale", nid=1, state="STARTED",
         timeCreate=T0, timeStart=0, timeStop=0),
    # NOWORK: both 0
    dict(guid="e", cmd="sleep", category="jumpscale", nid=1, state="NOWORK",
         timeCreate=T0, timeStart=0, timeStop=0),
    # odd copy: started, never stopped
    dict(guid="f", cmd="sleep", category="jumpscale", nid=2, state="TIMEOUT",
         timeCreate=T0, timeStart=T0 + 50, timeStop=0),
    # worker-killed timeout with timestamps
    dict(guid="g", cmd="sleep", category="jumpscale", nid=2, state="TIMEOUT",
         timeCreate=T0 + 60, timeStart=T0 + 63, timeStop=T0 + 123),
]


def test_job_latency_values_clamping_legacy_and_exclusions() -> None:
    lat = job_latency(jobs_frame(ROWS)).set_index("guid")
    assert list(lat.index) == ["a", "b", "c", "g"]
    assert lat.loc["a", ["queue_wait", "run_time", "end_to_end"]].tolist() == [1.5, 0.5, 2.0]
    # clamped, never negative; queue_wait keeps its sign-free value, e2e from the AC clock
    assert lat.loc["b", "run_time"] == 0.0
    assert lat.loc["b", "queue_wait"] == pytest.approx(0.7)
    assert lat.loc["b", "end_to_end"] == 0.0
    # legacy: end_to_end only
    assert np.isnan(lat.loc["c", "queue_wait"]) and np.isnan(lat.loc["c", "run_time"])
    assert lat.loc["c", "end_to_end"] == 10.0
    assert bool(lat.loc["c", "legacy"]) and not bool(lat.loc["a", "legacy"])
    assert lat.loc["g", ["queue_wait", "run_time", "end_to_end"]].tolist() == [3.0, 60.0, 63.0]
    assert lat.attrs["excluded"] == {"unfinished": 1, "no_timeStart": 1, "no_timeStop": 1}
    assert lat.attrs["legacy"] == 1
    assert lat.attrs["clamped"] == 1
    assert lat["run_time"].dtype == "float64"


def test_job_latency_without_timecreate_column_is_all_legacy() -> None:
    df = jobs_frame(ROWS[:2]).drop(columns="timeCreate")
    lat = job_latency(df)
    assert lat["queue_wait"].isna().all()
    assert lat["end_to_end"].tolist() == pytest.approx([0.5, -0.7])
    assert lat.attrs["legacy"] == 2


def test_job_latency_rejects_frames_without_timestamps() -> None:
    with pytest.raises(KeyError, match="timeStart"):
        job_latency(pd.DataFrame({"cmd": ["x"]}))
    with pytest.raises(TypeError, match="DataFrame"):
        job_latency([1, 2])  # type: ignore[arg-type]


def test_latency_summary_by_cmd_known_answers() -> None:
    s = latency_summary(jobs_frame(ROWS), by="cmd", metric="run_time")
    # "cmd" groups by the jumpscript identity <organization>__<name>
    assert s.index.name == "jumpscript"
    assert list(s.index) == ["jumpscale__echo", "jumpscale__sleep"]
    echo = s.loc["jumpscale__echo"]
    assert echo["measured"] == 2 and echo["jobs"] == 2
    assert echo["p50"] == pd.Timedelta("0.25s")  # median of [0.5, 0.0]
    assert echo["p90"] == pd.Timedelta("0.45s")
    assert echo["mean"] == pd.Timedelta("0.25s") and echo["max"] == pd.Timedelta("0.5s")
    assert echo["error_rate"] == 0.0
    sleep = s.loc["jumpscale__sleep"]
    # final jobs: c (ERROR), f (TIMEOUT, no timeStop), g (TIMEOUT); only g has a run_time
    assert sleep["jobs"] == 3 and sleep["measured"] == 1
    assert sleep["errors"] == 1 and sleep["timeouts"] == 2
    assert sleep["error_rate"] == 0.333  # rounded to 3 decimals
    assert sleep["timeout_rate"] == 0.667
    assert sleep["p50"] == sleep["max"] == pd.Timedelta(seconds=60)
    assert s.attrs["excluded"] == {"unfinished": 1, "no_timeStart": 1, "no_timeStop": 1}


def test_latency_summary_groupings_and_metric_choice() -> None:
    df = jobs_frame(ROWS)
    overall = latency_summary(df, by=None, metric="end_to_end")
    assert len(overall) == 1
    assert overall["measured"].iloc[0] == 4  # a, b, c (legacy e2e), g
    assert overall["p50"].iloc[0].total_seconds() == pytest.approx(np.percentile([2.0, 0.0, 10.0, 63.0], 50))
    by_two = latency_summary(df, by=["nid", "jumpscript"], metric="queue_wait")
    assert by_two.index.names == ["nid", "jumpscript"]
    assert by_two.loc[(1, "jumpscale__echo"), "p50"] == pd.Timedelta("1.5s")
    assert by_two.loc[(2, "jumpscale__sleep"), "measured"] == 1
    with pytest.raises(ValueError, match="metric"):
        latency_summary(df, metric="latency")
    with pytest.raises(KeyError, match="nosuch"):
        latency_summary(df, by="nosuch")


def test_latency_series_buckets_and_throughput() -> None:
    rows = [
        dict(guid=str(i), cmd="echo", state="ERROR" if i == 3 else "OK",
             timeCreate=T0 + 60 * (i // 2), timeStart=T0 + 60 * (i // 2) + 1,
             timeStop=T0 + 60 * (i // 2) + 1 + i)
        for i in range(4)
    ]
    rows.append(dict(guid="late", cmd="echo", state="OK", timeCreate=T0 + 240,
                     timeStart=T0 + 241, timeStop=T0 + 242))
    s = latency_series(jobs_frame(rows), freq="1min")
    start = pd.Timestamp(T0, unit="s", tz="UTC").floor("1min")
    assert s.index[0] == start
    # a continuous index: empty minutes appear with zero jobs
    assert len(s) == 5
    assert s["jobs"].tolist() == [2, 2, 0, 0, 1]
    assert s["throughput"].tolist() == pytest.approx([2 / 60, 2 / 60, 0, 0, 1 / 60])
    assert s["error_rate"].iloc[1] == 0.5
    assert s["p50"].iloc[0] == pd.Timedelta("0.5s")  # run times 0 and 1
    with pytest.raises(ValueError, match="freq"):
        latency_series(jobs_frame(rows), freq="1 fortnight")


def test_finished_jobs_prefers_the_most_final_copy() -> None:
    base = dict(cmd="echo", category="jumpscale", nid=1, timeCreate=T0)
    job_results = jobs_frame([dict(base, guid="x", state="OK", timeStart=T0 + 1, timeStop=T0 + 2)])
    jobs = jobs_frame(
        [
            dict(base, guid="x", state="TIMEOUT", timeStart=0, timeStop=0),  # AC wait timeout
            dict(base, guid="y", state="TIMEOUT", timeStart=0, timeStop=0),
            dict(base, guid="z", state="STARTED", timeStart=0, timeStop=0),  # not final
        ]
    )
    worker_jobs = jobs_frame(
        [
            dict(base, guid="y", state="ERROR", timeStart=T0 + 1, timeStop=T0 + 5),
            dict(base, guid="w", state="ERROR", timeStart=T0 + 1, timeStop=T0 + 3),
        ]
    )
    out = finished_jobs({"job_results": job_results, "jobs": jobs, "worker_jobs": worker_jobs})
    got = out.set_index("guid")[["state", "family"]].astype(str).to_dict("index")
    assert got == {
        "x": {"state": "OK", "family": "job_results"},
        "y": {"state": "ERROR", "family": "worker_jobs"},
        "w": {"state": "ERROR", "family": "worker_jobs"},
    }
    assert out.attrs["duplicates"] == 2
    assert isinstance(out["state"].dtype, pd.CategoricalDtype)
    assert finished_jobs({}).empty


def test_jumpscript_grouping_folds_legacy_local_jobs() -> None:
    rows = [
        dict(guid="n", cmd="echo", category="jumpscale", state="OK", timeCreate=T0, timeStart=T0 + 1, timeStop=T0 + 3),
        dict(guid="l", cmd="jumpscale/echo", category="jumpscript", state="OK", timeCreate=T0,
             timeStart=T0 + 1, timeStop=T0 + 5),
        dict(guid="x", cmd="exec", category="jumpscale", state="ERROR", timeCreate=T0, timeStart=T0 + 1,
             timeStop=T0 + 2),
    ]
    s = latency_summary(jobs_frame(rows), by="jumpscript")
    assert list(s.index) == ["jumpscale__echo", "jumpscale__exec"]
    assert s.loc["jumpscale__echo", "measured"] == 2 and s.loc["jumpscale__echo", "max"] == pd.Timedelta("4s")
    # "cmd" is the same identity: the legacy "jumpscale/echo" and the AC "echo" share one row
    pd.testing.assert_frame_equal(latency_summary(jobs_frame(rows), by="cmd"), s)
