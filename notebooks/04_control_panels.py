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
# # 4. Control panels
#
# Four ipywidgets panels, each one object you display. They read Redis only when you ask (or on the
# health board's interval) and never write in one click: every write button (*Preview* in the enqueue
# form, *Validate & preview* in the registry, *Cancel…*/*Requeue…*/*Clone & edit…* in the job browser)
# shows the dry-run plan first, and only **Confirm** writes exactly what was previewed. Changing the
# form after the preview discards it. Open with `readonly=True` and the write controls are disabled,
# with the reason shown.

# %% [markdown]
# `jsadmin.connect()` opens the Redis named by the `JSADMIN_URL` environment variable (without it, a
# private embedded demo grid). **Opening or running this notebook writes nothing**, so it is safe to
# serve with Voila against a production grid: the panels read when they load, and a write happens
# only when someone presses a *Preview* button, reviews the dry-run plan, and then presses *Confirm*.

# %%
import jsadmin

admin = jsadmin.connect()  # $JSADMIN_URL if set, else an embedded live demo grid
admin

# %%
from jsadmin.display import EnqueueForm, HealthBoard, JobBrowser, JumpscriptRegistry, control_panel

# %% [markdown]
# ## Job browser
#
# Filter by family, state, gid, node, role, `category/cmd`, creation time (`-15min`, `-2h`, or ISO) and
# text inside args/results. Only one page (50 rows) is ever rendered. Select rows to see the full job,
# its timings and its ECO, then *Cancel…*, *Requeue…* or *Clone & edit…* (preview, then *Confirm*).

# %%
jobs = JobBrowser(admin)
jobs

# %% [markdown]
# ## Enqueue a job
#
# Pick a jumpscript, a node or role, edit the args (JSON, checked as you type), press *Preview* to see
# the exact write (nothing is written), then *Confirm* to enqueue exactly that job, and watch the result arrive.

# %%
form = EnqueueForm(admin)
form

# %% [markdown]
# ## Jumpscript registry
#
# Inspect registered jumpscripts; to register or replace one, *Validate & preview*, then *Confirm*.

# %%
registry = JumpscriptRegistry(admin)
registry

# %% [markdown]
# ## Grid health
#
# Press *Auto refresh* to refresh every few seconds; each refresh shows how many Redis commands and milliseconds it cost.

# %%
health = HealthBoard(admin, interval=5)
health

# %% [markdown]
# ## Driving the panels from Python
#
# Panels are plain objects: set widget values and click buttons from code (this is how they are
# tested). Here we only preview: this notebook is served, so running it must write nothing. In your own
# notebook, `driven.confirm()` (or the *Confirm* button) would enqueue exactly the previewed job.

# %%
driven = EnqueueForm(admin)  # a second form, not displayed: the one above stays as it was
driven.choose("jumpscale", "info")
driven.target_kind.value = "node"
driven.target.value = "1"
driven.args.value = "{}"
plan = driven.preview()  # dry run: nothing written
assert driven.pending is not None and driven.last_job is None
driven.args.value = '{"changed": true}'  # any change after the preview discards it
assert driven.pending is None and driven.confirm_button.disabled
plan

# %%
jobs.reload()
jobs.search.value = ""
jobs.family.value = "job_results"
assert len(jobs.page_frame) <= jobs.page_size
print(len(jobs.matches), "finished jobs in Redis;", len(jobs.page_frame), "rendered")
jobs.family.value = "any"

# %%
health.refresh()
assert health.cost.writes == []
print(health.cost.summary())

# %% [markdown]
# All four in tabs:

# %%
control_panel(admin)

# %% [markdown]
# ## Without a notebook: the dashboard, metrics and static HTML
#
# * `JSADMIN_URL=redis://... jsadmin dashboard --port 8866` serves these panels as a self-refreshing web
#   page (Voila) for operators who do not open notebooks. It is read-only unless started with
#   `--allow-writes`, and even then every write is previewed and needs *Confirm*.
# * `jsadmin metrics --port 9760` exposes Prometheus metrics (queue depth and age, heartbeat ages, jobs
#   by state, ECO counts, run-time histograms) read on each scrape, read-only and bounded.
# * Rendered offline (`jupyter nbconvert --to html --execute ...`), each panel above shows a static
#   snapshot of its tables and states instead of a blank widget area.
