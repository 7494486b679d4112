"""SIGKILL with AOF (``appendfsync always``) and a restart, in the middle of long writes.

What jsadmin reports (return value, PartialWriteError frame, write_status of unknown write
ids) must equal what Redis holds after the restart. The kill is placed deterministically:
the proxy holds the reply of an early batch (so some batches ran but their replies are in
flight) and holds a later request (so the rest never reaches the server); the test kills
the server once every batch before the held request has run.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import pandas as pd
import pytest
from redis_servers import child_process

from jsadmin.admin import Admin
from jsadmin.writes import scripts

from . import contract, workers
from .helpers import (
    GID,
    call,
    in_thread,
    job_specs,
    probe_id,
    queue,
    script_touching,
    wait_until,
    warm_scripts,
)
from .proxy import FaultProxy, Rule
from .reconcile import Reported, check_enqueue_journal, journal_entries, reconcile, removed_by
from .servers import FaultServer

Connect = Callable[..., Admin]
N, BATCH = 20_000, 500  # 40 batches
HELD_REPLY, HELD_REQUEST = 5, 10  # replies from batch 5 on are late; batches 10.. never arrive


def _kill_mid_enqueue(server: FaultServer, proxy: FaultProxy, adm: Admin, probe: str) -> tuple:
    proxy.add_rule(Rule("delay_reply", where=script_touching(queue(7)), nth=HELD_REPLY, seconds=30))
    held = proxy.add_rule(Rule("delay_request", where=script_touching(queue(7)), nth=HELD_REQUEST, seconds=60))
    thread, box = in_thread(adm.enqueue_jobs, job_specs(probe, N), batch_size=BATCH)
    direct = server.client()
    wait_until(lambda: held.fired and int(direct.hget("jobs:last", str(GID)) or 0) >= (HELD_REQUEST - 1) * BATCH,
               timeout=60, what="batches 1-9 to run")
    server.kill()
    return thread, box


def _assert_journal_has(adm: Admin, frame: pd.DataFrame) -> None:
    check_enqueue_journal(adm, frame)


@pytest.mark.slow
def test_kill_mid_enqueue_jobs_restart_within_resolve_window(
    aof_server: FaultServer, aof_proxy: FaultProxy, connect: Connect
) -> None:
    adm = connect(aof_proxy.url, socket_timeout=1.0)
    warm_scripts(adm.redis)
    probe = probe_id()
    thread, box = _kill_mid_enqueue(aof_server, aof_proxy, adm, probe)
    time.sleep(1.0)
    aof_server.restart()  # the transport is still trying to resolve: it reaches the new server
    thread.join(60)
    assert box, "enqueue_jobs did not return"
    out = box[0]
    assert isinstance(out.error, contract.PartialWriteError), f"expected PartialWriteError, got {out.error!r}"
    rep = out.reported()
    assert not rep.unknown, "the server came back within the resolve window: nothing may stay unknown"
    assert len(rep.written) == (HELD_REQUEST - 1) * BATCH, "batches 1-9 ran, the rest never reached the server"
    assert f"wrote {len(rep.written)} of {N} jobs; {N - len(rep.written)} not written; 0 unknown" in str(out.error)
    assert out.frame is not None
    _assert_journal_has(adm, out.frame)
    reconcile(aof_server.client(), rep, probe=probe, no_burned_ids=[GID])


@pytest.mark.slow
def test_kill_mid_enqueue_jobs_unknown_then_write_status(
    aof_server: FaultServer, aof_proxy: FaultProxy, connect: Connect, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the server stays down longer than the resolve window (shortened from 10 s to keep CI fast)
    monkeypatch.setattr(scripts, "RESOLVE_TIMEOUT", 2.0)
    adm = connect(aof_proxy.url, socket_timeout=1.0)
    warm_scripts(adm.redis)
    probe = probe_id()
    thread, box = _kill_mid_enqueue(aof_server, aof_proxy, adm, probe)
    thread.join(60)  # the server stays down past the resolve window
    assert box, "enqueue_jobs did not return"
    out = box[0]
    assert isinstance(out.error, contract.PartialWriteError), f"expected PartialWriteError, got {out.error!r}"
    frame = out.frame
    assert frame is not None
    rep = out.reported()  # which replies were read before the kill depends on socket buffers
    assert len(rep.written) + len(rep.not_written) + len(rep.unknown) == N
    assert rep.unknown and len(rep.written) <= (HELD_REQUEST - 1) * BATCH
    assert (f"wrote {len(rep.written)} of {N} jobs; {len(rep.not_written)} not written; "
            f"{len(rep.unknown)} unknown") in str(out.error)
    assert frame["write_id"].notna().all()
    _assert_journal_has(adm, frame)
    aof_server.restart()
    settled = Reported(written=set(rep.written))
    unknown = frame[frame["written"].isna()]
    for wid, rows in unknown.groupby("write_id"):
        status = adm.write_status(str(wid))
        target = settled.written if status["applied"] else settled.not_written
        target.update(rows["guid"].astype(str))
    assert len(settled.written) == (HELD_REQUEST - 1) * BATCH
    reconcile(aof_server.client(), settled, probe=probe, no_burned_ids=[GID])
    again = adm.write_status(str(unknown["write_id"].iloc[0]))  # settling twice gives the same answer
    assert again["applied"] is True


# -- long purge / undo ---------------------------------------------------------------------------
PURGE_N = 20_000


def _filled(adm: Admin, probe: str) -> list[bytes]:
    adm.enqueue_jobs(job_specs(probe, PURGE_N), batch_size=5000)
    return adm.redis.lrange(queue(7), 0, -1)


def _kill_when_held(server: FaultServer, held: Rule, key: str) -> None:
    direct = server.client()
    wait_until(lambda: held.fired, timeout=60, what="the held chunk")
    last = -1
    while (n := direct.llen(key)) != last:  # chunks before the held one have run
        last = n
        time.sleep(0.2)
    server.kill()


@pytest.mark.slow
def test_kill_mid_purge_then_undo_restores_exactly(
    aof_server: FaultServer, aof_proxy: FaultProxy, connect: Connect
) -> None:
    adm = connect(aof_proxy.url, socket_timeout=1.0)
    warm_scripts(adm.redis)
    probe = probe_id()
    original = _filled(adm, probe)
    held = aof_proxy.add_rule(Rule("delay_request", where=script_touching(queue(7)), nth=5, seconds=60))
    thread, box = in_thread(adm.purge_queue, queue(7))
    _kill_when_held(aof_server, held, queue(7))
    time.sleep(0.5)
    aof_server.restart()
    thread.join(60)
    assert box and box[0].error is not None, f"a purge cut by a crash must not report success: {box}"
    direct = aof_server.client()
    remaining = direct.lrange(queue(7), 0, -1)
    assert 0 < len(remaining) < PURGE_N
    assert remaining == original[PURGE_N - len(remaining):], "a purge removes from the head, whole chunks"
    removed = PURGE_N - len(remaining)
    assert str(removed) in str(box[0].error), f"the error must say how many values were removed: {box[0].error}"
    entry = next(e for e in reversed(journal_entries(adm)) if e.get("helper") == "purge_queue")
    undone = call(adm.undo, entry["id"])
    assert undone.error is None, undone.error
    assert direct.lrange(queue(7), 0, -1) == original, "undo after the crash restores every value once, in order"



@pytest.mark.slow
def test_kill_mid_purge_server_down_past_resolve_then_undo_settles(
    aof_server: FaultServer, aof_proxy: FaultProxy, connect: Connect, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The chunk in flight at the kill stays unknown (the server is down longer than the
    resolve window); once the server is back, undo settles it through its marker and restores
    exactly what left Redis."""
    monkeypatch.setattr(scripts, "RESOLVE_TIMEOUT", 1.5)
    adm = connect(aof_proxy.url, socket_timeout=1.0)
    warm_scripts(adm.redis)
    probe = probe_id()
    original = _filled(adm, probe)
    # chunk 5 runs on the server but its reply is held; chunk 6 would never arrive
    held = aof_proxy.add_rule(Rule("delay_reply", where=script_touching(queue(7)), nth=5, seconds=60))
    thread, box = in_thread(adm.purge_queue, queue(7))
    _kill_when_held(aof_server, held, queue(7))
    thread.join(60)
    assert box and isinstance(box[0].error, contract.PartialWriteError), f"expected PartialWriteError: {box}"
    assert "unknown" in str(box[0].error)
    aof_server.restart()
    direct = aof_server.client()
    remaining = direct.lrange(queue(7), 0, -1)
    assert remaining == original[PURGE_N - len(remaining):]
    undone = call(adm.undo, box[0].error.result.journal_id)  # type: ignore[union-attr]
    assert undone.error is None, undone.error
    assert direct.lrange(queue(7), 0, -1) == original, "the unknown chunk (it ran) must be restored too, once"

@pytest.mark.slow
def test_kill_mid_undo_then_undo_again_restores_once(
    aof_server: FaultServer, aof_proxy: FaultProxy, connect: Connect
) -> None:
    adm = connect(aof_proxy.url, socket_timeout=1.0)
    warm_scripts(adm.redis)
    probe = probe_id()
    original = _filled(adm, probe)
    purged = adm.purge_queue(queue(7))
    held = aof_proxy.add_rule(Rule("delay_request", where=script_touching(queue(7)), nth=5, seconds=60))
    thread, box = in_thread(adm.undo, purged.journal_id)
    _kill_when_held(aof_server, held, queue(7))
    time.sleep(0.5)
    aof_server.restart()
    thread.join(60)
    assert box and box[0].error is not None, f"an undo cut by a crash must not report success: {box}"
    direct = aof_server.client()
    partial = direct.llen(queue(7))
    assert 0 < partial < PURGE_N
    again = call(adm.undo, purged.journal_id)  # resume: the chunks that ran are not redone
    assert again.error is None, again.error
    assert direct.lrange(queue(7), 0, -1) == original, "every value restored exactly once, in order"
    reconcile(direct, Reported(written=set()), probe=None)


# -- the client process dies (SIGKILL) mid-write: the journal still tells the whole story -------
@pytest.mark.slow
def test_client_killed_mid_enqueue_jobs_plan_tells_what_landed(
    server: FaultServer, proxy: FaultProxy, connect: Connect
) -> None:
    adm = connect(proxy.url)
    warm_scripts(adm.redis)
    probe = probe_id()
    n, batch = 6000, 500
    proxy.add_rule(Rule("delay_reply", where=script_touching(queue(7)), nth=3, seconds=60))
    held = proxy.add_rule(Rule("delay_request", where=script_touching(queue(7)), nth=6, seconds=60))
    victim = child_process(workers.enqueue_then_hang, proxy.url, probe, n, 7, batch)
    direct = server.client()
    try:
        wait_until(lambda: held.fired and int(direct.hget("jobs:last", str(GID)) or 0) >= 5 * batch,
                   timeout=60, what="batches 1-5 to run")
    finally:
        victim.kill()
        victim.join(10)
    plan = [e for e in journal_entries(adm) if e.get("helper") == "enqueue_jobs.plan"]
    assert len(plan) == 1, "the plan must be journalled before anything is sent"
    batches = plan[0]["result"]["batches"]
    assert sum(b["count"] for b in batches) == n
    landed = 0
    for b in batches:  # the dead process never learnt these; write_status settles each
        status = adm.write_status(b["write_id"])
        landed += b["count"] if status["applied"] else 0
    state = reconcile(direct, Reported(), probe=None, no_burned_ids=[GID])
    mine = state.with_probe(probe)
    assert len(mine) == landed == 5 * batch, (len(mine), landed)


@pytest.mark.slow
def test_client_killed_mid_purge_undo_restores_everything(
    server: FaultServer, proxy: FaultProxy, connect: Connect
) -> None:
    adm = connect(proxy.url)
    warm_scripts(adm.redis)
    probe = probe_id()
    frame = adm.enqueue_jobs(job_specs(probe, 5000), batch_size=5000)
    direct = server.client()
    original = direct.lrange(queue(7), 0, -1)
    held = proxy.add_rule(Rule("delay_reply", where=script_touching(queue(7)), nth=3, seconds=60))
    victim = child_process(workers.purge_victim, proxy.url, queue(7))
    try:
        wait_until(lambda: held.fired and direct.llen(queue(7)) <= 5000 - 3 * 1000, timeout=60,
                   what="chunk 3 to run (its reply held)")
    finally:
        victim.kill()
        victim.join(10)
    entry = next(e for e in journal_entries(adm) if e.get("helper") == "purge_queue")
    assert entry.get("status") == "intent", "a purge whose process died stays an open intent in the journal"
    undone = call(adm.undo, entry["id"])
    assert undone.error is None, undone.error
    assert direct.lrange(queue(7), 0, -1) == original, "undo restores the chunk whose reply the dead process never read"
    reconcile(direct, Reported(written=set(frame["guid"])), probe=probe)


@pytest.mark.slow
def test_kill_mid_cancel_then_undo_restores_exactly(
    aof_server: FaultServer, aof_proxy: FaultProxy, connect: Connect
) -> None:
    adm = connect(aof_proxy.url, socket_timeout=1.0)
    warm_scripts(adm.redis)
    probe = probe_id()
    frame = adm.enqueue_jobs(job_specs(probe, 3000), batch_size=3000)
    direct = aof_server.client()
    original_queue = direct.lrange(queue(7), 0, -1)
    original_hash = direct.hgetall("jobs:1")
    held = aof_proxy.add_rule(Rule("delay_request", where=script_touching(queue(7)), nth=3, seconds=60))
    thread, box = in_thread(adm.cancel_jobs, list(frame["guid"]))
    _kill_when_held(aof_server, held, queue(7))
    time.sleep(0.5)
    aof_server.restart()
    thread.join(60)
    assert box and isinstance(box[0].error, contract.PartialWriteError), f"expected PartialWriteError: {box}"
    res = box[0].error.result.frame  # type: ignore[union-attr]
    direct = aof_server.client()
    left = direct.lrange(queue(7), 0, -1)
    queued = {json.loads(v)["guid"] for v in left}
    gone = {g for g in frame["guid"] if g not in queued}
    reported = set(res.loc[(res["type"] == "list") & res["removed"].fillna(False).astype(bool), "guid"])
    assert reported == gone, f"reported removed {len(reported)}, Redis lost {len(gone)}"
    assert {x["guid"] for x in removed_by(adm, "cancel_jobs", queue(7))} == gone
    undone = call(adm.undo, box[0].error.result)  # type: ignore[union-attr]
    assert undone.error is None, undone.error
    assert sorted(direct.lrange(queue(7), 0, -1)) == sorted(original_queue)
    assert direct.hgetall("jobs:1") == original_hash
    reconcile(direct, Reported(written=set(frame["guid"])), probe=probe)
