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

from .encoding import ujson_or_json
from .protocol import ECO_CAP, ECO_LUA, process_eco

__all__ = ["ECO_CAP", "ECO_LUA", "EcoStore", "build_eco", "executejob_eco", "log_record"]

BACKTRACE_CAP = 10_000




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


def executejob_eco(
    message: str,
    *,
    organization: str,
    name: str,
    js_category: object,
    source: str,
    gid: int,
    nid: int,
    appname: str,
    jid: int | str,
    exc: BaseException | None = None,
    now: float | None = None,
    where: tuple[str, str, int | str] | None = None,
) -> dict[str, Any]:
    """The ECO a worker builds when a job's jumpscript fails or times out (§6.4 step 4): category
    ``workers.executejob``, the job's guid as ``jid``, the jumpscript's source as ``code`` and its
    ``jscategory``/``jsorganization``/``jsname`` tags. The live grid's workers and the seed's failed
    jobs both build it here.

    >>> executejob_eco("boom", organization="demo", name="flaky", js_category="demo", source="",
    ...                gid=1, nid=2, appname="w", jid="g")["tags"]
    'jscategory:demo jsorganization:demo jsname:flaky'
    """
    return build_eco(
        message, category="workers.executejob", gid=gid, nid=nid, appname=appname, exc=exc, jid=jid,
        code=source, tags=f"jscategory:{js_category} jsorganization:{organization} jsname:{name}",
        now=now, where=where,
    )


class EcoStore:
    """Stores ECOs on one client through :func:`~jsadmin.demogrid.protocol.process_eco` (``eco.lua``):
    ``EcoStore(client).process(eco) -> merged dict``."""

    def __init__(self, client: redis.Redis) -> None:
        self._client = client

    def process(self, eco: dict[str, Any]) -> dict[str, Any]:
        """Store ``eco`` like ``eco.process()`` and return the merged ECO as stored (cjson)."""
        merged: dict[str, Any] = json.loads(process_eco(self._client, eco))
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
