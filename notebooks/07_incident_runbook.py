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
# # 7. Incident runbook: find stuck or failed jobs, requeue exactly those, verify
#
# An on-call recipe:
#
# 1. **Find** the failed jobs (final state `ERROR`/`TIMEOUT`) and the stuck ones (waiting longer than
#    their timeout, e.g. sent to a node that is down).
# 2. **Requeue exactly those** — an explicit selection, never "whatever matches now" — after
#    reviewing the dry-run plan.
# 3. **Verify** the new jobs finished, and that the dead queue is empty.
#
# To have an incident to work on, we first create one.

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
# ## Set the scene
#
# A jumpscript that fails when asked to, four jobs that fail, three jobs sent to node 99 (down).

# %%
import time

SOURCE = """
descr = "Check something; fails when told to"

def action(target="db", fail=False):
    if fail:
        raise RuntimeError("check of %s failed" % target)
    return "%s ok" % target
"""
admin.register_jumpscript("runbook", "check", SOURCE, descr="Check something", async_=False, queue="",
                          replace=True)
failing = [admin.enqueue_job(1, nid=1, category="runbook", cmd="check", args={"target": f"db{i}", "fail": True},
                             wait=True, timeout=30) for i in range(4)]
finals = [admin.wait_job(j["guid"], timeout=30) for j in failing]
assert [f["state"] for f in finals] == ["ERROR"] * 4
stranded = [admin.enqueue_job(1, nid=99, category="runbook", cmd="check", args={"target": f"cache{i}"}, timeout=1)
            for i in range(3)]
time.sleep(2)  # longer than their 1 s timeout: now they are stuck

# %% [markdown]
# ## 1. Find

# %%
results = admin.load("job_results")
failed = results[results["state"].isin(["ERROR", "TIMEOUT"]) & (results["category"] == "runbook")]
assert set(failed["guid"]) == {j["guid"] for j in failing}
failed[["guid", "cmd", "state", "args"]]

# %%
from jsadmin.analytics.liveness import stuck_jobs

stuck = stuck_jobs(admin.load_all())
stuck = stuck[stuck["cmd"] == "check"]
assert set(stuck["guid"]) == {j["guid"] for j in stranded}
stuck[["guid", "cmd", "state", "nid", "age", "timeout", "family"]]

# %% [markdown]
# ## 2. Requeue exactly those
#
# Failed checks: run again with `fail` switched off. Review the plan first.

# %%
admin.requeue_jobs(failed, args={"fail": False}, dry_run=True)

# %%
requeued = admin.requeue_jobs(failed, args={"fail": False})
requeued.frame[["source_guid", "guid", "queue_key", "id"]]

# %% [markdown]
# Stuck jobs: clone them to a live node, then cancel the originals from the dead node's queue.

# %%
stuck_rows = admin.load("command_queues", key_nid=99)
stuck_rows = stuck_rows[stuck_rows["guid"].isin(stuck["guid"])]
moved = admin.requeue_jobs(stuck_rows, nid=2, states=("SCHEDULED",))
cancelled = admin.cancel_jobs(stuck_rows)
len(moved), len(cancelled)

# %% [markdown]
# ## 3. Verify

# %%
outcome = {}
for guid in requeued.frame["guid"]:
    outcome[guid] = admin.wait_job(guid, timeout=30)["state"]
assert set(outcome.values()) == {"OK"}, outcome
assert admin.redis.llen("queues:commands:queue:1:99") == 0
deadline = time.monotonic() + 30
while time.monotonic() < deadline and admin.redis.llen("queues:commands:queue:1:2"):
    time.sleep(0.2)
assert admin.redis.llen("queues:commands:queue:1:2") == 0, "node 2 picked up the moved jobs"

# %%
# NBVAL_CHECK_OUTPUT
sorted(outcome.values())

# %% [markdown]
# Every write is in the journal (and cancels can be undone with `admin.undo(entry_id)`):

# %%
admin.journal().tail(4)[["time", "helper"]]
