"""Panels write only on an explicit Confirm of a preview, and Confirm writes exactly what was previewed.

Every check is against a real redis-server: the keyspace (every key's DUMP) and the server's
``INFO commandstats`` write counters before and after.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import redis
from redis_servers import commandstats

from jsadmin.display import EnqueueForm, JobBrowser, JumpscriptRegistry
from jsadmin.display.cost import WRITE_COMMANDS
from jsadmin.display.panels._base import STALE_PREVIEW, error_text
from jsadmin.errors import WriteNotApplied, WriteOutcomeUnknown

ECHO = "def action(msg=''):\n    return msg\n"


def _keyspace(r: redis.Redis) -> dict[bytes, bytes | None]:
    """Every key with its DUMP: equal before and after means nothing was written."""
    return {k: r.dump(k) for k in r.scan_iter(count=1000)}


def _write_calls(r: redis.Redis) -> int:
    """Write commands the server has executed (INFO commandstats), from every client."""
    return sum(n for name, n in commandstats(r).items() if name in WRITE_COMMANDS)


def _queue(r: redis.Redis, key: str) -> list[dict[str, Any]]:
    return [json.loads(v) for v in r.lrange(key, 0, -1)]


@pytest.fixture()
def form(admin: Any) -> EnqueueForm:
    admin.register_jumpscript("jumpscale", "echo", ECHO, descr="echo", gid=1)
    admin.register_jumpscript("jumpscale", "info", "def action():\n    return {}\n", descr="info", gid=1)
    f = EnqueueForm(admin)
    f.choose("jumpscale", "echo")
    f.target_kind.value, f.target.value, f.wait.value = "node", "4", False
    f.args.value = '{"msg": "previewed"}'
    return f


# --- enqueue form --------------------------------------------------------------------------
def test_enqueue_preview_writes_nothing_and_only_confirm_writes(form: EnqueueForm, r: redis.Redis) -> None:
    buttons = {b.description for b in form.widget.children[-4].children}  # the action row
    assert buttons == {"Preview", "Confirm", "Discard"}  # no one-click Submit any more
    before, writes = _keyspace(r), _write_calls(r)
    form.preview_button.click()
    assert form.pending is not None and "nothing written" in form.plan.value
    assert "Confirm" in form.status.value
    assert _keyspace(r) == before and _write_calls(r) == writes  # the preview wrote nothing
    form.confirm_button.click()
    queued = _queue(r, "queues:commands:queue:1:4")
    assert [q["guid"] for q in queued] == [form.last_job["guid"]]
    assert form.pending is None and form.confirm_button.disabled and "enqueued" in form.status.value


def test_enqueue_confirm_writes_exactly_the_previewed_job(form: EnqueueForm, r: redis.Redis) -> None:
    form.queue.value, form.timeout.value = "io", 42
    plan = form.preview()
    previewed = plan.result if isinstance(plan.result, dict) else None
    job = form.confirm()
    written = _queue(r, "queues:commands:queue:1:4")[0]
    assert written["guid"] == job["guid"]
    expected = {"category": "jumpscale", "cmd": "echo", "args": {"msg": "previewed"}, "nid": 4,
                "queue": "io", "timeout": 42, "wait": False, "gid": 1}
    assert {k: written[k] for k in expected} == expected
    if previewed is not None:  # the dry run's own job, placeholders aside, is the one written
        assert {k: previewed.get(k) for k in ("category", "cmd", "args", "nid", "queue", "wait")} == \
            {k: written[k] for k in ("category", "cmd", "args", "nid", "queue", "wait")}


@pytest.mark.parametrize("field, value", [
    ("args", '{"msg": "changed after the preview"}'), ("target", "5"), ("target_kind", "role"),
    ("gid", 2), ("queue", "io"), ("timeout", 7), ("wait", True), ("jumpscript", ("jumpscale", "info")),
])
def test_enqueue_a_changed_form_discards_the_preview(form: EnqueueForm, r: redis.Redis, field: str,
                                                     value: object) -> None:
    form.preview_button.click()
    assert form.pending is not None and not form.confirm_button.disabled
    before = _keyspace(r)
    getattr(form, field).value = value
    assert form.pending is None and form.confirm_button.disabled and form.plan.value == ""
    assert STALE_PREVIEW in form.status.value.replace("&#x27;", "'")
    form.confirm_button.click()  # a programmatic click on the disabled button
    assert "nothing to confirm" in form.status.value and form.last_job is None
    assert _keyspace(r) == before


def test_enqueue_confirm_refuses_when_the_form_no_longer_matches(form: EnqueueForm, r: redis.Redis) -> None:
    form.preview()
    form.pending["params"]["args"] = {"msg": "not what the form shows"}  # a preview out of step
    before = _keyspace(r)
    with pytest.raises(RuntimeError, match="changed after the preview"):
        form.confirm()
    assert _keyspace(r) == before and form.pending is None


def test_enqueue_confirm_twice_writes_one_job(form: EnqueueForm, r: redis.Redis) -> None:
    form.preview_button.click()
    form.confirm_button.click()
    form.confirm_button.click()  # double click: the preview is used up
    assert len(_queue(r, "queues:commands:queue:1:4")) == 1
    assert "nothing to confirm" in form.status.value


def test_enqueue_discard_writes_nothing(form: EnqueueForm, r: redis.Redis) -> None:
    before = _keyspace(r)
    form.preview_button.click()
    form.discard_button.click()
    assert form.pending is None and "discarded" in form.status.value
    form.confirm_button.click()
    assert _keyspace(r) == before


def test_enqueue_a_failed_write_is_reported_and_disarms(form: EnqueueForm, r: redis.Redis) -> None:
    r.hset("queues:commands:queue:1:4", "not", "a list")  # the queue key holds the wrong type
    form.preview_button.click()
    form.confirm_button.click()
    assert form.last_job is None and form.pending is None
    assert "jsadmin-error" in form.status.value and "WriteRefused" in form.status.value
    assert "nothing was written" in form.status.value and "write_status" not in form.status.value
    assert r.type("queues:commands:queue:1:4") == b"hash"


def test_error_text_names_the_write_id_of_an_unknown_outcome() -> None:
    text = error_text(WriteOutcomeUnknown("server unreachable: outcome unknown", write_id="ab12"))
    assert text.startswith("WriteOutcomeUnknown: server unreachable") and "admin.write_status('ab12')" in text
    assert "write_status" not in error_text(WriteNotApplied("nothing was written", write_id="ab12"))
    assert error_text(ValueError("x")) == "ValueError: x"


# --- jumpscript registry -------------------------------------------------------------------
def test_registry_register_needs_preview_then_confirm(admin: Any, r: redis.Redis) -> None:
    reg = JumpscriptRegistry(admin)
    reg.organization.value, reg.name.value, reg.gid.value = "demo", "hello", "1"
    reg.source.value = "def action(msg='hi'):\n    return msg\n"
    before, writes = _keyspace(r), _write_calls(r)
    reg.confirm_button.click()  # no preview yet: refused
    assert "nothing to confirm" in reg.status.value and reg.last_registered is None
    reg.preview_button.click()
    assert reg.pending is not None and "workers:jumpscripts:name" in reg.preview_box.value
    assert _keyspace(r) == before and _write_calls(r) == writes
    reg.confirm_button.click()
    stored = json.loads(r.hget("workers:jumpscripts:name", "demo__hello"))
    assert stored["source"] == "def action(msg='hi'):\n    return msg\n"
    assert reg.last_registered["id"] == stored["id"] and reg.pending is None


@pytest.mark.parametrize("field, value", [
    ("source", "def action(msg='edited'):\n    return msg\n"), ("name", "other"), ("organization", "x"),
    ("descr", "changed"), ("category", "c"), ("queue", "io"), ("roles", "node"), ("replace", True),
    ("gid", "2"),
])
def test_registry_a_changed_form_discards_the_preview(admin: Any, r: redis.Redis, field: str,
                                                      value: object) -> None:
    reg = JumpscriptRegistry(admin)
    reg.organization.value, reg.name.value, reg.gid.value = "demo", "hello", "1"
    reg.preview()
    before = _keyspace(r)
    getattr(reg, field).value = value
    assert reg.pending is None and reg.confirm_button.disabled and reg.preview_box.value == ""
    reg.confirm_button.click()
    assert "nothing to confirm" in reg.status.value
    assert _keyspace(r) == before and not r.hexists("workers:jumpscripts:name", "demo__hello")


# --- job browser ---------------------------------------------------------------------------
def test_job_browser_selection_change_discards_the_preview(admin: Any, r: redis.Redis) -> None:
    jobs = [admin.enqueue_job(1, nid=4, category="jumpscale", cmd="echo", args={"n": i}) for i in range(2)]
    jb = JobBrowser(admin, families=("command_queues",))
    jb.select([jobs[0]["guid"]])
    jb.cancel_button.click()
    assert jb.pending is not None
    jb.select([jobs[1]["guid"]])  # the preview was for job 0
    assert jb.pending is None and jb.confirm_button.disabled
    jb.confirm_button.click()
    assert r.llen("queues:commands:queue:1:4") == 2 and "nothing to confirm" in jb.status.value
