"""The JumpScale 7 domain, once: job states, which copy of a job is final, jumpscript identity, and
the builders of the job and jumpscript dicts (spec §4, §5.4).

A data-layer module: it imports only :mod:`jsadmin.keys`. Writes, the demo seed, the live demo grid,
analytics, ``diff``, the recorder and the job browser take their states, ranking and shapes from here.

>>> JobState.NOWORK in JobState.FINAL, JobState.STARTED in JobState.IN_FLIGHT
(True, True)
>>> copy_rank_of("OK", has_stop=True) == TOP_RANK
True
>>> jumpscript_id("jumpscript", "jumpscale/echo")
'jumpscale__echo'
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

from . import keys

__all__ = [
    "BLANK_CMD",
    "MISSING_CMD",
    "NO_ORGANIZATION",
    "TOP_RANK",
    "Job",
    "JobState",
    "Jumpscript",
    "copy_rank_of",
    "jumpscript_id",
    "jumpscript_ids",
    "jumpscript_key",
    "registered_ids",
    "split_jumpscript",
]


# --- job states (spec §4.6) --------------------------------------------------------------------


class JobState:
    """The states a job can be in (spec §4.6), as plain strings (they are what Redis holds).

    ``FINAL``: the job will not move any more. ``NOWORK`` is final: the agentcontroller stores it when
    no agent has the role, never queues it, and nothing ever picks it up (§4.6, §6.2).
    ``IN_FLIGHT``: queued or handed to a worker. A state outside both (any other string a worker
    stored, §4.6) counts as final when ranking copies (:func:`copy_rank_of`).

    >>> JobState.FINAL
    ('OK', 'ERROR', 'TIMEOUT', 'NOWORK')
    """

    SCHEDULED = "SCHEDULED"
    STARTED = "STARTED"
    OK = "OK"
    ERROR = "ERROR"
    TIMEOUT = "TIMEOUT"
    NOWORK = "NOWORK"

    ALL: ClassVar[tuple[str, ...]] = ("SCHEDULED", "STARTED", "OK", "ERROR", "TIMEOUT", "NOWORK")
    """The six states, in lifecycle order (the categories of the ``state`` column)."""
    IN_FLIGHT: ClassVar[tuple[str, ...]] = ("SCHEDULED", "STARTED")
    FINAL: ClassVar[tuple[str, ...]] = ("OK", "ERROR", "TIMEOUT", "NOWORK")
    FAILED: ClassVar[tuple[str, ...]] = ("ERROR", "TIMEOUT")
    """The job ran and failed (or was given up on while running): what error reports count."""
    RETRYABLE: ClassVar[tuple[str, ...]] = ("ERROR", "TIMEOUT", "NOWORK")
    """Final states that did not succeed: what ``requeue_jobs`` takes by default."""


# --- which copy of a job is final ----------------------------------------------------------------

FINAL_STATE_RANK: dict[str, int] = {"OK": 3, "ERROR": 3, "TIMEOUT": 2, "NOWORK": 1}
"""Among final copies: OK/ERROR (the worker's own verdict) beat TIMEOUT beat NOWORK."""
TIER_FINAL, TIER_STARTED, TIER_SCHEDULED = 2, 1, 0
HAS_STOP = 10
"""What a ``timeStop`` adds to a copy's rank (a copy with executor timestamps tells more)."""
TOP_RANK = TIER_FINAL * 100 + HAS_STOP + 3
""":func:`copy_rank_of` of a copy no other copy can beat (final OK/ERROR with ``timeStop``)."""


def state_tier(state: object) -> int:
    """2 for a final state (OK, ERROR, TIMEOUT, NOWORK or any other non-blank string), 1 for STARTED,
    0 for SCHEDULED, a blank or a missing state.

    >>> state_tier("NOWORK"), state_tier("STARTED"), state_tier("weird"), state_tier(None)
    (2, 1, 2, 0)
    """
    if not isinstance(state, str):
        return TIER_SCHEDULED
    if state in FINAL_STATE_RANK:
        return TIER_FINAL
    if state == JobState.STARTED:
        return TIER_STARTED
    if state == JobState.SCHEDULED or not state.strip():
        return TIER_SCHEDULED
    return TIER_FINAL


def copy_rank_of(state: object, has_stop: bool = False) -> int:
    """How far along one copy of a job is: the higher, the more it tells.

    ``tier * 100 + has timeStop * 10 + state rank`` (:func:`state_tier`, :data:`FINAL_STATE_RANK`).
    :func:`jsadmin.analytics.jobs.copy_rank` applies it to a column.

    >>> [copy_rank_of(s) for s in ("SCHEDULED", "STARTED", "TIMEOUT", "OK")]
    [0, 100, 202, 203]
    """
    rank = FINAL_STATE_RANK.get(state, 0) if isinstance(state, str) else 0
    return state_tier(state) * 100 + (HAS_STOP if has_stop else 0) + rank


# --- jumpscript identity (spec §3.3, §4.5) -------------------------------------------------------

BLANK_CMD = "(blank cmd)"
MISSING_CMD = "(no cmd)"
NO_ORGANIZATION = "(no organization)"
"""Labels of :func:`jumpscript_id` for a blank ``cmd``, a job without ``cmd`` and a blank ``category``."""

LEGACY_CATEGORY = "jumpscript"
"""``category`` of legacy (JS6) local jobs, whose ``cmd`` is ``<organization>/<name>`` (§4.5)."""


def jumpscript_key(organization: str, name: str) -> str:
    """The identity of a jumpscript as JumpScale keys it: ``<organization>__<name>``.

    >>> jumpscript_key("jumpscale", "echo")
    'jumpscale__echo'
    """
    return keys.jumpscript_name_field(organization, name)


def split_jumpscript(text: str) -> tuple[str, str]:
    """``(organization, name)`` of ``<organization>__<name>`` or ``<organization>/<name>``.

    >>> split_jumpscript("jumpscale__echo"), split_jumpscript("jumpscale/echo")
    (('jumpscale', 'echo'), ('jumpscale', 'echo'))
    """
    for sep in ("__", "/"):
        if sep in text:
            org, name = text.split(sep, 1)
            if org and name:
                return org, name
    raise ValueError(f"jumpscript must be '<organization>__<name>' or '<organization>/<name>', got {text!r}")


def _text(value: object) -> str | None:
    if value is None:
        return None
    try:
        if value != value:  # NaN
            return None
    except TypeError:  # pandas.NA refuses a truth value
        return None
    return str(value)


def jumpscript_id(category: object, cmd: object) -> str:
    """The jumpscript a job runs, ``<organization>__<name>`` from its ``category``/``cmd``.

    Legacy local jobs (``category "jumpscript"``, ``cmd "<org>/<name>"``) fold into the same id; a
    blank ``cmd`` is ``(blank cmd)`` (``<org>__(blank cmd)`` when the organization is known), a
    missing one ``(no cmd)``; a blank organization (``execFunction`` jobs) is ``(no organization)__<name>``.
    :func:`jsadmin.analytics.jobs.jumpscript_ids` is the same rule over a frame.

    >>> jumpscript_id("jumpscale", "echo"), jumpscript_id("", "x"), jumpscript_id(None, "")
    ('jumpscale__echo', '(no organization)__x', '(blank cmd)')
    """
    cat, name = _text(category), _text(cmd)
    if cat == LEGACY_CATEGORY and name is not None and "/" in name:
        cat, name = name.split("/", 1)
    cat_blank = not (cat or "").strip()
    if name is None:
        label = MISSING_CMD
    elif not name.strip():
        label = BLANK_CMD
    else:
        if cat_blank:
            return f"{NO_ORGANIZATION}__{name}"
        return f"{cat}__{name}"
    return label if cat_blank else f"{cat}__{label}"


def jumpscript_ids(categories: Iterable[object], cmds: Iterable[object]) -> list[str]:
    """:func:`jumpscript_id` of each job's ``category``/``cmd``, computed once per distinct pair (a
    batch of jobs names a handful of jumpscripts); an unhashable odd value is computed on its own.

    >>> jumpscript_ids(["jumpscale", "jumpscale", ["odd"]], ["echo", "echo", "x"])
    ['jumpscale__echo', 'jumpscale__echo', "['odd']__x"]
    >>> jumpscript_ids([1, True], ["x", "x"])   # equal as keys, not as names
    ['1__x', 'True__x']
    """
    memo: dict[tuple[object, object], str] = {}
    out: list[str] = []
    for pair in zip(categories, cmds):
        try:
            ident = memo[pair]
        except KeyError:
            ident = jumpscript_id(*pair)
            if type(pair[0]) in _MEMO_TYPES and type(pair[1]) in _MEMO_TYPES:
                memo[pair] = ident  # not numbers: 1, 1.0 and True are one key but name three jumpscripts
        except TypeError:  # a list or dict where JumpScale writes text
            ident = jumpscript_id(*pair)
        out.append(ident)
    return out


_MEMO_TYPES = frozenset({str, type(None)})
"""Values equal only to values of their own type (unlike ``1 == 1.0 == True``): safe memo keys."""


def registered_ids(organizations: Iterable[object], names: Iterable[object]) -> list[str | None]:
    """The identity ``<organization>__<name>`` of each stored jumpscript (``None`` where either part
    is missing or not text: a stored jumpscript is named by both, unlike a job's ``category``/``cmd``).

    >>> registered_ids(["jumpscale", ""], ["echo", "x"])
    ['jumpscale__echo', None]
    """
    return [f"{o}__{n}" if isinstance(o, str) and o and isinstance(n, str) and n else None
            for o, n in zip(organizations, names)]


# --- builders ------------------------------------------------------------------------------------

JOB_META = ["system", "job", 1]


class Job:
    """Builders of the job dict in the key order JumpScale writes it (dicts keep that order, and
    the demo grid's byte forms depend on it).

    >>> job = Job.scheduled(id=1, guid="g" * 32, gid=1, nid=2, category="jumpscale", cmd="echo", time_create=0)
    >>> tuple(job) == Job.KEYS, job["state"], job["roles"]
    (True, 'SCHEDULED', [])
    """

    KEYS: ClassVar[tuple[str, ...]] = (
        "id", "sessionid", "gid", "nid", "cmd", "wait", "category", "roles", "args", "queue", "timeout",
        "result", "parent", "resultcode", "state", "timeCreate", "timeStart", "timeStop", "log",
        "errorreport", "tags", "guid", "_ckey", "_meta", "jscriptid",
    )
    """An agentcontroller job (``scheduleCmd``, spec §4.3)."""
    LOCAL_KEYS: ClassVar[tuple[str, ...]] = (
        "id", "guid", "sessionid", "gid", "nid", "cmd", "category", "jscriptid", "roles", "args", "queue",
        "timeout", "wait", "errorreport", "result", "parent", "resultcode", "state", "timeCreate",
        "timeStart", "timeStop", "log", "internal",
    )
    """A node-local job (``execJumpscript``/``execFunction``, spec §4.5): no ``_ckey``/``_meta``/``tags``."""

    @staticmethod
    def scheduled(
        *, id: Any, guid: str, gid: Any, nid: Any, category: str | None, cmd: str | None, time_create: Any,
        role: str | None = None, args: dict[str, Any] | None = None, queue: str = "",
        timeout: Any = 600, wait: bool = False, log: bool = True, sessionid: str | None = None,
        tags: Any = None, jscriptid: Any = None,
    ) -> dict[str, Any]:
        """A SCHEDULED agentcontroller job, as ``scheduleCmd`` stores it (:data:`KEYS` order)."""
        return {
            "id": id, "sessionid": sessionid, "gid": gid, "nid": nid, "cmd": cmd, "wait": wait,
            "category": category, "roles": [role] if role else [], "args": args or {}, "queue": queue,
            "timeout": timeout, "result": None, "parent": None, "resultcode": None,
            "state": JobState.SCHEDULED, "timeCreate": time_create, "timeStart": 0, "timeStop": 0,
            "log": log, "errorreport": False, "tags": tags, "guid": guid, "_ckey": "",
            "_meta": list(JOB_META), "jscriptid": jscriptid,
        }

    @staticmethod
    def local(
        *, id: Any, guid: str, sessionid: str, gid: Any, nid: Any, category: str, cmd: str,
        time_create: Any, jscriptid: Any = None, args: dict[str, Any] | None = None, queue: str = "",
        timeout: Any = None, log: bool = True,
    ) -> dict[str, Any]:
        """A SCHEDULED node-local job, as the processmanager's ``execJumpscript`` builds it (:data:`LOCAL_KEYS`).

        >>> tuple(Job.local(id=1, guid="g", sessionid="s", gid=1, nid=1, category="o", cmd="n", time_create=0)) == Job.LOCAL_KEYS
        True
        """
        return {
            "id": id, "guid": guid, "sessionid": sessionid, "gid": gid, "nid": nid, "cmd": cmd,
            "category": category, "jscriptid": jscriptid, "roles": [], "args": args or {}, "queue": queue,
            "timeout": timeout, "wait": False, "errorreport": False, "result": None, "parent": None,
            "resultcode": None, "state": JobState.SCHEDULED, "timeCreate": time_create, "timeStart": 0,
            "timeStop": 0, "log": log, "internal": True,
        }


class Jumpscript:
    """Builder of the 20-key jumpscript dict the processmanager stores (spec §5.4).

    >>> js = Jumpscript.pm(name="echo", organization="jumpscale", descr="echo", source="", roles=["*", "node"])
    >>> len(js), js["roles"], js["id"], tuple(js) == Jumpscript.KEYS
    (20, ['node'], None, True)
    """

    KEYS: ClassVar[tuple[str, ...]] = (
        "name", "organization", "category", "author", "license", "version", "descr", "roles", "source",
        "path", "queue", "async", "period", "order", "log", "enable", "startatboot", "gid", "id", "timeout",
    )
    DEFAULTS: ClassVar[dict[str, Any]] = {
        "organization": "unknown", "category": "unknown", "author": "unknown", "license": "unknown",
        "version": "1.0", "roles": [], "queue": "", "async": False, "period": 0, "order": 1,
        "log": True, "enable": True, "startatboot": False, "timeout": None,
    }
    """What a jumpscript module that does not set an attribute gets (the PM's defaults)."""

    @staticmethod
    def pm(*, name: str, descr: str, source: str, path: str | None = None, gid: Any = None,
           **attrs: Any) -> dict[str, Any]:
        """The 20-key dict; ``attrs`` are the module's attributes (``organization``, ``roles``,
        ``async``, ...; missing ones take :data:`DEFAULTS`). The ``"*"`` role is dropped, as the PM
        does, flags become bools, and ``id`` is null."""
        unknown = set(attrs) - set(Jumpscript.DEFAULTS)
        if unknown:
            raise TypeError(f"unknown jumpscript attribute(s): {sorted(unknown)}")
        a = {**Jumpscript.DEFAULTS, **attrs}
        return {
            "name": name, "organization": a["organization"], "category": a["category"],
            "author": a["author"], "license": a["license"], "version": a["version"], "descr": descr,
            "roles": [r for r in a["roles"] if r != "*"], "source": source, "path": path,
            "queue": a["queue"], "async": bool(a["async"]), "period": a["period"], "order": a["order"],
            "log": bool(a["log"]), "enable": bool(a["enable"]), "startatboot": bool(a["startatboot"]),
            "gid": gid, "id": None, "timeout": a["timeout"],
        }

    @staticmethod
    def attributes(module: dict[str, Any]) -> dict[str, Any]:
        """The jumpscript attributes among a module's constants (those :meth:`pm` takes).

        >>> Jumpscript.attributes({"descr": "x", "period": 60, "helper": 1})
        {'period': 60}
        """
        return {k: v for k, v in module.items() if k in Jumpscript.DEFAULTS}
