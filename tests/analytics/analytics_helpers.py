"""Helpers of the analytics tests: job copies in the byte forms of the spec, and a read-only
proof from the server's own ``INFO commandstats``."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import redis
from redis_servers import commandstats

from jsadmin import keys
from jsadmin.admin import Admin, connect
from jsadmin.analytics.api import AnalyticsMixin


def admin_class() -> type:
    """``Admin`` plus whichever of the analytics/write mixins the lead has not mixed in yet."""
    bases: list[type] = []
    if not issubclass(Admin, AnalyticsMixin):
        bases.append(AnalyticsMixin)
    try:
        from jsadmin.writes.api import WritesMixin
    except ImportError:  # pragma: no cover - the writes package is owned by another engineer
        WritesMixin = None
    if WritesMixin is not None and not issubclass(Admin, WritesMixin):
        bases.append(WritesMixin)
    if not bases:
        return Admin
    return type("AnalyticsTestAdmin", (*bases, Admin), {})


def open_admin(url: str, *, readonly: bool = False) -> Admin:
    base = connect(url, readonly=readonly)
    cls = admin_class()
    if cls is Admin:
        return base
    return cls(base.redis, url=base.url, readonly=readonly)


def make_job(
    *,
    state: str = "OK",
    cmd: str = "echo",
    category: str = "jumpscale",
    nid: int | None = 1,
    gid: int = 1,
    job_id: int = 1,
    created: float | None = None,
    start: float = 0,
    stop: float = 0,
    timeout: float = 600,
    guid: str | None = None,
    result: Any = None,
    queue: str = "",
    wait: bool = True,
) -> dict[str, Any]:
    """A job dict with the fields of spec §4.2."""
    created = time.time() if created is None else created
    return {
        "id": job_id, "guid": guid or uuid.uuid4().hex, "gid": gid, "nid": nid, "cmd": cmd,
        "category": category, "roles": [], "args": {"msg": "hi"}, "queue": queue,
        "timeout": timeout, "wait": wait, "log": True, "errorreport": False, "sessionid": None,
        "state": state, "result": result, "resultcode": None if state == "SCHEDULED" else 0,
        "parent": None, "timeCreate": int(created), "timeStart": start, "timeStop": stop,
        "tags": None, "_ckey": "", "_meta": ["system", "job", 1], "jscriptid": None,
    }


def ujson(job: dict[str, Any]) -> bytes:
    """Compact ujson-like bytes (``/`` escaped as ``\\/``), as the AC writes them."""
    return json.dumps(job, separators=(",", ":")).replace("/", "\\/").encode()


def put_result(r: redis.Redis, job: dict[str, Any]) -> str:
    """``queues:jobqueue:<guid>`` (final copy of a wait=True job)."""
    key = keys.jobqueue(job["guid"])
    r.rpush(key, ujson(job))
    return key


def put_cached(r: redis.Redis, job: dict[str, Any]) -> str:
    """``jobs:<gid>`` field ``<guid>``."""
    key = keys.jobs(job["gid"])
    r.hset(key, job["guid"], ujson(job))
    return key


def put_worker_job(r: redis.Redis, job: dict[str, Any]) -> str:
    """``workers:jobs:<id>`` (worker-side copy)."""
    key = keys.worker_job(job["id"])
    r.set(key, ujson(dict(job, internal=False)))
    return key


def put_queued(r: redis.Redis, key: str, job: dict[str, Any], *, pretty: bool = False) -> None:
    """RPUSH a job on a command queue (compact) or worker queue (pretty JSON, trailing spaces)."""
    if pretty:
        text = json.dumps(job, indent=2, sort_keys=True, separators=(", ", ": "), ensure_ascii=False)
        r.rpush(key, text.encode())
    else:
        r.rpush(key, ujson(job))


def reset_stats(r: redis.Redis) -> None:
    """Zero the server's command statistics (``CONFIG RESETSTAT``)."""
    r.config_resetstat()


def write_commands(r: redis.Redis, names: list[str]) -> list[str]:
    """The subset of ``names`` whose ``COMMAND INFO`` flags include ``write``."""
    out = []
    for name in names:
        base = name.split("|")[0]
        info = r.execute_command("COMMAND", "INFO", base)
        entry = info.get(base) or {} if isinstance(info, dict) else {}
        flags = {f.decode() if isinstance(f, bytes) else str(f) for f in entry.get("flags", [])}
        assert entry, f"COMMAND INFO {base} returned nothing"
        if "write" in flags:
            out.append(name)
    return out


def assert_read_only(r: redis.Redis) -> dict[str, int]:
    """Fail if any write command ran since :func:`reset_stats`; return the command counts."""
    used = commandstats(r)
    writes = write_commands(r, sorted(used))
    assert not writes, f"write commands were sent: { {w: used[w] for w in writes} }"
    forbidden = {"keys", "hgetall", "smembers"} & set(used)
    assert not forbidden, f"unbounded commands were sent: {forbidden}"
    return used
