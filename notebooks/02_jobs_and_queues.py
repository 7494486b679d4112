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
# # 2. Jobs and queues
#
# A job's life in Redis:
#
# 1. the AC allocates an id (`HINCRBY jobs:last <gid>`), caches the job in `jobs:<gid>` and pushes it on
#    `queues:commands:queue:<gid>:<nid or role>`;
# 2. the node's processmanager pops it, and pushes it on a **worker queue** (`queues:workers:work:<q>`);
# 3. a worker runs it; for `wait=True` jobs the final job lands in `queues:jobqueue:<guid>` for 60 s.
#
# Redis forgets finished jobs quickly: what you see is the grid *right now*.

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
# ## Queue depths
#
# How long is each queue, and how old is its oldest entry? (`LLEN` + `LINDEX 0`, read-only)

# %%
depths = admin.queue_depths()
depths

# %% [markdown]
# ## Enqueue a job — preview first
#
# Every write helper takes `dry_run=True` and returns a `WritePlan`: the exact Redis commands it would
# send. Nothing is written (not even the id).

# %%
plan = admin.enqueue_job(1, nid=1, category="jumpscale", cmd="info", wait=True, timeout=30, dry_run=True)
plan

# %%
# NBVAL_CHECK_OUTPUT
[command[0] for command in plan.commands]

# %% [markdown]
# Now for real: the job is written exactly as a JumpScale agentcontroller would write it, then we wait for its result.

# %%
job = admin.enqueue_job(1, nid=1, category="jumpscale", cmd="info", wait=True, timeout=30)
final = admin.wait_job(job["guid"], timeout=30)
assert final["state"] == "OK", final
{k: final[k] for k in ("guid", "state", "nid", "timeCreate", "timeStart", "timeStop")}

# %%
# NBVAL_CHECK_OUTPUT
sorted(final["result"])[:4]

# %% [markdown]
# ## A job nobody picks up
#
# Node 99 has no processmanager, so a job sent there waits in its command queue forever. We can find
# it with a filtered load, and cancel it (preview, then apply).

# %%
stuck = admin.enqueue_job(1, nid=99, category="jumpscale", cmd="echo", args={"msg": "anyone?"})
queued = admin.load("command_queues", key_nid=99)
assert stuck["guid"] in set(queued["guid"])
queued[["key", "position", "guid", "cmd", "state", "args"]]

# %%
admin.cancel_jobs(queued, dry_run=True)

# %%
removed = admin.cancel_jobs(queued)
assert admin.redis.llen("queues:commands:queue:1:99") == 0
removed

# %% [markdown]
# ## Many jobs at once
#
# `enqueue_jobs` writes a batch in one Lua call per batch. Jobs for the role `node` can be picked up
# by any node with that role; watch the queue drain.

# %%
import time

batch = admin.enqueue_jobs([{"gid": 1, "role": "node", "category": "jumpscale", "cmd": "info"} for _ in range(100)])
key = "queues:commands:queue:1:node"
lengths = [admin.redis.llen(key)]
deadline = time.monotonic() + 60
while lengths[-1] and time.monotonic() < deadline:
    time.sleep(0.5)
    lengths.append(admin.redis.llen(key))
assert lengths[-1] == 0, lengths
print(len(batch), "jobs enqueued; queue length over time:", lengths[:8], "...")
