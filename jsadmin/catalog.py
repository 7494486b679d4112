"""The catalog: every JumpScale 7 Redis key family, declared once.

``families()``, ``load()``, ``load_all()``, the docs and the writers are all driven by
:data:`FAMILIES`. Each :class:`Family` says which keys it matches (SCAN globs and a regex that
parses key parts into columns), the Redis type, how values decode, and the output columns
with their dtypes (see :mod:`jsadmin.frames`).

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
from .errors import UnknownFamilyError, UnknownFilterError, did_you_mean
from .frames import JOB_COLUMNS, JOB_STATES

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
    "source": "string",
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
        """The named parts of a key of this family, or ``None`` when it does not belong."""
        m = self.regex.fullmatch(key)
        return None if m is None else {k: v for k, v in m.groupdict().items() if v is not None}


def _command_queue_parts(parts: dict[str, str], rtype: str) -> dict[str, Any]:
    target = parts.get("target", "")
    return {"form": "real" if parts.get("form") else "documented",
            "target_nid": target if target.isdigit() else None,
            "target_role": None if target.isdigit() else target}


def _form_parts(parts: dict[str, str], rtype: str) -> dict[str, Any]:
    return {"form": "real" if parts.get("form") else "documented"}


def _worker_queue_parts(parts: dict[str, str], rtype: str) -> dict[str, Any]:
    return {"worker_queue": "io" if parts.get("system") else parts.get("worker_queue")}


def _worker_job_parts(parts: dict[str, str], rtype: str) -> dict[str, Any]:
    if rtype == "hash":
        return {"form": "legacy_hash"}
    if parts.get("nocolon"):
        return {"form": "nocolon", "key_id": parts["nocolon"]}
    return {"form": "string"}


def _derive_jobs_last(cols: dict[str, list[Any]]) -> None:
    cols["gid"] = [f if isinstance(f, str) else None for f in cols["field"]]


def _derive_watchdog(cols: dict[str, list[Any]]) -> None:
    cols["queue"] = [watchdog_queue(w) if isinstance(w, str) else None for w in cols["worker"]]
    cols["looping"] = [h is not None for h in cols["heartbeat"]]


def _derive_field_id(cols: dict[str, list[Any]]) -> None:
    cols["field_id"] = [f if isinstance(f, str) and f.isdigit() else None for f in cols["field"]]


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


def _re(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _lit(key: str) -> str:
    return re.escape(key)


def _fixed(name: str, redis_type: RedisType, key: str, status: Status, *rest: Any, **kw: Any) -> Family:
    """A family of one fixed key: ``key`` is its pattern, its match (read without SCAN) and its regex."""
    return Family(name, redis_type, (key,), (key,), _re(_lit(key)), status, *rest, **kw)


_JOB_CATEGORIES: dict[str, tuple[str, ...]] = {"state": JOB_STATES}
_GID = r"(?P<key_gid>\d+)"

FAMILY_LIST: tuple[Family, ...] = (
    # ---------------------------------------------------------------- agentcontroller (master)
    _fixed("jobs_last", "hash", keys.JOBS_LAST, "current",
           "Last agentcontroller job id per grid (HINCRBY; field = gid).",
           "int", {"gid": "Int64", "last_id": "Int64"}, kind="counter", value_column="last_id", derive=_derive_jobs_last),
    Family(
        "jobs", "hash", ("jobs:<gid>",), ("jobs:*",), _re(_lit(keys.JOBS_PREFIX) + _GID), "current",
        "In-flight agentcontroller jobs per grid (field = guid, value = compact job JSON); "
        "entries vanish on completion and within 5 minutes by cleanup.",
        "job", JOB_COLUMNS, key_columns={"key_gid": "Int64"}, categories=_JOB_CATEGORIES,
        kind="job", job=JobCopy(stage=1, authority=4, final=True), identity=("guid",), gid_key=keys.jobs,
    ),
    Family(
        "command_queues", "list",
        ("queues:commands:queue:<gid>:<nid|role>", "commands:queue:<gid>:<nid>"),
        ("queues:commands:queue:*", "commands:queue:*"),
        _re(r"(?P<form>queues:|)commands:queue:(?P<key_gid>[^:]+):(?P<target>.+)"), "current",
        "Per-node and per-role agentcontroller command queues (SCHEDULED job snapshots); "
        "the documented form has no 'queues:' prefix.",
        "job", JOB_COLUMNS,
        key_columns={"form": "category", "key_gid": "Int64", "target": "string",
                     "target_nid": "Int64", "target_role": "string"},
        categories=_JOB_CATEGORIES,
        kind="job", job=JobCopy(stage=0, authority=1, final=False), queue="command", identity=("guid",),
        key_parts=_command_queue_parts,
    ),
    Family(
        "job_results", "list", ("queues:jobqueue:<guid>", "jobqueue:<guid>"),
        ("queues:jobqueue:*", "jobqueue:*"), _re(r"(?P<form>queues:|)jobqueue:(?P<key_guid>.+)"), "current",
        "Final job JSON of wait=True jobs (60 s TTL after the push, 5 s after a waiter read it).",
        "job", JOB_COLUMNS, key_columns={"form": "category", "key_guid": "string"}, ttl=True,
        categories=_JOB_CATEGORIES,
        kind="job", job=JobCopy(stage=4, authority=5, final=True), identity=("guid",), key_parts=_form_parts,
    ),
    _fixed("health_status", "string", keys.HEALTH_STATUS, "current",
           "Aggregate grid health text (OK/WARNING/ERROR/...) with a 300 s TTL.",
           "text", {"status": "category"}, ttl=True, kind="health"),
    _fixed("healthcheck_monitoring", "hash", keys.HEALTHCHECK_MONITORING, "broken",
           "Legacy (2014-2015) grid healthcheck results and errors per node and check; no writer at HEAD.",
           "monitoring", MONITORING_COLUMNS, kind="health"),
    _fixed("alerts", "list", keys.ALERTS, "current", "Alert guids pushed by OSIS for the alerter.",
           "text", {"alert": "string"}, kind="alert"),
    # ---------------------------------------------------------------- node: workers
    Family(
        "worker_queues", "list", ("queues:workers:work:<q>", "queues:system"),
        ("queues:workers:work:*", keys.SYSTEM_QUEUE),
        _re(r"queues:(?:workers:work:(?P<worker_queue>.+)|(?P<system>system))"), "current",
        "Jobs waiting for a worker, as pretty JSON; queues:system is the real 'io' queue.",
        "job", JOB_COLUMNS, key_columns={"worker_queue": "string"}, categories=_JOB_CATEGORIES,
        kind="job", job=JobCopy(stage=2, authority=2, final=False), queue="worker", identity=("guid",),
        key_parts=_worker_queue_parts,
    ),
    Family(
        "worker_jobs", "string", ("workers:jobs:<id>", "workers:jobs<id>", "workers:jobs (legacy hash)"),
        ("workers:jobs*",), _re(r"workers:jobs(?::(?P<key_id>\d+)|(?P<nocolon>\d+))?"), "current",
        "Worker-side job copies (compact JSON); 60 s TTL once failed or local; the colon-less form "
        "is written on wait timeouts; the hash form is pre-2015-03.",
        "job", JOB_COLUMNS, key_columns={"form": "category", "key_id": "Int64"}, also_types=("hash",),
        ttl=True, categories=_JOB_CATEGORIES,
        kind="job", job=JobCopy(stage=3, authority=3, final=True), identity=("key",),
        key_parts=_worker_job_parts,
    ),
    Family(
        "worker_returns", "list", ("workers:return:<id>",), (keys.WORKER_RETURN_PREFIX + "*",),
        _re(_lit(keys.WORKER_RETURN_PREFIX) + r"(?P<key_id>\d+)"), "current",
        "Completion times of node-local jobs (float epoch text, 60 s TTL).",
        "epoch", {"returned": "datetime"}, key_columns={"key_id": "Int64"}, ttl=True,
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
           "epoch", {"queued": "datetime"}, field_column="jumpscript", kind="jumpscript"),
    _fixed("jumpscripts_by_name", "hash", keys.JUMPSCRIPTS_BY_NAME, "current",
           "Jumpscript cache by <organization>__<name> (the workers' primary lookup).",
           "jumpscript", JUMPSCRIPT_COLUMNS, categories={"form": ("pm", "execfunction")}, kind="jumpscript"),
    _fixed("jumpscripts_by_id", "hash", keys.JUMPSCRIPTS_BY_ID, "current",
           "Jumpscript cache by id; field 'None' at HEAD, OSIS ids before 2018-06, >= 1000001 for execFunction.",
           "jumpscript", {"field_id": "Int64", **JUMPSCRIPT_COLUMNS}, categories={"form": ("pm", "execfunction")},
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
    Family(
        "worker_registry", "string", ("workers:worker:<q>:<wname>",), (keys.WORKER_REGISTRY_PREFIX + "*",),
        _re(_lit(keys.WORKER_REGISTRY_PREFIX) + r"(?P<queue>[^:]+):(?P<worker>.+)"), "current",
        "Registered worker processes (value '1'); dead workers linger until jsagent restarts.",
        "text", {"value": "string"}, key_columns={"queue": "string", "worker": "string"},
        kind="worker",
    ),
    Family(
        "worker_actions", "list", ("workers:action:<q>:<wname>", "workers:action:<q> (legacy)"),
        (keys.WORKER_ACTION_PREFIX + "*",),
        _re(_lit(keys.WORKER_ACTION_PREFIX) + r"(?P<queue>[^:]+)(?::(?P<worker>.+))?"), "current",
        "RESTART/RELOAD actions waiting for one worker; legacy JS6 string form holds STOP/RELOAD.",
        "text", {"action": "category"}, key_columns={"queue": "string", "worker": "string"},
        also_types=("string",),
        kind="worker",
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
           "log", LOG_COLUMNS, kind="log"),
    Family(
        "logs_incr", "string", ("logs:incr:<gid>_<nid>", "logs:incr:<gid>_<pid> | <gid>_<nid>_<epoch> (legacy)"),
        (keys.LOGS_INCR_PREFIX + "*",),
        _re(_lit(keys.LOGS_INCR_PREFIX) + r"(?P<key_gid>\d+)_(?P<key_node>\d+)(?:_(?P<key_epoch>\d+))?"),
        "current",
        "Order of the last processed log per node (INCR).",
        "int", {"value": "Int64"},
        key_columns={"key_gid": "Int64", "key_node": "Int64", "key_epoch": "datetime"},
        kind="counter",
    ),
    _fixed("ecos", "hash", keys.ECO_OBJECTS, "current",
           "Error conditions by unique key (Lua cjson), or 7-field stubs once processed; wiped above 1000.",
           "eco", ECO_COLUMNS,
           categories={"state": ("NEW", "ALERT", "CLOSED"), "type": ("BUG", "INPUT", "MONITORING", "OPERATIONS", "PERFORMANCE", "UNKNOWN")}, kind="eco"),
    _fixed("eco_queue", "list", keys.ECO_QUEUE, "current",
           "ECO unique keys waiting for loghandling (capped near 1000).",
           "text", {"uniquekey": "string"}, kind="eco"),
    _fixed("eco_secos", "set", keys.ECO_SECOS, "current", "Throttled repeat ECOs, swept every 300 s.",
           "text", {"uniquekey": "string"}, kind="eco"),
    _fixed("eco_htime", "string", keys.ECO_HTIME, "current", "When loghandling last swept eco:secos (int epoch).",
           "epoch", {"swept": "datetime"}, kind="eco"),
    Family(
        "eco_incr", "string", ("eco:incr:<gid>_<nid> (legacy JS6)", "eco:incr (dead)"), ("eco:incr*",),
        _re(r"eco:incr(?::(?P<key_gid>\d+)_(?P<key_node>\d+)(?:_(?P<key_epoch>\d+))?)?"), "legacy",
        "JumpScale 6 ECO counters (until 2014-11); dead in JumpScale 7.",
        "int", {"value": "Int64"},
        key_columns={"key_gid": "Int64", "key_node": "Int64", "key_epoch": "datetime"},
        kind="counter",
    ),
)

FAMILIES: dict[str, Family] = {f.name: f for f in FAMILY_LIST}
"""Every known family by name."""


def _prefix_index(fams: tuple[Family, ...]) -> list[tuple[str, Family]]:
    return sorted(((re.split(r"[*?\[]", m, maxsplit=1)[0], f) for f in fams for m in f.match), key=lambda p: -len(p[0]))


_PREFIX_INDEX: list[tuple[str, Family]] = _prefix_index(FAMILY_LIST)


def register(fam: Family) -> Family:
    r"""Add a family at run time (a site-specific key family, or a test): ``families()``, ``load``,
    ``load_all``, snapshots, fleets and ``diff`` pick it up from the catalog with no other change.

    >>> fam = register(Family("uptime", "string", ("uptime:<nid>",), ("uptime:*",),
    ...                       re.compile(r"uptime:(?P<key_nid>\d+)"), "current", "Boot time per node.",
    ...                       "epoch", {"booted": "datetime"}, key_columns={"key_nid": "Int64"}))
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


def classify(key: bytes | str) -> str | None:
    """The family a key belongs to, or ``None`` for keys jsadmin does not know."""
    k = key.decode("utf-8", "backslashreplace") if isinstance(key, bytes) else key
    for prefix, fam in _PREFIX_INDEX:
        if k.startswith(prefix) and fam.regex.fullmatch(k):
            return fam.name
    return None


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
