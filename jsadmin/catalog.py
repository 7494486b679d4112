"""The catalog: every JumpScale 7 Redis key family, declared once.

``families()``, ``load()``, ``load_all()``, the docs and the writers are all driven by
:data:`FAMILIES`. Each :class:`Family` says which keys it matches, the Redis type, how values
decode, and the output columns with their dtypes (see :mod:`jsadmin.frames`). Its keys are
declared as :class:`~jsadmin.keys.KeyTemplate` shapes (:meth:`Family.keyed`), from which the
documented patterns, the SCAN globs, the parsing regex and the typed key columns are generated.

>>> family("command_queues").patterns[0]
'queues:commands:queue:<gid>:<nid|role>'
>>> classify(b"queues:system")
'worker_queues'
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from . import keys
from .domain import registered_ids
from .errors import UnknownFamilyError, UnknownFilterError, did_you_mean
from .frames import JOB_COLUMNS, JOB_STATES
from .keys import KeyTemplate

RedisType = Literal["hash", "list", "string", "set"]
Status = Literal["current", "legacy", "read-only", "dead", "broken"]
Decoder = Literal[
    "job", "int", "epoch", "bool", "text", "pidlist", "jumpscript", "session", "eco", "log", "monitoring"
]
Kind = Literal[
    "job", "counter", "health", "alert", "jumpscript", "heartbeat", "worker", "process", "log", "eco", "other"
]
"""What a family is about; analytics, ``diff``, the CLI and the exporter pick families by kind."""
QueueKind = Literal["command", "worker"]
End = Literal["head", "tail"]
"""The end of a list that holds its newest entry."""


@dataclass(frozen=True)
class JobCopy:
    """What a job family's copy of a job is (spec §4.1, §7): where it sits in a job's life and how
    much it is trusted against the other copies of the same job."""

    stage: int
    """Position in a job's life: command queue, ``jobs:<gid>``, worker queue, worker copy, result."""
    authority: int
    """Breaks ties between equally final copies: the higher, the more authoritative."""
    final: bool
    """Whether this family can hold a final copy (a job that ran, or was given up on)."""

JUMPSCRIPT_COLUMNS: dict[str, str] = {
    "id": "Int64",
    "organization": "string",
    "name": "string",
    "category": "string",
    "descr": "string",
    "roles": "object",
    "queue": "string",
    "async": "boolean",
    "period": "string",
    "period_seconds": "Int64",
    "order": "Int64",
    "log": "boolean",
    "enable": "boolean",
    "startatboot": "boolean",
    "gid": "Int64",
    "timeout": "Float64",
    "author": "string",
    "license": "string",
    "version": "string",
    "path": "string",
    "code": "string",
    "debug": "boolean",
    "lastrun": "datetime",
    "form": "category",
}
"""Normal PM form (20 keys, §5.4) and the ``execFunction`` form; ``form`` says which."""

ECO_COLUMNS: dict[str, str] = {
    "guid": "string",
    "gid": "Int64",
    "nid": "Int64",
    "aid": "Int64",
    "pid": "Int64",
    "jid": "string",
    "masterjid": "string",
    "appname": "string",
    "category": "string",
    "level": "Int64",
    "type": "category",
    "state": "category",
    "errormessage": "string",
    "errormessagePub": "string",
    "epoch": "datetime",
    "lasttime": "datetime",
    "closetime": "datetime",
    "pushtime": "datetime",
    "occurrences": "Int64",
    "funcname": "string",
    "funcfilename": "string",
    "funclinenr": "Int64",
    "backtrace": "string",
    "backtraceDetailed": "string",
    "code": "string",
    "tags": "string",
    "exceptionclassname": "string",
    "exceptioninfo": "string",
    "exceptionmodule": "string",
    "noreraise": "boolean",
    "data": "object",
    "extra": "string",
    "uniquekey": "string",
    "stub": "boolean",
}
"""Full ECOs written by ``eco.lua`` and the reduced 7-field stubs (``stub`` is True) (§5.6)."""

LOG_COLUMNS: dict[str, str] = {
    "epoch": "datetime",
    "level": "Int64",
    "category": "string",
    "message": "string",
    "gid": "Int64",
    "nid": "Int64",
    "pid": "Int64",
    "appname": "string",
    "jid": "string",
    "parentjid": "string",
    "masterjid": "string",
    "tags": "string",
    "order": "Int64",
    "private": "boolean",
    "guid": "string",
}
"""Log records of ``queues:logs`` (§5.7); ``message``/``tags`` keep the ``/n`` and ``/|`` escapes."""

SESSION_COLUMNS: dict[str, str] = {
    "start": "datetime",
    "gid": "Int64",
    "nid": "Int64",
    "pid": "Int64",
    "appname": "string",
}

MONITORING_COLUMNS: dict[str, str] = {
    "section": "category",
    "nid": "Int64",
    "check": "string",
    "position": "Int64",
    "state": "category",
    "message": "string",
    "item": "object",
    "lastcheck": "datetime",
}


@dataclass(frozen=True)
class Family:
    """One key family: where its keys are, what they hold, and the columns it loads into."""

    name: str
    redis_type: RedisType
    patterns: tuple[str, ...]
    """Documented key shapes, for people (``<gid>`` etc. are placeholders)."""
    match: tuple[str, ...]
    """``SCAN MATCH`` globs; a glob without ``*``/``?``/``[`` is a fixed key read without scanning."""
    regex: re.Pattern[str]
    """Full-key regex; its named groups become columns (see :attr:`key_columns`)."""
    status: Status
    description: str
    decoder: Decoder
    value_columns: dict[str, str]
    key_columns: dict[str, str] = field(default_factory=dict)
    field_column: str | None = None
    """For hashes: the name of the column holding the field (``field`` when ``None``)."""
    also_types: tuple[RedisType, ...] = ()
    """Other Redis types accepted for legacy shapes (e.g. the ``workers:jobs`` hash)."""
    ttl: bool = False
    """Whether rows carry the key's remaining TTL in seconds."""
    categories: dict[str, tuple[str, ...]] = field(default_factory=dict)
    kind: Kind = "other"
    job: JobCopy | None = None
    """For job families (``kind == "job"``): what their copy of a job is."""
    queue: QueueKind | None = None
    """For queues of jobs: ``command`` (agentcontroller) or ``worker``."""
    identity: tuple[str, ...] | None = None
    """Columns that name one entry across two observations (``diff``); ``None``: the generic rule
    (key + field for hashes, key for strings, key + content for lists and sets)."""
    value_column: str | None = None
    """Where a single-value decoder (``int``, ``epoch``, ``bool``, ``text``) puts the value; by
    default the family's only value column (see :attr:`scalar_column`)."""
    key_parts: Callable[[dict[str, str], str], dict[str, Any]] | None = None
    """Key columns computed from the key regex's groups and the Redis type found (``form``, ...)."""
    derive: Callable[[dict[str, list[Any]]], None] | None = None
    """Fills columns computed from the field and value columns (``gid`` of ``jobs:last``, ...)."""
    gid_key: Callable[[Any], str] | None = None
    """For families keyed by grid: the one key a ``gid=`` filter reads (no SCAN)."""
    bounded: bool = False
    """For lists that can grow without bound (spec §4): a load reads the newest
    :data:`jsadmin.limits.DEFAULT_LIMIT` entries per key unless ``limit=`` says otherwise."""
    newest: End = "tail"
    """For lists: the end holding the newest entry (``RPUSH``: tail, ``LPUSH``: head)."""
    templates: tuple[KeyTemplate, ...] = ()
    """The key shapes the family was declared from (:meth:`keyed`), tried in order by
    :meth:`parse_key`; empty for a family declared with a hand-written :attr:`regex`."""

    @classmethod
    def keyed(cls, name: str, redis_type: RedisType, templates: Iterable[KeyTemplate | str], status: Status,
              description: str, decoder: Decoder, value_columns: dict[str, str], *,
              key_columns: dict[str, str] | None = None, **kw: Any) -> Family:
        """A family whose keys are ``templates`` (a plain string is one fixed key): its documented
        :attr:`patterns`, SCAN :attr:`match`, :attr:`regex` and :attr:`key_columns` (fields by their
        type, ``fixed`` values as ``category``, then ``key_columns`` for what :attr:`key_parts` adds)
        all come from them.

        >>> fam = Family.keyed("uptime", "string", [KeyTemplate("uptime:{nid:int}")], "current",
        ...                    "Boot time per node.", "epoch", {"booted": "datetime"})
        >>> fam.patterns, fam.match, fam.key_columns, fam.parse_key("uptime:3")
        (('uptime:<nid>',), ('uptime:*',), {'nid': 'Int64'}, {'nid': '3'})
        """
        ts = tuple(KeyTemplate(t) if isinstance(t, str) else t for t in templates)
        types = {c: keys.KEY_TYPES[typ][1] for t in ts for _, c, typ in t.fields}
        cols = {c: types.get(c, "category") for t in ts for c in t.fixed}
        cols.update({c: d for c, d in types.items() if c not in cols})
        cols.update(key_columns or {})
        if len(ts) == 1:
            regex = ts[0].regex
        else:  # for classify: the shapes' alternation (groups dropped: their names repeat)
            regex = re.compile("|".join(f"(?:{re.sub(r'[(][?]P<[^>]+>', '(?:', t.regex.pattern)})" for t in ts))
        return cls(name, redis_type, tuple(t.pattern for t in ts if t.pattern), _scan_match(ts), regex, status,
                   description, decoder, value_columns, key_columns=cols, templates=ts, **kw)

    @property
    def fixed_keys(self) -> tuple[str, ...]:
        return tuple(m for m in self.match if not re.search(r"[*?\[]", m))

    @property
    def globs(self) -> tuple[str, ...]:
        return tuple(m for m in self.match if re.search(r"[*?\[]", m))

    @property
    def provenance_columns(self) -> dict[str, str]:
        cols: dict[str, str] = {"key": "string"}
        types = (self.redis_type, *self.also_types)
        if "hash" in types:
            cols[self.field_column or "field"] = "string"
        if "list" in types:
            cols["position"] = "Int64"
        if "set" in types:
            cols["member"] = "string"
        cols.update(self.key_columns)
        if self.ttl:
            cols["ttl"] = "Float64"
        return cols

    @property
    def columns(self) -> dict[str, str]:
        """All output columns and their dtypes, in order."""
        cols = dict(self.provenance_columns)
        for name, dtype in self.value_columns.items():
            cols.setdefault(name, dtype)
        return cols

    @property
    def scalar_column(self) -> str | None:
        """The column a single-value decoder fills: :attr:`value_column`, else the only value column.

        >>> family("worker_heartbeat").scalar_column, family("jobs_last").scalar_column
        ('heartbeat', 'last_id')
        """
        if self.value_column is not None:
            return self.value_column
        return next(iter(self.value_columns)) if len(self.value_columns) == 1 else None

    @property
    def entry_identity(self) -> tuple[str, ...] | None:
        """The columns naming one entry: :attr:`identity` when declared, else key + field column
        for hashes, key + member for sets, key for strings; ``None`` for lists (position moves).

        >>> family("worker_heartbeat").entry_identity, family("jobs").entry_identity
        (('key', 'queue'), ('guid',))
        """
        if self.identity is not None:
            return self.identity
        if self.redis_type == "hash":
            return ("key", self.field_column or "field")
        if self.redis_type == "set":
            return ("key", "member")
        if self.redis_type == "string" and not self.also_types:
            return ("key",)
        return None

    def parse_key(self, key: str) -> dict[str, str] | None:
        """The named parts of a key of this family, or ``None`` when it does not belong.

        >>> family("worker_jobs").parse_key("workers:jobs12")
        {'form': 'nocolon', 'key_id': '12'}
        """
        for template in self.templates:
            if (parts := template.parse(key)) is not None:
                return parts
        if self.templates:
            return None
        m = self.regex.fullmatch(key)
        return None if m is None else {k: v for k, v in m.groupdict().items() if v is not None}


def _scan_match(templates: tuple[KeyTemplate, ...]) -> tuple[str, ...]:
    """The SCAN globs (and fixed keys) of some key shapes: each shape's prefix glob, once; a fixed
    key that prefixes other shapes' globs scans them all as one ``<key>*`` (one SCAN, as before).

    >>> _scan_match((keys.WORKER_JOB, keys.WORKER_JOB_NOCOLON, KeyTemplate("workers:jobs")))
    ('workers:jobs*',)
    """
    globs = list(dict.fromkeys(t.glob for t in templates))
    for fixed in (t.text for t in templates if not t.fields):
        if any(t.fields and t.prefix.startswith(fixed) for t in templates):
            covered = [g for g in globs if g != fixed and g.endswith("*") and g[:-1].startswith(fixed)]
            globs = [fixed + "*" if g == fixed else g for g in globs if g not in covered]
    return tuple(globs)


def _command_queue_parts(parts: dict[str, str], rtype: str) -> dict[str, Any]:
    target = parts.get("target", "")
    return {"key_nid": target if target.isdigit() else None, "key_role": None if target.isdigit() else target}


def _worker_job_parts(parts: dict[str, str], rtype: str) -> dict[str, Any]:
    """The pre-2015-03 hash form is told apart by its Redis type, not its key."""
    return {"form": "legacy_hash"} if rtype == "hash" else {}


def _derive_jobs_last(cols: dict[str, list[Any]]) -> None:
    cols["gid"] = [f if isinstance(f, str) else None for f in cols["field"]]


def _derive_watchdog(cols: dict[str, list[Any]]) -> None:
    cols["queue"] = [watchdog_queue(w) if isinstance(w, str) else None for w in cols["worker"]]
    cols["looping"] = [h is not None for h in cols["heartbeat"]]


def _derive_field_id(cols: dict[str, list[Any]]) -> None:
    cols["field_id"] = [f if isinstance(f, str) and f.isdigit() else None for f in cols["field"]]
    _derive_jumpscript(cols)


def _derive_jumpscript(cols: dict[str, list[Any]]) -> None:
    """``jumpscript`` = ``<organization>__<name>``, the identity JumpScale keys a jumpscript by."""
    cols["jumpscript"] = registered_ids(cols.get("organization", []), cols.get("name", []))


def watchdog_queue(worker: str | None) -> str | None:
    """``worker_default_0`` -> ``default`` (JS6 worker names).

    >>> watchdog_queue("worker_default_0"), watchdog_queue("worker_io")
    ('default', 'io')
    """
    if not worker or not worker.startswith("worker_"):
        return None
    body = worker[len("worker_") :]
    head, sep, tail = body.rpartition("_")
    return head if sep and tail.isdigit() else body


def _fixed(name: str, redis_type: RedisType, key: str, status: Status, *rest: Any, **kw: Any) -> Family:
    """A family of one fixed key: ``key`` is its pattern, its match (read without SCAN) and its regex."""
    return Family.keyed(name, redis_type, (key,), status, *rest, **kw)


_JOB_CATEGORIES: dict[str, tuple[str, ...]] = {"state": JOB_STATES}

FAMILY_LIST: tuple[Family, ...] = (
    # ---------------------------------------------------------------- agentcontroller (master)
    _fixed("jobs_last", "hash", keys.JOBS_LAST, "current",
           "Last agentcontroller job id per grid (HINCRBY; field = gid).",
           "int", {"gid": "Int64", "last_id": "Int64"}, kind="counter", value_column="last_id", derive=_derive_jobs_last),
    Family.keyed(
        "jobs", "hash", (keys.JOBS,), "current",
        "In-flight agentcontroller jobs per grid (field = guid, value = compact job JSON); "
        "entries vanish on completion and within 5 minutes by cleanup.",
        "job", JOB_COLUMNS, categories=_JOB_CATEGORIES,
        kind="job", job=JobCopy(stage=1, authority=4, final=True), identity=("guid",), gid_key=keys.jobs,
    ),
    Family.keyed(
        "command_queues", "list", (keys.COMMAND_QUEUE, keys.DOC_COMMAND_QUEUE), "current",
        "Per-node and per-role agentcontroller command queues (SCHEDULED job snapshots); "
        "the documented form has no 'queues:' prefix.",
        "job", JOB_COLUMNS,
        key_columns={"key_nid": "Int64", "key_role": "string"},
        categories=_JOB_CATEGORIES,
        kind="job", bounded=True, job=JobCopy(stage=0, authority=1, final=False), queue="command", identity=("guid",),
        key_parts=_command_queue_parts,
    ),
    Family.keyed(
        "job_results", "list", (keys.JOBQUEUE, keys.DOC_JOBQUEUE), "current",
        "Final job JSON of wait=True jobs (60 s TTL after the push, 5 s after a waiter read it).",
        "job", JOB_COLUMNS, ttl=True,
        categories=_JOB_CATEGORIES,
        kind="job", job=JobCopy(stage=4, authority=5, final=True), identity=("guid",),
    ),
    _fixed("health_status", "string", keys.HEALTH_STATUS, "current",
           "Aggregate grid health text (OK/WARNING/ERROR/...) with a 300 s TTL.",
           "text", {"status": "category"}, ttl=True, kind="health"),
    _fixed("healthcheck_monitoring", "hash", keys.HEALTHCHECK_MONITORING, "broken",
           "Legacy (2014-2015) grid healthcheck results and errors per node and check; no writer at HEAD.",
           "monitoring", MONITORING_COLUMNS, kind="health"),
    _fixed("alerts", "list", keys.ALERTS, "current", "Alert guids pushed by OSIS for the alerter.",
           "text", {"alert": "string"}, kind="alert", bounded=True),
    # ---------------------------------------------------------------- node: workers
    Family.keyed(
        "worker_queues", "list", (keys.WORKER_QUEUE, KeyTemplate(keys.SYSTEM_QUEUE, {"key_queue": "io"})), "current",
        "Jobs waiting for a worker, as pretty JSON; queues:system is the real 'io' queue.",
        "job", JOB_COLUMNS, categories=_JOB_CATEGORIES,
        kind="job", bounded=True, job=JobCopy(stage=2, authority=2, final=False), queue="worker", identity=("guid",),
    ),
    Family.keyed(
        "worker_jobs", "string",
        (keys.WORKER_JOB, keys.WORKER_JOB_NOCOLON,
         KeyTemplate(keys.WORKER_JOBS_LEGACY_HASH, {"form": "string"}, note="legacy hash")), "current",
        "Worker-side job copies (compact JSON); 60 s TTL once failed or local; the colon-less form "
        "is written on wait timeouts; the hash form is pre-2015-03.",
        "job", JOB_COLUMNS, also_types=("hash",),
        ttl=True, categories=_JOB_CATEGORIES,
        kind="job", job=JobCopy(stage=3, authority=3, final=True), identity=("key",),
        key_parts=_worker_job_parts,
    ),
    Family.keyed(
        "worker_returns", "list", (keys.WORKER_RETURN,), "current",
        "Completion times of node-local jobs (float epoch text, 60 s TTL).",
        "epoch", {"returned": "datetime"}, ttl=True,
        kind="worker",
    ),
    _fixed("worker_joblastid", "string", keys.WORKER_JOBLASTID, "current",
           "Last node-local job id (INCR; cycles 1..~500000).",
           "int", {"value": "Int64"}, kind="counter"),
    _fixed("worker_jumpscriptlastid", "string", keys.JUMPSCRIPT_LASTID, "current",
           "Last execFunction jumpscript id (INCR; >= 1000000).",
           "int", {"value": "Int64"}, kind="counter"),
    _fixed("worker_inqueuetest", "hash", keys.WORKER_INQUEUETEST, "current",
           "Periodic jumpscripts still queued (field <org>_<name>, value int epoch).",
           "epoch", {"queued": "datetime"}, kind="jumpscript"),
    _fixed("jumpscripts_by_name", "hash", keys.JUMPSCRIPTS_BY_NAME, "current",
           "Jumpscript cache by <organization>__<name> (the workers' primary lookup).",
           "jumpscript", JUMPSCRIPT_COLUMNS, field_column="jumpscript", categories={"form": ("pm", "execfunction")},
           kind="jumpscript"),
    _fixed("jumpscripts_by_id", "hash", keys.JUMPSCRIPTS_BY_ID, "current",
           "Jumpscript cache by id; field 'None' at HEAD, OSIS ids before 2018-06, >= 1000001 for execFunction.",
           "jumpscript", {"field_id": "Int64", "jumpscript": "string", **JUMPSCRIPT_COLUMNS}, categories={"form": ("pm", "execfunction")},
           kind="jumpscript", derive=_derive_field_id),
    _fixed("jumpscript_hashes", "hash", keys.JUMPSCRIPT_HASHES, "current", "md5 of execFunction sources -> jumpscript id.",
           "int", {"id": "Int64"}, field_column="md5", kind="jumpscript"),
    _fixed("worker_heartbeat", "hash", keys.WORKER_HEARTBEAT, "current",
           "Last loop time per worker queue (field = queue, int epoch).",
           "epoch", {"heartbeat": "datetime"}, field_column="queue", kind="heartbeat"),
    _fixed("worker_watchdog", "hash", keys.WORKER_WATCHDOG, "read-only",
           "JumpScale 6 worker heartbeats (field = worker_<q>_<n>, value int epoch or 0 = not yet looping).",
           "epoch", {"queue": "string", "heartbeat": "datetime", "looping": "boolean"}, field_column="worker",
           kind="heartbeat", value_column="heartbeat", derive=_derive_watchdog),
    Family.keyed(
        "worker_registry", "string", (keys.WORKER_REGISTRY,), "current",
        "Registered worker processes (value '1'); dead workers linger until jsagent restarts.",
        "text", {"value": "string"},
        kind="worker",
    ),
    Family.keyed(
        "worker_actions", "list", (keys.WORKER_ACTION, keys.WORKER_ACTION_LEGACY), "current",
        "RESTART/RELOAD actions waiting for one worker; legacy JS6 string form holds STOP/RELOAD.",
        "text", {"action": "category"},
        also_types=("string",),
        kind="worker", bounded=True, newest="head",
    ),
    _fixed("worker_sessions", "hash", keys.WORKER_SESSIONS, "legacy",
           "JumpScale 6 worker sessions (until 2014-06).",
           "session", SESSION_COLUMNS, field_column="session", kind="worker"),
    _fixed("processmanager_startuptime", "string", keys.PROCESSMANAGER_STARTUPTIME, "current",
           "When the processmanager last started (int epoch).",
           "epoch", {"startuptime": "datetime"}, kind="process"),
    _fixed("applications", "hash", keys.APPLICATION, "current",
           "Running JumpScale applications (field = app name, value = JSON list of pids).",
           "pidlist", {"pids": "object", "npids": "Int64"}, field_column="application", kind="process"),
    # ---------------------------------------------------------------- node: health (legacy)
    _fixed("healthcheck_status", "hash", keys.HEALTHCHECK_STATUS, "legacy",
           "JumpScale 6 check results (field = check, value 'True'/'False').",
           "bool", {"ok": "boolean"}, field_column="check", kind="health"),
    _fixed("healthcheck_lastcheck", "hash", keys.HEALTHCHECK_LASTCHECK, "legacy", "JumpScale 6 time of each check (float epoch text).",
           "epoch", {"lastcheck": "datetime"}, field_column="check", kind="health"),
    # ---------------------------------------------------------------- node: logs and ECOs
    _fixed("logs", "list", keys.LOGS_QUEUE, "current",
           "Log records waiting for loghandling (unbounded when nobody drains it).",
           "log", LOG_COLUMNS, kind="log", bounded=True),
    Family.keyed(
        "logs_incr", "string", (keys.LOGS_INCR, keys.LOGS_INCR_LEGACY), "current",
        "Order of the last processed log per node (INCR).",
        "int", {"value": "Int64"}, kind="counter",
    ),
    _fixed("ecos", "hash", keys.ECO_OBJECTS, "current",
           "Error conditions by unique key (Lua cjson), or 7-field stubs once processed; wiped above 1000.",
           "eco", ECO_COLUMNS,
           categories={"state": ("NEW", "ALERT", "CLOSED"), "type": ("BUG", "INPUT", "MONITORING", "OPERATIONS", "PERFORMANCE", "UNKNOWN")}, kind="eco"),
    _fixed("eco_queue", "list", keys.ECO_QUEUE, "current",
           "ECO unique keys waiting for loghandling (capped near 1000).",
           "text", {"uniquekey": "string"}, kind="eco", bounded=True),
    _fixed("eco_secos", "set", keys.ECO_SECOS, "current", "Throttled repeat ECOs, swept every 300 s.",
           "text", {"uniquekey": "string"}, kind="eco"),
    _fixed("eco_htime", "string", keys.ECO_HTIME, "current", "When loghandling last swept eco:secos (int epoch).",
           "epoch", {"swept": "datetime"}, kind="eco"),
    Family.keyed(
        "eco_incr", "string", (keys.ECO_INCR, keys.ECO_INCR_EPOCH, KeyTemplate(keys.ECO_INCR_DEAD, note="dead")), "legacy",
        "JumpScale 6 ECO counters (until 2014-11); dead in JumpScale 7.",
        "int", {"value": "Int64"}, kind="counter",
    ),
)

FAMILIES: dict[str, Family] = {f.name: f for f in FAMILY_LIST}
"""Every known family by name."""

_INCR_RENAMED = {"key_gid": "gid", "key_node": "nid", "key_epoch": "epoch"}
RENAMED_COLUMNS: dict[str, dict[str, str]] = {
    "command_queues": {"target_nid": "key_nid", "target_role": "key_role"},
    "worker_queues": {"worker_queue": "key_queue"},
    "worker_returns": {"key_id": "id"},
    "worker_inqueuetest": {"jumpscript": "field"},
    "jumpscripts_by_name": {"field": "jumpscript", "source": "code", "source_code": "code"},
    "jumpscripts_by_id": {"source": "code", "source_code": "code"},
    "logs_incr": _INCR_RENAMED,
    "eco_incr": _INCR_RENAMED,
}
"""Columns renamed by the one column vocabulary (old name -> current name), per family: snapshots
taken by earlier versions are read back under the current names (see docs/COLUMNS.md)."""


def _prefix_index(fams: tuple[Family, ...]) -> list[tuple[str, Family]]:
    return sorted(((re.split(r"[*?\[]", m, maxsplit=1)[0], f) for f in fams for m in f.match), key=lambda p: -len(p[0]))


_PREFIX_INDEX: list[tuple[str, Family]] = _prefix_index(FAMILY_LIST)


def register(fam: Family) -> Family:
    r"""Add a family at run time (a site-specific key family, or a test): ``families()``, ``load``,
    ``load_all``, snapshots, fleets and ``diff`` pick it up from the catalog with no other change.

    >>> fam = register(Family.keyed("uptime", "string", [KeyTemplate("uptime:{nid:int}")], "current",
    ...                             "Boot time per node.", "epoch", {"booted": "datetime"}))
    >>> classify("uptime:3"), unregister("uptime").name
    ('uptime', 'uptime')
    """
    global FAMILY_LIST
    if fam.name in FAMILIES:
        raise ValueError(f"family {fam.name!r} is already in the catalog")
    FAMILY_LIST = (*FAMILY_LIST, fam)
    FAMILIES[fam.name] = fam
    _PREFIX_INDEX[:] = _prefix_index(FAMILY_LIST)
    return fam


def unregister(name: str) -> Family:
    """Remove a family from the catalog (undoes :func:`register`)."""
    global FAMILY_LIST
    fam = family(name)
    FAMILY_LIST = tuple(f for f in FAMILY_LIST if f.name != name)
    del FAMILIES[name]
    _PREFIX_INDEX[:] = _prefix_index(FAMILY_LIST)
    return fam


def family(name: str) -> Family:
    """The family called ``name``; a clear error lists the known names.

    >>> family("jobs").redis_type
    'hash'
    """
    try:
        return FAMILIES[name]
    except KeyError:
        raise UnknownFamilyError(
            f"unknown family {name!r}{did_you_mean(name, FAMILIES)}; known families: {', '.join(sorted(FAMILIES))}"
        ) from None


def check_filters(name: str, filters: Iterable[str], columns: Collection[str]) -> None:
    """Refuse filters that name none of ``columns``: one :class:`UnknownFilterError` for every source.

    ``Admin``, ``Fleet``, ``Snapshot`` and ``History`` all call it, so the same bad ``load`` raises the same
    error with the same message wherever it is read from.

    >>> check_filters("jobs", ["gid"], family("jobs").columns)
    >>> try:
    ...     check_filters("jobs", ["gdi"], family("jobs").columns)
    ... except UnknownFilterError as exc:
    ...     print(str(exc).split(";")[0])
    unknown filter 'gdi' for family 'jobs': no such column (did you mean 'gid'?)
    """
    unknown = [str(f) for f in filters if f not in columns]
    if unknown:
        raise UnknownFilterError(
            f"unknown filter {', '.join(map(repr, unknown))} for family {name!r}: no such column"
            f"{did_you_mean(unknown[0], columns)}; filter on columns: {', '.join(map(str, columns))}"
        )


def families_of(kind: Kind) -> tuple[str, ...]:
    """The families of one kind, in catalog order.

    >>> families_of("heartbeat")
    ('worker_heartbeat', 'worker_watchdog')
    """
    return tuple(f.name for f in FAMILY_LIST if f.kind == kind)


def job_families(order: Literal["stage", "authority"] = "stage", *, final: bool = False) -> tuple[str, ...]:
    """The families holding copies of jobs, in the order of a job's life (``stage``) or most
    authoritative first (``authority``); ``final=True`` keeps those that can hold a final copy.

    >>> job_families()
    ('command_queues', 'jobs', 'worker_queues', 'worker_jobs', 'job_results')
    >>> job_families("authority", final=True)
    ('job_results', 'jobs', 'worker_jobs')
    """
    fams = [f for f in FAMILY_LIST if f.job is not None and (f.job.final or not final)]
    if order == "stage":
        fams.sort(key=lambda f: f.job.stage if f.job else 0)
    else:
        fams.sort(key=lambda f: -(f.job.authority if f.job else 0))
    return tuple(f.name for f in fams)


def queue_families() -> dict[str, QueueKind]:
    """The queues of jobs and their kind, in the order of a job's life.

    >>> queue_families()
    {'command_queues': 'command', 'worker_queues': 'worker'}
    """
    return {name: q for name in job_families() if (q := FAMILIES[name].queue) is not None}


def bounded_families() -> tuple[str, ...]:
    """The list families capped by default (:attr:`Family.bounded`): those that can grow without
    bound, spec §4 (``queues:logs`` has a broken trim, ``queues:eco`` is capped only while
    ``eco.lua`` runs, ``queues:alerts`` has no consumer in core7, queues back up while their
    consumer is down, and the action lists of dead workers linger and keep growing).

    >>> bounded_families()
    ('command_queues', 'alerts', 'worker_queues', 'worker_actions', 'logs', 'eco_queue')
    """
    return tuple(f.name for f in FAMILY_LIST if f.bounded)


def classify(key: bytes | str) -> str | None:
    """The family a key belongs to, or ``None`` for keys jsadmin does not know."""
    k = key.decode("utf-8", "backslashreplace") if isinstance(key, bytes) else key
    for prefix, fam in _PREFIX_INDEX:
        if k.startswith(prefix) and fam.regex.fullmatch(k):
            return fam.name
    return None


def job_family(key: bytes | str) -> Family | None:
    """The family of a key that holds copies of jobs (see :func:`job_families`), else ``None``.

    >>> job_family("queues:system").name, job_family("jobs:1").redis_type, job_family("jobs:last")
    ('worker_queues', 'hash', None)
    """
    name = classify(key)
    fam = FAMILIES[name] if name is not None else None
    return fam if fam is not None and fam.job is not None else None


def markdown_table() -> str:
    """The families as a Markdown table (README's family list is generated from this).

    >>> markdown_table().splitlines()[0]
    '| family | Redis type | keys | status | what it holds |'
    """
    lines = ["| family | Redis type | keys | status | what it holds |", "|---|---|---|---|---|"]
    for fam in FAMILY_LIST:
        pats = "<br>".join(f"`{p}`" for p in fam.patterns)
        lines.append(f"| `{fam.name}` | {fam.redis_type} | {pats} | {fam.status} | {fam.description} |")
    return "\n".join(lines)


COLUMN_NOTES: dict[str, str] = {
    "key": "The Redis key the row was read from.",
    "field": "The hash field, as JumpScale wrote it (for `worker_inqueuetest`: `<organization>_<name>`, "
             "single underscore, which cannot be split back reliably).",
    "position": "Index in the list (0 = head, the next to be popped).",
    "member": "The set member.",
    "ttl": "Seconds the key has left (`<NA>`: no expiry).",
    "form": "Which key or value shape the row came in (`real`/`documented` key forms, `string`/`nocolon`/"
            "`legacy_hash` worker copies, `pm`/`execfunction` jumpscripts).",
    "gid": "Grid id: the value's when the value has one, else the key's or field's.",
    "nid": "Node id: the value's when the value has one, else the key's.",
    "key_gid": "The grid id in the key (`jobs:<gid>`, `...:queue:<gid>:...`); the job's own `gid` is the "
               "`gid` column. They differ only for a job filed under another grid.",
    "key_nid": "The node a command queue is for (`...:queue:<gid>:<nid>`); `<NA>` for role queues.",
    "key_role": "The role a command queue is for (`...:queue:<gid>:<role>`); `<NA>` for node queues.",
    "key_queue": "The worker queue in the key (`queues:system` is `io`); the job's own `queue` is the `queue` column.",
    "key_guid": "The guid in the key (`queues:jobqueue:<guid>`); the job's own is `guid`.",
    "key_id": "The job id in the key (`workers:jobs:<id>`); the job's own is `id`.",
    "target": "The last part of a command queue key, as written: a node id or a role.",
    "field_id": "The field as an integer jumpscript id (`<NA>` for the `None` field written at HEAD).",
    "id": "Job id (job families, `worker_returns`) or jumpscript id (jumpscript families, `jumpscript_hashes`).",
    "jumpscript": "The jumpscript, `<organization>__<name>`, as JumpScale keys `workers:jumpscripts:name` "
                  "(for jobs: from `category`/`cmd`, legacy `jumpscript` + `<org>/<name>` folded in).",
    "code": "Jumpscript: its Python code (the JSON `source` field); ECO: the JSON `code` field.",
    "category": "Job: the jumpscript organization; jumpscript: its category; log/ECO: its category.",
    "cmd": "The jumpscript name a job runs (legacy local jobs: `<organization>/<name>`).",
    "role": "The first non-null of `roles` (derived).",
    "queue": "A worker queue name (`default`, `io`, `process`, `hypervisor`, ...).",
    "worker": "A worker process name (`worker_<queue>_<n>` in JumpScale 6).",
    "heartbeat": "When the worker (queue) last looped.",
    "looping": "Whether the JS6 worker ever looped (watchdog value not 0).",
    "check": "A healthcheck name.",
    "application": "A JumpScale application name.",
    "session": "A JumpScale 6 worker session id.",
    "md5": "The md5 of an `execFunction` jumpscript's code.",
    "epoch": "When (log/ECO: the record's time; `logs_incr`/`eco_incr`: the legacy key's epoch part).",
    "value": "The key's plain value.",
    "state": "Job: `SCHEDULED STARTED OK ERROR TIMEOUT NOWORK`; ECO: `NEW ALERT CLOSED`; healthcheck: its state.",
    "stub": "Whether the ECO is the 7-field stub left after processing.",
    "npids": "How many pids the application lists (derived).",
    "period_seconds": "`period` when it is a number of seconds, `<NA>` for a cron text (derived).",
    "debug": "The `debug` flag, else whether the code holds `DEBUG NOW` (derived).",
    "last_id": "The last job id handed out for the grid in `gid` (the hash field).",
}
"""What the columns mean where the name alone does not say it; every other column is the JSON field
of the same name in the value (spec §4.2 jobs, §5.4 jumpscripts, §5.6 ECOs, §5.7 logs)."""


def _column_origin(fam: Family, col: str) -> str:
    if col == "key" or col in fam.key_columns:
        return "key"
    if col == (fam.field_column or "field") and "hash" in (fam.redis_type, *fam.also_types):
        return "field"
    if col in ("position", "member", "ttl") and col not in fam.value_columns:
        return "list" if col == "position" else ("set" if col == "member" else "key")
    return "value"


_JSON_DECODERS = frozenset({"job", "jumpscript", "session", "eco", "log", "monitoring"})


def columns_table() -> str:
    """Every column name of every family, once: dtype, which families have it and from where
    (``key``, ``field``, ``value``), and what it means (docs/COLUMNS.md is generated from this).

    >>> columns_table().splitlines()[0]
    '| column | dtype | families (from) | meaning |'
    """
    seen: dict[str, list[tuple[str, str, str]]] = {}
    for fam in FAMILY_LIST:
        for col, dtype in fam.columns.items():
            seen.setdefault(col, []).append((fam.name, dtype, _column_origin(fam, col)))
    job = set(job_families())
    lines = ["| column | dtype | families (from) | meaning |", "|---|---|---|---|"]
    for col, uses in seen.items():
        dtypes = " ".join(dict.fromkeys(f"`{d}`" for _, d, _ in uses))
        by_origin: dict[str, list[str]] = {}
        for name, _, origin in uses:
            by_origin.setdefault(origin, []).append(name)
        parts = []
        if len(uses) == len(FAMILY_LIST) and len(by_origin) == 1:
            by_origin = {}
            parts.append(f"every family ({origin})")
        for origin, names in by_origin.items():
            shown = [n for n in names if n not in job]
            if job <= set(names):
                shown.insert(0, "every job family")
            else:
                shown = names
            parts.append(f"{', '.join(shown)} ({origin})")
        json = any(FAMILIES[name].decoder in _JSON_DECODERS for name, _, _ in uses)
        note = COLUMN_NOTES.get(col, "The value's JSON field of this name." if json else "The value, decoded.")
        lines.append(f"| `{col}` | {dtypes} | {'; '.join(parts)} | {note} |")
    return "\n".join(lines)
