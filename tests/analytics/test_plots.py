"""Plots draw exactly the numbers the analytics compute (demo history and a real recording)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from analytics_helpers import make_job, put_result

from jsadmin import keys
from jsadmin.analytics import (
    grid_health,
    grid_health_with_info,
    latency_series,
    latency_summary,
    load_history,
    write_demo_history,
)
from jsadmin.analytics.recorder import Recorder
from jsadmin.display import plots

END = "2026-11-27T12:00:00Z"
PURE = pytest.mark.version_independent
"""Plots of frames already in memory (demo history, hand-made frames): no server. Only
``test_plots_on_a_real_recording`` reads one, so it runs on every leg."""


def hmset(client: Any, key: str, mapping: dict) -> None:
    """Several hash fields in one command that Redis 2.8 has (multi-field HSET needs 4.0)."""
    client.execute_command("HMSET", key, *[x for kv in mapping.items() for x in kv])


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> dict[str, pd.DataFrame]:
    path = write_demo_history(tmp_path_factory.mktemp("demo-history"), hours=2, jobs_per_minute=60, end=END)
    return load_history(path)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def by_gid(ax, gid: str):
    found = [a for a in ax.get_children() if getattr(a, "get_gid", lambda: None)() == gid]
    assert found, f"nothing drawn with gid {gid!r}"
    return found[0]


@PURE
def test_distribution_marks_the_computed_percentiles(history) -> None:
    jobs = history["jobs"]
    for kind in ("hist", "ecdf"):
        ax = plots.plot_latency_distribution(jobs, by="jumpscript", kind=kind)
        overall = latency_summary(jobs, by=None).iloc[0]
        for name in ("p50", "p90", "p99"):
            assert by_gid(ax, name).get_xdata()[0] == pytest.approx(overall[name].total_seconds())
        assert ax.get_xscale() == "log"  # echo ms .. backups minutes
        assert ax.get_xlabel().startswith("run time (s)")
    ecdf = plots.plot_latency_distribution(jobs, by=None, metric="queue_wait", kind="ecdf")
    (curve,) = [line for line in ecdf.get_lines() if line.get_gid() is None]
    wait = np.sort(jobs.eval("(timeStart - timeCreate)").dt.total_seconds().to_numpy())
    assert curve.get_xdata()[-1] == pytest.approx(wait[-1])
    assert curve.get_ydata()[-1] == 1.0 and len(curve.get_xdata()) == len(wait)


@PURE
def test_histogram_counts_every_job(history) -> None:
    jobs = history["jobs"]
    ax = plots.plot_latency_distribution(jobs, by="nid", kind="hist", top=10)
    # one step histogram per node; its bars add up to that node's job count
    heights = {}
    for patch in ax.patches:
        label = patch.get_label()
        nid = int(label.split(" ")[0])
        ys = patch.get_xy()[:, 1]
        heights[nid] = ys[1:-1:2].sum()  # step outline: (x0,0),(x0,h0),(x1,h0),(x1,h1)...
    assert heights == jobs.groupby("nid").size().to_dict()


@PURE
def test_percentiles_over_time_match_the_series(history) -> None:
    jobs = history["jobs"]
    ax = plots.plot_percentiles_over_time(jobs, freq="10min")
    series = latency_series(jobs, freq="10min")
    for name in ("p50", "p90", "p99"):
        np.testing.assert_allclose(by_gid(ax, name).get_ydata(), series[name].dt.total_seconds().to_numpy(), equal_nan=True)
    assert ax.get_xlabel() == "time (UTC)" and ax.get_ylabel() == "run time (s)"
    by_cmd = plots.plot_percentiles_over_time(jobs, freq="30min", by="cmd")
    echo = latency_series(jobs, freq="30min", by="cmd").xs("jumpscale__echo", level="jumpscript")
    np.testing.assert_allclose(by_gid(by_cmd, "p90:jumpscale__echo").get_ydata(),
                               echo["p90"].dt.total_seconds().to_numpy(), equal_nan=True)


@PURE
def test_throughput_and_error_rate(history) -> None:
    jobs = history["jobs"]
    ax = plots.plot_throughput(jobs, freq="5min")
    series = latency_series(jobs, freq="5min")
    np.testing.assert_allclose(by_gid(ax, "throughput").get_ydata(), series["throughput"].to_numpy())
    twin = ax.figure.axes[-1]
    np.testing.assert_allclose(by_gid(twin, "error_rate").get_ydata(), series["error_rate"].to_numpy() * 100)
    assert twin.get_ylabel() == "error rate (%)"
    assert ax.get_ylabel() == "finished jobs per second"
    # the demo's error bursts are visible: the worst bucket is several times the median
    assert np.nanmax(series["error_rate"]) > 3 * np.nanmedian(series["error_rate"])


@PURE
@pytest.mark.parametrize("value", ["p90", "error_rate"])
def test_heatmap_array_is_the_summary_pivot(history, value: str) -> None:
    jobs = history["jobs"]
    ax = plots.plot_heatmap(jobs, value=value)
    summary = latency_summary(jobs, by=["nid", "jumpscript"])
    pivot = summary[value].unstack("jumpscript")
    if value == "p90":
        pivot = pivot.apply(lambda col: col.dt.total_seconds())
    drawn = np.ma.filled(ax.images[0].get_array().astype("float64"), np.nan)
    np.testing.assert_allclose(drawn, pivot.to_numpy(dtype="float64"), equal_nan=True)
    assert [t.get_text() for t in ax.get_xticklabels()] == list(pivot.columns)
    assert [t.get_text() for t in ax.get_yticklabels()] == [f"nid {n}" for n in pivot.index]
    if value == "p90":
        # the demo's slow node stands out for every jumpscript with real run times
        slow = pivot.loc[4, "jumpscale__sleep"]
        assert slow > 2 * pivot.drop(index=4)["jumpscale__sleep"].max()


@PURE
def test_queue_depth_draws_recorded_samples(history, tmp_path: Path) -> None:
    fig = plots.plot_queue_depth(history["queues"])
    ax_len, ax_age = fig.axes[:2]
    key = keys.worker_queue("hypervisor")
    line = by_gid(ax_len, f"length:{key}")
    # 2 h of 10 s samples = 720 > MAX_POINTS: drawn as per-bucket maxima
    queues = history["queues"]
    sub = queues[queues["key"] == key]
    assert max(line.get_ydata()) == sub["length"].max()
    assert ax_age.get_yscale() == "log" and ax_age.get_ylabel().startswith("oldest entry age (log scale)")
    assert {"1 s", "1 min"} <= {t.get_text() for t in ax_age.get_yticklabels()}  # ticks read as durations
    age_line = by_gid(ax_age, f"age:{key}")
    assert max(age_line.get_ydata()) == pytest.approx(sub["oldest_age"].max())  # drawn in seconds
    small = queues[queues["time"] < queues["time"].min() + pd.Timedelta(minutes=10)]
    ax = plots.plot_queue_depth(small, ax=plt.subplots()[1])
    exact = small[small["key"] == key]
    np.testing.assert_array_equal(by_gid(ax, f"length:{key}").get_ydata(), exact["length"].to_numpy(dtype=float))
    with pytest.raises(KeyError, match="time"):
        plots.plot_queue_depth(queues.drop(columns="time"))


def per_unit(ax) -> float:
    """Seconds per x unit of a heartbeat plot, read from its axis label ("minutes since ...")."""
    word = ax.get_xlabel().split(" ")[0]
    return {"time": 1.0, "seconds": 1.0, "minutes": 60.0, "hours": 3600.0, "days": 86400.0, "years": 31557600.0}[word]


@PURE
def test_heartbeat_bars_are_the_ages(history) -> None:
    now = pd.Timestamp(END)
    beats = history["heartbeats"]
    latest = beats[beats["time"] == beats["time"].max()]
    frames = {"worker_heartbeat": latest.assign(key=keys.WORKER_HEARTBEAT)[["key", "queue", "heartbeat"]]}
    health = grid_health(frames, now=now, stale_after=120)
    ax = plots.plot_heartbeat_age(health)
    per = per_unit(ax)
    widths = {b.get_gid().removeprefix("age:heartbeat "): b.get_width() * per for b in ax.patches}
    expected = health.set_index("component")["age"].dt.total_seconds().to_dict()
    assert widths == pytest.approx(expected)
    assert by_gid(ax, "stale_after").get_xdata()[0] * per == pytest.approx(120)
    # sorted: oldest on top (the demo's silent "process" queue)
    assert [t.get_text() for t in ax.get_yticklabels()][-1] == "heartbeat process"
    assert ax.get_xscale() == "log"
    # the same chart straight from recorded samples (latest per queue)
    ax2 = plots.plot_heartbeat_age(beats, stale_after=60)
    widths2 = sorted(b.get_width() * per_unit(ax2) for b in ax2.patches)
    assert widths2 == pytest.approx(sorted(latest["age"]))


def test_heartbeat_threshold_comes_from_the_typed_health_info(history) -> None:
    """``plot_heartbeat_age`` draws the ``stale_after`` of a ``grid_health_with_info`` result; for
    one release, a plain ``grid_health()`` frame's ``attrs`` mirror still gives its threshold (the
    line must agree with the statuses it coloured), and a frame without either draws 120 s."""
    beats = history["heartbeats"]
    latest = beats[beats["time"] == beats["time"].max()]
    frames = {"worker_heartbeat": latest.assign(key=keys.WORKER_HEARTBEAT)[["key", "queue", "heartbeat"]]}
    health = grid_health_with_info(frames, now=pd.Timestamp(END), stale_after=300)
    health.frame.attrs.clear()  # nothing on the frame: the threshold travels in the info
    ax = plots.plot_heartbeat_age(health)
    assert by_gid(ax, "stale_after").get_xdata()[0] * per_unit(ax) == pytest.approx(300)
    ax = plots.plot_heartbeat_age(health, stale_after=60)  # an explicit threshold wins
    assert by_gid(ax, "stale_after").get_xdata()[0] * per_unit(ax) == pytest.approx(60)
    plain = grid_health(frames, now=pd.Timestamp(END), stale_after=300)
    assert plain.attrs["stale_after"] == pd.Timedelta(seconds=300)  # the one-release mirror
    ax = plots.plot_heartbeat_age(plain)
    assert by_gid(ax, "stale_after").get_xdata()[0] * per_unit(ax) == pytest.approx(300)
    plain.attrs.clear()  # what pandas does on many operations: nothing left to read
    ax = plots.plot_heartbeat_age(plain)
    assert by_gid(ax, "stale_after").get_xdata()[0] * per_unit(ax) == pytest.approx(120)


def test_plots_on_a_real_recording(r, admin, tmp_path: Path) -> None:
    import time

    now = time.time()
    for i, run in enumerate((0.2, 1.5, 30.0, 300.0)):
        put_result(r, make_job(job_id=i, cmd="sleep", created=now - run - 2, start=now - run - 1, stop=now - 1 + 0.0))
    hmset(r, keys.WORKER_HEARTBEAT, {"default": int(now - 3), "io": int(now - 400)})
    rec = Recorder(admin, tmp_path, interval=0.1)
    rec.poll()
    hist = load_history(tmp_path)
    ax = plots.plot_latency_distribution(hist["jobs"], by="cmd")
    assert by_gid(ax, "p50").get_xdata()[0] == pytest.approx(latency_summary(hist["jobs"], by=None)["p50"].iloc[0].total_seconds())
    ax = plots.plot_heartbeat_age(hist["heartbeats"], stale_after=120)
    assert sorted(b.get_width() * per_unit(ax) for b in ax.patches) == pytest.approx(sorted(hist["heartbeats"]["age"]))
    out = Path("/tmp/jsadmin-plots")
    out.mkdir(exist_ok=True)
    ax.figure.savefig(out / "recorded-heartbeats.png", dpi=80)
    assert (out / "recorded-heartbeats.png").stat().st_size > 0


@PURE
def test_plot_input_errors(history) -> None:
    with pytest.raises(ValueError, match="kind"):
        plots.plot_latency_distribution(history["jobs"], kind="violin")
    with pytest.raises(ValueError, match="value"):
        plots.plot_heatmap(history["jobs"], value="p42")
    with pytest.raises(KeyError):
        plots.plot_heartbeat_age(pd.DataFrame({"x": [1]}))
    with pytest.raises(TypeError, match="Axes"):
        plots.plot_throughput(history["jobs"], ax="not an axes")


@PURE
def test_data_layers_do_not_import_matplotlib() -> None:
    import subprocess
    import sys

    code = "import sys, jsadmin, jsadmin.analytics; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@PURE
def test_heartbeat_plot_leaves_leftovers_out_of_the_bars() -> None:
    """Four 2014 watchdog entries must not dwarf the current queues: summarised, or drawn hatched."""
    now = pd.Timestamp("2026-11-30 08:00", tz="UTC")
    frames = {
        "worker_heartbeat": pd.DataFrame({"key": keys.WORKER_HEARTBEAT, "queue": ["default", "reports"],
                                          "heartbeat": [now - pd.Timedelta("5s"), now - pd.Timedelta("2h")]}),
        "worker_watchdog": pd.DataFrame({"key": keys.WORKER_WATCHDOG, "worker": ["worker_default_0", "worker_io_0"],
                                         "queue": ["default", "io"],
                                         "heartbeat": pd.to_datetime([1400000000, 1400000011], unit="s", utc=True)}),
    }
    health = grid_health(frames, now=now, stale_after=120)
    ax = plots.plot_heartbeat_age(health)
    assert sorted(b.get_gid() for b in ax.patches) == ["age:heartbeat default", "age:heartbeat reports"]
    note = by_gid(ax, "leftovers")
    assert note.get_text().startswith("2 leftover(s) not drawn: 2 watchdog (12.") and "y old" in note.get_text()
    assert ax.get_xlabel() == "time since last heartbeat (log scale)"
    assert "1 h" in [t.get_text() for t in ax.get_xticklabels()]
    shown = plots.plot_heartbeat_age(health, leftovers="show")
    assert len(shown.patches) == 4
    hatched = [b.get_gid() for b in shown.patches if b.get_hatch()]
    assert sorted(hatched) == ["age:watchdog worker_default_0", "age:watchdog worker_io_0"]
    assert [t.get_text() for t in shown.get_yticklabels()][-1] == "heartbeat reports"  # current on top
    with pytest.raises(ValueError, match="leftovers"):
        plots.plot_heartbeat_age(health, leftovers="maybe")
    # a short linear axis reads in a fitting unit
    small = grid_health({"worker_heartbeat": frames["worker_heartbeat"].iloc[:1]}, now=now + pd.Timedelta("200s"),
                        stale_after=600)
    assert plots.plot_heartbeat_age(small).get_xlabel() == "minutes since last heartbeat"
