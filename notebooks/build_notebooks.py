"""Write the jsadmin notebooks (without outputs) from the cell sources below.

Run ``python notebooks/build_notebooks.py`` after editing; the .ipynb files are committed.
Cells starting with ``# NBVAL_CHECK_OUTPUT`` have their output compared by
``pytest --nbval-lax --sanitize-with notebooks/sanitize.cfg notebooks/``.
"""

from __future__ import annotations

from pathlib import Path

import nbformat

HERE = Path(__file__).parent

CONNECT = '''import jsadmin

admin = jsadmin.connect()  # $JSADMIN_URL if set, else an embedded live demo grid
admin'''

CONNECT_MD = """`jsadmin.connect()` opens the Redis named by the `JSADMIN_URL` environment variable. Without it,
jsadmin starts a private `redis-server`, fills it with a realistic demo grid and runs simulated
JumpScale processes against it, so everything below also works on a laptop with nothing installed.
**This notebook only reads**: running it writes nothing to the Redis it opens."""

DEMO_CONNECT = '''import jsadmin

# This notebook writes, so it never opens $JSADMIN_URL: every write below goes to a private demo grid.
admin = jsadmin.demo(live=True)
assert admin.embedded is not None, "this tutorial writes only to its own embedded demo grid"
admin'''

DEMO_MD = """**This notebook writes** (it enqueues jobs, registers jumpscripts) to show how. So it never uses
`$JSADMIN_URL` or your grid: `jsadmin.demo(live=True)` starts a private `redis-server` on localhost,
fills it with a realistic demo grid and runs simulated JumpScale processes against it. Every write
below lands there and disappears with the kernel. On a real grid you would open
`jsadmin.connect(url)` and review each dry-run plan (`dry_run=True`) before writing."""

SERVED_MD = """`jsadmin.connect()` opens the Redis named by the `JSADMIN_URL` environment variable (without it, a
private embedded demo grid). **Opening or running this notebook writes nothing**, so it is safe to
serve with Voila against a production grid: the panels read when they load, and a write happens
only when someone presses a *Preview* button, reviews the dry-run plan, and then presses *Confirm*."""


def md(text: str) -> dict:
    return nbformat.v4.new_markdown_cell(text.strip("\n"))


def code(text: str) -> dict:
    return nbformat.v4.new_code_cell(text.strip("\n"))


NOTEBOOKS: dict[str, list[dict]] = {}

# ---------------------------------------------------------------------------------------------
NOTEBOOKS["01_tour"] = [
    md("""
# 1. A tour of a JumpScale 7 grid through jsadmin

A **JumpScale 7 grid** is a set of machines (*nodes*) run by one **agentcontroller** (AC). You ask
the AC to run a small Python script — a **jumpscript** — on a node (by node id, `nid`) or on every
node with a **role**. The AC puts the job in a Redis list; the **processmanager** on the node picks
it up and hands it to a **worker** process, which runs it and reports the result.

All of that state lives in Redis, under well-known key names (`jobs:1`, `queues:commands:queue:1:5`,
`workers:heartbeat`, ...). **jsadmin** reads those keys into pandas DataFrames — safely (reads never
write) — and offers a few careful write helpers.
"""),
    md(CONNECT_MD),
    code(CONNECT),
    code('''assert admin.redis.ping()
print(admin.url.split("://")[0], "| read-only:", admin.readonly)'''),
    md("""
## Key families

Every kind of key is a *family*. `families()` lists them with how many keys and entries this Redis
holds right now (one bounded `SCAN`, never `KEYS`).
"""),
    code('''fams = admin.families()
fams[["family", "redis_type", "status", "keys", "entries"]]'''),
    md("The catalog describes each family independently of any Redis:"),
    code('''# NBVAL_CHECK_OUTPUT
jobs_family = jsadmin.family("command_queues")
print(jobs_family.redis_type, jobs_family.patterns)
print(jsadmin.family("jumpscripts_by_name").patterns)'''),
    md("""
## Load everything

`load(name)` reads one family into a typed DataFrame; `load_all()` reads them all. Values that do
not decode are never dropped silently: they are listed in `df.attrs["problems"]` and `admin.problems()`.
"""),
    code('''frames = admin.load_all()
sizes = {name: len(df) for name, df in frames.items() if len(df)}
assert len(frames["jumpscripts_by_name"]) > 0, "every grid has jumpscripts"
sizes'''),
    md("""
Job frames share one schema: nullable integers for ids, a categorical `state`, UTC timestamps
(`NaT` where JumpScale wrote `0`), and the decoded `args`/`result` as Python objects.
"""),
    code('''# NBVAL_CHECK_OUTPUT
cq = frames["command_queues"]
{c: str(cq[c].dtype) for c in ["gid", "nid", "guid", "state", "timeCreate", "timeout", "wait"]}'''),
    code('''admin.problems().head()'''),
    md("""
## Joining frames

Frames are ordinary DataFrames, so questions that span key families are joins. Which jumpscript
(with its description) does each in-flight or finished job run? A job's `category` is the
jumpscript's `organization`, and its `cmd` is the jumpscript's `name`.

One job has copies in several families at once (command queue, `jobs:<gid>`, worker queue, worker
copy, result), so we start from `admin.jobs()`: **one row per job**, with its latest state, where it
was seen (`seen_in`, `copies`) and its jumpscript as JumpScale names it (`organization__name`).
"""),
    code('''jobs = admin.jobs()
assert jobs["guid"].is_unique
print(len(jobs), "jobs in", int(jobs["copies"].sum()), "copies")
jobs[["guid", "state", "seen_in", "copies", "jumpscript"]].head()'''),
    code('''import pandas as pd

scripts = frames["jumpscripts_by_name"][["organization", "name", "descr", "queue"]]
joined = jobs.merge(scripts, how="left", left_on=["category", "cmd"], right_on=["organization", "name"],
                    suffixes=("", "_script"))
joined[["guid", "category", "cmd", "state", "descr"]].head(10)'''),
    md("Failed jobs carry an **ECO** (error condition object); the `ecos` family holds them by `jid`:"),
    code('''failed = jobs[jobs["state"].isin(["ERROR", "TIMEOUT"])]
ecos = frames["ecos"]
with_eco = failed.merge(ecos[["jid", "category", "errormessage"]], how="left", left_on="guid", right_on="jid",
                        suffixes=("", "_eco"))
with_eco[["guid", "cmd", "state", "category_eco", "errormessage"]].head()'''),
    md("And worker liveness: each worker queue writes a heartbeat timestamp into `workers:heartbeat`."),
    code('''hb = frames["worker_heartbeat"].copy()
hb["age_s"] = (pd.Timestamp.now(tz="UTC") - hb["heartbeat"]).dt.total_seconds().round(1)
assert {"queue", "heartbeat"} <= set(hb.columns)
hb[["queue", "heartbeat", "age_s"]]'''),
]

# ---------------------------------------------------------------------------------------------
NOTEBOOKS["02_jobs_and_queues"] = [
    md("""
# 2. Jobs and queues

A job's life in Redis:

1. the AC allocates an id (`HINCRBY jobs:last <gid>`), caches the job in `jobs:<gid>` and pushes it on
   `queues:commands:queue:<gid>:<nid or role>`;
2. the node's processmanager pops it, and pushes it on a **worker queue** (`queues:workers:work:<q>`);
3. a worker runs it; for `wait=True` jobs the final job lands in `queues:jobqueue:<guid>` for 60 s.

Redis forgets finished jobs quickly: what you see is the grid *right now*.
"""),
    md(DEMO_MD),
    code(DEMO_CONNECT),
    md("## Queue depths\n\nHow long is each queue, and how old is its oldest entry? (`LLEN` + `LINDEX 0`, read-only)"),
    code('''depths = admin.queue_depths()
depths'''),
    md("""
## Enqueue a job — preview first

Every write helper takes `dry_run=True` and returns a `WritePlan`: the exact Redis commands it would
send. Nothing is written (not even the id).
"""),
    code('''plan = admin.enqueue_job(1, nid=1, category="jumpscale", cmd="info", wait=True, timeout=30, dry_run=True)
plan'''),
    code('''# NBVAL_CHECK_OUTPUT
[command[0] for command in plan.commands]'''),
    md("Now for real: the job is written exactly as a JumpScale agentcontroller would write it, then we wait for its result."),
    code('''job = admin.enqueue_job(1, nid=1, category="jumpscale", cmd="info", wait=True, timeout=30)
final = admin.wait_job(job["guid"], timeout=30)
assert final["state"] == "OK", final
{k: final[k] for k in ("guid", "state", "nid", "timeCreate", "timeStart", "timeStop")}'''),
    code('''# NBVAL_CHECK_OUTPUT
sorted(final["result"])[:4]'''),
    md("""
## A job nobody picks up

Node 99 has no processmanager, so a job sent there waits in its command queue forever. We can find
it with a filtered load, and cancel it (preview, then apply).
"""),
    code('''stuck = admin.enqueue_job(1, nid=99, category="jumpscale", cmd="echo", args={"msg": "anyone?"})
queued = admin.load("command_queues", target_nid=99)
assert stuck["guid"] in set(queued["guid"])
queued[["key", "position", "guid", "cmd", "state", "args"]]'''),
    code('''admin.cancel_jobs(queued, dry_run=True)'''),
    code('''removed = admin.cancel_jobs(queued)
assert admin.redis.llen("queues:commands:queue:1:99") == 0
removed'''),
    md("""
## Many jobs at once

`enqueue_jobs` writes a batch in one Lua call per batch. Jobs for the role `node` can be picked up
by any node with that role; watch the queue drain.
"""),
    code('''import time

batch = admin.enqueue_jobs([{"gid": 1, "role": "node", "category": "jumpscale", "cmd": "info"} for _ in range(100)])
key = "queues:commands:queue:1:node"
lengths = [admin.redis.llen(key)]
deadline = time.monotonic() + 60
while lengths[-1] and time.monotonic() < deadline:
    time.sleep(0.5)
    lengths.append(admin.redis.llen(key))
assert lengths[-1] == 0, lengths
print(len(batch), "jobs enqueued; queue length over time:", lengths[:8], "...")'''),
]

# ---------------------------------------------------------------------------------------------
NOTEBOOKS["03_latency"] = [
    md("""
# 3. Latency: the live grid and recorded history

A job carries three timestamps: `timeCreate` (AC clock), `timeStart` and `timeStop` (node clock).
**Queue wait** ≈ `timeStart − timeCreate`; **run time** ≈ `timeStop − timeStart` (clamped at 0:
workers truncate `timeStop` to whole seconds).

Redis keeps finished jobs for about a minute, so jsadmin offers a **recorder** that polls (read-only)
and appends what it sees to Parquet, and tools to analyse days of such history.
"""),
    md(DEMO_MD),
    code(DEMO_CONNECT),
    md("""
## Probes: measure round trips now

`probe` sends `wait=True` jobs (the `jumpscale/echo` jumpscript) to nodes and times each round
trip. On the demo grid some jobs fail on purpose (bursts of errors), so a probe can come back
`ERROR`: what matters here is that every probe came back.
"""),
    code('''probes = admin.probe([1, 2, 3], n=3, timeout=30)
assert len(probes) == 9 and probes["round_trip"].notna().all(), probes
probes.groupby("target")["round_trip"].describe()[["count", "mean", "max"]]'''),
    md("## Latency of the finished jobs Redis still holds"),
    code('''live = admin.latency(by=["cmd"], metric="run_time")
assert len(live) >= 1
live'''),
    md("## Record the live grid for a few seconds"),
    code('''import tempfile
import time
from pathlib import Path

from jsadmin.analytics.history import load_history

workdir = Path(tempfile.mkdtemp(prefix="jsadmin-nb-"))
recorder = admin.record(workdir / "rec", interval=0.5)
for target in (1, 2, 3):
    admin.enqueue_job(1, nid=target, category="jumpscale", cmd="info", wait=True)
time.sleep(3)
recorder.stop()
recorded = load_history(workdir / "rec")
assert len(recorded["jobs"]) >= 3
{name: len(df) for name, df in recorded.items()}'''),
    md("""
## Hours of history

`write_demo_history` writes a few hours of realistic recorded activity (long-tailed durations, a
slow node, a backed-up queue, bursts of errors) in the recorder's format. With a fixed seed and end
time it is deterministic.
"""),
    code('''from jsadmin.analytics.demo_history import write_demo_history
from jsadmin.analytics.latency import latency_summary

hist_dir = write_demo_history(workdir / "history", hours=2, jobs_per_minute=60, seed=7, end="2026-01-01T12:00:00Z")
history = load_history(hist_dir)
hjobs = history["jobs"]
len(hjobs), hjobs["timeStop"].min(), hjobs["timeStop"].max()'''),
    md("""
One row per jumpscript (`organization__name`; `by=["cmd"]` means the same). `jobs` counts finished
jobs, `measured` those with the timestamps the metric needs (the percentile sample); durations are
`Timedelta`s rounded to the millisecond. `summary.attrs["columns"]` says what each column counts.
"""),
    code('''summary = latency_summary(hjobs, by=["cmd"], metric="run_time")
assert (summary["measured"] > 0).all() and summary.index.name == "jumpscript"
summary'''),
    code('''by_node = latency_summary(hjobs, by=["nid"], metric="run_time")
slowest = by_node["p90"].idxmax()
print("slowest node by p90 run time:", slowest)
by_node'''),
    md("## Plots"),
    code('''%matplotlib inline
from jsadmin.display import plots

ax = plots.plot_latency_distribution(hjobs, by="cmd", metric="run_time", kind="ecdf")'''),
    code('''ax = plots.plot_percentiles_over_time(hjobs, freq="10min")'''),
    code('''ax = plots.plot_heatmap(hjobs, value="p90")'''),
    code('''ax = plots.plot_queue_depth(history["queues"])'''),
]

# ---------------------------------------------------------------------------------------------
NOTEBOOKS["04_control_panels"] = [
    md("""
# 4. Control panels

Four ipywidgets panels, each one object you display. They read Redis only when you ask (or on the
health board's interval) and never write in one click: every write button (*Preview* in the enqueue
form, *Validate & preview* in the registry, *Cancel…*/*Requeue…*/*Clone & edit…* in the job browser)
shows the dry-run plan first, and only **Confirm** writes exactly what was previewed. Changing the
form after the preview discards it. Open with `readonly=True` and the write controls are disabled,
with the reason shown.
"""),
    md(SERVED_MD),
    code(CONNECT),
    code('''from jsadmin.display import EnqueueForm, HealthBoard, JobBrowser, JumpscriptRegistry, control_panel'''),
    md("""
## Job browser

Filter by family, state, gid, node, role, `category/cmd`, creation time (`-15min`, `-2h`, or ISO) and
text inside args/results. Only one page (50 rows) is ever rendered. Select rows to see the full job,
its timings and its ECO, then *Cancel…*, *Requeue…* or *Clone & edit…* (preview, then *Confirm*).
"""),
    code('''jobs = JobBrowser(admin)
jobs'''),
    md("## Enqueue a job\n\nPick a jumpscript, a node or role, edit the args (JSON, checked as you type), press *Preview* to see\n"
       "the exact write (nothing is written), then *Confirm* to enqueue exactly that job, and watch the result arrive."),
    code('''form = EnqueueForm(admin)
form'''),
    md("## Jumpscript registry\n\nInspect registered jumpscripts; to register or replace one, *Validate & preview*, then *Confirm*."),
    code('''registry = JumpscriptRegistry(admin)
registry'''),
    md("## Grid health\n\nPress *Auto refresh* to refresh every few seconds; each refresh shows how many Redis commands and milliseconds it cost."),
    code('''health = HealthBoard(admin, interval=5)
health'''),
    md("""
## Driving the panels from Python

Panels are plain objects: set widget values and click buttons from code (this is how they are
tested). Here we only preview: this notebook is served, so running it must write nothing. In your own
notebook, `driven.confirm()` (or the *Confirm* button) would enqueue exactly the previewed job.
"""),
    code('''driven = EnqueueForm(admin)  # a second form, not displayed: the one above stays as it was
driven.choose("jumpscale", "info")
driven.target_kind.value = "node"
driven.target.value = "1"
driven.args.value = "{}"
plan = driven.preview()  # dry run: nothing written
assert driven.pending is not None and driven.last_job is None
driven.args.value = '{"changed": true}'  # any change after the preview discards it
assert driven.pending is None and driven.confirm_button.disabled
plan'''),
    code('''jobs.reload()
jobs.search.value = ""
jobs.family.value = "job_results"
assert len(jobs.page_frame) <= jobs.page_size
print(len(jobs.matches), "finished jobs in Redis;", len(jobs.page_frame), "rendered")
jobs.family.value = "any"'''),
    code('''health.refresh()
assert health.cost.writes == []
print(health.cost.summary())'''),
    md("All four in tabs:"),
    code('''control_panel(admin)'''),
    md("""
## Without a notebook: the dashboard, metrics and static HTML

* `JSADMIN_URL=redis://... jsadmin dashboard --port 8866` serves these panels as a self-refreshing web
  page (Voila) for operators who do not open notebooks. It is read-only unless started with
  `--allow-writes`, and even then every write is previewed and needs *Confirm*.
* `jsadmin metrics --port 9760` exposes Prometheus metrics (queue depth and age, heartbeat ages, jobs
  by state, ECO counts, run-time histograms) read on each scrape, read-only and bounded.
* Rendered offline (`jupyter nbconvert --to html --execute ...`), each panel above shows a static
  snapshot of its tables and states instead of a blank widget area.
"""),
]

# ---------------------------------------------------------------------------------------------
NOTEBOOKS["05_jumpscripts"] = [
    md("""
# 5. Jumpscripts: register, run, see the result

A jumpscript is a Python module with metadata (`organization`, `name`, `descr`, `queue`, ...) and an
`action(...)` function. Processmanagers store each one in the hash `workers:jumpscripts:name` under
`<organization>__<name>`; workers compile the stored `source` when a job asks for it.
"""),
    md(DEMO_MD),
    code(DEMO_CONNECT),
    code('''scripts = admin.load("jumpscripts_by_name")
scripts[["organization", "name", "category", "queue", "roles", "timeout"]].sort_values(["organization", "name"])'''),
    md("Inspect one, with its source highlighted:"),
    code('''from IPython.display import HTML

from jsadmin.display.panels.jumpscripts import highlight_python

echo = scripts[(scripts["organization"] == "jumpscale") & (scripts["name"] == "echo")].iloc[0]
HTML(highlight_python(echo["source"]))'''),
    md("""
## Register a new jumpscript

We write one that adds numbers. `async_=False` with an empty `queue` makes the processmanager run it
in-process (no worker), like JumpScale does for quick scripts. First the preview:
"""),
    code('''SOURCE = """
descr = "Add numbers"
organization = "notebook"
name = "add"

def action(numbers=()):
    return {"sum": sum(numbers), "count": len(numbers)}
"""

plan = admin.register_jumpscript("notebook", "add", SOURCE, descr="Add numbers", category="demo.math",
                                 async_=False, queue="", replace=True, dry_run=True)
plan'''),
    code('''stored = admin.register_jumpscript("notebook", "add", SOURCE, descr="Add numbers", category="demo.math",
                                   async_=False, queue="", replace=True)
assert admin.redis.hexists("workers:jumpscripts:name", "notebook__add")'''),
    code('''# NBVAL_CHECK_OUTPUT
sorted(stored)'''),
    md("## Run it and see the result"),
    code('''job = admin.enqueue_job(1, nid=2, category="notebook", cmd="add", args={"numbers": [1, 2, 3, 4.5]}, wait=True,
                        timeout=30)
final = admin.wait_job(job["guid"], timeout=30)
assert final["state"] == "OK", final'''),
    code('''# NBVAL_CHECK_OUTPUT
final["state"], final["result"]'''),
    md("""
## Replacing a jumpscript

Registering *different* source under an existing name is refused unless you say `replace=True`;
replacing pushes `RELOAD` to every registered worker so they drop their compiled copy.
"""),
    code('''# NBVAL_CHECK_OUTPUT
from jsadmin.errors import WriteValidationError

try:
    admin.register_jumpscript("notebook", "add", SOURCE.replace("sum(numbers)", "sum(numbers) * 2"),
                              descr="Add numbers", async_=False, queue="")
except WriteValidationError as exc:
    print("refused:", type(exc).__name__)'''),
    md("The registry panel does the same with widgets:"),
    code('''from jsadmin.display import JumpscriptRegistry

registry = JumpscriptRegistry(admin)
registry.inspect("notebook", "add")
registry'''),
]

# ---------------------------------------------------------------------------------------------
NOTEBOOKS["06_fleet_health"] = [
    md("""
# 6. Fleet health

What is late or broken? Workers write a heartbeat per worker queue (`workers:heartbeat`) before
each wait for work, about every 10 s when idle. A queue whose heartbeat is old has dead or stuck
workers; a queue whose oldest entry is old is backed up; a job `STARTED` or `SCHEDULED` for longer
than its timeout is stuck.
"""),
    md(CONNECT_MD),
    code(CONNECT),
    code('''health = admin.grid_health(stale_after=30)
assert {"component", "kind", "status", "signal", "age", "why", "detail"} <= set(health.columns)
current = health[health["signal"] == "current"]
current.head(15)'''),
    code('''current["status"].value_counts()'''),
    md("""
## Current problems vs leftovers

A production Redis keeps JumpScale 6 keys for years (`workers:watchdog`, `healthcheck:status`,
`workers:sessions`) and job copies nothing will ever finish. They are not today's problems:
every health frame marks them `signal == "leftover"` with the reason in `why` (a family the catalog
marks legacy/read-only/broken, or older than `leftover_after`, 7 days unless you pass another),
and sorts them after the current rows. `leftovers()` counts them with their age.
"""),
    code('''from jsadmin.analytics import leftovers

leftovers(health)'''),
    md("""They can be removed through a previewed, journalled, undoable plan (this notebook only reads,
so it does not run it): `admin.cleanup_leftovers(dry_run=True)` lists every `HDEL`;
`admin.cleanup_leftovers()` applies it and `admin.undo(result.attrs["journal_id"])` puts it back.
Current families are never touched."""),
    md("## The pieces"),
    code('''from jsadmin.analytics import liveness

frames = admin.load_all()
beats = liveness.heartbeat_ages(frames, stale_after=30)
beats'''),
    code('''liveness.stale_workers(frames, stale_after=30).head()'''),
    code('''liveness.stuck_jobs(frames).head()'''),
    code('''admin.errors().head(10)'''),
    code('''%matplotlib inline
from jsadmin.display import plots

ax = plots.plot_heartbeat_age(beats, stale_after=30)  # leftovers summarised above the bars, not drawn'''),
    md("""
## Many Redis instances

A real grid has one Redis per node. `jsadmin.fleet` reads many at once and reports the ones that
fail without failing the rest (here: our Redis and one address where nothing listens).
"""),
    code('''from jsadmin.embedded import free_port

fleet = jsadmin.fleet({"master": admin.url, "down": f"redis://127.0.0.1:{free_port()}"}, timeout=2)
status = fleet.status()
assert status.set_index("source").loc["master", "ok"]
status[["source", "ok", "error"]]'''),
    md("## The health board\n\nThe same, live: every refresh is read-only and shows its cost."),
    code('''from jsadmin.display import HealthBoard

board = HealthBoard(admin, interval=5, stale_after=30)
assert board.cost.writes == []
board'''),
]

# ---------------------------------------------------------------------------------------------
NOTEBOOKS["07_incident_runbook"] = [
    md("""
# 7. Incident runbook: find stuck or failed jobs, requeue exactly those, verify

An on-call recipe:

1. **Find** the failed jobs (final state `ERROR`/`TIMEOUT`) and the stuck ones (waiting longer than
   their timeout, e.g. sent to a node that is down).
2. **Requeue exactly those** — an explicit selection, never "whatever matches now" — after
   reviewing the dry-run plan.
3. **Verify** the new jobs finished, and that the dead queue is empty.

To have an incident to work on, we first create one.
"""),
    md(DEMO_MD),
    code(DEMO_CONNECT),
    md("## Set the scene\n\nA jumpscript that fails when asked to, four jobs that fail, three jobs sent to node 99 (down)."),
    code('''import time

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
time.sleep(2)  # longer than their 1 s timeout: now they are stuck'''),
    md("## 1. Find"),
    code('''results = admin.load("job_results")
failed = results[results["state"].isin(["ERROR", "TIMEOUT"]) & (results["category"] == "runbook")]
assert set(failed["guid"]) == {j["guid"] for j in failing}
failed[["guid", "cmd", "state", "args"]]'''),
    code('''from jsadmin.analytics.liveness import stuck_jobs

stuck = stuck_jobs(admin.load_all())
stuck = stuck[stuck["cmd"] == "check"]
assert set(stuck["guid"]) == {j["guid"] for j in stranded}
stuck[["guid", "cmd", "state", "nid", "age", "timeout", "source"]]'''),
    md("## 2. Requeue exactly those\n\nFailed checks: run again with `fail` switched off. Review the plan first."),
    code('''admin.requeue_jobs(failed, args={"fail": False}, dry_run=True)'''),
    code('''requeued = admin.requeue_jobs(failed, args={"fail": False})
requeued[["source_guid", "guid", "queue_key", "id"]]'''),
    md("Stuck jobs: clone them to a live node, then cancel the originals from the dead node's queue."),
    code('''stuck_rows = admin.load("command_queues", target_nid=99)
stuck_rows = stuck_rows[stuck_rows["guid"].isin(stuck["guid"])]
moved = admin.requeue_jobs(stuck_rows, nid=2, states=("SCHEDULED",))
cancelled = admin.cancel_jobs(stuck_rows)
len(moved), len(cancelled)'''),
    md("## 3. Verify"),
    code('''outcome = {}
for guid in requeued["guid"]:
    outcome[guid] = admin.wait_job(guid, timeout=30)["state"]
assert set(outcome.values()) == {"OK"}, outcome
assert admin.redis.llen("queues:commands:queue:1:99") == 0
deadline = time.monotonic() + 30
while time.monotonic() < deadline and admin.redis.llen("queues:commands:queue:1:2"):
    time.sleep(0.2)
assert admin.redis.llen("queues:commands:queue:1:2") == 0, "node 2 picked up the moved jobs"'''),
    code('''# NBVAL_CHECK_OUTPUT
sorted(outcome.values())'''),
    md("Every write is in the journal (and cancels can be undone with `admin.undo(entry_id)`):"),
    code('''admin.journal().tail(4)[["time", "helper"]]'''),
]


def build() -> list[Path]:
    """Write every notebook; returns the paths."""
    written = []
    for name, cells in NOTEBOOKS.items():
        nb = nbformat.v4.new_notebook()
        nb.cells = cells
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nb.metadata["language_info"] = {"name": "python"}
        path = HERE / f"{name}.ipynb"
        for i, cell in enumerate(nb.cells):
            cell["id"] = f"{name[:2]}-{i:02d}"
        nbformat.validate(nb)
        nbformat.write(nb, path)
        written.append(path)
    return written


if __name__ == "__main__":
    for p in build():
        print(p)
