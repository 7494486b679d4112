"""Lost and late replies (and lost / late requests) on every write helper, through the proxy.

A reply that never arrives must not make jsadmin send the write again, and the caller must
learn the outcome: the result when the write landed, ``WriteNotApplied`` when it did not.
A request that reaches the server after jsadmin gave up on it must do nothing (fenced).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence

import pandas as pd
import pytest
import redis

from jsadmin.admin import Admin

from . import contract
from .helpers import (
    GID,
    call,
    fill_queue,
    is_not_applied,
    job_specs,
    marker_values,
    probe_id,
    queue,
    script_touching,
    wait_until,
    warm_scripts,
)
from .proxy import FaultProxy, Rule
from .reconcile import (
    Reported,
    check_enqueue_journal,
    journal_entries,
    reconcile,
    removed_by,
    snapshot,
)

TIMEOUT = 1.0  # the Admin's socket timeout through the proxy
LATE = 2.5  # a delay well beyond it

Connect = Callable[..., Admin]


def _admins(proxy: FaultProxy, connect: Connect) -> Admin:
    adm = connect(proxy.url, socket_timeout=TIMEOUT)
    assert warm_scripts(adm.redis)
    return adm


def _warm(adm: Admin, nid: int = 999) -> None:
    """One healthy write first, so the server caches the scripts (no NOSCRIPT round trip later)."""
    adm.enqueue_job(GID, nid=nid, category="jumpscale", cmd="warmup", args={"probe": "warmup"})


def _one_job(adm: Admin, probe: str, nid: int = 7) -> dict:
    return adm.enqueue_job(GID, nid=nid, category="jumpscale", cmd="echo", args={"probe": probe})  # type: ignore[return-value]


def _wait_delivered(rule: Rule) -> None:
    """Wait until the proxy has handed a delayed request to the server and the server answered
    it (so it ran), instead of a fixed margin past the delay."""
    wait_until(lambda: rule.answered_at, timeout=rule.seconds + 10, what="the server's reply to the delayed request")


# -- enqueue_job --------------------------------------------------------------------------------
@pytest.mark.parametrize("fault", [dict(action="drop_reply"), dict(action="cut_reply", nbytes=2)], ids=["drop", "cut"])
def test_enqueue_job_lost_reply_returns_the_job_once(
    proxy: FaultProxy, r: redis.Redis, connect: Connect, fault: dict
) -> None:
    adm = _admins(proxy, connect)
    _warm(adm)
    probe = probe_id()
    rule = proxy.add_rule(Rule(**fault, where=script_touching(queue(7))))
    out = call(_one_job, adm, probe)
    assert rule.fired == 1, "the fault did not happen"
    assert out.error is None, f"the write landed, the caller must get the job, not {out.error!r}"
    assert rule.seen == 1, f"the write script was sent {rule.seen} times"
    reconcile(r, out.reported(), probe=probe, no_burned_ids=[GID])


@pytest.mark.parametrize("fault", [dict(action="drop_request"), dict(action="cut_request", nbytes=40)],
                         ids=["drop", "cut"])
def test_enqueue_job_lost_request_is_not_applied_and_safe_to_retry(
    proxy: FaultProxy, r: redis.Redis, connect: Connect, fault: dict
) -> None:
    adm = _admins(proxy, connect)
    _warm(adm)
    probe = probe_id()
    rule = proxy.add_rule(Rule(**fault, where=script_touching(queue(7))))
    out = call(_one_job, adm, probe)
    assert rule.fired == 1
    assert is_not_applied(out.error), f"expected WriteNotApplied, got {out.value or out.error!r}"
    assert "safe to retry" in str(out.error)
    reconcile(r, Reported(), probe=probe, no_burned_ids=[GID])
    again = call(_one_job, adm, probe)
    assert again.error is None
    reconcile(r, again.reported(), probe=probe, no_burned_ids=[GID])


def test_enqueue_job_late_reply_resolves_to_the_job(proxy: FaultProxy, r: redis.Redis, connect: Connect) -> None:
    adm = _admins(proxy, connect)
    _warm(adm)
    probe = probe_id()
    rule = proxy.add_rule(Rule("delay_reply", where=script_touching(queue(7)), seconds=LATE))
    out = call(_one_job, adm, probe)
    assert rule.fired == 1
    assert out.error is None, f"the write ran (only its reply was late): expected the job, got {out.error!r}"
    assert rule.seen == 1, f"the write script was sent {rule.seen} times"
    reconcile(r, out.reported(), probe=probe, no_burned_ids=[GID])


def test_enqueue_job_late_request_is_fenced(proxy: FaultProxy, r: redis.Redis, connect: Connect) -> None:
    adm = _admins(proxy, connect)
    _warm(adm)
    probe = probe_id()
    last_before = r.hget("jobs:last", str(GID))
    rule = proxy.add_rule(Rule("delay_request", where=script_touching(queue(7)), seconds=LATE))
    out = call(_one_job, adm, probe)
    assert rule.fired == 1
    assert is_not_applied(out.error), f"expected WriteNotApplied, got {out.value or out.error!r}"
    _wait_delivered(rule)  # the old request has now reached the server: it must do nothing
    reconcile(r, Reported(), probe=probe, no_burned_ids=[GID])
    assert r.hget("jobs:last", str(GID)) == last_before
    assert b'"fenced"' in marker_values(r).values(), "no fence marker left for the late request"


# -- enqueue_jobs (a stream of batches) ---------------------------------------------------------
N, BATCH = 2000, 200  # 10 batches; the fault hits the 4th


def _frame_write_ids_journalled(adm: Admin, frame: pd.DataFrame) -> None:
    assert "write_id" in frame.columns and "written" in frame.columns, list(frame.columns)
    check_enqueue_journal(adm, frame)


def test_enqueue_jobs_lost_reply_mid_stream(proxy: FaultProxy, r: redis.Redis, connect: Connect) -> None:
    adm = _admins(proxy, connect)
    _warm(adm)
    probe = probe_id()
    rule = proxy.add_rule(Rule("drop_reply", where=script_touching(queue(7)), nth=4))
    out = call(adm.enqueue_jobs, job_specs(probe, N), batch_size=BATCH)
    assert rule.fired == 1
    # The batches are pipelined on one connection: the ones the client had sent before the
    # proxy closed it may or may not have reached the server (the race is the point of the
    # test). Never more than once each, and every outcome must be known and true.
    assert rule.seen <= N // BATCH, f"{rule.seen} batch scripts sent for {N // BATCH} batches"
    frame = out.frame
    assert frame is not None, f"no per-job report: {out.error!r}"
    assert frame["written"].iloc[: 4 * BATCH].all(), "the batch whose reply was lost ran, and so did those before it"
    _frame_write_ids_journalled(adm, frame)
    rep = out.reported()
    assert len(rep.written) + len(rep.not_written) == N, "every job's outcome is resolvable here"
    assert out.error is None or isinstance(out.error, contract.PartialWriteError)
    reconcile(r, rep, probe=probe, no_burned_ids=[GID])


@pytest.mark.parametrize("fault", [dict(action="drop_request"), dict(action="cut_request", nbytes=1000)],
                         ids=["drop", "cut"])
def test_enqueue_jobs_lost_request_mid_stream_reports_what_landed_and_resumes(
    proxy: FaultProxy, r: redis.Redis, connect: Connect, fault: dict
) -> None:
    adm = _admins(proxy, connect)
    _warm(adm)
    probe = probe_id()
    specs = job_specs(probe, N)
    rule = proxy.add_rule(Rule(**fault, where=script_touching(queue(7)), nth=4))
    out = call(adm.enqueue_jobs, specs, batch_size=BATCH)
    assert rule.fired == 1
    assert isinstance(out.error, contract.PartialWriteError), f"expected PartialWriteError, got {out.error!r}"
    # batches 1-3 were sent before the 4th was lost; each either ran or, when the fence on the
    # fresh connection overtook it (the server reads a big command in several 16 KB steps),
    # was fenced and then did nothing. Either way the report is exact:
    rep = out.reported()
    done = len(rep.written)
    assert done in (0, BATCH, 2 * BATCH, 3 * BATCH) and len(rep.not_written) == N - done and not rep.unknown
    assert f"wrote {done} of {N} jobs; {N - done} not written; 0 unknown" in str(out.error)
    assert out.frame is not None
    _frame_write_ids_journalled(adm, out.frame)
    reconcile(r, rep, probe=probe, no_burned_ids=[GID])
    # resume with exactly the rows reported not written: every job then exists once
    todo = [specs[i] for i, w in enumerate(out.frame["written"]) if not pd.isna(w) and not bool(w)]
    again = call(adm.enqueue_jobs, todo, batch_size=BATCH)
    assert again.error is None
    state = reconcile(r, rep.merge(again.reported()), probe=probe, no_burned_ids=[GID])
    ids = sorted(j["args"]["i"] for j in state.all_jobs().values() if j["args"].get("probe") == probe)
    assert ids == list(range(N))


def test_enqueue_jobs_late_request_mid_stream_is_fenced(proxy: FaultProxy, r: redis.Redis, connect: Connect) -> None:
    adm = _admins(proxy, connect)
    _warm(adm)
    probe = probe_id()
    rule = proxy.add_rule(Rule("delay_request", where=script_touching(queue(7)), nth=4, seconds=LATE))
    out = call(adm.enqueue_jobs, job_specs(probe, N), batch_size=BATCH)
    assert rule.fired == 1
    assert isinstance(out.error, contract.PartialWriteError), f"expected PartialWriteError, got {out.error!r}"
    _wait_delivered(rule)  # batches 4..10 reach the server now: all fenced
    time.sleep(0.3)
    rep = out.reported()
    assert len(rep.written) <= 3 * BATCH and len(rep.not_written) == N - len(rep.written) and not rep.unknown
    reconcile(r, rep, probe=probe, no_burned_ids=[GID])


# -- register_jumpscript ------------------------------------------------------------------------
SRC1 = 'descr = "greets"\n\ndef action(who):\n    return "hi " + who\n'
SRC2 = 'descr = "greets"\n\ndef action(who):\n    return "hello " + who\n'


def _with_worker(r: redis.Redis) -> str:
    r.set("workers:worker:default:w1", "1")
    return "workers:action:default:w1"


def test_register_jumpscript_lost_reply(proxy: FaultProxy, r: redis.Redis, connect: Connect) -> None:
    adm = _admins(proxy, connect)
    action = _with_worker(r)
    adm.register_jumpscript("faults", "greet", SRC1, descr="greets", gid=GID)
    last_id = r.get("workers:jumpscriptlastid")
    rule = proxy.add_rule(Rule("drop_reply", where=script_touching("workers:jumpscripts:name")))
    out = call(adm.register_jumpscript, "faults", "greet", SRC2, descr="greets", gid=GID, replace=True)
    assert rule.fired == 1 and rule.seen == 1, f"the register script was sent {rule.seen} times"
    assert out.error is None, f"the write landed; expected its result, got {out.error!r}"
    stored = json.loads(r.hget("workers:jumpscripts:name", "faults__greet") or b"{}")
    assert stored.get("source") == SRC2 and out.value["id"] == stored["id"]
    assert int(r.get("workers:jumpscriptlastid") or 0) == int(last_id or 0) + 1
    assert r.lrange(action, 0, -1) == [b"RELOAD"], "workers must be told to reload exactly once"


def test_register_jumpscript_lost_request(proxy: FaultProxy, r: redis.Redis, connect: Connect) -> None:
    adm = _admins(proxy, connect)
    action = _with_worker(r)
    adm.register_jumpscript("faults", "greet", SRC1, descr="greets", gid=GID)
    before = (r.hgetall("workers:jumpscripts:name"), r.get("workers:jumpscriptlastid"))
    proxy.add_rule(Rule("drop_request", where=script_touching("workers:jumpscripts:name")))
    out = call(adm.register_jumpscript, "faults", "greet", SRC2, descr="greets", gid=GID, replace=True)
    assert is_not_applied(out.error), f"expected WriteNotApplied, got {out.value or out.error!r}"
    assert (r.hgetall("workers:jumpscripts:name"), r.get("workers:jumpscriptlastid")) == before
    assert r.llen(action) == 0


# -- cancel_jobs, purge_queue, undo -------------------------------------------------------------
def test_cancel_jobs_lost_reply_journals_what_was_removed(proxy: FaultProxy, r: redis.Redis, connect: Connect) -> None:
    adm = _admins(proxy, connect)
    probe = probe_id()
    frame = fill_queue(adm, probe, 10, nid=7)
    original = r.lrange(queue(7), 0, -1)
    chosen = list(frame["guid"][2:5])
    rule = proxy.add_rule(Rule("drop_reply", where=script_touching(queue(7))))
    out = call(adm.cancel_jobs, chosen)
    assert rule.fired == 1 and rule.seen == 1, f"the removal script was sent {rule.seen} times"
    assert out.error is None, f"the removal landed; expected its result, got {out.error!r}"
    res = out.value
    rows = res.frame[res.frame["type"] == "list"]
    assert sorted(rows.loc[rows["removed"].astype(bool), "guid"]) == sorted(chosen)
    left = [json.loads(v)["guid"] for v in r.lrange(queue(7), 0, -1)]
    assert not set(chosen) & set(left) and len(left) == 7
    journalled = removed_by(adm, "cancel_jobs", queue(7))
    assert sorted(x.get("guid") for x in journalled) == sorted(chosen), "the journal must hold every removed value"
    undone = call(adm.undo, res.journal_id)
    assert undone.error is None, undone.error
    # undo puts list values back at the head, in their original order (documented)
    back = [v for v in original if json.loads(v)["guid"] in chosen]
    assert r.lrange(queue(7), 0, -1) == back + [v for v in original if v not in back]
    reconcile(r, Reported(written=set(frame["guid"])), probe=probe)


PURGE_N = 2500  # three chunks of <= 1000


def _purge_entry(adm: Admin) -> dict:
    return next(e for e in reversed(journal_entries(adm)) if e.get("helper") == "purge_queue")


def test_purge_queue_lost_reply_loses_nothing(proxy: FaultProxy, r: redis.Redis, connect: Connect) -> None:
    adm = _admins(proxy, connect)
    probe = probe_id()
    frame = fill_queue(adm, probe, PURGE_N, nid=7)
    original = r.lrange(queue(7), 0, -1)
    rule = proxy.add_rule(Rule("drop_reply", where=script_touching(queue(7))))
    out = call(adm.purge_queue, queue(7))
    assert rule.fired == 1
    assert out.error is None, f"every chunk landed or was resolved; got {out.error!r}"
    assert out.value.removed == PURGE_N and r.llen(queue(7)) == 0
    assert len(removed_by(adm, "purge_queue", queue(7))) == PURGE_N, "the journal must hold every removed value"
    undone = call(adm.undo, out.value.journal_id)
    assert undone.error is None, undone.error
    assert r.lrange(queue(7), 0, -1) == original, "undo must restore every value once, in order"
    reconcile(r, Reported(written=set(frame["guid"])), probe=probe)


def test_purge_queue_lost_request_mid_purge_reports_what_was_removed(
    proxy: FaultProxy, r: redis.Redis, connect: Connect
) -> None:
    adm = _admins(proxy, connect)
    probe = probe_id()
    frame = fill_queue(adm, probe, PURGE_N, nid=7)
    original = r.lrange(queue(7), 0, -1)
    rule = proxy.add_rule(Rule("drop_request", where=script_touching(queue(7)), nth=2))
    out = call(adm.purge_queue, queue(7))
    if rule.fired == 0:
        pytest.fail(f"purge_queue sent fewer than 2 scripts for {PURGE_N} values (is it chunked?)")
    assert out.error is not None, "a purge cut short must not report success"
    remaining = r.llen(queue(7))
    assert 0 < remaining < PURGE_N
    assert str(PURGE_N - remaining) in str(out.error), f"the error must say how many were removed: {out.error}"
    entry = _purge_entry(adm)
    undo_id = entry["id"]
    undone = call(adm.undo, undo_id)
    assert undone.error is None, undone.error
    assert sorted(r.lrange(queue(7), 0, -1)) == sorted(original)
    reconcile(r, Reported(written=set(frame["guid"])), probe=probe)


def test_undo_lost_reply_restores_once(proxy: FaultProxy, r: redis.Redis, connect: Connect) -> None:
    adm = _admins(proxy, connect)
    probe = probe_id()
    frame = fill_queue(adm, probe, PURGE_N, nid=7)
    original = r.lrange(queue(7), 0, -1)
    purged = adm.purge_queue(queue(7))
    rule = proxy.add_rule(Rule("drop_reply", where=script_touching(queue(7))))
    out = call(adm.undo, purged.journal_id)
    assert rule.fired == 1
    assert out.error is None, f"the restore landed or was resolved; got {out.error!r}"
    assert r.lrange(queue(7), 0, -1) == original, "undo must restore every value exactly once, in order"
    second = call(adm.undo, purged.journal_id)  # refused, or a harmless no-op
    assert r.lrange(queue(7), 0, -1) == original, f"a second undo changed the queue ({second.error!r})"
    reconcile(r, Reported(written=set(frame["guid"])), probe=probe)


def test_cancel_jobs_late_request_is_fenced(proxy: FaultProxy, r: redis.Redis, connect: Connect) -> None:
    adm = _admins(proxy, connect)
    probe = probe_id()
    frame = fill_queue(adm, probe, 10, nid=7)
    original = r.lrange(queue(7), 0, -1)
    rule = proxy.add_rule(Rule("delay_request", where=script_touching(queue(7)), seconds=LATE))
    out = call(adm.cancel_jobs, list(frame["guid"][:3]))
    assert rule.fired == 1
    assert is_not_applied(out.error), f"expected WriteNotApplied, got {out.value if out.error is None else out.error!r}"
    _wait_delivered(rule)
    assert r.lrange(queue(7), 0, -1) == original, "the late removal ran after jsadmin said it was not applied"
    assert removed_by(adm, "cancel_jobs", queue(7)) == []
    reconcile(r, Reported(written=set(frame["guid"])), probe=probe)


def test_undo_late_request_then_undo_again_completes(proxy: FaultProxy, r: redis.Redis, connect: Connect) -> None:
    """A late undo chunk is fenced (deterministic write id undo:<entry>:<chunk>); running undo
    again must still be able to restore that chunk, exactly once."""
    adm = _admins(proxy, connect)
    probe = probe_id()
    frame = fill_queue(adm, probe, PURGE_N, nid=7)
    original = r.lrange(queue(7), 0, -1)
    purged = adm.purge_queue(queue(7))
    rule = proxy.add_rule(Rule("delay_request", where=script_touching(queue(7)), nth=2, seconds=LATE))
    first = call(adm.undo, purged.journal_id)
    assert rule.fired == 1
    assert first.error is not None, "an undo with a fenced chunk must not report success"
    _wait_delivered(rule)
    partial = r.llen(queue(7))
    assert 0 < partial < PURGE_N
    again = call(adm.undo, purged.journal_id)
    assert again.error is None, f"undo cannot resume after a fenced chunk: {again.error}"
    assert r.lrange(queue(7), 0, -1) == original, "every value restored exactly once, in order"
    reconcile(r, Reported(written=set(frame["guid"])), probe=probe)


def test_purge_cut_off_between_chunks_tells_the_caller(proxy: FaultProxy, r: redis.Redis, connect: Connect) -> None:
    """The network dies between two chunks (on the read of the next window, retries included):
    the caller must learn how many values were removed, and the journal must match Redis."""
    adm = _admins(proxy, connect)
    probe = probe_id()
    frame = fill_queue(adm, probe, PURGE_N, nid=7)
    original = r.lrange(queue(7), 0, -1)
    rule = proxy.add_rule(Rule("drop_reply", command=b"LRANGE", nth=2, times=50,
                               where=lambda a: a[1] == queue(7).encode()))
    out = call(adm.purge_queue, queue(7))
    proxy.clear_rules()
    assert rule.fired >= 1
    now = r.lrange(queue(7), 0, -1)
    removed = len(original) - len(now)
    assert 0 < removed < PURGE_N and now == original[removed:]
    assert [x["guid"] for x in removed_by(adm, "purge_queue", queue(7))] == [
        json.loads(v)["guid"] for v in original[:removed]
    ], "the journal must match what left Redis"
    assert isinstance(out.error, contract.WriteError), (
        f"purge_queue removed {removed} values, then failed with {out.error!r}: the caller is not told what landed"
    )
    assert str(removed) in str(out.error)
    undone = call(adm.undo, next(e["id"] for e in reversed(journal_entries(adm)) if e.get("helper") == "purge_queue"))
    assert undone.error is None, undone.error
    assert r.lrange(queue(7), 0, -1) == original
    reconcile(r, Reported(written=set(frame["guid"])), probe=probe)


def _is_fence(args: Sequence[bytes]) -> bool:
    return args[0].upper() in (b"EVALSHA", b"EVAL") and args[2:3] == [b"1"] and args[3].startswith(b"jsadmin:write:")


def test_lost_reply_of_the_fence_itself_is_retried(proxy: FaultProxy, r: redis.Redis, connect: Connect) -> None:
    """The write's reply is lost, then the first fence's reply too: the fence is idempotent, so
    resolving retries it and the caller still gets the job, written once."""
    adm = _admins(proxy, connect)
    _warm(adm)
    probe = probe_id()
    write = proxy.add_rule(Rule("drop_reply", where=script_touching(queue(7))))
    fence = proxy.add_rule(Rule("drop_reply", where=_is_fence))
    out = call(_one_job, adm, probe)
    assert write.fired == 1 and fence.fired == 1 and fence.seen >= 2, (write, fence)
    assert out.error is None, f"the write landed; expected the job, got {out.error!r}"
    assert write.seen == 1
    reconcile(r, out.reported(), probe=probe, no_burned_ids=[GID])


def test_enqueue_jobs_lost_script_load_sends_nothing(proxy: FaultProxy, r: redis.Redis, connect: Connect) -> None:
    adm = _admins(proxy, connect)
    _warm(adm)
    probe = probe_id()
    rule = proxy.add_rule(Rule("drop_reply", command=b"SCRIPT"))
    out = call(adm.enqueue_jobs, job_specs(probe, 500), batch_size=100)
    assert rule.fired == 1
    assert isinstance(out.error, (contract.WriteNotApplied, contract.PartialWriteError)), repr(out.error)
    rep = out.reported()
    assert not rep.written and not rep.unknown
    reconcile(r, rep, probe=probe, no_burned_ids=[GID])


def test_register_jumpscript_late_request_is_fenced(proxy: FaultProxy, r: redis.Redis, connect: Connect) -> None:
    adm = _admins(proxy, connect)
    before = snapshot(r)
    rule = proxy.add_rule(Rule("delay_request", where=script_touching("workers:jumpscripts:name"), seconds=LATE))
    out = call(adm.register_jumpscript, "faults", "late", SRC1, descr="greets", gid=GID)
    assert rule.fired == 1
    assert is_not_applied(out.error), f"expected WriteNotApplied, got {out.value if out.error is None else out.error!r}"
    _wait_delivered(rule)
    assert snapshot(r) == before, "the late register ran after jsadmin said it was not applied"


def test_delete_jobs_lost_reply_journals_what_was_removed(proxy: FaultProxy, r: redis.Redis, connect: Connect) -> None:
    adm = _admins(proxy, connect)
    probe = probe_id()
    frame = fill_queue(adm, probe, 10, nid=7)
    chosen = list(frame["guid"][:4])
    hashed = {g: r.hget("jobs:1", g) for g in chosen}
    rule = proxy.add_rule(Rule("drop_reply", where=script_touching("jobs:1")))
    out = call(adm.delete_jobs, chosen)
    assert rule.fired == 1 and rule.seen == 1, f"the removal script was sent {rule.seen} times"
    assert out.error is None, f"the removal landed; expected its result, got {out.error!r}"
    assert all(r.hget("jobs:1", g) is None for g in chosen)
    assert sorted(x["guid"] for x in removed_by(adm, "delete_jobs")) == sorted(chosen)
    undone = call(adm.undo, out.value.journal_id)
    assert undone.error is None, undone.error
    assert {g: r.hget("jobs:1", g) for g in chosen} == hashed
    reconcile(r, Reported(written=set(frame["guid"])), probe=probe)


def test_requeue_jobs_lost_reply_clones_once(proxy: FaultProxy, r: redis.Redis, connect: Connect) -> None:
    adm = _admins(proxy, connect)
    probe = probe_id()
    frame = fill_queue(adm, probe, 30, nid=7)
    rule = proxy.add_rule(Rule("drop_reply", where=script_touching(queue(8))))
    out = call(adm.requeue_jobs, list(frame["guid"][:10]), nid=8, states=None)
    assert rule.fired == 1 and rule.seen == 1, f"the clone batch was sent {rule.seen} times"
    assert out.error is None, f"the clones landed; expected the frame, got {out.error!r}"
    assert r.llen(queue(8)) == 10, "each job cloned exactly once"
    check_enqueue_journal(adm, out.value.frame)
    reconcile(r, Reported(written=set(frame["guid"]) | set(out.value.frame["guid"])), probe=probe, no_burned_ids=[GID])
