"""Keys of the wrong type: every write is refused before it mutates anything.

Each case plants a key of the wrong type where a write helper will touch it, takes a
snapshot of every key (markers aside), calls the helper, and requires a clear error and an
unchanged snapshot: no orphan job, no burned id, no half-done removal.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
import redis

from jsadmin.admin import Admin
from jsadmin.errors import JsAdminError

from . import contract
from .helpers import GID, call, fill_queue, job_specs, probe_id, queue
from .reconcile import Reported, check_enqueue_journal, reconcile, removed_by, snapshot
from .servers import FaultServer

Connect = Callable[..., Admin]
SRC = 'descr = "x"\n\ndef action():\n    return 1\n'


def _refused(client: redis.Redis, fn: Callable[[], Any]) -> BaseException:
    before = snapshot(client)
    out = call(fn)
    assert out.error is not None, f"a write over a wrong-type key was accepted: {out.value!r}"
    assert isinstance(out.error, JsAdminError), f"not a clear jsadmin error: {out.error!r}"
    assert not isinstance(out.error, contract.WriteOutcomeUnknown)
    after = snapshot(client)
    changed = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
    assert not changed, f"refused write still changed {changed} ({out.error})"
    return out.error


@pytest.fixture()
def adm(server: FaultServer, connect: Connect) -> Admin:
    a = connect(server.url, socket_timeout=10)
    a.enqueue_job(GID, nid=999, category="jumpscale", cmd="warmup", args={"probe": "warmup"})
    return a


def _enqueue_one(adm: Admin) -> Callable[[], Any]:
    return lambda: adm.enqueue_job(GID, nid=7, category="jumpscale", cmd="echo", args={"probe": "wt"})


@pytest.mark.parametrize(
    "plant",
    [
        pytest.param(lambda c: c.hset(queue(7), "f", "v"), id="queue-is-hash"),
        pytest.param(lambda c: (c.delete("jobs:1"), c.rpush("jobs:1", "x")), id="jobs-hash-is-list"),
        pytest.param(lambda c: (c.delete("jobs:last"), c.set("jobs:last", "5")), id="jobs-last-is-string"),
        pytest.param(lambda c: c.hset("jobs:last", "1", "abc"), id="jobs-last-not-integer"),
    ],
)
def test_enqueue_job_refused(adm: Admin, r: redis.Redis, plant: Callable[[redis.Redis], Any]) -> None:
    plant(r)
    _refused(r, _enqueue_one(adm))


def test_enqueue_jobs_refuses_only_the_batch_with_the_bad_queue(adm: Admin, r: redis.Redis) -> None:
    probe = probe_id()
    r.hset(queue(2), "f", "v")
    specs = [s for nid in (1, 2, 3) for s in job_specs(probe, 50, nid=nid)]
    out = call(adm.enqueue_jobs, specs, batch_size=50)
    assert isinstance(out.error, contract.PartialWriteError), f"expected PartialWriteError, got {out.error!r}"
    rep = out.reported()
    assert len(rep.written) == 100 and len(rep.not_written) == 50 and not rep.unknown
    frame = out.frame
    assert frame is not None and not frame.loc[frame["nid"] == 2, "written"].any()
    assert r.hgetall(queue(2)) == {b"f": b"v"}
    check_enqueue_journal(adm, frame)
    reconcile(r, rep, probe=probe, no_burned_ids=[GID])


@pytest.mark.parametrize(
    "plant",
    [
        pytest.param(lambda c: c.rpush("workers:jumpscripts:name", "x"), id="by-name-is-list"),
        pytest.param(lambda c: c.hset("workers:jumpscriptlastid", "a", "1"), id="lastid-is-hash"),
        pytest.param(lambda c: c.set("workers:jumpscripthashes", "x"), id="hashes-is-string"),
        pytest.param(lambda c: c.set("workers:jumpscripts:id", "x"), id="by-id-is-string"),
    ],
)
def test_register_jumpscript_refused(adm: Admin, r: redis.Redis, plant: Callable[[redis.Redis], Any]) -> None:
    plant(r)
    _refused(r, lambda: adm.register_jumpscript("faults", "wt", SRC, descr="x", gid=GID))


def test_register_replace_with_a_worker_action_key_of_wrong_type(adm: Admin, r: redis.Redis) -> None:
    adm.register_jumpscript("faults", "wt", SRC, descr="x", gid=GID)
    r.set("workers:worker:default:w1", "1")
    r.set("workers:worker:default:w2", "1")
    r.hset("workers:action:default:w2", "f", "v")  # the second worker's action queue is a hash
    _refused(r, lambda: adm.register_jumpscript("faults", "wt", SRC.replace("1", "2"), descr="x", gid=GID,
                                                replace=True))


def test_cancel_jobs_when_jobs_hash_changed_type_is_whole(adm: Admin, r: redis.Redis) -> None:
    """``jobs:<gid>`` is no longer a hash: cancel either refuses unchanged, or cancels exactly
    the selected queue entries (journalled, reported) and leaves the foreign key alone."""
    probe = probe_id()
    frame = fill_queue(adm, probe, 20, nid=7)
    chosen = list(frame["guid"][:5])
    selection = adm.load("command_queues")
    selection = selection[selection["guid"].isin(chosen)]
    assert len(selection) == 5
    r.rename("jobs:1", "jobs:1:moved")  # another client replaces the hash by a string
    r.set("jobs:1", "not a hash")
    before = snapshot(r)
    out = call(adm.cancel_jobs, selection)
    assert r.get("jobs:1") == b"not a hash"
    if out.error is not None:
        assert isinstance(out.error, JsAdminError), repr(out.error)
        assert snapshot(r) == before
    else:
        res = out.value.frame
        assert sorted(res.loc[res["removed"].astype(bool), "guid"]) == sorted(chosen)
        assert sorted(x["guid"] for x in removed_by(adm, "cancel_jobs", queue(7))) == sorted(chosen)
        left = {json.loads(v)["guid"] for v in r.lrange(queue(7), 0, -1)}
        assert not left & set(chosen) and len(left) == 15


def test_cancel_jobs_refused_when_a_second_queue_changed_type(adm: Admin, r: redis.Redis) -> None:
    probe = probe_id()
    a = fill_queue(adm, probe, 5, nid=7)
    b = fill_queue(adm, probe, 5, nid=8)
    selection = adm.load("command_queues")
    selection = selection[selection["guid"].isin(list(a["guid"][:2]) + list(b["guid"][:2]))]
    assert len(selection) == 4
    saved = r.lrange(queue(8), 0, -1)
    r.delete(queue(8))
    r.hset(queue(8), "f", "v")
    _refused(r, lambda: adm.cancel_jobs(selection))  # must not remove the 2 jobs of the first queue
    r.delete(queue(8))
    r.rpush(queue(8), *saved)
    reconcile(r, Reported(written=set(a["guid"]) | set(b["guid"])), probe=probe)


def test_purge_queue_refused_on_a_hash(adm: Admin, r: redis.Redis) -> None:
    r.hset(queue(7), "f", "v")
    _refused(r, lambda: adm.purge_queue(queue(7)))


def test_undo_refused_when_the_queue_became_another_type(adm: Admin, r: redis.Redis) -> None:
    probe = probe_id()
    frame = fill_queue(adm, probe, 1500, nid=7)
    original = r.lrange(queue(7), 0, -1)
    purged = adm.purge_queue(queue(7))
    r.set(queue(7), "now a string")
    _refused(r, lambda: adm.undo(purged.journal_id))
    r.delete(queue(7))
    again = call(adm.undo, purged.journal_id)  # the refused undo did not count as done
    assert again.error is None, again.error
    assert r.lrange(queue(7), 0, -1) == original
    reconcile(r, Reported(written=set(frame["guid"])), probe=probe)
