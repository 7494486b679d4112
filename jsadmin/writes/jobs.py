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

import contextlib
import json
import os
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import redis

from .. import keys
from ..codecs import ujson_dumps, ujson_fast
from ..compat import server_info
from ..errors import (
    JobTimeoutError,
    PartialWriteError,
    WriteError,
    WriteNotApplied,
    WriteValidationError,
)
from ..frames import to_datetime
from . import validate as v
from .journal import Journal
from .plan import EnqueuePreview, WritePlan
from .scripts import SCRIPTS, Call, new_write_id

JOB_PARAMS = (
    "gid", "nid", "role", "category", "cmd", "args", "queue", "timeout", "wait", "log",
    "errorreport", "tags", "jscriptid", "sessionid",
)
"""Parameter names of :func:`prepare_job` (also the accepted columns of ``enqueue_jobs``)."""
_PARAM_SET = frozenset(JOB_PARAMS)

DEFAULT_BATCH = 1000
MAX_BATCH = 5000
MAX_BATCH_BYTES = 1_000_000
"""Job JSON per enqueue.lua call: about 30 ms of server time per MB (measured on 2.8 and 6.2)."""
JOURNAL_VALUES_LIMIT = 1000
"""Bulk enqueues of more jobs than this journal counts and id ranges, not every JSON value."""

RESULT_COLUMNS = {
    "gid": "Int64", "nid": "Int64", "role": "string", "id": "Int64", "guid": "string",
    "queue_key": "string", "jobs_key": "string", "category": "string", "cmd": "string",
    "queue": "string", "wait": "boolean", "timeCreate": "datetime64[ns, UTC]",
    "write_id": "string", "written": "boolean",
}


def id_placeholder(gid: int, n: int = 1, i: int = 0) -> str:
    """How a dry run shows an id that only HINCRBY would allocate."""
    if n == 1:
        return f"<next value of HINCRBY {keys.JOBS_LAST} {gid}>"
    minus = f", minus {n - 1 - i}" if n - 1 - i else ""
    return f"<next value of HINCRBY {keys.JOBS_LAST} {gid} {n}{minus}>"


class PreparedJob:
    """A validated job, serialised except for its id: ``guid``, ``body`` and its template."""

    __slots__ = ("body", "guid", "template")

    def __init__(self, guid: str, body: str, template: _Template) -> None:
        self.guid = guid
        self.body = body
        """The compact JSON after ``{"id":<id>,`` (the full text is ``'{"id":%d,' % id + body``)."""
        self.template = template

    gid = property(lambda self: self.template.gid)
    nid = property(lambda self: self.template.nid)
    role = property(lambda self: self.template.role)
    category = property(lambda self: self.template.category)
    cmd = property(lambda self: self.template.cmd)
    queue = property(lambda self: self.template.queue)
    wait = property(lambda self: self.template.wait)
    time_create = property(lambda self: self.template.created)
    queue_key = property(lambda self: self.template.queue_key, doc="``queues:commands:queue:<gid>:<role or nid>``")
    jobs_key = property(lambda self: self.template.jobs_key, doc="``jobs:<gid>``")

    def __repr__(self) -> str:
        return f"PreparedJob(guid={self.guid!r}, queue_key={self.queue_key!r})"

    @property
    def fields(self) -> dict[str, Any]:
        """Every field but ``id``, decoded from the exact text."""
        return json.loads("{" + self.body)

    def text(self, job_id: int | str) -> str:
        """The exact JSON written for this job once it got ``job_id``."""
        return '{"id":' + str(job_id) + "," + self.body

    def as_dict(self, job_id: int | str) -> dict[str, Any]:
        """The job dict as written (id first, like the JSON)."""
        return {"id": job_id, **self.fields}


_UUID_CLEAR = ~((0xC000 << 48) | (0xF000 << 64))
_UUID_SET = (0x8000 << 48) | (4 << 76)


def uuid4_hex_many(n: int) -> list[str]:
    """``n`` random uuid4 guids, 32 lower-case hex without dashes (same as ``uuid4().hex``)."""
    raw = os.urandom(16 * n)
    return [
        "%032x" % ((int.from_bytes(raw[i : i + 16], "big") & _UUID_CLEAR) | _UUID_SET)
        for i in range(0, 16 * n, 16)
    ]


def _json_or_error(name: str, value: Any) -> str:
    try:
        return ujson_dumps(value)
    except (TypeError, ValueError) as exc:
        raise WriteValidationError(f"{name} is not JSON-serialisable: {exc}") from None


@dataclass(frozen=True, slots=True)
class _Template:
    """The validated scalar fields of a job, serialised around its args, tags and guid."""

    gid: int
    nid: int | None
    role: str | None
    category: str
    cmd: str
    queue: str
    wait: bool
    created: int
    queue_key: str
    jobs_key: str
    head: str  # '"sessionid":...,"args":'
    middle: str  # ',"queue":...,"tags":'
    tail: str  # '","_ckey":"",..."jscriptid":...}'

    def job(self, guid: str, args_json: str, tags_json: str) -> PreparedJob:
        return PreparedJob(guid, self.head + args_json + self.middle + tags_json + ',"guid":"' + guid + self.tail, self)


_MISSING: Any = object()


def _template(
    gid: Any, nid: Any, role: Any, category: Any, cmd: Any, queue: Any, timeout: Any,
    wait: Any, log: Any, errorreport: Any, jscriptid: Any, sessionid: Any, created: int,
) -> _Template:
    """Validate the scalar parameters (``_MISSING`` = not given: the default applies)."""
    if gid is _MISSING:
        raise WriteValidationError("missing gid")
    gid = gid if type(gid) is int and gid >= 0 else v.int_like("gid", gid)
    has_nid = nid is not _MISSING and not v.is_missing(nid)
    has_role = role is not _MISSING and not v.is_missing(role)
    if has_nid == has_role:
        nid, role = (None if x is _MISSING else x for x in (nid, role))
        raise WriteValidationError(
            f"give exactly one of nid= (node queue) or role= (role queue); got nid={nid!r}, role={role!r}"
        )
    if has_nid:
        nid = nid if type(nid) is int and nid >= 0 else v.int_like("nid", nid)
        role = None
    else:
        nid = None
        role = v.key_part("role", role)
    for name, value in (("category", category), ("cmd", cmd)):
        if value is _MISSING:
            raise WriteValidationError(f"missing {name}")
    category = v.key_part("category", category, colon=True)
    cmd = v.key_part("cmd", cmd, colon=True)
    queue = "" if queue is _MISSING or v.is_missing(queue) else v.key_part("queue", queue, empty=True)
    timeout = 600 if timeout is _MISSING else v.number_or_none("timeout", timeout)
    wait = False if wait is _MISSING or v.is_missing(wait) else v.flag("wait", wait)
    log = True if log is _MISSING or v.is_missing(log) else v.flag("log", log)
    errorreport = (
        False if errorreport is _MISSING or v.is_missing(errorreport) else v.flag("errorreport", errorreport)
    )
    if jscriptid is _MISSING or v.is_missing(jscriptid):
        jscriptid_json = "null"
    elif isinstance(jscriptid, bool) or not isinstance(jscriptid, (int, str)):
        raise WriteValidationError(f"jscriptid must be None, an int or a string, got {jscriptid!r}")
    else:
        jscriptid_json = str(int(jscriptid)) if isinstance(jscriptid, int) else ujson_dumps(jscriptid)
    if sessionid is _MISSING or v.is_missing(sessionid):
        sessionid_json = "null"
    else:
        sessionid_json = ujson_dumps(v.text("sessionid", sessionid))
    head = "".join((
        '"sessionid":', sessionid_json,
        ',"gid":', str(gid),
        ',"nid":', "null" if nid is None else str(nid),
        ',"cmd":', ujson_dumps(cmd),
        ',"wait":', "true" if wait else "false",
        ',"category":', ujson_dumps(category),
        ',"roles":', "[]" if role is None else "[" + ujson_dumps(role) + "]",
        ',"args":',
    ))
    middle = "".join((
        ',"queue":', ujson_dumps(queue),
        ',"timeout":', "null" if timeout is None else repr(timeout),
        ',"result":null,"parent":null,"resultcode":null,"state":"SCHEDULED","timeCreate":', str(created),
        ',"timeStart":0,"timeStop":0,"log":', "true" if log else "false",
        ',"errorreport":', "true" if errorreport else "false",
        ',"tags":',
    ))
    tail = '","_ckey":"","_meta":["system","job",1],"jscriptid":' + jscriptid_json + "}"
    queue_key = keys.command_queue(gid, role if role is not None else nid)
    return _Template(gid, nid, role, category, cmd, queue, wait, created, queue_key, keys.jobs(gid),
                     head, middle, tail)


def _args_json(args: Any) -> str:
    if type(args) is dict:
        if not args:
            return "{}"
        fast = ujson_fast(args)
        if fast is not None:
            return fast
    else:
        args = v.mapping("args", None if args is _MISSING else args)
    return _json_or_error("args", args) if args else "{}"


def _tags_json(tags: Any) -> str:
    if tags is None or tags is _MISSING or v.is_missing(tags):
        return "null"
    return _json_or_error("tags", tags)


def prepare_job(
    gid: Any, *, nid: Any = None, role: Any = None, category: Any, cmd: Any, args: Any = None,
    queue: Any = "", timeout: Any = 600, wait: Any = False, log: Any = True, errorreport: Any = False,
    tags: Any = None, jscriptid: Any = None, sessionid: Any = None, now: int | None = None,
    guid: str | None = None,
) -> PreparedJob:
    """Validate the arguments and serialise an AC job like ``scheduleCmd`` (spec §4.2, §6.1).

    Exactly one of ``nid`` (node queue) and ``role`` (role queue, ``nid`` null) is required.
    Fields are written in the order of the spec §4.3 example. Raises
    :class:`~jsadmin.errors.WriteValidationError` for bad input.

    >>> prepare_job(1, role="node", category="jumpscale", cmd="echo").fields["roles"]
    ['node']
    """
    created = int(time.time()) if now is None else int(now)
    template = _template(gid, nid, role, category, cmd, queue, timeout, wait, log, errorreport,
                         jscriptid, sessionid, created)
    return template.job(guid or uuid.uuid4().hex, _args_json(args), _tags_json(tags))


def _rows(jobs: pd.DataFrame | Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    if isinstance(jobs, pd.DataFrame):
        unknown = [c for c in jobs.columns if c not in JOB_PARAMS]
        if unknown:
            raise WriteValidationError(f"unknown job columns {unknown}; expected some of {list(JOB_PARAMS)}")
        return jobs.to_dict("records")
    rows = list(jobs)
    for i, job in enumerate(rows):
        if type(job) is not dict and not isinstance(job, Mapping):
            raise WriteValidationError(f"job #{i} must be a dict, got {type(job).__name__}")
        if not _PARAM_SET.issuperset(job):
            unknown = sorted(set(job) - _PARAM_SET)
            raise WriteValidationError(f"job #{i}: unknown parameters {unknown}")
    return rows


def prepare_jobs(jobs: pd.DataFrame | Iterable[Mapping[str, Any]]) -> list[PreparedJob]:
    """Validate and serialise every job first (errors name the job's position); writes nothing.

    Jobs sharing the same scalar parameters (same values *and* types) share one validated
    template, so only their args, tags and guid are serialised per job; the bytes are the
    same as :func:`prepare_job` gives.
    """
    created = int(time.time())
    rows = _rows(jobs)
    guids = uuid4_hex_many(len(rows))
    templates: dict[tuple[Any, ...], tuple[tuple[type, ...], _Template]] = {}
    out = []
    m = _MISSING
    for i, row in enumerate(rows):
        get = row.get
        scalars = (get("gid", m), get("nid", m), get("role", m), get("category", m), get("cmd", m),
                   get("queue", m), get("timeout", m), get("wait", m), get("log", m),
                   get("errorreport", m), get("jscriptid", m), get("sessionid", m))
        types = tuple(map(type, scalars))
        try:
            try:
                hit = templates.get(scalars)
            except TypeError:  # an unhashable value: validation names it
                hit = None
            if hit is not None and hit[0] == types:
                template = hit[1]
            else:
                template = _template(*scalars, created)
                with contextlib.suppress(TypeError):
                    templates[scalars] = (types, template)
            guid = guids[i]
            tags = get("tags")
            out.append(PreparedJob(
                guid,
                template.head + _args_json(get("args", _MISSING)) + template.middle
                + ("null" if tags is None else _tags_json(tags)) + ',"guid":"' + guid + template.tail,
                template,
            ))
        except WriteValidationError as exc:
            raise WriteValidationError(f"job #{i}: {exc}") from None
    return out


@dataclass
class Batch:
    """Jobs of one grid and one command queue, written by one Lua call under one write id."""

    gid: int
    queue_key: str
    jobs: list[tuple[int, PreparedJob]]  # (input position, job)
    write_id: str = field(default_factory=new_write_id)

    def call(self) -> Call:
        """KEYS, ARGV and write id of enqueue.lua: the jobs travel as one ``guid\\nbody\\n...`` payload.

        Compact ASCII JSON never holds a raw newline, so ``\\n`` is a safe separator, and one
        big argument is far cheaper to send than two per job.
        """
        payload = "\n".join([part for _, job in self.jobs for part in (job.guid, job.body)])
        return (
            [keys.JOBS_LAST, keys.jobs(self.gid), self.queue_key],
            [str(self.gid), len(self.jobs), payload],
            self.write_id,
        )


def check_batch_size(batch_size: Any) -> None:
    """``batch_size`` must be an int in 1..MAX_BATCH."""
    if not isinstance(batch_size, int) or isinstance(batch_size, bool) or not 1 <= batch_size <= MAX_BATCH:
        raise WriteValidationError(f"batch_size must be an int in 1..{MAX_BATCH}, got {batch_size!r}")


def make_batches(
    jobs: Sequence[PreparedJob], batch_size: int = DEFAULT_BATCH, *, max_bytes: int | None = None
) -> list[Batch]:
    """Group by (gid, queue key) keeping input order inside a queue, then cut into batches of
    at most ``batch_size`` jobs and ``max_bytes`` (default :data:`MAX_BATCH_BYTES`) of job
    JSON, so that one script stays well under 100 ms (a job bigger than that goes alone)."""
    check_batch_size(batch_size)
    limit = MAX_BATCH_BYTES if max_bytes is None else max_bytes
    groups: dict[str, list[tuple[int, PreparedJob]]] = {}
    for pos, job in enumerate(jobs):
        key = job.template.queue_key  # the queue key implies the gid
        members = groups.get(key)
        if members is None:
            members = groups[key] = []
        members.append((pos, job))
    batches: list[Batch] = []
    for key, members in groups.items():
        gid = members[0][1].template.gid
        start, size = 0, 0
        for i, (_, job) in enumerate(members):
            n = len(job.body) + 48
            if i > start and (i - start >= batch_size or size + n > limit):
                batches.append(Batch(gid, key, members[start:i]))
                start, size = i, 0
            size += n
        batches.append(Batch(gid, key, members[start:]))
    return batches


def plan_enqueue(helper: str, url: str, batches: Sequence[Batch]) -> WritePlan[EnqueuePreview]:
    """The commands ``enqueue.lua`` would run, with placeholder ids."""
    plan: WritePlan[EnqueuePreview] = WritePlan(helper, url)
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
    """Write one prepared job with a single EVALSHA (sent once) and journal it.

    Returns the job as written. A lost reply is resolved through the write's marker, so the
    job is never queued twice: the caller gets the job, or
    :class:`~jsadmin.errors.WriteNotApplied` (nothing written, safe to retry) /
    :class:`~jsadmin.errors.WriteOutcomeUnknown` (``Admin.write_status(err.write_id)``).
    """
    batch = Batch(job.gid, job.queue_key, [(0, job)])
    keys_, args, wid = batch.call()
    first = int(SCRIPTS["enqueue"].run(client, keys_, args, write_id=wid)["first"])
    journal.append(
        helper="enqueue_job",
        url=url,
        commands=_journal_commands([batch], [first], True),
        result={"gid": job.gid, "id": first, "guid": job.guid, "queue_key": job.queue_key, "write_id": wid},
    )
    return job.as_dict(first)


def _plan_entry(batches: Sequence[Batch]) -> list[dict[str, Any]]:
    return [
        {"write_id": b.write_id, "gid": b.gid, "queue_key": b.queue_key, "count": len(b.jobs),
         "first_guid": b.jobs[0][1].guid, "last_guid": b.jobs[-1][1].guid}
        for b in batches
    ]


def enqueue_many(
    client: redis.Redis,
    jobs: Sequence[PreparedJob],
    *,
    batch_size: int,
    url: str,
    journal: Journal,
    helper: str = "enqueue_jobs",
    index: pd.Index | None = None,
    entry: list[str] | None = None,
) -> pd.DataFrame:
    """Write prepared jobs: one Lua call per batch (one write id each), streamed on one connection.

    The plan (every batch's write id, queue and guids) is journalled before anything is sent.
    After a failure each unanswered batch is resolved through its marker. The frame has
    ``write_id`` and ``written`` (True, False, or NA when a batch's outcome could not be
    learned). When not every job was written, :class:`~jsadmin.errors.PartialWriteError`
    carries that frame as ``.result``. ``entry``, when given, receives the id of the journal
    entry that records the outcome (before any error is raised).
    """
    batches = make_batches(jobs, batch_size)
    plan = journal.append(helper=f"{helper}.plan", url=url, commands=[],
                          result={"jobs": len(jobs), "batches": _plan_entry(batches)})
    frames: list[pd.DataFrame] = []  # built while the server runs the scripts
    outcomes, error = SCRIPTS["enqueue"].stream(
        client, (b.call() for b in batches), lambda: frames.append(result_frame(jobs, None))
    )
    n = len(jobs)
    ids: list[int | None] = [None] * n
    wids: list[str | None] = [None] * n
    written: list[bool | None] = [None] * n
    applied: list[Batch] = []
    firsts: list[int] = []
    not_written: list[Batch] = []
    unknown: list[Batch] = []
    reasons: dict[str, None] = {}
    for batch, out in zip(batches, outcomes, strict=True):
        if isinstance(out, WriteError):
            (not_written if isinstance(out, WriteNotApplied) else unknown).append(batch)
            reasons[str(out)] = None
            flag = False if isinstance(out, WriteNotApplied) else None
            for pos, _ in batch.jobs:
                wids[pos], written[pos] = batch.write_id, flag
            continue
        first = int(out["first"])
        applied.append(batch)
        firsts.append(first)
        for i, (pos, _) in enumerate(batch.jobs):
            ids[pos], wids[pos], written[pos] = first + i, batch.write_id, True
    done = sum(len(b.jobs) for b in applied)
    recorded = journal.append(
        helper=helper,
        url=url,
        commands=_journal_commands(applied, firsts, done <= JOURNAL_VALUES_LIMIT),
        result={
            "plan": plan["id"],
            "jobs": done,
            "batches": [
                {"write_id": b.write_id, "gid": b.gid, "queue_key": b.queue_key, "first_id": f, "count": len(b.jobs)}
                for b, f in zip(applied, firsts, strict=True)
            ],
            "not_written": [b.write_id for b in not_written],
            "unknown": [b.write_id for b in unknown],
            "error": None if error is None else str(error),
        },
    )
    if entry is not None:
        entry.append(recorded["id"])
    frame = frames[0] if frames else result_frame(jobs, None)
    frame["id"] = pd.array(ids, dtype="Int64")
    frame["write_id"] = pd.array(wids, dtype="string")
    frame["written"] = pd.array(written, dtype="boolean")
    if index is not None and len(index) == n:
        frame.index = index
    if not_written or unknown:
        lost = sum(len(b.jobs) for b in not_written)
        maybe = sum(len(b.jobs) for b in unknown)
        why = "; ".join(list(reasons)[:3])
        raise PartialWriteError(
            f"{helper} wrote {done} of {n} jobs; {lost} not written; {maybe} unknown "
            f"({len(applied)} of {len(batches)} batches applied). Cause: {why}. "
            "err.result has one row per job with `written`: resume with the rows where it is "
            "False (e.g. jobs[~err.result.written.to_numpy(bool)] for a DataFrame input, which "
            "refuses while some are unknown); settle unknown ones with "
            "Admin.write_status(write_id) first",
            result=frame,
            write_id=(unknown or not_written)[0].write_id,
        )
    return frame


def result_frame(jobs: Sequence[PreparedJob], ids: Sequence[int | None] | None) -> pd.DataFrame:
    """The frame ``enqueue_jobs`` returns: one row per job, in input order (ids may be None)."""
    ts = [j.template for j in jobs]
    data = {
        "gid": [t.gid for t in ts],
        "nid": [t.nid for t in ts],
        "role": [t.role for t in ts],
        "id": [None] * len(jobs) if ids is None else list(ids),
        "guid": [j.guid for j in jobs],
        "queue_key": [t.queue_key for t in ts],
        "jobs_key": [t.jobs_key for t in ts],
        "category": [t.category for t in ts],
        "cmd": [t.cmd for t in ts],
        "queue": [t.queue for t in ts],
        "wait": [t.wait for t in ts],
        "timeCreate": pd.to_datetime(np.fromiter((t.created for t in ts), "int64", len(ts)), unit="s", utc=True),
        "write_id": [None] * len(jobs),
        "written": [None] * len(jobs),
    }
    frame = pd.DataFrame(data, columns=list(RESULT_COLUMNS))
    return frame.astype(RESULT_COLUMNS)


def wait_job(client: redis.Redis, guid: str, timeout: float, *, slice_s: float = 1.0) -> dict[str, Any]:
    """Peek the result of a ``wait=True`` job on ``queues:jobqueue:<guid>`` without consuming it.

    On Redis >= 6.2 it blocks with ``BLMOVE key key LEFT LEFT`` (the head element moves onto
    itself: element and order unchanged). Older servers (asked once with
    :func:`jsadmin.compat.server_info`) get ``LINDEX key 0`` and, while the list is empty,
    the AC's own ``BRPOPLPUSH key key`` (whole seconds; a one-element result list, which is
    what a worker pushes, is left exactly as it was). Slices of ``slice_s`` seconds keep a
    notebook interruptible. ``timeout <= 0`` does one non-blocking ``LINDEX key 0``, like the AC.

    Returns the job dict with ``timeCreate``, ``timeStart`` and ``timeStop`` as UTC
    :class:`pandas.Timestamp` (``NaT`` for JumpScale's ``0`` = not yet), as in the frames; a time
    that is not an epoch is left as it was. Everything else is the worker's JSON unchanged.

    >>> wait_job(client, guid, 30)["timeStop"]  # doctest: +SKIP
    Timestamp('2026-11-30 08:21:04+0000', tz='UTC')
    """
    guid = v.text("guid", guid)
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout != timeout:
        raise WriteValidationError(f"timeout must be a number of seconds, got {timeout!r}")
    key = keys.jobqueue(guid)
    raw: Any = None
    if timeout <= 0:
        raw = client.lindex(key, 0)
    else:
        has_blmove = server_info(client).has("blmove")
        deadline = time.monotonic() + timeout
        while raw is None:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            wait = max(0.01, min(slice_s, left))
            if has_blmove:
                raw = client.execute_command("BLMOVE", key, key, "LEFT", "LEFT", round(wait, 3))
            else:
                raw = client.lindex(key, 0)
                if raw is None:
                    raw = client.execute_command("BRPOPLPUSH", key, key, max(1, round(wait)))
    if raw is None:
        raise JobTimeoutError(
            f"no result for job {guid} on {key} within {timeout:g}s: the job has not finished, "
            "was not enqueued with wait=True (only those get a result list), or its result "
            f"expired ({keys.JOBQUEUE_TTL} s after completion)"
        )
    try:
        job = json.loads(raw)
    except ValueError as exc:
        raise WriteValidationError(f"{key} holds a value that is not job JSON: {raw[:200]!r}") from exc
    return job_times_utc(job) if isinstance(job, dict) else job


JOB_TIME_FIELDS = ("timeCreate", "timeStart", "timeStop")


def job_times_utc(job: dict[str, Any]) -> dict[str, Any]:
    """``job`` with its epoch times as UTC ``Timestamp`` (``0``/missing -> ``NaT``); a value that is
    not an epoch (text, out of range) is kept as it was, never dropped.

    >>> job_times_utc({"timeStart": 1700000000, "timeStop": 0, "state": "OK"})
    {'timeStart': Timestamp('2023-11-14 22:13:20+0000', tz='UTC'), 'timeStop': NaT, 'state': 'OK'}
    """
    out = dict(job)
    for name in JOB_TIME_FIELDS:
        if name not in out or isinstance(out[name], bool):
            continue
        value = out[name]
        if value is not None and not isinstance(value, (int, float)):
            continue
        times, bad = to_datetime([value])
        if not bad:
            out[name] = times[0]
    return out
