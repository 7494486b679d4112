"""Drive the control panels from Python (set values, click buttons) and check frames and real Redis."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pandas as pd
import pytest
import redis

from jsadmin.display import EnqueueForm, HealthBoard, JobBrowser, JumpscriptRegistry, control_panel
from jsadmin.display.panels import READONLY_REASON


def _rows_rendered(html: str) -> int:
    return len(ET.fromstring(html).find("tbody"))


def _queue(r: redis.Redis, key: str) -> list[dict]:
    return [json.loads(v) for v in r.lrange(key, 0, -1)]


# --- job browser ---------------------------------------------------------------------------
def test_job_browser_pages_server_side(admin, r: redis.Redis) -> None:
    admin.enqueue_jobs([{"gid": 1, "nid": 1 + i % 3, "category": "jumpscale", "cmd": "echo",
                         "args": {"msg": f"m{i}"}} for i in range(2000)])
    jb = JobBrowser(admin, families=("command_queues",))
    assert len(jb.jobs) == 2000
    assert _rows_rendered(jb.table.value) == 50
    assert len(jb.rows.options) == 50
    assert "page 1 of 40" in jb.page_label.value and "2,000 matching" in jb.page_label.value
    first_page = set(jb.page_frame["guid"])
    jb.next_button.click()
    assert jb.page == 1 and not first_page & set(jb.page_frame["guid"])
    jb.prev_button.click()
    assert jb.page == 0 and jb.prev_button.disabled
    jb.go(10_000)
    assert jb.page == 39 and jb.next_button.disabled and _rows_rendered(jb.table.value) == 50
    jb.nid.value = "2"
    assert len(jb.matches) == 667 and jb.page == 0
    jb.search.value = "m1999"  # 1999 % 3 == 1 -> nid 2
    assert len(jb.matches) == 1
    jb.search.value = "m1998"  # nid 1: filtered out by nid=2
    assert jb.matches.empty and "0 matching" in jb.page_label.value
    jb.nid.value = ""
    assert len(jb.matches) == 1 and jb.matches.iloc[0]["args"] == {"msg": "m1998"}


def test_job_browser_filters_and_detail(admin) -> None:
    admin.enqueue_job(1, nid=5, category="jumpscale", cmd="echo", args={"msg": "needle in args"})
    admin.enqueue_job(1, role="storage", category="backup", cmd="backup_dirs", args={"dirs": ["/a"]})
    admin.enqueue_job(2, nid=7, category="jumpscale", cmd="info")
    jb = JobBrowser(admin)
    assert len(jb.copies) == 6  # jobs:<gid> + command queue copy of each
    assert len(jb.jobs) == 3 and set(jb.jobs["seen_in"]) == {"command_queues+jobs"}  # one row per job
    assert "3 matching of 3 jobs (6 copies)" in jb.page_label.value
    jb.family.value = "command_queues"
    jb.gid.value = "1"
    assert len(jb.matches) == 2
    jb.role.value = "storage"
    assert jb.matches["cmd"].tolist() == ["backup_dirs"]
    jb.role.value = ""
    jb.cmd.value = "jumpscale/"
    assert jb.matches["cmd"].tolist() == ["echo"]
    jb.cmd.value = "jumpscale__echo"  # the jumpscript identity works too
    assert jb.matches["cmd"].tolist() == ["echo"]
    jb.cmd.value = ""
    jb.search.value = "NEEDLE"
    assert jb.matches["cmd"].tolist() == ["echo"]
    jb.select(positions=[0])
    assert "needle in args" in jb.detail.value and "Timings" in jb.detail.value
    # the detail lists both copies of the job
    assert "seen in command_queues+jobs: 2 copies" in jb.detail.value
    assert "queues:commands:queue:1:5" in jb.detail.value and "jobs:1" in jb.detail.value
    jb.search.value = ""
    jb.since.value = "-1h"
    assert len(jb.matches) == 2
    jb.since.value = "not a time"
    assert "relative like -15min" in jb.status.value
    jb.since.value = ""
    jb.state.value = "SCHEDULED"
    assert len(jb.matches) == 2
    jb.state.value = "OK"
    assert jb.matches.empty and "0 matching" in jb.page_label.value


def test_cancel_previews_then_writes_only_on_confirm(admin, r: redis.Redis) -> None:
    jobs = [admin.enqueue_job(1, nid=4, category="jumpscale", cmd="echo", args={"n": i}) for i in range(3)]
    key = "queues:commands:queue:1:4"
    jb = JobBrowser(admin, families=("command_queues",))
    jb.select([jobs[0]["guid"], jobs[2]["guid"]])
    before = r.lrange(key, 0, -1)
    jb.cancel_button.click()
    assert jb.pending is not None and jb.pending["kind"] == "cancel"
    assert "LREM" in jb.preview.value or "lrem" in jb.preview.value.lower()
    assert not jb.confirm_button.disabled
    assert r.lrange(key, 0, -1) == before  # preview wrote nothing
    jb.confirm_button.click()
    assert [j["guid"] for j in _queue(r, key)] == [jobs[1]["guid"]]
    assert r.hkeys("jobs:1") == [jobs[1]["guid"].encode()]
    assert jb.pending is None and jb.confirm_button.disabled
    assert len(jb.jobs) == 1  # reloaded after the write


def test_discard_writes_nothing(admin, r: redis.Redis) -> None:
    job = admin.enqueue_job(1, nid=4, category="jumpscale", cmd="echo", args={})
    jb = JobBrowser(admin, families=("command_queues",))
    jb.select([job["guid"]])
    jb.cancel_button.click()
    jb.discard_button.click()
    assert jb.pending is None and "nothing written" in jb.status.value
    assert r.llen("queues:commands:queue:1:4") == 1
    jb.confirm_button.click()  # disabled in the UI; a programmatic click reports, not writes
    assert "nothing to confirm" in jb.status.value
    assert r.llen("queues:commands:queue:1:4") == 1


def test_one_row_per_job_cancels_every_queued_copy_and_requeues_once(admin, r: redis.Redis) -> None:
    keep, drop = (admin.enqueue_job(1, nid=4, category="jumpscale", cmd="echo", args={"n": i}) for i in range(2))
    # a copy of `drop` has also reached a worker queue (what the processmanager pushes, STARTED)
    raw = json.loads(r.lindex("queues:commands:queue:1:4", 1))
    r.rpush("queues:workers:work:default", json.dumps(dict(raw, state="STARTED"), indent=2, sort_keys=True))
    # a failed job whose final copy is both in jobs:1 and in its result list
    failed = dict(raw, guid="f" * 32, id=99, state="ERROR", timeStart=1.7e9, timeStop=1.7e9 + 1, result="boom")
    r.hset("jobs:1", failed["guid"], json.dumps(failed))
    r.rpush(f"queues:jobqueue:{failed['guid']}", json.dumps(failed))
    jb = JobBrowser(admin)
    assert len(jb.copies) == 7 and len(jb.jobs) == 3 and jb.jobs["guid"].is_unique
    row = jb.jobs.set_index("guid").loc[drop["guid"]]
    assert row["seen_in"] == "command_queues+jobs+worker_queues" and row["copies"] == 3
    jb.select([drop["guid"]])
    jb.cancel_button.click()
    assert set(jb.pending["selection"]) == {"command_queues", "worker_queues"}
    jb.confirm_button.click()
    assert [j["guid"] for j in _queue(r, "queues:commands:queue:1:4")] == [keep["guid"]]
    assert r.llen("queues:workers:work:default") == 0
    assert drop["guid"].encode() not in r.hkeys("jobs:1")
    # requeue works on the job's latest copy only: one clone, not one per copy
    jb.select([failed["guid"]])
    jb.requeue_button.click()
    assert sum(len(v) for v in jb.pending["selection"].values()) == 1
    jb.confirm_button.click()
    queued = _queue(r, "queues:commands:queue:1:4")
    assert len(queued) == 2 and queued[-1]["args"] == failed["args"] and queued[-1]["guid"] != failed["guid"]


def test_requeue_and_clone_and_edit_failed_job(admin, grid, r: redis.Redis) -> None:
    job = admin.enqueue_job(1, nid=2, category="demo", cmd="fail", args={"message": "boom"}, wait=True,
                            timeout=20)
    final = admin.wait_job(job["guid"], 20)
    assert final["state"] == "ERROR"
    jb = JobBrowser(admin, families=("job_results",))
    jb.select([job["guid"]])
    assert "ECO (error condition)" in jb.detail.value and "boom" in jb.detail.value
    jb.clone_button.click()  # opens the editor with the job's args
    assert json.loads(jb.clone_args.value) == {"message": "boom"}
    jb.clone_args.value = '{"message": "second try"}'
    jb.clone_role.value = "node"
    jb.clone_preview_button.click()
    assert jb.pending["kind"] == "clone" and jb.pending["params"] == {"args": {"message": "second try"}, "role": "node"}
    grid.stop()  # keep the clone queued so we can see it
    jb.confirm()
    queued = _queue(r, "queues:commands:queue:1:node")
    assert len(queued) == 1
    clone = queued[0]
    assert clone["args"]["message"] == "second try" and clone["guid"] != job["guid"]
    assert clone["state"] == "SCHEDULED" and clone["roles"] == ["node"] and clone["nid"] is None


def test_clone_args_must_be_a_json_object(admin) -> None:
    job = admin.enqueue_job(1, nid=4, category="jumpscale", cmd="echo", args={"a": 1})
    jb = JobBrowser(admin, families=("command_queues",))
    jb.select([job["guid"]])
    jb.clone_button.click()
    assert json.loads(jb.clone_args.value) == {"a": 1}
    jb.clone_args.value = "[1, 2]"
    jb.clone_preview_button.click()
    assert "args must be a JSON object" in jb.status.value and jb.pending is None
    jb.clone_args.value = "{nope"
    with pytest.raises(ValueError, match="not valid JSON"):
        jb.preview_action("clone")


def test_readonly_panels_disable_writes_and_say_why(readonly_admin) -> None:
    cp = control_panel(readonly_admin)
    for panel in cp.panels():
        assert panel.readonly
        for control in panel._write_controls:
            assert control.disabled
    assert "readonly=True" in cp.jobs.readonly_note.value
    assert READONLY_REASON.split(":")[0] in cp.enqueue.readonly_note.value
    cp.enqueue.confirm_button.click()  # disabled; forcing the callback still refuses
    assert cp.enqueue.last_job is None
    cp.jumpscripts.confirm_button.click()
    assert cp.jumpscripts.last_registered is None
    with pytest.raises(PermissionError):
        cp.jobs.preview_action("cancel")


# --- enqueue form --------------------------------------------------------------------------
def test_enqueue_validates_previews_submits_and_watches(admin, grid, r: redis.Redis) -> None:
    form = EnqueueForm(admin)
    labels = [label for label, _v in form.jumpscript.options]
    assert "jumpscale__echo" in labels
    form.choose("jumpscale", "echo")
    form.args.value = '{"msg": '
    assert "invalid JSON" in form.args_check.value and form.preview_button.disabled
    form.args.value = '["not", "an object"]'
    assert "must be a JSON object" in form.args_check.value
    form.args.value = '{"msg": "hello from the form"}'
    assert "valid JSON" in form.args_check.value and not form.preview_button.disabled
    form.target_kind.value = "node"
    form.target.value = "2"
    assert form.confirm_button.disabled  # nothing to confirm before a preview
    before = r.dbsize()
    form.preview_button.click()
    assert "nothing written" in form.plan.value and "queues:commands:queue:1:2" in form.plan.value
    assert r.dbsize() == before and not form.confirm_button.disabled
    form.confirm_button.click()
    assert form.last_job is not None, form.status.value
    form.waiter.join(30)
    assert form.last_error is None
    assert form.last_result["state"] == "OK"
    assert form.last_result["result"] == "hello from the form"
    assert "hello from the form" in form.result.value and "finished: OK" in form.status.value


def test_enqueue_to_a_role_without_wait(admin, r: redis.Redis) -> None:
    admin.register_jumpscript("jumpscale", "echo", "def action(msg=''):\n    return msg\n", descr="echo", gid=1)
    form = EnqueueForm(admin)
    form.choose("jumpscale", "echo")
    form.target_kind.value = "role"
    form.target.value = "storage"
    form.wait.value = False
    form.args.value = '{"msg": "x"}'
    form.preview()
    job = form.confirm()
    assert form.waiter is None
    queued = _queue(r, "queues:commands:queue:1:storage")
    assert [q["guid"] for q in queued] == [job["guid"]]
    assert queued[0]["args"] == {"msg": "x"} and queued[0]["wait"] is False
    form.target_kind.value = "node"
    form.target.value = "two"
    form.preview_button.click()
    assert "node id must be an integer" in form.status.value and form.pending is None
    with pytest.raises(ValueError, match="not registered"):
        form.choose("nope", "missing")


# --- jumpscript registry -------------------------------------------------------------------
def test_registry_inspects_registers_and_refuses_silent_replace(admin, r: redis.Redis) -> None:
    admin.register_jumpscript("jumpscale", "echo", "def action(msg=''):\n    return msg\n", descr="echo it", gid=1)
    reg = JumpscriptRegistry(admin)
    assert reg.select.options[0][1] == ("jumpscale", "echo")
    html = reg.inspect("jumpscale", "echo")
    assert "echo it" in html and "<span" in html and "action" in html  # pygments-highlighted
    reg.organization.value, reg.name.value = "demo", "hello"
    reg.source.value = "def nothing():\n    pass\n"
    reg.preview_button.click()
    assert "action" in reg.preview_box.value and "error" in reg.preview_box.value
    reg.source.value = "def action(:\n"
    with pytest.raises(ValueError, match="syntax error"):
        reg.preview()
    reg.source.value = "def action(msg='hi'):\n    return msg\n"
    before = r.hlen("workers:jumpscripts:name")
    reg.preview()
    assert "workers:jumpscripts:name" in reg.preview_box.value
    assert r.hlen("workers:jumpscripts:name") == before
    reg.confirm_button.click()
    assert reg.last_registered is not None, reg.status.value
    assert r.hexists("workers:jumpscripts:name", "demo__hello")
    stored = json.loads(r.hget("workers:jumpscripts:name", "demo__hello"))
    assert stored["source"] == reg.source.value and stored["organization"] == "demo"
    assert ("demo", "hello") in [v for _l, v in reg.select.options]
    reg.source.value = "def action(msg='changed'):\n    return msg\n"
    reg.preview_button.click()  # the dry run already refuses a silent replace
    assert "replace" in reg.status.value.lower() and reg.pending is None
    reg.confirm_button.click()
    assert json.loads(r.hget("workers:jumpscripts:name", "demo__hello"))["source"].endswith("'hi'):\n    return msg\n")
    reg.load_into_form("demo", "hello")
    assert reg.replace.value
    reg.source.value = "def action(msg='changed'):\n    return msg\n"
    reg.preview_button.click()
    reg.confirm_button.click()
    assert "changed" in json.loads(r.hget("workers:jumpscripts:name", "demo__hello"))["source"]


# --- health board --------------------------------------------------------------------------
def test_health_board_refresh_is_read_only_and_reports_cost(admin, grid, r: redis.Redis) -> None:
    for i in range(3):
        admin.enqueue_job(1, nid=9, category="jumpscale", cmd="echo", args={"i": i})  # node 9 has no agent
    board = HealthBoard(admin, plot=False)
    assert board.cost is not None and board.cost.commands > 0 and board.cost.writes == []
    queues = board.data["queues"]
    row = queues[queues["key"] == "queues:commands:queue:1:9"].iloc[0]
    assert row["length"] == 3 and row["oldest_age"] >= pd.Timedelta(0)
    assert set(board.data["heartbeats"]["queue"]) >= {"default", "io"}
    assert "queues:commands:queue:1:9" in board.sections["queues"].value
    assert f"{board.cost.commands} commands" in board.cost_label.value and " ms" in board.cost_label.value
    for name in ("queues", "heartbeats", "stale_workers", "stuck_jobs", "errors", "health", "leftovers"):
        ET.fromstring(f"<div>{board.sections[name].value}</div>")


def test_health_board_puts_current_problems_first_and_leftovers_apart(admin, r: redis.Redis) -> None:
    """JumpScale 6 leftovers (a 2014 watchdog, a legacy healthcheck, a decade-old in-flight job copy)
    are counted in their own section, never among the current problems; a silent worker queue is
    the first current problem."""
    import json
    import time

    now = int(time.time())
    r.execute_command("HMSET", "workers:heartbeat", "default", now, "reports", now - 7200)
    r.execute_command("HMSET", "workers:watchdog", "worker_default_0", 1400000000, "worker_io_0", 1400000011)
    r.execute_command("HMSET", "healthcheck:status", "redis:7768", "False")
    r.execute_command("HMSET", "healthcheck:lastcheck", "redis:7768", "1396800120.37")
    ancient = {"id": 7, "gid": 1, "nid": 1, "guid": "d" * 32, "category": "jumpscale", "cmd": "sleep",
               "state": "STARTED", "timeCreate": 1400000000, "timeStart": 1400000001, "timeout": 60}
    r.set("workers:jobs:7", json.dumps(ancient))
    board = HealthBoard(admin, plot=False)
    health = board.data["health"]
    current = health[health["signal"] == "current"]
    assert current.iloc[0]["component"] == "reports" and current.iloc[0]["status"] == "error"
    assert not ({"worker_default_0", "worker_io_0", "redis:7768", "d" * 32} & set(current["component"]))
    left = board.data["leftovers"].set_index("kind")
    assert left.loc["watchdog", "count"] == 2 and left.loc["healthcheck", "count"] == 1
    assert left.loc["job", "count"] == 1 and left.loc["job", "oldest"] > pd.Timedelta(days=3650)
    assert "read-only" in left.loc["watchdog", "why"] and "legacy" in left.loc["healthcheck", "why"]
    text = board.sections["health"].value
    assert "reports" in text and "worker_default_0" not in text and "d" * 12 not in text
    assert "worker_default_0" not in board.sections["heartbeats"].value
    assert "Leftovers (not current problems): 4" in board.titles["leftovers"].value
    assert "y old" in board.titles["leftovers"].value  # its age, in years
    assert "watchdog" in board.sections["leftovers"].value and "2.0 h" in board.sections["heartbeats"].value
    assert board.facts()["leftovers"] == 4


def test_health_board_auto_refresh_starts_and_stops(admin, grid) -> None:
    import time

    board = HealthBoard(admin, plot=False, interval=0.5)
    first = board.refreshes
    board.auto.value = True  # the toggle button in the UI
    deadline = time.monotonic() + 20
    while board.refreshes < first + 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert board.running and board.refreshes >= first + 2
    board.auto.value = False
    assert not board.running
    n = board.refreshes
    time.sleep(1.0)
    assert board.refreshes == n
    assert board.last_error is None


def test_health_board_draws_latency_of_finished_jobs(admin, grid) -> None:
    guids = [admin.enqueue_job(1, nid=2, category="jumpscale", cmd="echo", args={"msg": str(i)}, wait=True)["guid"]
             for i in range(3)]
    for guid in guids:
        assert admin.wait_job(guid, 20)["state"] == "OK"
    board = HealthBoard(admin)
    assert len(board.data["finished"]) >= 3
    assert board.plot.value[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.slow
@pytest.mark.version_independent  # paging a 100k frame; bulk enqueue is checked on every leg in tests/writes
def test_job_browser_renders_one_page_of_100_000(admin) -> None:  # about 6 s: 100k jobs written and read
    admin.enqueue_jobs([{"gid": 1, "nid": 1 + i % 5, "category": "jumpscale", "cmd": "echo",
                         "args": {"msg": f"m{i}"}} for i in range(100_000)])
    jb = JobBrowser(admin, families=("command_queues",))
    assert len(jb.jobs) == 100_000
    assert _rows_rendered(jb.table.value) == 50 and len(jb.rows.options) == 50
    assert "page 1 of 2000" in jb.page_label.value
    jb.search.value = "m99999"
    assert len(jb.matches) == 1 and jb.matches.iloc[0]["nid"] == 5
    jb.search.value = ""
    jb.nid.value = "3"
    assert len(jb.matches) == 20_000 and _rows_rendered(jb.table.value) == 50


def test_clone_and_edit_moves_a_queued_job_but_requeue_refuses_it(admin, r: redis.Redis) -> None:
    job = admin.enqueue_job(1, nid=99, category="jumpscale", cmd="echo", args={"msg": "stranded"})
    jb = JobBrowser(admin, families=("jobs",))
    jb.select([job["guid"]])
    jb.requeue_button.click()  # requeue is for failed jobs only
    assert jb.pending is None and "SCHEDULED" in jb.status.value
    jb.clone_button.click()
    jb.clone_nid.value = "2"
    jb.clone_preview_button.click()
    assert jb.pending is not None and r.llen("queues:commands:queue:1:2") == 0
    jb.confirm_button.click()
    moved = _queue(r, "queues:commands:queue:1:2")
    assert [m["args"] for m in moved] == [{"msg": "stranded"}] and moved[0]["nid"] == 2
    assert r.llen("queues:commands:queue:1:99") == 1  # the original stays until cancelled


def test_health_board_reads_the_oldest_queued_jobs_of_a_backlog(admin, r: redis.Redis) -> None:
    """A capped queue read: the board keeps the head (the jobs that waited longest), so an old
    stuck job behind the cap is still found, and the queue shows its true length."""
    import time

    from jsadmin.display.panels.health import collect

    now = time.time()
    key = "queues:commands:queue:1:9"
    for i in range(10):  # RPUSHed like the agentcontroller: the head is the oldest
        job = {"guid": f"g{i}", "id": i, "gid": 1, "nid": 9, "cmd": "echo", "category": "jumpscale",
               "state": "SCHEDULED", "timeCreate": now - (7200 if i == 0 else 10), "timeout": 600}
        r.rpush(key, json.dumps(job))
    data = collect(admin, queue_limit=3)
    assert data["stuck_jobs"]["guid"].tolist() == ["g0"]
    row = data["health"][data["health"]["component"] == key].iloc[0]
    assert row["detail"].startswith("10 queued") and row["age"] >= pd.Timedelta(hours=2) and row["status"] == "stale"
