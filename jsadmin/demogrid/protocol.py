"""JumpScale 7's Redis write sequences (spec §6), one function per action: the demo grid's one model.

The live grid's threads (:mod:`jsadmin.demogrid.grid`) and the demo seed
(:mod:`jsadmin.demogrid.seed`) both write through these functions, so a seeded grid holds what
the live grid would have written for the same actions. Each function issues the commands the real
code issues, in its order, on ``r``: a redis-py client, a non-transactional pipeline (the live
grid; round trips only) or the seed's buffered writer (one MULTI/EXEC). None of them reads, so a
sequence that needs a read (``HINCRBY jobs:last``, the ``inqueuetest`` check) reads first and
passes the result in.

>>> from jsadmin.domain import Job
>>> job = Job.scheduled(id=7, guid="ab" * 16, gid=1, nid=2, cmd="echo", category="jumpscale", time_create=0)
>>> calls = Recorder()
>>> schedule(calls, job, 2)
>>> [c[:2] for c in calls.calls]
[('hset', 'jobs:1'), ('rpush', 'queues:commands:queue:1:2')]
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

from .. import keys
from ..codecs import py2_text
from .encoding import pretty_dumps, ujson_or_json

__all__ = [
    "Commands", "Recorder", "dispatch_to_worker", "heartbeat", "notify_work_completed", "pickup",
    "push_action", "queue_local_job", "register_worker", "schedule", "set_app_pids", "store_jumpscripts",
    "worker_complete", "worker_forget",
]


class Commands(Protocol):
    """The Redis write commands the sequences use (redis-py's names and argument order)."""

    def hset(self, name: Any, key: Any, value: Any) -> Any: ...
    def hdel(self, name: Any, *keys: Any) -> Any: ...
    def rpush(self, name: Any, *values: Any) -> Any: ...
    def lpush(self, name: Any, *values: Any) -> Any: ...
    def set(self, name: Any, value: Any, ex: Any = None) -> Any: ...
    def expire(self, name: Any, time: Any) -> Any: ...
    def delete(self, *names: Any) -> Any: ...


class Recorder:
    """A :class:`Commands` that only records ``(command, *args)`` (for examples and tests).

    >>> r = Recorder(); heartbeat(r, "io", 1700000000); r.calls
    [('hset', 'workers:heartbeat', 'io', 1700000000)]
    """

    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)

        def record(*args: Any, **kwargs: Any) -> None:
            self.calls.append((name, *args, *kwargs.values()))

        return record


# --- agentcontroller ------------------------------------------------------------------------


def schedule(r: Commands, job: dict[str, Any], target: int | str, *, queue_key: str | None = None) -> None:
    """AC ``scheduleCmd`` (§6.1) once the id is drawn: ``HSET jobs:<gid>``, ``RPUSH`` the command queue
    of ``target`` (a nid or a role); ``queue_key`` names another queue key (the documented form)."""
    data = ujson_or_json(job)
    r.hset(keys.jobs(job["gid"]), job["guid"], data)
    r.rpush(queue_key or keys.command_queue(job["gid"], target), data)


def pickup(r: Commands, job: dict[str, Any], nid: int | str) -> dict[str, Any]:
    """AC ``getWork`` (§6.2) of a popped job: ``nid`` and ``STARTED`` set, then ``HSET jobs:<gid>``
    when the job logs or is waited for, else ``HDEL`` (nobody will ask for it). Returns ``job``."""
    job["nid"] = nid
    job["state"] = "STARTED"
    if job.get("log") or job.get("wait"):
        r.hset(keys.jobs(job["gid"]), job["guid"], ujson_or_json(job))
    else:
        r.hdel(keys.jobs(job["gid"]), job["guid"])
    return job


def notify_work_completed(r: Commands, job: dict[str, Any]) -> None:
    """AC ``notifyWorkCompleted`` (§6.5): HSET jobs:<gid>; if wait RPUSH + EXPIRE 60; HDEL."""
    data = ujson_or_json(job)
    hkey = keys.jobs(job["gid"])
    r.hset(hkey, job["guid"], data)
    if job.get("wait"):
        r.rpush(keys.jobqueue(job["guid"]), data)
        r.expire(keys.jobqueue(job["guid"]), keys.JOBQUEUE_TTL)
    r.hdel(hkey, job["guid"])


# --- processmanager -------------------------------------------------------------------------


def dispatch_to_worker(r: Commands, job: dict[str, Any], *, popped: bool = False) -> str:
    """PM ``execJobAsync`` (§6.3): the worker Job wrapper adds ``internal``; ``SET workers:jobs:<id>``
    (no TTL), then ``RPUSH`` the pretty form onto the job's worker queue, which it returns.

    ``popped=True`` leaves the queue entry out: a worker has already taken it (a running job)."""
    job.setdefault("internal", False)
    queue = job.get("queue") or "default"
    r.set(keys.worker_job(job["id"]), ujson_or_json(job))
    if not popped:
        r.rpush(keys.worker_queue(queue), pretty_dumps(job))
    return queue


def queue_local_job(r: Commands, job: dict[str, Any], script: dict[str, Any], when: int) -> str:
    """PM ``execJumpscript`` (§6.8) of ``script`` once the id is drawn (``INCR workers:joblastid``):
    ``HSET workers:inqueuetest <org>_<name> <when>``, then as :func:`dispatch_to_worker`."""
    r.hset(keys.WORKER_INQUEUETEST, keys.inqueuetest_field(script["organization"], script["name"]), int(when))
    return dispatch_to_worker(r, job)


def store_jumpscripts(r: Commands, scripts: Iterable[dict[str, Any]]) -> int:
    """PM ``_processJumpscript`` (§6.9): HSET ``workers:jumpscripts:id`` then ``:name``, per script.

    The id field is ``str(id)``, i.e. the literal ``None`` at HEAD. Returns the number stored.
    """
    stored = 0
    for script in scripts:
        data = ujson_or_json(script)
        r.hset(keys.JUMPSCRIPTS_BY_ID, py2_text(script.get("id")), data)
        r.hset(keys.JUMPSCRIPTS_BY_NAME, keys.jumpscript_name_field(script["organization"], script["name"]), data)
        stored += 1
    return stored


def set_app_pids(r: Commands, appname: str, pids: list[int]) -> None:
    """``j.application.start`` bookkeeping: the ``application`` hash holds each app's pid list."""
    r.hset(keys.APPLICATION, appname, ujson_or_json(pids))


# --- workers --------------------------------------------------------------------------------


def register_worker(r: Commands, queue: str, wname: str) -> None:
    """Worker start (§6.4 step 1): ``DEL workers:action:<q>`` (legacy), ``SET workers:worker:<q>:<wname> 1``."""
    r.delete(keys.WORKER_ACTION_PREFIX + queue)
    r.set(keys.worker_registry(queue, wname), 1)


def heartbeat(r: Commands, queue: str, when: int) -> None:
    """One worker loop (§6.4 step 2): ``HSET workers:heartbeat <q> <int now>``."""
    r.hset(keys.WORKER_HEARTBEAT, queue, int(when))


def push_action(r: Commands, queue: str, wname: str, action: str) -> None:
    """``RELOAD``/``RESTART`` for one worker (§6.9): ``LPUSH workers:action:<q>:<wname>``."""
    r.lpush(keys.worker_action(queue, wname), action)


def worker_complete(node: Commands, job: dict[str, Any], returned: float) -> bool:
    """Worker ``notifyWorkCompleted`` (§6.4 step 5) of a finished job (``timeStop`` already set),
    node side: local jobs ``SET EX 60`` and ``RPUSH workers:return:<id> <returned>``; a failed
    job's copy expires in 60 s. Returns whether the AC is told (:func:`notify_work_completed`):
    unless the job succeeded without ``log``/``wait``. Then :func:`worker_forget`."""
    worker_key = keys.worker_job(job["id"])
    if job.get("internal"):
        node.set(worker_key, ujson_or_json(job), ex=60)
        node.rpush(keys.worker_return(job["id"]), py2_text(returned))
        node.expire(keys.worker_return(job["id"]), 60)
    if job.get("state") != "OK":
        node.expire(worker_key, 60)
    return job.get("state") != "OK" or bool(job.get("log") or job.get("wait"))


def worker_forget(node: Commands, job: dict[str, Any]) -> None:
    """After the report (§6.4 step 5.4): a succeeded AC job's worker copy is deleted."""
    if job.get("state") == "OK" and not job.get("internal"):
        node.delete(keys.worker_job(job["id"]))
