"""wait_job: a blocking peek on queues:jobqueue:<guid> that never consumes the result."""

from __future__ import annotations

import json
import threading
import time

import pandas as pd
import pytest
import redis

from jsadmin.compat import server_info
from jsadmin.errors import JobTimeoutError, WriteValidationError

from .conftest import _A

GUID = "9f1c2a7b3e4d4f0a8b6c5d4e3f2a1b0c"


def _final(state: str = "OK", **extra) -> bytes:
    job = {"id": 7, "guid": GUID, "gid": 1, "nid": 5, "state": state, "result": "hi", "resultcode": 0,
           "timeStart": 1539600003.5212841034, "timeStop": 1539600004, "achost": "10.0.0.1", **extra}
    return json.dumps(job, separators=(",", ":")).replace("/", "\\/").encode()


def test_returns_pushed_result_without_consuming(adm: _A, r: redis.Redis) -> None:
    key = f"queues:jobqueue:{GUID}"
    r.rpush(key, _final())
    r.expire(key, 60)
    job = adm.wait_job(GUID, 2)
    assert job["state"] == "OK" and job["result"] == "hi" and job["timeStart"] == pd.Timestamp(1539600003.5212841034, unit="s", tz="UTC").round("us")
    assert r.lrange(key, 0, -1) == [_final()]
    assert 0 < r.ttl(key) <= 60  # the TTL of the AC is left alone


def test_peek_keeps_order_of_several_elements(adm: _A, r: redis.Redis) -> None:
    key = f"queues:jobqueue:{GUID}"
    values = [_final("OK", n=i) for i in range(3)]
    r.rpush(key, *values)
    assert adm.wait_job(GUID, 1)["n"] == 0
    assert adm.wait_job(GUID, 1)["n"] == 0
    assert r.lrange(key, 0, -1) == values


def test_blocks_until_the_result_arrives(adm: _A, r: redis.Redis) -> None:
    key = f"queues:jobqueue:{GUID}"
    pusher = redis.Redis(protocol=2, connection_pool=r.connection_pool)
    timer = threading.Timer(0.3, lambda: pusher.rpush(key, _final("ERROR")))
    timer.start()
    try:
        job = adm.wait_job(GUID, 10)
    finally:
        timer.join()
    assert job["state"] == "ERROR" and r.llen(key) == 1


def test_times_out_clearly(adm: _A, r: redis.Redis) -> None:
    start = time.monotonic()
    with pytest.raises(JobTimeoutError, match=f"no result for job {GUID} on queues:jobqueue:{GUID} within 0.5s"):
        adm.wait_job(GUID, 0.5)
    assert time.monotonic() - start >= 0.45
    with pytest.raises(JobTimeoutError, match="wait=True"):
        adm.wait_job(GUID, 0)  # non-blocking LINDEX, like the AC with timeout 0
    assert r.dbsize() == 0


def test_bad_arguments(adm: _A) -> None:
    with pytest.raises(WriteValidationError):
        adm.wait_job("", 1)
    with pytest.raises(WriteValidationError):
        adm.wait_job(GUID, "soon")  # type: ignore[arg-type]


def test_enqueued_job_result_round_trip(adm: _A, r: redis.Redis) -> None:
    job = adm.enqueue_job(1, nid=5, category="jumpscale", cmd="echo", args={"msg": "hi"}, wait=True)
    # play the AC + worker (spec §6.2-§6.5) on the exact bytes
    raw = r.blpop(["queues:commands:queue:1:5"], 1)[1]
    done = json.loads(raw) | {"state": "OK", "result": "hi", "resultcode": 0}
    r.rpush(f"queues:jobqueue:{job['guid']}", json.dumps(done))
    r.hdel("jobs:1", job["guid"])
    got = adm.wait_job(job["guid"], 5)
    # epochs come back as UTC Timestamps like the frames (0 = not yet: NaT); the rest is the worker's JSON
    assert got["timeCreate"] == pd.Timestamp(done["timeCreate"], unit="s", tz="UTC")
    assert got["timeCreate"].tz is not None and str(got["timeCreate"].tz) == "UTC"
    assert got["timeStop"] is pd.NaT and done["timeStop"] == 0
    assert {k: v for k, v in got.items() if not k.startswith("time")} == {
        k: v for k, v in done.items() if not k.startswith("time")}


def test_wait_job_times_are_utc_timestamps_and_odd_times_are_kept(adm: _A, r: redis.Redis) -> None:
    stop = 1764490000.25
    r.rpush(f"queues:jobqueue:{GUID}", json.dumps({"guid": GUID, "state": "OK", "timeCreate": 1764489990,
                                                  "timeStart": "soon", "timeStop": stop}))
    job = adm.wait_job(GUID, 1)
    assert job["timeCreate"] == pd.Timestamp("2025-11-30 08:06:30", tz="UTC")
    assert job["timeStop"] == pd.Timestamp(stop, unit="s", tz="UTC")
    assert job["timeStart"] == "soon"  # not an epoch: kept as it was, never dropped


def test_blocking_command_fits_the_server_and_is_chosen_once(adm: _A, r: redis.Redis) -> None:
    """BLMOVE needs Redis 6.2: older servers get BRPOPLPUSH, decided from INFO once, never by
    sending BLMOVE and catching the error each slice."""
    sent: list[str] = []
    original = r.execute_command

    def spy(*args, **options):
        sent.append(str(args[0]).upper())
        return original(*args, **options)

    r.execute_command = spy  # type: ignore[method-assign]
    with pytest.raises(JobTimeoutError):
        adm.wait_job(GUID, 2.5)
    r.execute_command = original  # type: ignore[method-assign]
    if server_info(r).has("blmove"):
        assert sent.count("BLMOVE") >= 3 and "BRPOPLPUSH" not in sent
    else:
        assert "BLMOVE" not in sent and sent.count("BRPOPLPUSH") >= 2
    assert sent.count("INFO") <= 1 and r.dbsize() == 0
