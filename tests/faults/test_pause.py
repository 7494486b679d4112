"""``CLIENT PAUSE`` during writes (Redis >= 3.0): a write blocked past its socket timeout is
resolved, never re-sent; whatever jsadmin reports is what Redis holds once the pause ends."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from jsadmin.admin import Admin

from . import contract
from .helpers import (
    GID,
    call,
    in_thread,
    is_not_applied,
    is_unknown,
    job_specs,
    probe_id,
    warm_scripts,
)
from .reconcile import Reported, reconcile
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
