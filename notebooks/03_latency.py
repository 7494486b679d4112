# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 3. Latency: the live grid and recorded history
#
# A job carries three timestamps: `timeCreate` (AC clock), `timeStart` and `timeStop` (node clock).
# **Queue wait** ≈ `timeStart − timeCreate`; **run time** ≈ `timeStop − timeStart` (clamped at 0:
# workers truncate `timeStop` to whole seconds).
#
# Redis keeps finished jobs for about a minute, so jsadmin offers a **recorder** that polls (read-only)
# and appends what it sees to Parquet, and tools to analyse days of such history.

# %% [markdown]
# **This notebook writes** (it enqueues jobs, registers jumpscripts) to show how. So it never uses
# `$JSADMIN_URL` or your grid: `jsadmin.demo(live=True)` starts a private `redis-server` on localhost,
# fills it with a realistic demo grid and runs simulated JumpScale processes against it. Every write
# below lands there and disappears with the kernel. On a real grid you would open
# `jsadmin.connect(url)` and review each dry-run plan (`dry_run=True`) before writing.

# %%
import jsadmin

# This notebook writes, so it never opens $JSADMIN_URL: every write below goes to a private demo grid.
admin = jsadmin.demo(live=True)
assert admin.embedded is not None, "this tutorial writes only to its own embedded demo grid"
admin

# %% [markdown]
# ## Probes: measure round trips now
#
# `probe` sends `wait=True` jobs (the `jumpscale/echo` jumpscript) to nodes and times each round
# trip. On the demo grid some jobs fail on purpose (bursts of errors), so a probe can come back
# `ERROR`: what matters here is that every probe came back.

# %%
probes = admin.probe([1, 2, 3], n=3, timeout=30)
assert len(probes) == 9 and probes["round_trip"].notna().all(), probes
probes.groupby("target")["round_trip"].describe()[["count", "mean", "max"]]

# %% [markdown]
# ## Latency of the finished jobs Redis still holds

# %%
live = admin.latency(by=["cmd"], metric="run_time")
assert len(live) >= 1
live

# %% [markdown]
# ## Record the live grid for a few seconds

# %%
import tempfile
import time
from pathlib import Path

from jsadmin.analytics import load_history

workdir = Path(tempfile.mkdtemp(prefix="jsadmin-nb-"))
recorder = admin.record(workdir / "rec", interval=0.5)
for target in (1, 2, 3):
    admin.enqueue_job(1, nid=target, category="jumpscale", cmd="info", wait=True)
time.sleep(3)
recorder.stop()
recorded = load_history(workdir / "rec")
assert len(recorded["jobs"]) >= 3
{name: len(df) for name, df in recorded.items()}

# %% [markdown]
# ## Hours of history
#
# `write_demo_history` writes a few hours of realistic recorded activity (long-tailed durations, a
# slow node, a backed-up queue, bursts of errors) in the recorder's format. With a fixed seed and end
# time it is deterministic.

# %%
from jsadmin.analytics.demo_history import write_demo_history
from jsadmin.analytics.latency import latency_summary, latency_summary_with_info

hist_dir = write_demo_history(workdir / "history", hours=2, jobs_per_minute=60, seed=7, end="2026-01-01T12:00:00Z")
history = load_history(hist_dir)
hjobs = history["jobs"]
len(hjobs), hjobs["timeStop"].min(), hjobs["timeStop"].max()

# %% [markdown]
# One row per jumpscript (`organization__name`; `by=["cmd"]` means the same). `jobs` counts finished
# jobs, `measured` those with the timestamps the metric needs (the percentile sample); durations are
# `Timedelta`s rounded to the millisecond. `latency_summary_with_info` also returns a typed `info`:
# what each column counts (`info.columns`) and the jobs it could not measure, by reason (`info.excluded`).

# %%
summary, info = latency_summary_with_info(hjobs, by=["cmd"], metric="run_time")
assert (summary["measured"] > 0).all() and summary.index.name == "jumpscript"
assert set(info.columns) == set(summary.columns) and info.metric == "run_time"
summary

# %%
info.columns

# %%
by_node = latency_summary(hjobs, by=["nid"], metric="run_time")
slowest = by_node["p90"].idxmax()
print("slowest node by p90 run time:", slowest)
by_node

# %% [markdown]
# ## Plots

# %%
# %matplotlib inline
from jsadmin.display import plots

ax = plots.plot_latency_distribution(hjobs, by="cmd", metric="run_time", kind="ecdf")

# %%
ax = plots.plot_percentiles_over_time(hjobs, freq="10min")

# %%
ax = plots.plot_heatmap(hjobs, value="p90")

# %%
ax = plots.plot_queue_depth(history["queues"])
