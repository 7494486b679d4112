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

import json
from collections.abc import Iterable
from typing import Any, Protocol

from .. import keys
from ..codecs import py2_text
from .encoding import pretty_dumps, ujson_or_json

__all__ = [
    "ECO_CAP", "ECO_LUA", "KEEP", "LOGHANDLING_LUA", "Commands", "Recorder", "dispatch_to_worker", "finish_job",
    "heartbeat", "loghandling_pass", "notify_work_completed", "pickup", "process_eco", "push_action",
    "queue_local_job", "register_worker", "schedule", "set_app_pids", "store_exec_function",
    "store_jumpscripts", "worker_complete", "worker_forget",
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
    def eval(self, script: Any, numkeys: Any, *keys_and_args: Any) -> Any: ...


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


def store_exec_function(r: Commands, script: dict[str, Any], md5: str) -> None:
    """PM ``execFunction`` (§6.8) storing a new function jumpscript once its id is drawn
    (``INCR workers:jumpscriptlastid``, ids >= 1000001): ``HSET workers:jumpscripts:id <id>``, then
    ``:name`` when it has an organization and a name, ``HSET workers:jumpscripthashes <md5> <id>``
    (the md5 of its source, so the same source reuses the id), and the id counter."""
    data = ujson_or_json(script)
    r.hset(keys.JUMPSCRIPTS_BY_ID, py2_text(script["id"]), data)
    if script.get("organization") and script.get("name"):
        r.hset(keys.JUMPSCRIPTS_BY_NAME, keys.jumpscript_name_field(script["organization"], script["name"]), data)
    r.hset(keys.JUMPSCRIPT_HASHES, md5, py2_text(script["id"]))
    r.set(keys.JUMPSCRIPT_LASTID, py2_text(script["id"]))


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


KEEP: Any = object()
"""``finish_job(..., resultcode=KEEP)``: the executor leaves ``resultcode`` as it was (the PM in process)."""


def finish_job(
    job: dict[str, Any], *, state: str, result: Any, stop: float, resultcode: Any = KEEP, in_process: bool = False,
) -> dict[str, Any]:
    """The end of a job's execution (§6.3, §6.4 step 5): ``state``, ``result``, ``resultcode`` and
    ``timeStop``: whole seconds from a worker (``int(time.time())``: it truncates), the float from
    the PM running the job itself (``in_process``). Writes nothing; returns ``job``.

    >>> finish_job({"timeStart": 1.5}, state="OK", result=1, stop=9.75, resultcode=0)["timeStop"]
    9
    """
    job.update(state=state, result=result)
    if resultcode is not KEEP:
        job["resultcode"] = resultcode
    job["timeStop"] = stop if in_process else int(stop)
    return job


# --- errors and logs (§6.10) ------------------------------------------------------------------

ECO_CAP = 1000

# KEYS: eco:objects, queues:eco, eco:secos.  ARGV: uniquekey, ECO JSON.
# Merge with a stored entry (occurrences+1, keep the first epoch/guid/pushtime), push the key to
# queues:eco when the throttle allows it (pushtime + min(occurrences, 300) < lasttime) or SADD it
# to eco:secos, HSET the merged cjson, enforce both caps, return the merged cjson.
ECO_LUA = """
local objects, queue, secos = KEYS[1], KEYS[2], KEYS[3]
local key = ARGV[1]
local eco = cjson.decode(ARGV[2])
local raw = redis.call('HGET', objects, key)
local push = true
if raw then
    local db = cjson.decode(raw)
    eco['occurrences'] = (tonumber(db['occurrences']) or 0) + 1
    eco['lasttime'] = eco['epoch']
    eco['epoch'] = db['epoch']
    eco['guid'] = db['guid']
    local pushtime = tonumber(db['pushtime']) or 0
    eco['pushtime'] = pushtime
    if pushtime + math.min(eco['occurrences'], 300) < eco['lasttime'] then
        eco['pushtime'] = eco['lasttime']
    else
        push = false
    end
else
    eco['occurrences'] = 1
    eco['lasttime'] = eco['epoch']
    eco['pushtime'] = eco['epoch']
end
if push then
    redis.call('RPUSH', queue, key)
else
    redis.call('SADD', secos, key)
end
local out = cjson.encode(eco)
redis.call('HSET', objects, key, out)
if redis.call('LLEN', queue) > ECO_CAP then
    local old = redis.call('LPOP', queue)
    redis.call('HDEL', objects, old)
end
if redis.call('HLEN', objects) > ECO_CAP then
    redis.call('DEL', objects)
end
return out
""".replace("ECO_CAP", str(ECO_CAP))

# KEYS: eco:objects, queues:eco, eco:secos. One pass of loghandling over the ECO queue (§6.10.3):
# LLEN, LRANGE 0..n, LTRIM n n (keeps at most one newer key, as the real code does); per distinct
# key: the stored ECO replaced by the 7-field stub (ujson's compact form, in the order loghandling
# writes it), SREM from eco:secos. Returns the number of keys taken from the queue.
LOGHANDLING_LUA = """
local objects, queue, secos = KEYS[1], KEYS[2], KEYS[3]
local n = redis.call('LLEN', queue)
local taken = redis.call('LRANGE', queue, 0, n)
redis.call('LTRIM', queue, n, n)
local done = {}
for _, key in ipairs(taken) do
    if not done[key] then
        done[key] = true
        local raw = redis.call('HGET', objects, key)
        if raw then
            local eco = cjson.decode(raw)
            local stub = string.format(
                '{"occurrences":0,"epoch":%d,"guid":%s,"lasttime":%d,"pushtime":%d,"gid":%d,"nid":%d}',
                tonumber(eco['epoch']) or 0, cjson.encode(eco['guid']), tonumber(eco['lasttime']) or 0,
                tonumber(eco['pushtime']) or 0, tonumber(eco['gid']) or 0, tonumber(eco['nid']) or 0)
            redis.call('HSET', objects, key, stub)
        end
        redis.call('SREM', secos, key)
    end
end
return #taken
"""


def process_eco(r: Commands, eco: dict[str, Any]) -> Any:
    """``eco.process()`` (§6.10.2): ``eco.lua`` (:data:`ECO_LUA`) merges ``eco`` into ``eco:objects``,
    pushes its key to ``queues:eco`` or throttles it into ``eco:secos``, and returns the merged ECO
    as stored (Lua cjson; on a pipeline, when it runs). The live grid's workers and the seed both
    store their ECOs here."""
    return r.eval(ECO_LUA, 3, keys.ECO_OBJECTS, keys.ECO_QUEUE, keys.ECO_SECOS, eco["uniquekey"], json.dumps(eco))


def loghandling_pass(r: Commands) -> Any:
    """One ``loghandling`` pass over ``queues:eco`` (§6.10.3, :data:`LOGHANDLING_LUA`): the ECOs it
    takes become stubs (``{occurrences:0, epoch, guid, lasttime, pushtime, gid, nid}``) and leave
    ``eco:secos``. Run as one script because its reads must see the writes before it (the seed
    writes in one transaction); the real jumpscript makes the same calls one by one."""
    return r.eval(LOGHANDLING_LUA, 3, keys.ECO_OBJECTS, keys.ECO_QUEUE, keys.ECO_SECOS)
