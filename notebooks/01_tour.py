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
# # 1. A tour of a JumpScale 7 grid through jsadmin
#
# A **JumpScale 7 grid** is a set of machines (*nodes*) run by one **agentcontroller** (AC). You ask
# the AC to run a small Python script — a **jumpscript** — on a node (by node id, `nid`) or on every
# node with a **role**. The AC puts the job in a Redis list; the **processmanager** on the node picks
# it up and hands it to a **worker** process, which runs it and reports the result.
#
# All of that state lives in Redis, under well-known key names (`jobs:1`, `queues:commands:queue:1:5`,
# `workers:heartbeat`, ...). **jsadmin** reads those keys into pandas DataFrames — safely (reads never
# write) — and offers a few careful write helpers.

# %% [markdown]
# `jsadmin.connect()` opens the Redis named by the `JSADMIN_URL` environment variable. Without it,
# jsadmin starts a private `redis-server`, fills it with a realistic demo grid and runs simulated
# JumpScale processes against it, so everything below also works on a laptop with nothing installed.
# **This notebook only reads**: running it writes nothing to the Redis it opens.

# %%
import jsadmin

admin = jsadmin.connect()  # $JSADMIN_URL if set, else an embedded live demo grid
admin

# %%
assert admin.redis.ping()
print(admin.url.split("://")[0], "| read-only:", admin.readonly)

# %% [markdown]
# ## Key families
#
# Every kind of key is a *family*. `families()` lists them with how many keys and entries this Redis
# holds right now (one bounded `SCAN`, never `KEYS`).

# %%
fams = admin.families()
fams[["family", "redis_type", "status", "keys", "entries"]]

# %% [markdown]
# The catalog describes each family independently of any Redis:

# %%
# NBVAL_CHECK_OUTPUT
jobs_family = jsadmin.family("command_queues")
print(jobs_family.redis_type, jobs_family.patterns)
print(jsadmin.family("jumpscripts_by_name").patterns)

# %% [markdown]
# ## Load everything
#
# `load(name)` reads one family into a typed DataFrame; `load_all()` reads them all. Values that do
# not decode are never dropped silently: they are listed in `admin.problems()`, and
# `admin.load_with_info(name)` returns the frame with a typed `LoadInfo` (problems, capped keys).

# %%
frames = admin.load_all()
sizes = {name: len(df) for name, df in frames.items() if len(df)}
assert len(frames["jumpscripts_by_name"]) > 0, "every grid has jumpscripts"
sizes

# %% [markdown]
# Job frames share one schema: nullable integers for ids, a categorical `state`, UTC timestamps
# (`NaT` where JumpScale wrote `0`), and the decoded `args`/`result` as Python objects.

# %%
# NBVAL_CHECK_OUTPUT
cq = frames["command_queues"]
{c: str(cq[c].dtype) for c in ["gid", "nid", "guid", "state", "timeCreate", "timeout", "wait"]}

# %%
admin.problems().head()

# %% [markdown]
# ## Joining frames
#
# Frames are ordinary DataFrames, so questions that span key families are joins. Which jumpscript
# (with its description) does each in-flight or finished job run? A job's `category` is the
# jumpscript's `organization`, and its `cmd` is the jumpscript's `name`.
#
# One job has copies in several families at once (command queue, `jobs:<gid>`, worker queue, worker
# copy, result), so we start from `admin.jobs()`: **one row per job**, with its latest state, where it
# was seen (`seen_in`, `copies`) and its jumpscript as JumpScale names it (`organization__name`).

# %%
jobs = admin.jobs()
assert jobs["guid"].is_unique
print(len(jobs), "jobs in", int(jobs["copies"].sum()), "copies")
jobs[["guid", "state", "seen_in", "copies", "jumpscript"]].head()

# %%
import pandas as pd

scripts = frames["jumpscripts_by_name"][["organization", "name", "descr", "queue"]]
joined = jobs.merge(scripts, how="left", left_on=["category", "cmd"], right_on=["organization", "name"],
                    suffixes=("", "_script"))
joined[["guid", "category", "cmd", "state", "descr"]].head(10)

# %% [markdown]
# Failed jobs carry an **ECO** (error condition object); the `ecos` family holds them by `jid`:

# %%
failed = jobs[jobs["state"].isin(["ERROR", "TIMEOUT"])]
ecos = frames["ecos"]
with_eco = failed.merge(ecos[["jid", "category", "errormessage"]], how="left", left_on="guid", right_on="jid",
                        suffixes=("", "_eco"))
with_eco[["guid", "cmd", "state", "category_eco", "errormessage"]].head()

# %% [markdown]
# And worker liveness: each worker queue writes a heartbeat timestamp into `workers:heartbeat`.

# %%
hb = frames["worker_heartbeat"].copy()
hb["age_s"] = (pd.Timestamp.now(tz="UTC") - hb["heartbeat"]).dt.total_seconds().round(1)
assert {"queue", "heartbeat"} <= set(hb.columns)
hb[["queue", "heartbeat", "age_s"]]
