"""Register jumpscripts in the worker cache exactly as a processmanager stores them (spec §5.4).

The value is the 20-key ``getDict()`` JSON of a jumpscript, stored under ``<org>__<name>`` in
``workers:jumpscripts:name`` and under its id in ``workers:jumpscripts:id``. The id follows the
``execFunction`` rules: reused from ``workers:jumpscripthashes`` (md5 of the source), else
``INCR workers:jumpscriptlastid`` after raising that counter to 1000000 if it is missing or lower.

>>> prepared = prepare_jumpscript("jumpscale", "echo", "def action(msg):\\n    return msg\\n",
...                               descr="echo back")
>>> len(prepared.fields), prepared.name_field
(20, 'jumpscale__echo')
"""

from __future__ import annotations

import ast
import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import redis

from .. import keys
from ..codecs import ujson_dumps
from ..domain import Jumpscript
from ..errors import WriteRefused, WriteValidationError
from . import validate as v
from .journal import Journal
from .plan import WritePlan
from .scripts import SCRIPTS, new_write_id

JUMPSCRIPT_KEYS = Jumpscript.KEYS
"""The 20 keys of the processmanager form (spec §5.4), in the order jsadmin writes them."""

_ID_MARK = "\x00jsadmin-id\x00"
WORKER_SCAN_COUNT = 500
MAX_WORKERS = 10_000


class JumpscriptExistsError(WriteValidationError):
    """A different source is already registered under that name (pass ``replace=True``)."""


@dataclass(frozen=True)
class PreparedJumpscript:
    """A validated jumpscript: its dict (id still unknown) and the JSON around the id."""

    fields: dict[str, Any]
    before_id: str
    after_id: str
    md5: str

    @property
    def name_field(self) -> str:
        return keys.jumpscript_name_field(self.fields["organization"], self.fields["name"])

    def text(self, jid: int | str) -> str:
        return f"{self.before_id}{jid}{self.after_id}"

    def as_dict(self, jid: int | str) -> dict[str, Any]:
        return {**self.fields, "id": jid}


_ACTION = re.compile(r"^def[ \t]+action[ \t]*\(", re.MULTILINE)
_DESCR = re.compile(
    r"""^descr[ \t]*=[ \t]*([uUrR]{0,2}(?:"{3}[\s\S]*?"{3}|'{3}[\s\S]*?'{3}|"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'))""",
    re.MULTILINE,
)


def check_source(source: str) -> None:
    """The structure JumpScale needs, without compiling: real jumpscripts are Python 2
    (``print "x"``), which Python 3 cannot parse. The worker imports the source and calls
    its module-level ``action``, so the source must hold a line starting ``def action(``.
    A syntax error shows on the node as a ``workers.compilescript`` ECO, as with the PM.

    >>> check_source('descr = "py2"\\ndef action():\\n    print "hi"\\n')
    >>> check_source("def other():\\n    pass\\n")
    Traceback (most recent call last):
    ...
    jsadmin.errors.WriteValidationError: jumpscript source defines no module-level function `action` (a line starting `def action(`)
    """
    if "\x00" in source:
        raise WriteValidationError("jumpscript source contains a NUL character")
    if not _ACTION.search(source):
        raise WriteValidationError(
            "jumpscript source defines no module-level function `action` (a line starting `def action(`)"
        )


def descr_of(source: str) -> str | None:
    """The module-level ``descr = "..."`` string literal of a jumpscript source, if any.

    >>> descr_of("descr = u'checks disks'\\ndef action():\\n    pass\\n")
    'checks disks'
    """
    m = _DESCR.search(source)
    if m is None:
        return None
    try:
        value = ast.literal_eval(m.group(1))
    except (ValueError, SyntaxError):
        return None
    return value if isinstance(value, str) else None


def prepare_jumpscript(
    organization: Any, name: Any, source: Any, *, descr: Any = None, category: Any = "unknown",
    roles: Iterable[str] = (), queue: Any = "", async_: Any = False, period: Any = 0, order: Any = 1,
    log: Any = True, enable: Any = True, startatboot: Any = False, timeout: Any = None, gid: Any = None,
    author: Any = "unknown", license: Any = "unknown", version: Any = "1.0",
) -> PreparedJumpscript:
    """Validate and serialise a jumpscript (raises WriteValidationError, writes nothing).

    ``"*"`` is removed from ``roles`` as the processmanager does before storing. ``path`` is
    null (as after a hot reload). ``period`` is seconds or a cron string. ``descr`` defaults
    to the source's module-level ``descr = "..."``. ``gid=None`` is filled in before writing
    (:func:`node_gid`).
    """
    organization = v.key_part("organization", organization, colon=True)
    name = v.key_part("name", name, colon=True)
    for label, value in (("organization", organization), ("name", name)):
        if "__" in value:
            raise WriteValidationError(
                f"{label} must not contain '__' (it separates <organization>__<name>), got {value!r}"
            )
    source = v.text("source", source)
    check_source(source)
    if descr is None:
        descr = descr_of(source)
    if not isinstance(descr, str) or not descr.strip():
        raise WriteValidationError(
            "descr is required and must be a non-empty string (pass descr= or define descr = '...' "
            f"in the source), got {descr!r}"
        )
    if isinstance(roles, str):
        raise WriteValidationError(f"roles must be a list of role names, got the string {roles!r}")
    role_list = [v.key_part("role", r) for r in roles if r != "*"]
    if isinstance(period, bool) or not isinstance(period, (int, str)):
        raise WriteValidationError(f"period must be seconds (int) or a cron string, got {period!r}")
    attrs: dict[str, Any] = {
        "organization": organization,
        "category": v.key_part("category", category, colon=True),
        "author": v.text("author", author, empty=True),
        "license": v.text("license", license, empty=True),
        "version": v.text("version", version, empty=True),
        "roles": role_list,
        "queue": v.key_part("queue", queue, empty=True),
        "async": v.flag("async_", async_),
        "period": period,
        "order": v.int_like("order", order),
        "log": v.flag("log", log),
        "enable": v.flag("enable", enable),
        "startatboot": v.flag("startatboot", startatboot),
    }
    gid_value = None if gid is None else v.int_like("gid", gid)
    attrs["timeout"] = v.number_or_none("timeout", timeout)
    return _serialise(Jumpscript.pm(name=name, descr=descr, source=source, gid=gid_value, **attrs))


def _serialise(fields: dict[str, Any]) -> PreparedJumpscript:
    text = ujson_dumps({**fields, "id": _ID_MARK})
    before, after = text.split(ujson_dumps(_ID_MARK))
    md5 = hashlib.md5(fields["source"].encode("utf-8")).hexdigest()
    return PreparedJumpscript({**fields, "id": None}, before, after, md5)


def with_gid(js: PreparedJumpscript, gid: int) -> PreparedJumpscript:
    """The same jumpscript with ``gid`` set."""
    return _serialise({**js.fields, "gid": gid})


GID_SAMPLE = 200
"""Jumpscripts read (HSCAN) to learn a node's grid id."""


def node_gid(client: redis.Redis) -> int:
    """The grid id of the node whose Redis ``client`` is, as the processmanager writes it.

    Spec §5.4: the PM stores every jumpscript with ``gid`` = the node's grid id. So the
    ``gid`` of the jumpscripts already in ``workers:jumpscripts:name`` (up to
    :data:`GID_SAMPLE`, HSCAN) is used when they agree on one integer; else, on a master
    whose AC keys share this Redis (spec §1), the only field of ``jobs:last`` (field = gid).
    Anything else (no jumpscript, several grids) is refused: pass ``gid=``. Reads only.

    >>> node_gid(client)  # doctest: +SKIP
    1
    """
    gids: set[int] = set()
    if client.type(keys.JUMPSCRIPTS_BY_NAME) == b"hash":
        for i, (_, raw) in enumerate(client.hscan_iter(keys.JUMPSCRIPTS_BY_NAME, count=50)):
            if i >= GID_SAMPLE:
                break
            try:
                value = json.loads(raw)
            except ValueError:
                continue
            gid = value.get("gid") if isinstance(value, dict) else None
            if type(gid) is int and gid >= 0:
                gids.add(gid)
    if len(gids) == 1:
        return gids.pop()
    if len(gids) > 1:
        raise WriteValidationError(
            f"the jumpscripts in {keys.JUMPSCRIPTS_BY_NAME} carry several grid ids {sorted(gids)[:10]}; "
            "pass gid=<this node's grid id>"
        )
    if client.type(keys.JOBS_LAST) == b"hash" and client.hlen(keys.JOBS_LAST) == 1:
        (field,) = client.hkeys(keys.JOBS_LAST)
        text = field.decode("ascii", errors="replace") if isinstance(field, bytes) else str(field)
        if text.isdigit():
            return int(text)
    raise WriteValidationError(
        f"cannot tell this node's grid id: no jumpscript in {keys.JUMPSCRIPTS_BY_NAME} carries a gid and "
        f"{keys.JOBS_LAST} does not name exactly one grid; pass gid=<the node's grid id> "
        "(the processmanager writes it as an int)"
    )


def registered_workers(client: redis.Redis, *, limit: int = MAX_WORKERS) -> list[tuple[str, str]]:
    """``(registry key, action key)`` of every ``workers:worker:<q>:<wname>`` (SCAN, bounded)."""
    found: list[tuple[str, str]] = []
    for raw in client.scan_iter(match=keys.WORKER_REGISTRY_PREFIX + "*", count=WORKER_SCAN_COUNT):
        key = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else raw
        rest = key[len(keys.WORKER_REGISTRY_PREFIX) :]
        queue, sep, wname = rest.partition(":")
        if not sep:
            continue
        found.append((key, keys.worker_action(queue, wname)))
        if len(found) >= limit:
            raise WriteValidationError(f"more than {limit} registered workers found; refusing to notify them all")
    return sorted(set(found))


def _status(client: redis.Redis, js: PreparedJumpscript) -> tuple[str, str | None]:
    """Read-only look-ahead for dry runs: ('new'|'same'|'different', reusable id or None)."""
    existing = client.hget(keys.JUMPSCRIPTS_BY_NAME, js.name_field)
    reuse = client.hget(keys.JUMPSCRIPT_HASHES, js.md5)
    reuse_id = None if reuse is None else reuse.decode() if isinstance(reuse, bytes) else str(reuse)
    if existing is None:
        return "new", reuse_id
    try:
        old = json.loads(existing)
    except ValueError:
        return "different", reuse_id
    same = isinstance(old, dict) and old.get("source") == js.fields["source"]
    return ("same" if same else "different"), reuse_id


def _refused(js: PreparedJumpscript) -> JumpscriptExistsError:
    return JumpscriptExistsError(
        f"a different source is already registered as {js.name_field} in {keys.JUMPSCRIPTS_BY_NAME}; "
        "pass replace=True to overwrite it (running workers then get RELOAD)"
    )


def plan_register(client: redis.Redis, js: PreparedJumpscript, *, replace: bool, url: str) -> WritePlan[dict[str, Any]]:
    """Dry run: reads the current state (HGET/HSCAN only) and lists what the Lua script would do."""
    if js.fields["gid"] is None:
        js = with_gid(js, node_gid(client))
    status, reuse_id = _status(client, js)
    if status == "different" and not replace:
        raise _refused(js)
    plan: WritePlan[dict[str, Any]] = WritePlan("register_jumpscript", url)
    if reuse_id is not None:
        ident = reuse_id
        note = f"id {reuse_id} reused: this source (md5 {js.md5}) was registered before"
    else:
        ident = f"<next value of INCR {keys.JUMPSCRIPT_LASTID}>"
        current = client.get(keys.JUMPSCRIPT_LASTID)
        try:
            low = current is None or int(current) < keys.JUMPSCRIPTID_FLOOR
        except ValueError:
            low = True
        if low:
            plan.add("SET", keys.JUMPSCRIPT_LASTID, str(keys.JUMPSCRIPTID_FLOOR),
                     note="raise the counter to the floor a real worker expects")
        plan.add("INCR", keys.JUMPSCRIPT_LASTID, note="allocates the jumpscript id")
        plan.add("HSET", keys.JUMPSCRIPT_HASHES, js.md5, ident)
        note = "new id"
    text = js.text(ident)
    plan.add("HSET", keys.JUMPSCRIPTS_BY_ID, ident, text, note=note)
    plan.add("HSET", keys.JUMPSCRIPTS_BY_NAME, js.name_field, text, note=f"status: {status}")
    if status == "different" or status == "same":
        for reg, action in registered_workers(client):
            plan.add("LPUSH", action, "RELOAD", note=f"if {reg} still exists and the stored value changes")
    plan.result = js.as_dict(ident)
    return plan


def register(
    client: redis.Redis, js: PreparedJumpscript, *, replace: bool, url: str, journal: Journal
) -> dict[str, Any]:
    """Write the jumpscript with one Lua call, sent once under a write id (a lost reply is
    resolved through its marker); returns its dict as written (with its id)."""
    if js.fields["gid"] is None:
        js = with_gid(js, node_gid(client))
    workers = registered_workers(client)
    script_keys: list[str] = [
        keys.JUMPSCRIPTS_BY_NAME, keys.JUMPSCRIPTS_BY_ID, keys.JUMPSCRIPT_LASTID, keys.JUMPSCRIPT_HASHES,
    ]
    for reg, action in workers:
        script_keys += [reg, action]
    wid = new_write_id()
    try:
        status, jid, reloaded = SCRIPTS["register_jumpscript"].run(
            client,
            script_keys,
            [js.name_field, js.md5, js.fields["source"], "1" if replace else "0",
             str(keys.JUMPSCRIPTID_FLOOR), js.before_id, js.after_id],
            write_id=wid,
        )
    except WriteRefused as exc:
        if "refused: exists:" in str(exc):
            raise _refused(js) from exc
        raise
    jid_int = int(jid)
    text = js.text(jid_int)
    commands: list[list[Any]] = [
        ["HSET", keys.JUMPSCRIPTS_BY_ID, str(jid_int), text],
        ["HSET", keys.JUMPSCRIPTS_BY_NAME, js.name_field, text],
        ["HSET", keys.JUMPSCRIPT_HASHES, js.md5, str(jid_int)],
    ]
    commands += [["LPUSH", action, "RELOAD"] for _, action in workers[: int(reloaded) and len(workers)]]
    journal.append(
        helper="register_jumpscript",
        url=url,
        commands=commands,
        result={"name": js.name_field, "id": jid_int, "status": status, "reloaded": int(reloaded),
                "gid": js.fields["gid"], "write_id": wid},
    )
    return js.as_dict(jid_int)
