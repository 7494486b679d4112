"""AC jobs: build them exactly as a real agentcontroller does, enqueue them atomically, wait.

A job is serialised once in Python (compact ujson form, key order of spec §4.3) without its
``id``; the Lua script ``enqueue.lua`` allocates the id with ``HINCRBY jobs:last <gid>`` and
splices it in as text before ``HSET jobs:<gid>`` and ``RPUSH queues:commands:queue:<gid>:<t>``.

>>> job = prepare_job(1, nid=5, category="jumpscale", cmd="echo", args={"msg": "hi"})
>>> job.queue_key, job.jobs_key
('queues:commands:queue:1:5', 'jobs:1')
>>> job.text(1234)[:33]
'{"id":1234,"sessionid":null,"gid"'
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
import redis

from .. import keys
from ..errors import JobTimeoutError, WriteValidationError
from . import validate as v
from ._ujson import ujson_dumps
from .journal import Journal
from .plan import WritePlan
from .scripts import SCRIPTS

JOB_PARAMS = (
    "gid", "nid", "role", "category", "cmd", "args", "queue", "timeout", "wait", "log",
    "errorreport", "tags", "jscriptid", "sessionid",
)
"""Parameter names of :func:`prepare_job` (also the accepted columns of ``enqueue_jobs``)."""

DEFAULT_BATCH = 1000
MAX_BATCH = 5000
PIPELINE_BATCHES = 8
JOURNAL_VALUES_LIMIT = 1000
"""Bulk enqueues of more jobs than this journal counts and id ranges, not every JSON value."""

RESULT_COLUMNS = {
    "gid": "Int64", "nid": "Int64", "role": "string", "id": "Int64", "guid": "string",
    "queue_key": "string", "jobs_key": "string", "category": "string", "cmd": "string",
    "queue": "string", "wait": "boolean", "timeCreate": "datetime64[ns, UTC]",
}


def id_placeholder(gid: int, n: int = 1, i: int = 0) -> str:
    """How a dry run shows an id that only HINCRBY would allocate."""
    if n == 1:
        return f"<next value of HINCRBY {keys.JOBS_LAST} {gid}>"
    minus = f", minus {n - 1 - i}" if n - 1 - i else ""
    return f"<next value of HINCRBY {keys.JOBS_LAST} {gid} {n}{minus}>"


@dataclass(frozen=True)
class PreparedJob:
    """A validated job, serialised except for its id."""

    gid: int
    nid: int | None
    role: str | None
    guid: str
    body: str
    """The compact JSON after ``{"id":<id>,`` (so the full text is ``'{"id":%d,' % id + body``)."""
    fields: dict[str, Any]

    @property
    def queue_key(self) -> str:
        return keys.command_queue(self.gid, self.role if self.role is not None else self.nid)

    @property
    def jobs_key(self) -> str:
        return keys.jobs(self.gid)

    def text(self, job_id: int | str) -> str:
        """The exact JSON written for this job once it got ``job_id``."""
        return '{"id":' + str(job_id) + "," + self.body

    def as_dict(self, job_id: int | str) -> dict[str, Any]:
        """The job dict as written (id first, like the JSON)."""
        return {"id": job_id, **self.fields}


def prepare_job(
    gid: Any,
    *,
    nid: Any = None,
    role: Any = None,
    category: Any,
    cmd: Any,
    args: Any = None,
    queue: Any = "",
    timeout: Any = 600,
    wait: Any = False,
    log: Any = True,
    errorreport: Any = False,
    tags: Any = None,
    jscriptid: Any = None,
    sessionid: Any = None,
    now: int | None = None,
) -> PreparedJob:
    """Validate the arguments and serialise an AC job like ``scheduleCmd`` (spec §4.2, §6.1).

    Exactly one of ``nid`` (node queue) and ``role`` (role queue, ``nid`` null) is required.
    Raises :class:`~jsadmin.errors.WriteValidationError` for bad input.

    >>> prepare_job(1, role="node", category="jumpscale", cmd="echo").fields["roles"]
    ['node']
    """
    gid = v.int_like("gid", gid)
    has_nid, has_role = not v.is_missing(nid), not v.is_missing(role)
    if has_nid == has_role:
        raise WriteValidationError(
            f"give exactly one of nid= (node queue) or role= (role queue); got nid={nid!r}, role={role!r}"
        )
    nid = v.int_like("nid", nid) if has_nid else None
    role = v.text("role", role) if has_role else None
    if role is not None and (":" in role or role == "*"):
        raise WriteValidationError(f"role must be a plain role name, got {role!r}")
    category = v.text("category", category)
    cmd = v.text("cmd", cmd)
    queue = "" if v.is_missing(queue) else v.text("queue", queue, empty=True)
    timeout = v.number_or_none("timeout", timeout)
    wait = False if v.is_missing(wait) else v.flag("wait", wait)
    log = True if v.is_missing(log) else v.flag("log", log)
    errorreport = False if v.is_missing(errorreport) else v.flag("errorreport", errorreport)
    args = v.mapping("args", args)
    tags = None if v.is_missing(tags) else tags
    if v.is_missing(jscriptid):
        jscriptid = None
    elif not isinstance(jscriptid, (int, str)) or isinstance(jscriptid, bool):
        raise WriteValidationError(f"jscriptid must be None, an int or a string, got {jscriptid!r}")
    sessionid = None if v.is_missing(sessionid) else v.text("sessionid", sessionid)
    guid = uuid.uuid4().hex
    fields: dict[str, Any] = {
        "sessionid": sessionid,
        "gid": gid,
        "nid": nid,
        "cmd": cmd,
        "wait": wait,
        "category": category,
        "roles": [role] if role is not None else [],
        "args": args,
        "queue": queue,
        "timeout": timeout,
        "result": None,
        "parent": None,
        "resultcode": None,
        "state": "SCHEDULED",
        "timeCreate": int(time.time()) if now is None else int(now),
        "timeStart": 0,
        "timeStop": 0,
        "log": log,
        "errorreport": errorreport,
        "tags": tags,
        "guid": guid,
        "_ckey": "",
        "_meta": ["system", "job", 1],
        "jscriptid": jscriptid,
    }
    try:
        body = ujson_dumps(fields)[1:]
    except (TypeError, ValueError) as exc:
        bad = "args"
        for name in ("args", "tags"):
            try:
                ujson_dumps(fields[name])
            except (TypeError, ValueError):
                bad = name
                break
        raise WriteValidationError(f"{bad} is not JSON-serialisable: {exc}") from None
    return PreparedJob(gid, nid, role, guid, body, fields)


def _rows(jobs: pd.DataFrame | Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    if isinstance(jobs, pd.DataFrame):
        unknown = [c for c in jobs.columns if c not in JOB_PARAMS]
        if unknown:
            raise WriteValidationError(f"unknown job columns {unknown}; expected some of {list(JOB_PARAMS)}")
        return jobs.to_dict("records")
    rows = []
    for i, job in enumerate(jobs):
        if not isinstance(job, Mapping):
            raise WriteValidationError(f"job #{i} must be a dict, got {type(job).__name__}")
        unknown = [k for k in job if k not in JOB_PARAMS]
        if unknown:
            raise WriteValidationError(f"job #{i}: unknown parameters {unknown}")
        rows.append(dict(job))
    return rows


def prepare_jobs(jobs: pd.DataFrame | Iterable[Mapping[str, Any]]) -> list[PreparedJob]:
    """Validate every job first (errors name the job's position); nothing is written here."""
    now = int(time.time())
    out = []
    for i, row in enumerate(_rows(jobs)):
        for required in ("gid", "category", "cmd"):
            if required not in row:
                raise WriteValidationError(f"job #{i}: missing {required}")
        try:
            out.append(prepare_job(**row, now=now))
        except WriteValidationError as exc:
            raise WriteValidationError(f"job #{i}: {exc}") from None
    return out


@dataclass
class Batch:
    """Jobs of one grid and one command queue, written by one Lua call."""

    gid: int
    queue_key: str
    jobs: list[tuple[int, PreparedJob]]  # (input position, job)

    def call(self) -> tuple[list[str], list[str | int]]:
        args: list[str | int] = [str(self.gid), len(self.jobs)]
        for _, job in self.jobs:
            args.append(job.guid)
            args.append(job.body)
        return [keys.JOBS_LAST, keys.jobs(self.gid), self.queue_key], args


def make_batches(jobs: Sequence[PreparedJob], batch_size: int = DEFAULT_BATCH) -> list[Batch]:
    """Group by (gid, queue key) keeping input order inside a queue, then cut into batches."""
    if not isinstance(batch_size, int) or isinstance(batch_size, bool) or not 1 <= batch_size <= MAX_BATCH:
        raise WriteValidationError(f"batch_size must be an int in 1..{MAX_BATCH}, got {batch_size!r}")
    groups: dict[tuple[int, str], list[tuple[int, PreparedJob]]] = {}
    for pos, job in enumerate(jobs):
        groups.setdefault((job.gid, job.queue_key), []).append((pos, job))
    return [
        Batch(gid, key, members[i : i + batch_size])
        for (gid, key), members in groups.items()
        for i in range(0, len(members), batch_size)
    ]


def plan_enqueue(helper: str, url: str, batches: Sequence[Batch]) -> WritePlan:
    """The commands ``enqueue.lua`` would run, with placeholder ids."""
    plan = WritePlan(helper, url)
    result = []
    for batch in batches:
        n = len(batch.jobs)
        plan.add("HINCRBY", keys.JOBS_LAST, str(batch.gid), n,
                 note=f"allocates {n} id(s) for grid {batch.gid}")
        texts = []
        for i, (_, job) in enumerate(batch.jobs):
            ident = id_placeholder(batch.gid, n, i)
            texts.append(job.text(ident))
            result.append(job.as_dict(ident))
        for (_, job), text in zip(batch.jobs, texts, strict=True):
            plan.add("HSET", keys.jobs(batch.gid), job.guid, text)
        for (_, job), text in zip(batch.jobs, texts, strict=True):
            plan.add("RPUSH", batch.queue_key, text, note=f"job {job.guid}")
    plan.result = result[0] if helper == "enqueue_job" and len(result) == 1 else result
    return plan


def _journal_commands(batches: Sequence[Batch], firsts: Sequence[int], full: bool) -> list[list[Any]]:
    cmds: list[list[Any]] = []
    for batch, first in zip(batches, firsts, strict=True):
        n = len(batch.jobs)
        cmds.append(["HINCRBY", keys.JOBS_LAST, str(batch.gid), n])
        if full:
            texts = [job.text(first + i) for i, (_, job) in enumerate(batch.jobs)]
            hset: list[Any] = ["HSET", keys.jobs(batch.gid)]
            for (_, job), text in zip(batch.jobs, texts, strict=True):
                hset += [job.guid, text]
            cmds.append(hset)
            cmds.append(["RPUSH", batch.queue_key, *texts])
        else:
            cmds.append(["HSET", keys.jobs(batch.gid), f"<{n} jobs, ids {first}..{first + n - 1}>"])
            cmds.append(["RPUSH", batch.queue_key, f"<{n} jobs, ids {first}..{first + n - 1}>"])
    return cmds


def enqueue_one(client: redis.Redis, job: PreparedJob, *, url: str, journal: Journal) -> dict[str, Any]:
    """Write one prepared job with a single EVALSHA and journal it; returns the job as written."""
    batch = Batch(job.gid, job.queue_key, [(0, job)])
    first = int(SCRIPTS["enqueue"](client, *batch.call()))
    journal.append(
        helper="enqueue_job",
        url=url,
        commands=_journal_commands([batch], [first], True),
        result={"gid": job.gid, "id": first, "guid": job.guid, "queue_key": job.queue_key},
    )
    return job.as_dict(first)


def enqueue_many(
    client: redis.Redis,
    jobs: Sequence[PreparedJob],
    *,
    batch_size: int,
    url: str,
    journal: Journal,
) -> pd.DataFrame:
    """Write prepared jobs: one Lua call per batch, ``PIPELINE_BATCHES`` batches per round trip.

    If Redis fails part-way, the batches already applied are journalled and the error is
    re-raised (each batch is all-or-nothing).
    """
    batches = make_batches(jobs, batch_size)
    ids: list[int | None] = [None] * len(jobs)
    applied: list[Batch] = []
    firsts: list[int] = []
    error: Exception | None = None
    for start in range(0, len(batches), PIPELINE_BATCHES):
        chunk = batches[start : start + PIPELINE_BATCHES]
        try:
            results = SCRIPTS["enqueue"].run_many(client, [b.call() for b in chunk])
        except redis.RedisError as exc:
            error = exc
            break
        for batch, res in zip(chunk, results, strict=True):
            if isinstance(res, Exception):
                error = error or res
                continue
            first = int(res)
            applied.append(batch)
            firsts.append(first)
            for i, (pos, _) in enumerate(batch.jobs):
                ids[pos] = first + i
        if error is not None:
            break
    if applied:
        total = sum(len(b.jobs) for b in applied)
        journal.append(
            helper="enqueue_jobs",
            url=url,
            commands=_journal_commands(applied, firsts, total <= JOURNAL_VALUES_LIMIT),
            result={
                "jobs": total,
                "batches": [
                    {"gid": b.gid, "queue_key": b.queue_key, "first_id": f, "count": len(b.jobs)}
                    for b, f in zip(applied, firsts, strict=True)
                ],
                "error": None if error is None else str(error),
            },
        )
    if error is not None:
        done = sum(len(b.jobs) for b in applied)
        raise type(error)(
            f"{error} (enqueue_jobs wrote {done} of {len(jobs)} jobs before failing; "
            "each batch is all-or-nothing, see the journal)"
        ) from error
    return result_frame(jobs, ids)


def result_frame(jobs: Sequence[PreparedJob], ids: Sequence[int | None]) -> pd.DataFrame:
    """The frame ``enqueue_jobs`` returns: one row per job, in input order."""
    data = {
        "gid": [j.gid for j in jobs],
        "nid": [j.nid for j in jobs],
        "role": [j.role for j in jobs],
        "id": list(ids),
        "guid": [j.guid for j in jobs],
        "queue_key": [j.queue_key for j in jobs],
        "jobs_key": [j.jobs_key for j in jobs],
        "category": [j.fields["category"] for j in jobs],
        "cmd": [j.fields["cmd"] for j in jobs],
        "queue": [j.fields["queue"] for j in jobs],
        "wait": [j.fields["wait"] for j in jobs],
        "timeCreate": pd.to_datetime([j.fields["timeCreate"] for j in jobs], unit="s", utc=True),
    }
    frame = pd.DataFrame(data, columns=list(RESULT_COLUMNS))
    return frame.astype(RESULT_COLUMNS)


def wait_job(client: redis.Redis, guid: str, timeout: float, *, slice_s: float = 1.0) -> dict[str, Any]:
    """Peek the result of a ``wait=True`` job on ``queues:jobqueue:<guid>`` without consuming it.

    Blocks with ``BLMOVE key key LEFT LEFT`` (the head element moves onto itself: element and
    order unchanged), in slices of ``slice_s`` seconds so a notebook stays interruptible.
    ``timeout <= 0`` does one non-blocking ``LINDEX key 0``, like the AC.

    >>> wait_job(client, guid, 30)["state"]  # doctest: +SKIP
    'OK'
    """
    guid = v.text("guid", guid)
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout != timeout:
        raise WriteValidationError(f"timeout must be a number of seconds, got {timeout!r}")
    key = keys.jobqueue(guid)
    raw: bytes | None = None
    if timeout <= 0:
        raw = client.lindex(key, 0)
    else:
        deadline = time.monotonic() + timeout
        while raw is None:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            raw = _peek(client, key, max(0.01, min(slice_s, left)))
    if raw is None:
        raise JobTimeoutError(
            f"no result for job {guid} on {key} within {timeout:g}s: the job has not finished, "
            "was not enqueued with wait=True (only those get a result list), or its result "
            f"expired ({keys.JOBQUEUE_TTL} s after completion)"
        )
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise WriteValidationError(f"{key} holds a value that is not job JSON: {raw[:200]!r}") from exc


def _peek(client: redis.Redis, key: str, timeout: float) -> bytes | None:
    try:
        return client.blmove(key, key, round(timeout, 3), "LEFT", "LEFT")
    except redis.ResponseError as exc:  # Redis < 6.2: the AC's own BRPOPLPUSH key key
        if "unknown command" not in str(exc).lower():
            raise
        return client.brpoplpush(key, key, max(1, int(timeout)))
