"""``maxmemory`` + ``noeviction``: writes that hit OOM part-way fail whole, and say so.

No half-written job (a hash entry without its queue entry or the reverse), no id burned
beyond the jobs that exist, and the report (frame / error) matches Redis.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from jsadmin.admin import Admin
from jsadmin.writes import scripts

from . import contract
from .helpers import (
    GID,
    call,
    fill_queue,
    is_not_applied,
    job_specs,
    probe_id,
    queue,
    script_touching,
    warm_scripts,
)
from .proxy import FaultProxy, Rule
from .reconcile import Reported, check_enqueue_journal, reconcile, removed_by, snapshot
from .servers import FaultServer

Connect = Callable[..., Admin]


def _admin(server: FaultServer, connect: Connect) -> Admin:
    adm = connect(server.url, socket_timeout=10)
    warm_scripts(adm.redis)
    adm.enqueue_job(GID, nid=999, category="jumpscale", cmd="warmup", args={"probe": "warmup"})
    return adm


def test_enqueue_jobs_hitting_oom_writes_whole_batches_and_reports_them(server: FaultServer, connect: Connect) -> None:
    adm = _admin(server, connect)
    probe = probe_id()
    server.set_maxmemory(server.used_memory() + 1_500_000)
    n, batch = 4000, 100  # ~1.3 KB per job stored twice: OOM after roughly a quarter
    out = call(adm.enqueue_jobs, job_specs(probe, n, pad=500), batch_size=batch)
    assert isinstance(out.error, contract.PartialWriteError), f"expected PartialWriteError, got {out.error or 'success'!r}"
    rep = out.reported()
    assert 0 < len(rep.written) < n, "the OOM must land part-way for this case to mean anything"
    assert len(rep.written) % batch == 0 and len(rep.not_written) == n - len(rep.written) and not rep.unknown
    assert "maxmemory" in str(out.error) or "OOM" in str(out.error)
    assert out.frame is not None
    check_enqueue_journal(adm, out.frame)
    client = server.client()
    server.clear_maxmemory()
    reconcile(client, rep, probe=probe, no_burned_ids=[GID])


def test_enqueue_job_under_oom_is_not_applied(server: FaultServer, connect: Connect) -> None:
    adm = _admin(server, connect)
    client = server.client()
    before = snapshot(client)
    server.set_maxmemory(server.used_memory() // 2)
    out = call(adm.enqueue_job, GID, nid=7, category="jumpscale", cmd="echo", args={"probe": "oom", "pad": "x" * 5000})
    server.clear_maxmemory()
    assert is_not_applied(out.error), f"expected WriteNotApplied, got {out.value or out.error!r}"
    assert snapshot(client) == before, "an OOM-refused enqueue changed Redis (orphan job or burned id)"


def test_register_jumpscript_under_oom_is_not_applied(server: FaultServer, connect: Connect) -> None:
    adm = _admin(server, connect)
    client = server.client()
    before = snapshot(client)
    server.set_maxmemory(server.used_memory() // 2)
    out = call(adm.register_jumpscript, "faults", "oom", 'descr = "x"\ndef action():\n    pass\n',
               descr="x", gid=GID)
    server.clear_maxmemory()
    assert isinstance(out.error, contract.WriteError), f"expected a WriteError, got {out.value or out.error!r}"
    assert snapshot(client) == before


def test_undo_under_oom_fails_whole_then_completes_once(server: FaultServer, connect: Connect) -> None:
    adm = _admin(server, connect)
    probe = probe_id()
    frame = fill_queue(adm, probe, 3000, nid=7)
    client = server.client()
    original = client.lrange(queue(7), 0, -1)
    purged = adm.purge_queue(queue(7))
    assert client.llen(queue(7)) == 0
    server.set_maxmemory(server.used_memory() + 200_000)  # room for a part of what undo restores
    first = call(adm.undo, purged.journal_id)
    server.clear_maxmemory()
    restored = client.lrange(queue(7), 0, -1)
    if first.error is None:
        assert restored == original
    else:
        assert len(restored) < len(original)
        back = set(restored)  # whatever was restored is whole and in order
        assert back <= set(original)
        assert restored == [v for v in original if v in back]
        again = call(adm.undo, purged.journal_id)
        assert again.error is None, again.error
    assert client.lrange(queue(7), 0, -1) == original, "after the OOM, undo restores every value once, in order"
    reconcile(client, Reported(written=set(frame["guid"])), probe=probe)


@pytest.mark.parametrize("helper", ["cancel_jobs", "purge_queue"])
def test_destructive_write_under_oom_keeps_journal_and_redis_in_step(
    server: FaultServer, connect: Connect, helper: str
) -> None:
    adm = _admin(server, connect)
    probe = probe_id()
    frame = fill_queue(adm, probe, 500, nid=7)
    client = server.client()
    original = client.lrange(queue(7), 0, -1)
    server.set_maxmemory(server.used_memory() // 2)
    if helper == "cancel_jobs":
        out = call(adm.cancel_jobs, list(frame["guid"][:100]))
    else:
        out = call(adm.purge_queue, queue(7))
    server.clear_maxmemory()
    now = client.lrange(queue(7), 0, -1)
    still = set(now)
    gone = [v for v in original if v not in still]
    journalled = removed_by(adm, helper, queue(7))
    if out.error is None:
        assert gone, "reported success but nothing was removed"
    assert {json.loads(v)["guid"] for v in gone} <= {r.get("guid") for r in journalled}, (
        "values removed from Redis must be in the journal"
    )


def test_lost_request_while_oom_is_unknown_until_memory_frees(
    server: FaultServer, connect: Connect, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fence must SET a marker; under OOM it cannot, so jsadmin may not claim "not applied".
    It reports unknown, and write_status settles it once memory is free."""
    monkeypatch.setattr(scripts, "RESOLVE_TIMEOUT", 1.5)
    with FaultProxy(server.port) as proxy:
        adm = connect(proxy.url, socket_timeout=2)
        warm_scripts(adm.redis)
        adm.enqueue_job(GID, nid=999, category="jumpscale", cmd="warmup", args={"probe": "warmup"})
        client = server.client()
        before = snapshot(client)
        proxy.add_rule(Rule("drop_request", where=script_touching(queue(7))))
        server.set_maxmemory(server.used_memory() // 2)
        out = call(adm.enqueue_job, GID, nid=7, category="jumpscale", cmd="echo", args={"probe": "oom-lost"})
        assert isinstance(out.error, contract.WriteOutcomeUnknown), (
            f"the fence could not be stored under OOM: expected WriteOutcomeUnknown, got {out.value or out.error!r}"
        )
        server.clear_maxmemory()
        status = adm.write_status(out.error.write_id)  # type: ignore[attr-defined]
        assert status["applied"] is False
        assert snapshot(client) == before
