"""Literal Redis key names and key builders of JumpScale 7 (spec ``jumpscale-redis.md`` §3, §8.4).

Every module that names a Redis key takes it from here: readers (through the catalog),
writers, the demo grid and the tests. Golden tests assert the literal strings.

>>> command_queue("1", 5)
'queues:commands:queue:1:5'
>>> worker_queue("io")
'queues:system'
"""

from __future__ import annotations

# --- agentcontroller (master) ---------------------------------------------------------------
JOBS_LAST = "jobs:last"
"""hash: field ``str(gid)`` -> last AC job id (HINCRBY)."""

JOBS_PREFIX = "jobs:"
COMMAND_QUEUE_PREFIX = "queues:commands:queue:"
"""Real deployments: ``queues:commands:queue:<gid>:<nid|role>`` (22-char prefix)."""
DOC_COMMAND_QUEUE_PREFIX = "commands:queue:"
"""The documented (seed table) form ``commands:queue:<gid>:<nid>``."""
JOBQUEUE_PREFIX = "queues:jobqueue:"
DOC_JOBQUEUE_PREFIX = "jobqueue:"
HEALTH_STATUS = "health.status"
HEALTHCHECK_MONITORING = "healthcheck:monitoring"
HEALTHCHECK_STATUS = "healthcheck:status"
HEALTHCHECK_LASTCHECK = "healthcheck:lastcheck"
ALERTS = "queues:alerts"

# --- node: workers --------------------------------------------------------------------------
WORKER_QUEUE_PREFIX = "queues:workers:work:"
SYSTEM_QUEUE = "queues:system"
"""The real ``io`` worker queue since 2015-01 (§3.2)."""
WORKER_JOBS_PREFIX = "workers:jobs:"
WORKER_JOBS_LEGACY_HASH = "workers:jobs"
"""Legacy (<= 2015-03) hash form of the worker jobs."""
WORKER_RETURN_PREFIX = "workers:return:"
WORKER_JOBLASTID = "workers:joblastid"
WORKER_INQUEUETEST = "workers:inqueuetest"
JUMPSCRIPTS_BY_NAME = "workers:jumpscripts:name"
JUMPSCRIPTS_BY_ID = "workers:jumpscripts:id"
JUMPSCRIPT_LASTID = "workers:jumpscriptlastid"
JUMPSCRIPT_HASHES = "workers:jumpscripthashes"
WORKER_HEARTBEAT = "workers:heartbeat"
WORKER_WATCHDOG = "workers:watchdog"
WORKER_SESSIONS = "workers:sessions"
WORKER_REGISTRY_PREFIX = "workers:worker:"
WORKER_ACTION_PREFIX = "workers:action:"
PROCESSMANAGER_STARTUPTIME = "processmanager:startuptime"
APPLICATION = "application"

# --- node: logs and ECOs --------------------------------------------------------------------
LOGS_QUEUE = "queues:logs"
LOGS_INCR_PREFIX = "logs:incr:"
ECO_QUEUE = "queues:eco"
ECO_OBJECTS = "eco:objects"
ECO_SECOS = "eco:secos"
ECO_HTIME = "eco:htime"
ECO_INCR_PREFIX = "eco:incr:"

STANDARD_WORKER_QUEUES = ("default", "io", "hypervisor", "process")
JUMPSCRIPTID_FLOOR = 1_000_000
"""A real worker resets ``workers:jumpscriptlastid`` to this when it finds a smaller value."""
JOBLASTID_CEILING = 500_000
"""A real worker resets ``workers:joblastid`` to 1 when it finds a larger value."""
JOBQUEUE_TTL = 60
"""Seconds a ``queues:jobqueue:<guid>`` result lives after the AC pushes it."""


def jobs(gid: int | str) -> str:
    """In-flight AC jobs of a grid: ``jobs:<gid>`` (hash guid -> job JSON)."""
    return f"{JOBS_PREFIX}{gid}"


def command_queue(gid: int | str, target: int | str) -> str:
    """AC command queue of a node id or a role: ``queues:commands:queue:<gid>:<nid|role>``."""
    return f"{COMMAND_QUEUE_PREFIX}{gid}:{target}"


def jobqueue(guid: str) -> str:
    """Result list of a ``wait=True`` job: ``queues:jobqueue:<guid>``."""
    return f"{JOBQUEUE_PREFIX}{guid}"


def worker_queue(queue: str) -> str:
    """Worker queue key; ``""`` means ``default`` and ``io`` is ``queues:system`` (§3.2)."""
    queue = queue or "default"
    if queue == "io":
        return SYSTEM_QUEUE
    return f"{WORKER_QUEUE_PREFIX}{queue}"


def worker_job(job_id: int | str) -> str:
    """Worker-side job copy: ``workers:jobs:<id>``."""
    return f"{WORKER_JOBS_PREFIX}{job_id}"


def worker_return(job_id: int | str) -> str:
    """Completion marker list of a node-local job: ``workers:return:<id>``."""
    return f"{WORKER_RETURN_PREFIX}{job_id}"


def worker_registry(queue: str, wname: str) -> str:
    """Registration of one worker process: ``workers:worker:<q>:<wname>``."""
    return f"{WORKER_REGISTRY_PREFIX}{queue}:{wname}"


def worker_action(queue: str, wname: str) -> str:
    """Action list of one worker process: ``workers:action:<q>:<wname>``."""
    return f"{WORKER_ACTION_PREFIX}{queue}:{wname}"


def logs_incr(gid: int | str, nid: int | str) -> str:
    """Log order counter of a node: ``logs:incr:<gid>_<nid>``."""
    return f"{LOGS_INCR_PREFIX}{gid}_{nid}"


def eco_incr(gid: int | str, nid: int | str) -> str:
    """Legacy JS6 ECO counter: ``eco:incr:<gid>_<nid>``."""
    return f"{ECO_INCR_PREFIX}{gid}_{nid}"


def jumpscript_name_field(organization: str, name: str) -> str:
    """Field of ``workers:jumpscripts:name``: ``<organization>__<name>`` (double underscore)."""
    return f"{organization}__{name}"


def inqueuetest_field(organization: str, name: str) -> str:
    """Field of ``workers:inqueuetest``: ``<organization>_<name>`` (single underscore)."""
    return f"{organization}_{name}"
