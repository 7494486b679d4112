"""Error condition objects (ECOs) and log records of the live grid (spec §5.6, §5.7, §6.10).

ECOs are built like ``j.errorconditionhandler.parsePythonErrorObject`` and stored by a Lua
script modelled on ``eco.lua`` (merge repeats, throttle, caps), so the value in
``eco:objects`` is Lua cjson exactly as on a real node.

>>> eco = build_eco("boom", category="workers.executejob", gid=1, nid=2, appname="w")
>>> sorted(eco)[:3]
['appname', 'backtrace', 'backtraceDetailed']
"""

from __future__ import annotations

import hashlib
import json
import time
import traceback
import uuid
from typing import Any

import redis

from .. import keys
from .encoding import ujson_or_json

__all__ = ["ECO_LUA", "EcoStore", "build_eco", "log_record"]

BACKTRACE_CAP = 10_000
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


def _uniquekey(eco: dict[str, Any]) -> str:
    text = "{}_{}_{}_{}_{}_{}_{}_{}".format(
        eco["gid"], eco["nid"], eco["category"] or eco["errormessage"], eco["level"],
        eco["funcname"], eco["funcfilename"], eco["appname"], eco["type"],
    )
    return hashlib.md5(text.encode("utf-8")).hexdigest()


def build_eco(
    message: str,
    *,
    category: str,
    gid: int,
    nid: int,
    appname: str,
    level: int = 1,
    exc: BaseException | None = None,
    jid: int | str = 0,
    code: str = "",
    tags: str = "",
    type_: str = "BUG",
    now: float | None = None,
    where: tuple[str, str, int | str] | None = None,
) -> dict[str, Any]:
    """Build the ECO dict of spec §5.6 (before ``eco.lua`` adds occurrences/lasttime/pushtime).

    ``where`` is ``(funcname, funcfilename, funclinenr)`` when no traceback of ``exc`` says it
    (the demo seed's ECOs); they are part of the ECO's ``uniquekey``.

    >>> build_eco("x", category="c", gid=1, nid=1, appname="a")["state"]
    'NEW'
    """
    now = time.time() if now is None else now
    funcname, funcfilename = "", ""
    funclinenr: int | str | None = ""  # the frame's line number when there is a traceback
    if where is not None:
        funcname, funcfilename, funclinenr = where
    backtrace = backtrace_detailed = ""
    excinfo: dict[str, Any] = {}
    if exc is not None:
        frames = traceback.extract_tb(exc.__traceback__)
        if frames:
            last = frames[-1]
            funcname, funcfilename, funclinenr = last.name, last.filename, last.lineno
        lines = traceback.format_exception(type(exc), exc, exc.__traceback__)
        backtrace = "~ ".join(line.rstrip("\n") for line in lines)[:BACKTRACE_CAP]
        backtrace_detailed = "".join(lines)
        excinfo = {
            "exceptionclassname": type(exc).__name__,
            "exceptioninfo": json.dumps({"message": str(exc)}),
            "exceptionmodule": type(exc).__module__,
        }
    eco: dict[str, Any] = {
        "gid": gid, "nid": nid, "pid": 0, "jid": jid, "masterjid": 0, "appname": appname,
        "category": category, "level": min(int(level), 4), "type": type_, "state": "NEW",
        "errormessage": message, "errormessagePub": message, "code": code,
        "funcname": funcname, "funcfilename": funcfilename, "funclinenr": funclinenr,
        "backtrace": backtrace, "backtraceDetailed": backtrace_detailed, "data": None,
        "tags": tags, "epoch": int(now), "closetime": 0, "noreraise": False,
    }
    if excinfo:
        eco.update(excinfo)
    else:
        eco.update({"exceptionclassname": None, "exceptionmodule": None})
    eco["uniquekey"] = _uniquekey(eco)
    eco["guid"] = str(uuid.UUID(hex=eco["uniquekey"]))
    return eco


class EcoStore:
    """Runs the ECO Lua script on one client (``EcoStore(client).process(eco) -> merged dict``)."""

    def __init__(self, client: redis.Redis) -> None:
        self._script = client.register_script(ECO_LUA)
        self._keys = [keys.ECO_OBJECTS, keys.ECO_QUEUE, keys.ECO_SECOS]

    def process(self, eco: dict[str, Any]) -> dict[str, Any]:
        """Store ``eco`` like ``eco.process()`` and return the merged ECO as stored (cjson)."""
        raw = self._script(keys=self._keys, args=[eco["uniquekey"], json.dumps(eco)])
        merged: dict[str, Any] = json.loads(raw)
        return merged


def log_record(
    message: str,
    *,
    category: str,
    gid: int,
    nid: int,
    appname: str,
    level: int = 5,
    jid: str = "",
    tags: str = "",
    now: float | None = None,
    private: bool = False,
) -> bytes:
    """One ``queues:logs`` record in the §5.7 shape (compact ujson); the seed's and the live grid's.

    >>> b'"category":"a_b"' in log_record("hi", category="a.b", gid=1, nid=1, appname="x")
    True
    """
    record = {
        "message": message.replace("\n", "/n"),
        "level": int(level),
        "category": category.replace(".", "_"),
        "gid": gid, "nid": nid, "pid": 0, "appname": appname,
        "tags": tags.replace("\n", "/n").replace("|", "/|"),
        "jid": jid, "parentjid": "", "masterjid": "",
        "epoch": int(time.time() if now is None else now),
        "order": 0, "private": int(private),
    }
    return ujson_or_json(record)
