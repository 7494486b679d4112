"""Small helpers shared by the fault cases: job specs with a probe, rule predicates, outcomes."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd
import redis

from jsadmin.writes.results import ManageResult
from jsadmin.writes.scripts import SCRIPTS

from . import contract
from .proxy import Args
from .reconcile import Reported, reported_from_frame

GID = 1


def probe_id() -> str:
    """A token put in every job's args so a test finds exactly its own jobs in Redis."""
    return uuid.uuid4().hex[:12]


def job_specs(probe: str, n: int, *, nid: int = 7, gid: int = GID, pad: int = 0) -> list[dict[str, Any]]:
    """``n`` enqueue_jobs rows to one node queue, args ``{"probe", "i"}`` (+ ``pad`` bytes)."""
    extra = {"pad": "x" * pad} if pad else {}
    return [
        {"gid": gid, "nid": nid, "category": "jumpscale", "cmd": "echo", "args": {"probe": probe, "i": i, **extra}}
        for i in range(n)
    ]


def queue(nid: int | str, gid: int = GID) -> str:
    return f"queues:commands:queue:{gid}:{nid}"


def script_touching(key: str) -> Callable[[Args], bool]:
    """Rule predicate: an EVALSHA/EVAL whose KEYS include ``key`` (a fence, with only its
    marker key, never matches)."""
    needle = key.encode()

    def where(args: Args) -> bool:
        if args[0].upper() not in (b"EVALSHA", b"EVAL") or len(args) < 3:
            return False
        try:
            n = int(args[2])
        except ValueError:
            return False
        return needle in args[3 : 3 + n]

    return where


@dataclass
class Outcome:
    """What a write call returned or raised."""

    value: Any = None
    error: BaseException | None = None
    seconds: float = 0.0

    @property
    def frame(self) -> pd.DataFrame | None:
        """The per-job frame: the return value, or ``PartialWriteError.result`` (the frame of a
        ``ManageResult`` for the management helpers)."""
        result = self.value if self.error is None else getattr(self.error, "result", None)
        if isinstance(result, ManageResult):
            return result.frame
        return result if isinstance(result, pd.DataFrame) else None

    def reported(self) -> Reported:
        """The per-job report (guids): written / not written / unknown."""
        frame = self.frame
        if frame is not None:
            return reported_from_frame(frame)
        if isinstance(self.value, dict) and "guid" in self.value:
            return Reported(written={self.value["guid"]})
        return Reported()


def call(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Outcome:
    """Run a write helper; any exception is captured (the tests judge it)."""
    t0 = time.monotonic()
    try:
        return Outcome(fn(*args, **kwargs), None, time.monotonic() - t0)
    except Exception as exc:
        return Outcome(None, exc, time.monotonic() - t0)


def in_thread(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[threading.Thread, list[Outcome]]:
    """Start ``call(fn, ...)`` in a thread; the outcome lands in the returned list."""
    box: list[Outcome] = []
    t = threading.Thread(target=lambda: box.append(call(fn, *args, **kwargs)), daemon=True)
    t.start()
    return t, box


def wait_until(cond: Callable[[], Any], timeout: float = 20.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = cond()
        if got:
            return got
        time.sleep(0.005)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def is_not_applied(exc: BaseException | None) -> bool:
    return isinstance(exc, contract.WriteNotApplied)


def is_unknown(exc: BaseException | None) -> bool:
    return isinstance(exc, contract.WriteOutcomeUnknown)


def fill_queue(adm: Any, probe: str, n: int, nid: int) -> pd.DataFrame:
    """Queue ``n`` probe jobs on ``nid`` (healthy path) and return the enqueue frame."""
    frame = adm.enqueue_jobs(job_specs(probe, n, nid=nid), batch_size=1000)
    assert isinstance(frame, pd.DataFrame) and len(frame) == n
    return frame


def marker_values(client: redis.Redis) -> dict[str, bytes]:
    return {k.decode(): client.get(k) or b"" for k in client.scan_iter(match="jsadmin:write:*", count=1000)}


def warm_scripts(client: redis.Redis) -> int:
    """SCRIPT LOAD every write script, so no fault lands on a NOSCRIPT round trip (which runs
    nothing) instead of the write itself. Returns how many were loaded."""
    n = 0
    for script in SCRIPTS.values():
        client.script_load(script.source)
        n += 1
    return n
