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
# # 6. Fleet health
#
# What is late or broken? Workers write a heartbeat per worker queue (`workers:heartbeat`) before
# each wait for work, about every 10 s when idle. A queue whose heartbeat is old has dead or stuck
# workers; a queue whose oldest entry is old is backed up; a job `STARTED` or `SCHEDULED` for longer
# than its timeout is stuck.

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
health = admin.grid_health(stale_after=30)
assert {"component", "kind", "status", "signal", "age", "why", "detail"} <= set(health.columns)
current = health[health["signal"] == "current"]
current.head(15)

# %%
current["status"].value_counts()

# %% [markdown]
# ## Current problems vs leftovers
#
# A production Redis keeps JumpScale 6 keys for years (`workers:watchdog`, `healthcheck:status`,
# `workers:sessions`) and job copies nothing will ever finish. They are not today's problems:
# every health frame marks them `signal == "leftover"` with the reason in `why` (a family the catalog
# marks legacy/read-only/broken, or older than `leftover_after`, 7 days unless you pass another),
# and sorts them after the current rows. `leftovers()` counts them with their age.

# %%
from jsadmin.analytics import leftovers

leftovers(health)

# %% [markdown]
# They can be removed through a previewed, journalled, undoable plan (this notebook only reads,
# so it does not run it): `admin.cleanup_leftovers(dry_run=True)` lists every `HDEL`;
# `admin.cleanup_leftovers()` applies it and `admin.undo(result)` (or its `result.journal_id`) puts it back.
# Current families are never touched.

# %% [markdown]
# ## The pieces

# %%
from jsadmin.analytics import liveness

frames = admin.load_all()
beats = liveness.heartbeat_ages(frames, stale_after=30)
beats

# %%
liveness.stale_workers(frames, stale_after=30).head()

# %%
liveness.stuck_jobs(frames).head()

# %%
admin.errors().head(10)

# %%
# %matplotlib inline
from jsadmin.display import plots

ax = plots.plot_heartbeat_age(beats, stale_after=30)  # leftovers summarised above the bars, not drawn

# %% [markdown]
# ## Many Redis instances
#
# A real grid has one Redis per node. `jsadmin.fleet` reads many at once and reports the ones that
# fail without failing the rest (here: our Redis and one address where nothing listens).

# %%
from jsadmin.embedded import free_port

fleet = jsadmin.fleet({"master": admin.url, "down": f"redis://127.0.0.1:{free_port()}"}, timeout=2)
status = fleet.status()
assert status.set_index("source").loc["master", "ok"]
status[["source", "ok", "error"]]

# %% [markdown]
# ## The health board
#
# The same, live: every refresh is read-only and shows its cost.

# %%
from jsadmin.display import HealthBoard

board = HealthBoard(admin, interval=5, stale_after=30)
assert board.cost.writes == []
board
