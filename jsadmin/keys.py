"""Literal Redis key names, key templates and key builders of JumpScale 7 (spec ``jumpscale-redis.md`` §3, §8.4).

Every module that names a Redis key takes it from here: readers (through the catalog),
writers, the demo grid and the tests. Golden tests assert the literal strings. A key with parts
is a :class:`KeyTemplate`: the one declaration its SCAN glob, parsing regex, typed key columns,
documented pattern and builder come from.

>>> command_queue("1", 5)
'queues:commands:queue:1:5'
>>> worker_queue("io")
'queues:system'
>>> COMMAND_QUEUE.parse("queues:commands:queue:1:node")
{'form': 'real', 'key_gid': '1', 'target': 'node'}
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

KEY_TYPES: dict[str, tuple[str, str]] = {
    "int": (r"\d+", "Int64"),
    "num": (r"[^:]+", "Int64"),
    "epoch": (r"\d+", "datetime"),
    "str": (r"[^:]+", "string"),
    "rest": (r".+", "string"),
}
"""Field types of a :class:`KeyTemplate`: the regex a field matches and the dtype of its column
(``str`` is one colon-free key segment, ``rest`` runs to the end of the key, colons included;
``num`` is a colon-free segment loaded as ``Int64``, so a key with a non-number there still belongs
to its family and the value is reported as a load problem instead of the key being skipped)."""

_FIELD = re.compile(r"\{(?:(?P<label>[^=}]+)=)?(?P<column>\w+)(?::(?P<type>\w+))?\}")


@dataclass(frozen=True)
class KeyTemplate:
    """One shape of a key, e.g. ``"queues:commands:queue:{gid=key_gid:int}:{nid|role=target:rest}"``.

    A field is ``{label=column:type}``: ``column`` names the key column it fills, ``type`` is one of
    :data:`KEY_TYPES` (default ``str``), ``label`` is how the documented pattern shows it (default:
    the column). ``fixed`` are constant key columns this shape implies (``form="real"``); ``note`` is
    appended to the documented pattern, ``doc`` replaces it (``""``: not documented).

    >>> t = KeyTemplate("workers:worker:{q=queue}:{wname=worker:rest}")
    >>> t.glob, t.pattern, t.columns
    ('workers:worker:*', 'workers:worker:<q>:<wname>', {'queue': 'string', 'worker': 'string'})
    >>> t.build("io", "w1"), t.parse("workers:worker:io:w1"), t.parse("workers:worker:io")
    ('workers:worker:io:w1', {'queue': 'io', 'worker': 'w1'}, None)
    """

    text: str
    fixed: dict[str, str] = field(default_factory=dict)
    note: str = ""
    doc: str | None = None
    fields: tuple[tuple[str, str, str], ...] = field(init=False, repr=False, compare=False)
    """``(label, column, type)`` of each field, in key order."""
    regex: re.Pattern[str] = field(init=False, repr=False, compare=False)
    """Full-key regex; one named group per field."""

    def __post_init__(self) -> None:
        fields: list[tuple[str, str, str]] = []
        rx: list[str] = []
        pos = 0
        for m in _FIELD.finditer(self.text):
            col, typ = m["column"], m["type"] or "str"
            if typ not in KEY_TYPES:
                raise ValueError(f"key template {self.text!r}: unknown field type {typ!r} (known: {', '.join(KEY_TYPES)})")
            fields.append((m["label"] or col, col, typ))
            rx += [re.escape(self.text[pos : m.start()]), f"(?P<{col}>{KEY_TYPES[typ][0]})"]
            pos = m.end()
        rx.append(re.escape(self.text[pos:]))
        object.__setattr__(self, "fields", tuple(fields))
        object.__setattr__(self, "regex", re.compile("".join(rx)))

    @property
    def prefix(self) -> str:
        """The literal text before the first field (the whole key when it has none)."""
        return self.text.split("{", 1)[0]

    @property
    def glob(self) -> str:
        """The ``SCAN MATCH`` glob: the literal prefix and ``*``; the key itself when it has no fields."""
        return self.prefix + "*" if self.fields else self.text

    @property
    def columns(self) -> dict[str, str]:
        """The key columns this shape fills and their dtypes: ``fixed`` ones (``category``) first."""
        cols = {c: "category" for c in self.fixed}
        cols.update({c: KEY_TYPES[t][1] for _, c, t in self.fields})
        return cols

    @property
    def pattern(self) -> str:
        """The documented shape, ``<label>`` for each field (``""`` when not documented)."""
        if self.doc is not None:
            return self.doc
        text = _FIELD.sub(lambda m: f"<{m['label'] or m['column']}>", self.text)
        return f"{text} ({self.note})" if self.note else text

    def parse(self, key: str) -> dict[str, str] | None:
        """The key's columns (fields as text, then ``fixed``), or ``None`` when it has another shape."""
        m = self.regex.fullmatch(key)
        return None if m is None else {**self.fixed, **m.groupdict()}

    def build(self, *values: object, **parts: object) -> str:
        """The key with these field values, given in key order or by column name."""
        given = dict(zip((c for _, c, _ in self.fields), values), **parts)
        return _FIELD.sub(lambda m: str(given[m["column"]]), self.text)


# --- agentcontroller (master) ---------------------------------------------------------------
JOBS_LAST = "jobs:last"
"""hash: field ``str(gid)`` -> last AC job id (HINCRBY)."""

JOBS = KeyTemplate("jobs:{gid=key_gid:int}")
JOBS_PREFIX = JOBS.prefix
# ``num``, not ``int``: a job filed under a malformed grid id still loads (with a problem), as it always did
COMMAND_QUEUE = KeyTemplate("queues:commands:queue:{gid=key_gid:num}:{nid|role=target:rest}", {"form": "real"})
"""Real deployments: ``queues:commands:queue:<gid>:<nid|role>`` (22-char prefix)."""
DOC_COMMAND_QUEUE = KeyTemplate("commands:queue:{gid=key_gid:num}:{nid=target:rest}", {"form": "documented"})
"""The documented (seed table) form ``commands:queue:<gid>:<nid>``."""
COMMAND_QUEUE_PREFIX = COMMAND_QUEUE.prefix
DOC_COMMAND_QUEUE_PREFIX = DOC_COMMAND_QUEUE.prefix
JOBQUEUE = KeyTemplate("queues:jobqueue:{guid=key_guid:rest}", {"form": "real"})
DOC_JOBQUEUE = KeyTemplate("jobqueue:{guid=key_guid:rest}", {"form": "documented"})
JOBQUEUE_PREFIX = JOBQUEUE.prefix
DOC_JOBQUEUE_PREFIX = DOC_JOBQUEUE.prefix
HEALTH_STATUS = "health.status"
HEALTHCHECK_MONITORING = "healthcheck:monitoring"
HEALTHCHECK_STATUS = "healthcheck:status"
HEALTHCHECK_LASTCHECK = "healthcheck:lastcheck"
ALERTS = "queues:alerts"

# --- node: workers --------------------------------------------------------------------------
WORKER_QUEUE = KeyTemplate("queues:workers:work:{q=key_queue:rest}")
WORKER_QUEUE_PREFIX = WORKER_QUEUE.prefix
SYSTEM_QUEUE = "queues:system"
"""The real ``io`` worker queue since 2015-01 (§3.2)."""
WORKER_JOB = KeyTemplate("workers:jobs:{id=key_id:int}", {"form": "string"})
WORKER_JOB_NOCOLON = KeyTemplate("workers:jobs{id=key_id:int}", {"form": "nocolon"})
"""The colon-less form written on wait timeouts."""
WORKER_JOBS_PREFIX = WORKER_JOB.prefix
WORKER_JOBS_LEGACY_HASH = "workers:jobs"
"""Legacy (<= 2015-03) hash form of the worker jobs."""
WORKER_RETURN = KeyTemplate("workers:return:{id:int}")
WORKER_RETURN_PREFIX = WORKER_RETURN.prefix
WORKER_JOBLASTID = "workers:joblastid"
WORKER_INQUEUETEST = "workers:inqueuetest"
JUMPSCRIPTS_BY_NAME = "workers:jumpscripts:name"
JUMPSCRIPTS_BY_ID = "workers:jumpscripts:id"
JUMPSCRIPT_LASTID = "workers:jumpscriptlastid"
JUMPSCRIPT_HASHES = "workers:jumpscripthashes"
WORKER_HEARTBEAT = "workers:heartbeat"
WORKER_WATCHDOG = "workers:watchdog"
WORKER_SESSIONS = "workers:sessions"
WORKER_REGISTRY = KeyTemplate("workers:worker:{q=queue}:{wname=worker:rest}")
WORKER_REGISTRY_PREFIX = WORKER_REGISTRY.prefix
WORKER_ACTION = KeyTemplate("workers:action:{q=queue}:{wname=worker:rest}")
WORKER_ACTION_LEGACY = KeyTemplate("workers:action:{q=queue}", note="legacy")
"""JumpScale 6: one action string per worker queue."""
WORKER_ACTION_PREFIX = WORKER_ACTION.prefix
PROCESSMANAGER_STARTUPTIME = "processmanager:startuptime"
APPLICATION = "application"

# --- node: logs and ECOs --------------------------------------------------------------------
LOGS_QUEUE = "queues:logs"
LOGS_INCR = KeyTemplate("logs:incr:{gid:int}_{nid:int}")
LOGS_INCR_LEGACY = KeyTemplate("logs:incr:{gid:int}_{nid:int}_{epoch:epoch}",
                               doc="logs:incr:<gid>_<pid> | <gid>_<nid>_<epoch> (legacy)")
LOGS_INCR_PREFIX = LOGS_INCR.prefix
ECO_QUEUE = "queues:eco"
ECO_OBJECTS = "eco:objects"
ECO_SECOS = "eco:secos"
ECO_HTIME = "eco:htime"
ECO_INCR = KeyTemplate("eco:incr:{gid:int}_{nid:int}", note="legacy JS6")
ECO_INCR_EPOCH = KeyTemplate("eco:incr:{gid:int}_{nid:int}_{epoch:epoch}", doc="")
ECO_INCR_PREFIX = ECO_INCR.prefix
ECO_INCR_DEAD = "eco:incr"
"""The plain JumpScale 7 counter, dead (nothing reads or writes it)."""

STANDARD_WORKER_QUEUES = ("default", "io", "hypervisor", "process")
JUMPSCRIPTID_FLOOR = 1_000_000
"""A real worker resets ``workers:jumpscriptlastid`` to this when it finds a smaller value."""
JOBLASTID_CEILING = 500_000
"""A real worker resets ``workers:joblastid`` to 1 when it finds a larger value."""
JOBQUEUE_TTL = 60
"""Seconds a ``queues:jobqueue:<guid>`` result lives after the AC pushes it."""


def jobs(gid: int | str) -> str:
    """In-flight AC jobs of a grid: ``jobs:<gid>`` (hash guid -> job JSON)."""
    return JOBS.build(gid)


def command_queue(gid: int | str, target: int | str) -> str:
    """AC command queue of a node id or a role: ``queues:commands:queue:<gid>:<nid|role>``."""
    return COMMAND_QUEUE.build(gid, target)


def jobqueue(guid: str) -> str:
    """Result list of a ``wait=True`` job: ``queues:jobqueue:<guid>``."""
    return JOBQUEUE.build(guid)


def worker_queue(queue: str) -> str:
    """Worker queue key; ``""`` means ``default`` and ``io`` is ``queues:system`` (§3.2)."""
    queue = queue or "default"
    return SYSTEM_QUEUE if queue == "io" else WORKER_QUEUE.build(queue)


def worker_job(job_id: int | str) -> str:
    """Worker-side job copy: ``workers:jobs:<id>``."""
    return WORKER_JOB.build(job_id)


def worker_return(job_id: int | str) -> str:
    """Completion marker list of a node-local job: ``workers:return:<id>``."""
    return WORKER_RETURN.build(job_id)


def worker_registry(queue: str, wname: str) -> str:
    """Registration of one worker process: ``workers:worker:<q>:<wname>``."""
    return WORKER_REGISTRY.build(queue, wname)


def worker_action(queue: str, wname: str) -> str:
    """Action list of one worker process: ``workers:action:<q>:<wname>``."""
    return WORKER_ACTION.build(queue, wname)


def logs_incr(gid: int | str, nid: int | str) -> str:
    """Log order counter of a node: ``logs:incr:<gid>_<nid>``."""
    return LOGS_INCR.build(gid, nid)


def eco_incr(gid: int | str, nid: int | str) -> str:
    """Legacy JS6 ECO counter: ``eco:incr:<gid>_<nid>``."""
    return ECO_INCR.build(gid, nid)


def jumpscript_name_field(organization: str, name: str) -> str:
    """Field of ``workers:jumpscripts:name``: ``<organization>__<name>`` (double underscore)."""
    return f"{organization}__{name}"


def inqueuetest_field(organization: str, name: str) -> str:
    """Field of ``workers:inqueuetest``: ``<organization>_<name>`` (single underscore)."""
    return f"{organization}_{name}"
