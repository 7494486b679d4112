"""``CLIENT PAUSE`` during writes (Redis >= 3.0): a write blocked past its socket timeout is
resolved, never re-sent; whatever jsadmin reports is what Redis holds once the pause ends."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from jsadmin.admin import Admin

from . import contract
from .helpers import (
    GID,
    call,
    fill_queue,
    in_thread,
    is_not_applied,
    is_unknown,
    job_specs,
    probe_id,
    queue,
    warm_scripts,
)
from .reconcile import Reported, journal_entries, reconcile, removed_by
from .servers import FaultServer

Connect = Callable[..., Admin]


@pytest.fixture()
def pausable(server: FaultServer) -> FaultServer:
    if not server.has_client_pause():
        pytest.skip(f"CLIENT PAUSE needs Redis >= 3.0; this server is {'.'.join(map(str, server.version))}")
    return server


def _admin(server: FaultServer, connect: Connect, timeout: float) -> Admin:
    adm = connect(server.url, socket_timeout=timeout)
    warm_scripts(adm.redis)
    adm.enqueue_job(GID, nid=999, category="jumpscale", cmd="warmup", args={"probe": "warmup"})
    return adm


def test_enqueue_job_paused_past_its_timeout(pausable: FaultServer, connect: Connect) -> None:
    adm = _admin(pausable, connect, timeout=0.5)
    probe = probe_id()
    pausable.pause(2000)
    out = call(adm.enqueue_job, GID, nid=7, category="jumpscale", cmd="echo", args={"probe": probe})
    assert out.seconds > 1.0, "the pause did not block the write"
    reported = Reported()
    if out.error is None:
        reported.written.add(out.value["guid"])
    elif is_unknown(out.error):
        status = adm.write_status(out.error.write_id)  # type: ignore[attr-defined]
        assert status["applied"] is False or status["result"], status
        pytest.fail(f"the pause ended within the resolve window; unknown is not acceptable: {out.error}")
    else:
        assert is_not_applied(out.error), f"unexpected outcome {out.error!r}"
    reconcile(pausable.client(), reported, probe=probe, no_burned_ids=[GID])


def test_enqueue_jobs_paused_mid_stream(pausable: FaultServer, connect: Connect) -> None:
    adm = _admin(pausable, connect, timeout=0.5)
    probe = probe_id()
    n = 6000
    pauser = pausable.pause_soon(0.05, 1500)
    thread, box = in_thread(adm.enqueue_jobs, job_specs(probe, n, pad=200), batch_size=200)
    thread.join(60)
    pauser.join(5)
    out = box[0]
    assert out.error is None or isinstance(out.error, contract.PartialWriteError), repr(out.error)
    rep = out.reported()
    assert len(rep.written) + len(rep.not_written) == n and not rep.unknown
    reconcile(pausable.client(), rep, probe=probe, no_burned_ids=[GID])


def test_short_pause_only_delays_the_write(pausable: FaultServer, connect: Connect) -> None:
    adm = _admin(pausable, connect, timeout=3.0)
    probe = probe_id()
    pausable.pause(400)
    out = call(adm.enqueue_job, GID, nid=7, category="jumpscale", cmd="echo", args={"probe": probe})
    assert out.error is None and out.seconds > 0.3, (out.error, out.seconds)
    reconcile(pausable.client(), out.reported(), probe=probe, no_burned_ids=[GID])


def test_purge_paused_mid_way_journal_matches_and_undo_restores(pausable: FaultServer, connect: Connect) -> None:
    adm = _admin(pausable, connect, timeout=0.5)
    probe = probe_id()
    frame = fill_queue(adm, probe, 5000, nid=7)
    client = pausable.client()
    original = client.lrange(queue(7), 0, -1)
    pauser = pausable.pause_soon(0.02, 1500)
    out = call(adm.purge_queue, queue(7))
    pauser.join(5)
    now = client.lrange(queue(7), 0, -1)
    assert now == original[len(original) - len(now):], "a purge removes whole chunks from the head"
    journalled = removed_by(adm, "purge_queue", queue(7))
    assert [r["guid"] for r in journalled] == [json.loads(v)["guid"] for v in original[: len(original) - len(now)]], (
        f"the journal's applied chunks must be exactly what left Redis ({out.error!r})"
    )
    if out.error is None:
        assert now == []
    # (a read between chunks may time out too: test_lost_reply checks the caller is then told)
    entry = next(e["id"] for e in reversed(journal_entries(adm)) if e.get("helper") == "purge_queue")
    undone = call(adm.undo, entry)
    assert undone.error is None, undone.error
    assert client.lrange(queue(7), 0, -1) == original
    reconcile(client, Reported(written=set(frame["guid"])), probe=probe)
