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
# # 5. Jumpscripts: register, run, see the result
#
# A jumpscript is a Python module with metadata (`organization`, `name`, `descr`, `queue`, ...) and an
# `action(...)` function. Processmanagers store each one in the hash `workers:jumpscripts:name` under
# `<organization>__<name>`; workers compile the stored `source` when a job asks for it.

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

# %%
scripts = admin.load("jumpscripts_by_name")
scripts[["organization", "name", "category", "queue", "roles", "timeout"]].sort_values(["organization", "name"])

# %% [markdown]
# Inspect one, with its source highlighted:

# %%
from IPython.display import HTML

from jsadmin.display.panels.jumpscripts import highlight_python

echo = scripts[(scripts["organization"] == "jumpscale") & (scripts["name"] == "echo")].iloc[0]
HTML(highlight_python(echo["code"]))

# %% [markdown]
# ## Register a new jumpscript
#
# We write one that adds numbers. `async_=False` with an empty `queue` makes the processmanager run it
# in-process (no worker), like JumpScale does for quick scripts. First the preview:

# %%
SOURCE = """
descr = "Add numbers"
organization = "notebook"
name = "add"

def action(numbers=()):
    return {"sum": sum(numbers), "count": len(numbers)}
"""

plan = admin.register_jumpscript("notebook", "add", SOURCE, descr="Add numbers", category="demo.math",
                                 async_=False, queue="", replace=True, dry_run=True)
plan

# %%
stored = admin.register_jumpscript("notebook", "add", SOURCE, descr="Add numbers", category="demo.math",
                                   async_=False, queue="", replace=True)
assert admin.redis.hexists("workers:jumpscripts:name", "notebook__add")

# %%
# NBVAL_CHECK_OUTPUT
sorted(stored)

# %% [markdown]
# ## Run it and see the result

# %%
job = admin.enqueue_job(1, nid=2, category="notebook", cmd="add", args={"numbers": [1, 2, 3, 4.5]}, wait=True,
                        timeout=30)
final = admin.wait_job(job["guid"], timeout=30)
assert final["state"] == "OK", final

# %%
# NBVAL_CHECK_OUTPUT
final["state"], final["result"]

# %% [markdown]
# ## Replacing a jumpscript
#
# Registering *different* source under an existing name is refused unless you say `replace=True`;
# replacing pushes `RELOAD` to every registered worker so they drop their compiled copy.

# %%
# NBVAL_CHECK_OUTPUT
from jsadmin.errors import WriteValidationError

try:
    admin.register_jumpscript("notebook", "add", SOURCE.replace("sum(numbers)", "sum(numbers) * 2"),
                              descr="Add numbers", async_=False, queue="")
except WriteValidationError as exc:
    print("refused:", type(exc).__name__)

# %% [markdown]
# The registry panel does the same with widgets:

# %%
from jsadmin.display import JumpscriptRegistry

registry = JumpscriptRegistry(admin)
registry.inspect("notebook", "add")
registry
