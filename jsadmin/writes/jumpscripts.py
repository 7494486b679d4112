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
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import redis

from .. import keys
from ..errors import WriteValidationError
from . import validate as v
from ._ujson import ujson_dumps
from .journal import Journal
from .plan import WritePlan
from .scripts import SCRIPTS

JUMPSCRIPT_KEYS = (
    "name", "organization", "category", "author", "license", "version", "descr", "roles",
    "source", "path", "queue", "async", "period", "order", "log", "enable", "startatboot",
    "gid", "id", "timeout",
)
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


def check_source(source: str) -> None:
    """The source must parse (Python 3 ``ast``) and define a module-level ``action`` function."""
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise WriteValidationError(f"jumpscript source does not parse: {exc.msg} (line {exc.lineno})") from None
    if not any(
        isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == "action"
        for node in tree.body
    ):
        raise WriteValidationError("jumpscript source defines no module-level function `action`")


def prepare_jumpscript(
    organization: Any,
    name: Any,
    source: Any,
    *,
    descr: Any,
    category: Any = "unknown",
    roles: Iterable[str] = (),
    queue: Any = "",
    async_: Any = False,
    period: Any = 0,
    order: Any = 1,
    log: Any = True,
    enable: Any = True,
    startatboot: Any = False,
    timeout: Any = None,
    gid: Any = None,
    author: Any = "unknown",
    license: Any = "unknown",
    version: Any = "1.0",
) -> PreparedJumpscript:
    """Validate and serialise a jumpscript (raises WriteValidationError, writes nothing).

    ``"*"`` is removed from ``roles`` as the processmanager does before storing. ``path`` is
    null (as after a hot reload). ``period`` is seconds or a cron string.
    """
    organization = v.text("organization", organization)
    name = v.text("name", name)
    for label, value in (("organization", organization), ("name", name)):
        if "__" in value or any(c.isspace() for c in value):
            raise WriteValidationError(f"{label} must not contain '__' or whitespace, got {value!r}")
    source = v.text("source", source)
    if not isinstance(descr, str) or not descr.strip():
        raise WriteValidationError(f"descr is required and must be a non-empty string, got {descr!r}")
    check_source(source)
    if isinstance(roles, str):
        raise WriteValidationError(f"roles must be a list of role names, got the string {roles!r}")
    role_list = [v.text("role", r) for r in roles]
    role_list = [r for r in role_list if r != "*"]
    if isinstance(period, bool) or not isinstance(period, (int, str)):
        raise WriteValidationError(f"period must be seconds (int) or a cron string, got {period!r}")
    fields: dict[str, Any] = {
        "name": name,
        "organization": organization,
        "category": v.text("category", category),
        "author": v.text("author", author, empty=True),
        "license": v.text("license", license, empty=True),
        "version": v.text("version", version, empty=True),
        "descr": descr,
        "roles": role_list,
        "source": source,
        "path": None,
        "queue": v.text("queue", queue, empty=True),
        "async": v.flag("async_", async_),
        "period": period,
        "order": v.int_like("order", order),
        "log": v.flag("log", log),
        "enable": v.flag("enable", enable),
        "startatboot": v.flag("startatboot", startatboot),
        "gid": None if gid is None else v.int_like("gid", gid),
        "id": _ID_MARK,
        "timeout": v.number_or_none("timeout", timeout),
    }
    text = ujson_dumps(fields)
    marker = ujson_dumps(_ID_MARK)
    before, after = text.split(marker)
    md5 = hashlib.md5(source.encode("utf-8")).hexdigest()
    return PreparedJumpscript({**fields, "id": None}, before, after, md5)


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
    reuse_id = reuse.decode() if reuse is not None else None
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


def plan_register(client: redis.Redis, js: PreparedJumpscript, *, replace: bool, url: str) -> WritePlan:
    """Dry run: reads the current state (HGET only) and lists what the Lua script would do."""
    status, reuse_id = _status(client, js)
    if status == "different" and not replace:
        raise _refused(js)
    plan = WritePlan("register_jumpscript", url)
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
    """Write the jumpscript with one Lua call; returns its dict as written (with its id)."""
    workers = registered_workers(client)
    script_keys: list[str] = [
        keys.JUMPSCRIPTS_BY_NAME, keys.JUMPSCRIPTS_BY_ID, keys.JUMPSCRIPT_LASTID, keys.JUMPSCRIPT_HASHES,
    ]
    for reg, action in workers:
        script_keys += [reg, action]
    status, jid, reloaded = SCRIPTS["register_jumpscript"](
        client,
        script_keys,
        [js.name_field, js.md5, js.fields["source"], "1" if replace else "0",
         str(keys.JUMPSCRIPTID_FLOOR), js.before_id, js.after_id],
    )
    status = status.decode() if isinstance(status, bytes) else status
    if status == "refused":
        raise _refused(js)
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
        result={"name": js.name_field, "id": jid_int, "status": status, "reloaded": int(reloaded)},
    )
    return js.as_dict(jid_int)
