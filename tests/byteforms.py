"""Hand-written Redis contents of every key family, in every byte form the spec describes.

A plain module that reader tests import (``from byteforms import BYTEFORMS, MALFORMED, write``;
``tests/`` is on ``sys.path`` because ``tests/conftest.py`` lives there).

* ``BYTEFORMS[family]`` is a list of :class:`ByteForm`: one Redis key (or some fields of a hash key)
  in one byte form, with the exact bytes a real JumpScale 7 grid stores, and ``expect``: decoded
  values a correct reader must produce.
* ``MALFORMED`` holds values that do not decode, each tagged with its family, for the
  "bad input is reported, never dropped, never crashes" tests.

``expect`` maps a locator to an expected value. The locator is the hash field, the list index as
text (``"0"``), the set member, or ``""`` for a string key. The expected value is either a dict,
meaning "the decoded JSON object contains these top-level items", or any other value, meaning "the
decoded value equals this" (JSON values decoded; text booleans ``True``/``False``/``1``/``0`` as
bool; counters as int; epoch text as float).

All good forms can be written into one Redis together: list and string keys are distinct, and
forms that share a hash key use distinct fields (``tests/demogrid/test_byteforms.py`` checks this).
``MALFORMED`` can be written on top: its hash fields and string keys are distinct from the good
ones, and its list items are appended after the good items of a shared list key.

>>> from byteforms import BYTEFORMS, write           # doctest: +SKIP
>>> write(r, BYTEFORMS["jobs"])                       # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import redis

Payload = bytes | dict[bytes, bytes] | list[bytes] | set[bytes]


@dataclass(frozen=True)
class ByteForm:
    """One Redis key (or some fields of one hash) holding one byte form of a family."""

    name: str
    rtype: str  # "hash" | "list" | "set" | "string"
    key: str
    payload: Payload
    expect: dict[str, Any] = field(default_factory=dict)
    family: str = ""
    note: str = ""


def write(client: redis.Redis, forms: Iterable[ByteForm]) -> None:
    """Write forms in one MULTI/EXEC: HSET fields, RPUSH list items, SADD members, SET strings.

    Keys are not deleted first: hash fields merge and list items append, in the given order.
    """
    pipe = client.pipeline(transaction=True)
    for form in forms:
        if form.rtype == "hash":
            assert isinstance(form.payload, dict)
            # HMSET: multi-field HSET needs Redis 4.0, and the suite also runs on 2.8
            pipe.execute_command("HMSET", form.key, *[x for kv in form.payload.items() for x in kv])
        elif form.rtype == "list":
            assert isinstance(form.payload, list)
            pipe.rpush(form.key, *form.payload)
        elif form.rtype == "set":
            assert isinstance(form.payload, set)
            pipe.sadd(form.key, *form.payload)
        elif form.rtype == "string":
            assert isinstance(form.payload, bytes)
            pipe.set(form.key, form.payload)
        else:
            raise ValueError(f"unknown redis type {form.rtype!r} in form {form.name!r}")
    pipe.execute()


def all_forms() -> list[ByteForm]:
    """Every good form of every family, in family order."""
    return [form for forms in BYTEFORMS.values() for form in forms]


# ---- reusable job texts ---------------------------------------------------------------------------

GUID_A = "9f1c2a7b3e4d4f0a8b6c5d4e3f2a1b0c"  # §4.3
GUID_B = "3c1d9e0f5a6b4c7d8e9f0a1b2c3d4e5f"
GUID_C = "0a1b2c3d4e5f40718293a4b5c6d7e8f9"
GUID_ROLE = "7e57d00d1e6b4a2c9f0e8d7c6b5a4f3e"
GUID_NOWORK = "b0b0b0b0c1c14d2d8e3e4f5f60617273"
GUID_LEGACY = "1e2d3c4b5a6978879605f4e3d2c1b0a9"
GUID_INTERNAL = "55aa55aa66bb4c77a88d99ee00ff1122"
GUID_FALLBACK = "fa11bac4a7c44d3e9f1a2b3c4d5e6f70"
GUID_LOCAL = "3b1f7e2a9c0d4e5f6a7b8c9d0e1f2a3b4c5d6e7f"  # Tiger-160: 40 hex

# §4.3 queue entry, compact ujson, field order as printed in the spec.
JOB_SCHEDULED = (
    b'{"id":1234,"sessionid":"1_5_0_0b5c9a1e-3d0f-4b8e-9a51-2f7c6d1e8a90","gid":1,"nid":5,"cmd":"echo","wait":true,'
    b'"category":"jumpscale","roles":[],"args":{"msg":"hi"},"queue":"","timeout":600,"result":null,"parent":null,'
    b'"resultcode":null,"state":"SCHEDULED","timeCreate":1539600000,"timeStart":0,"timeStop":0,"log":true,'
    b'"errorreport":false,"tags":null,"guid":"9f1c2a7b3e4d4f0a8b6c5d4e3f2a1b0c","_ckey":"","_meta":["system","job",1],'
    b'"jscriptid":null}'
)
# The same job after a worker ran it (§4.3 additions).
JOB_OK = (
    b'{"id":1234,"sessionid":"1_5_0_0b5c9a1e-3d0f-4b8e-9a51-2f7c6d1e8a90","gid":1,"nid":5,"cmd":"echo","wait":true,'
    b'"category":"jumpscale","roles":[],"args":{"msg":"hi"},"queue":"","timeout":600,"result":"hi","parent":null,'
    b'"resultcode":0,"state":"OK","timeCreate":1539600000,"timeStart":1539600003.5212841034,"timeStop":1539600004,'
    b'"log":true,"errorreport":false,"tags":null,"guid":"9f1c2a7b3e4d4f0a8b6c5d4e3f2a1b0c","_ckey":"",'
    b'"_meta":["system","job",1],"jscriptid":null,"achost":"10.0.0.1","internal":false}'
)
# Role-targeted, scheduled with node keys from OSIS (gid as text, nid null), '/' and non-ASCII escaped.
JOB_ROLE = (
    b'{"id":1240,"sessionid":null,"gid":"1","nid":null,"cmd":"exec","wait":false,"category":"jumpscale",'
    b'"roles":["node"],"args":{"cmd":"ls \\/opt\\/jumpscale7 && echo caf\\u00e9 \\u2603"},"queue":"process",'
    b'"timeout":600,"result":null,"parent":null,"resultcode":null,"state":"SCHEDULED","timeCreate":1539600100,'
    b'"timeStart":0,"timeStop":0,"log":true,"errorreport":false,"tags":["nightly","ops\\/team"],'
    b'"guid":"7e57d00d1e6b4a2c9f0e8d7c6b5a4f3e","_ckey":"","_meta":["system","job",1],"jscriptid":null}'
)
JOB_NOWORK = (
    b'{"id":1241,"sessionid":"1_5_0_0b5c9a1e-3d0f-4b8e-9a51-2f7c6d1e8a90","gid":1,"nid":null,"cmd":"exec",'
    b'"wait":false,"category":"jumpscale","roles":[null],"args":{},"queue":"","timeout":600,"result":null,'
    b'"parent":null,"resultcode":null,"state":"NOWORK","timeCreate":1539600200,"timeStart":0,"timeStop":0,'
    b'"log":true,"errorreport":false,"tags":null,"guid":"b0b0b0b0c1c14d2d8e3e4f5f60617273","_ckey":"",'
    b'"_meta":["system","job",1],"jscriptid":null}'
)
# Before 2015-12-01: no timeCreate, timeStart = creation time; before 2018-07: no tags; OSIS integer jscriptid.
JOB_LEGACY_2015 = (
    b'{"id":88,"sessionid":"1_2_0_5b0c9a1e-3d0f-4b8e-9a51-2f7c6d1e8a91","gid":1,"nid":2,"cmd":"diskusage",'
    b'"wait":false,"category":"system","roles":[],"args":{},"queue":"io","timeout":60,"result":null,"parent":null,'
    b'"resultcode":null,"state":"STARTED","timeStart":1434000000,"timeStop":0,"log":true,"errorreport":false,'
    b'"guid":"1e2d3c4b5a6978879605f4e3d2c1b0a9","_ckey":"","_meta":["system","job",1],"jscriptid":14,'
    b'"achost":"10.0.0.1"}'
)
# PM internal command: string resultcode "4" (error), ECO dict result with tb null, no timestamps.
ECO_IN_RESULT = (
    b'{"guid":"5d41402a-bc4b-2a76-b971-9d911017c592","uniquekey":"5d41402abc4b2a76b9719d911017c592","gid":1,"nid":5,'
    b'"pid":0,"jid":0,"masterjid":0,"appname":"jsagent","category":"processmanager.cmd","level":1,"type":"BUG",'
    b'"state":"NEW","errormessage":"pm.getStatus failed","errormessagePub":"pm.getStatus failed","code":"",'
    b'"funcname":"getStatus","funcfilename":"\\/opt\\/jumpscale7\\/apps\\/jsagent\\/jsagent.py","funclinenr":"",'
    b'"backtrace":"Traceback (most recent call last):~   File \\"x.py\\", line 1~ Error: pm.getStatus failed",'
    b'"backtraceDetailed":"","data":null,"tags":"","epoch":1539600300,"lasttime":1539600300,"closetime":0,'
    b'"occurrences":1,"pushtime":1539600300,"noreraise":false,"exceptionclassname":"RuntimeError",'
    b'"exceptioninfo":"{\\"message\\": \\"pm.getStatus failed\\"}","exceptionmodule":"exceptions","tb":null}'
)
JOB_INTERNAL_ERROR = (
    b'{"id":1250,"sessionid":null,"gid":"1","nid":"5","cmd":"getStatus","wait":true,"category":"pm","roles":[],'
    b'"args":{},"queue":"internal","timeout":60,"result":' + ECO_IN_RESULT + b',"parent":null,"resultcode":"4",'
    b'"state":"ERROR","timeCreate":1539600300,"timeStart":0,"timeStop":0,"log":true,"errorreport":false,"tags":null,'
    b'"guid":"55aa55aa66bb4c77a88d99ee00ff1122","_ckey":"","_meta":["system","job",1],"jscriptid":"pm_getStatus",'
    b'"achost":"10.0.0.1"}'
)
# A node-local job (§4.5) reported to the AC because it failed: 40-hex guid, internal true, no _meta/_ckey/tags.
JOB_LOCAL = (
    b'{"id":731,"guid":"3b1f7e2a9c0d4e5f6a7b8c9d0e1f2a3b4c5d6e7f","sessionid":"1_5_0_1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f",'
    b'"gid":1,"nid":5,"cmd":"diskusage","category":"system","jscriptid":null,"roles":[],"args":{},"queue":"io",'
    b'"timeout":60.0,"wait":false,"errorreport":false,"result":"disk \\/ is 97% full","parent":null,"resultcode":1,'
    b'"state":"ERROR","timeCreate":1539600400,"timeStart":1539600400.0000100136,"timeStop":1539600400,"log":true,'
    b'"internal":true}'
)
# An AC without ujson (§8.9): stdlib json separators, no '\/' escaping, NaN and Infinity.
JOB_STDLIB_FALLBACK = (
    b'{"id": 1260, "sessionid": null, "gid": 1, "nid": 3, "cmd": "sleep", "wait": false, "category": "jumpscale", '
    b'"roles": [], "args": {"duration": NaN, "path": "/tmp"}, "queue": "", "timeout": Infinity, "result": null, '
    b'"parent": null, "resultcode": null, "state": "SCHEDULED", "timeCreate": 1539600500, "timeStart": 0, '
    b'"timeStop": 0, "log": false, "errorreport": false, "tags": null, "guid": "fa11bac4a7c44d3e9f1a2b3c4d5e6f70", '
    b'"_ckey": "", "_meta": ["system", "job", 1], "jscriptid": null}'
)
# PM in-process run: float timeStop, resultcode null, no "internal".
JOB_PM_INPROCESS = (
    b'{"id":1270,"sessionid":null,"gid":1,"nid":4,"cmd":"info","wait":true,"category":"jumpscale","roles":[],'
    b'"args":{},"queue":"","timeout":600,"result":{"hostname":"node4","load":[0.5,0.25,0.125]},"parent":null,'
    b'"resultcode":null,"state":"OK","timeCreate":1539600600,"timeStart":1539600600.1234560013,'
    b'"timeStop":1539600600.2345678806,"log":true,"errorreport":false,"tags":null,'
    b'"guid":"0a1b2c3d4e5f40718293a4b5c6d7e8f9","_ckey":"","_meta":["system","job",1],"jscriptid":null,'
    b'"achost":"10.0.0.1"}'
)
# Worker-queue item (§8.1 form 2): sorted keys, indent 2, trailing space after each comma, raw UTF-8.
JOB_PRETTY = (
    b'{\n  "_ckey": "", \n  "_meta": [\n    "system", \n    "job", \n    1\n  ], \n  "achost": "10.0.0.1", \n'
    b'  "args": {\n    "msg": "d\xc3\xa9ploiement /opt"\n  }, \n  "category": "jumpscale", \n  "cmd": "echo", \n'
    b'  "errorreport": false, \n  "gid": 1, \n  "guid": "3c1d9e0f5a6b4c7d8e9f0a1b2c3d4e5f", \n  "id": 1235, \n'
    b'  "internal": false, \n  "jscriptid": null, \n  "log": true, \n  "nid": 5, \n  "parent": null, \n'
    b'  "queue": "", \n  "result": null, \n  "resultcode": null, \n  "roles": [], \n'
    b'  "sessionid": "1_5_0_0b5c9a1e-3d0f-4b8e-9a51-2f7c6d1e8a90", \n  "state": "STARTED", \n  "tags": null, \n'
    b'  "timeCreate": 1539600001, \n  "timeStart": 0, \n  "timeStop": 0, \n  "timeout": 600, \n  "wait": false\n}'
)
JOB_PRETTY_IO = (
    b'{\n  "args": {}, \n  "category": "system", \n  "cmd": "diskusage", \n  "errorreport": false, \n  "gid": 1, \n'
    b'  "guid": "4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d", \n  "id": 732, \n  "internal": true, \n  "jscriptid": null, \n'
    b'  "log": true, \n  "nid": 5, \n  "parent": null, \n  "queue": "io", \n  "result": null, \n  "resultcode": null, \n'
    b'  "roles": [], \n  "sessionid": "1_5_0_1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f", \n  "state": "SCHEDULED", \n'
    b'  "timeCreate": 1539600700, \n  "timeStart": 0, \n  "timeStop": 0, \n  "timeout": 60.0, \n  "wait": false\n}'
)
JOB_PRETTY_NAN = (
    b'{\n  "args": {\n    "floor": -Infinity, \n    "limit": Infinity, \n    "threshold": NaN\n  }, \n'
    b'  "category": "demo", \n  "cmd": "flaky", \n  "gid": 1, \n  "guid": "6e6e6e6e6e6e4e6e8e6e6e6e6e6e6e6e", \n'
    b'  "id": 1280, \n  "internal": false, \n  "nid": 2, \n  "queue": "default", \n  "roles": [], \n'
    b'  "state": "STARTED", \n  "timeCreate": 1539600800, \n  "timeStart": 0, \n  "timeStop": 0, \n  "wait": false\n}'
)
# Pre-2015-10 local job shape: category "jumpscript", cmd "<org>/<name>" (escaped by ujson).
JOB_LOCAL_LEGACY = (
    b'{"id":12,"guid":"2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a","sessionid":"1_2_0_8f8f8f8f-1a1a-4b4b-8c8c-9d9d9d9d9d9d",'
    b'"gid":1,"nid":2,"cmd":"jumpscale\\/echo","category":"jumpscript","jscriptid":12,"roles":[],"args":{"msg":"x"},'
    b'"queue":"default","timeout":null,"wait":false,"errorreport":false,"result":"x","parent":null,"resultcode":0,'
    b'"state":"OK","timeStart":1423000000,"timeStop":1423000001,"log":true,"internal":true}'
)
JOB_WAIT_TIMEOUT = (
    b'{"id":733,"guid":"5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e","sessionid":"1_5_0_1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f",'
    b'"gid":1,"nid":5,"cmd":"healthcheck_redis","category":"monitor","jscriptid":null,"roles":[],"args":{"port":9999},'
    b'"queue":"process","timeout":30,"wait":false,"errorreport":false,"result":null,"parent":null,"resultcode":null,'
    b'"state":"TIMEOUT","timeCreate":1539600900,"timeStart":0,"timeStop":0,"log":false,"internal":true}'
)

# ---- jumpscripts --------------------------------------------------------------------------------

ECHO_SOURCE_JSON = b'"descr = \\"\\"\\"\\nEcho a message\\n\\"\\"\\"\\norganization = \\"jumpscale\\"\\n\\ndef action(msg=\\"\\"):\\n    return msg\\n"'
JUMPSCRIPT_HEAD = (
    b'{"name":"echo","organization":"jumpscale","category":"demo.echo","author":"unknown","license":"bsd",'
    b'"version":"1.0","descr":"\\nEcho a message\\n","roles":[],"source":' + ECHO_SOURCE_JSON + b','
    b'"path":"\\/opt\\/jumpscale7\\/apps\\/processmanager\\/jumpscripts\\/jumpscale\\/echo.py","queue":"",'
    b'"async":true,"period":0,"order":1,"log":true,"enable":true,"startatboot":false,"gid":1,"id":null,"timeout":60}'
)
JUMPSCRIPT_OSIS_ID = (
    b'{"name":"diskusage","organization":"system","category":"monitor.disk","author":"unknown","license":"bsd",'
    b'"version":"1.0","descr":"disk usage","roles":["node"],"source":"descr = \\"disk usage\\"\\ndef action():\\n    return 1\\n",'
    b'"path":"\\/opt\\/jumpscale7\\/apps\\/processmanager\\/jumpscripts\\/system\\/diskusage.py","queue":"io",'
    b'"async":true,"period":"0 * * * *","order":1,"log":true,"enable":true,"startatboot":true,"gid":1,"id":14,"timeout":60.0}'
)
JUMPSCRIPT_HOT_RELOAD = JUMPSCRIPT_HEAD.replace(
    b'"path":"\\/opt\\/jumpscale7\\/apps\\/processmanager\\/jumpscripts\\/jumpscale\\/echo.py"', b'"path":null'
)
JUMPSCRIPT_EXEC_FUNCTION = (
    b'{"_loaded":false,"name":"listlogs","organization":"unknown","period":0,"category":"","lastrun":0,'
    b'"source":"from JumpScale import j\\n\\ndef action(path=\\"\\/var\\/log\\"):\\n    import os\\n    return os.listdir(path)\\n",'
    b'"debug":false,"path":null,"id":1000001,"startatboot":false,"timeout":null}'
)

# ---- ECOs and logs ------------------------------------------------------------------------------

ECO_KEY = "8c2e1f0a9b3d4c5e6f708192a3b4c5d6"
ECO_KEY_STUB = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
# Lua cjson: '/' escaped, raw UTF-8, 14 significant digits, empty array as {}.
ECO_CJSON = (
    b'{"guid":"8c2e1f0a-9b3d-4c5e-6f70-8192a3b4c5d6","uniquekey":"8c2e1f0a9b3d4c5e6f708192a3b4c5d6","gid":1,"nid":5,'
    b'"pid":0,"jid":"9f1c2a7b3e4d4f0a8b6c5d4e3f2a1b0c","masterjid":0,"appname":"jumpscale:worker:default",'
    b'"category":"workers.executejob","level":1,"type":"BUG","state":"NEW",'
    b'"errormessage":"d\xc3\xa9faillance: \\/opt full","errormessagePub":"d\xc3\xa9faillance: \\/opt full",'
    b'"code":"def action():\\n    raise Exception()\\n","funcname":"action",'
    b'"funcfilename":"\\/opt\\/jumpscale7\\/var\\/tmp\\/jumpscripts\\/demo_flaky.py","funclinenr":24,'
    b'"backtrace":"Traceback~ Exception","backtraceDetailed":"","data":{"elapsed":1539600000.1235,"mounts":{}},'
    b'"tags":"jscategory:demo.flaky jsorganization:demo jsname:flaky","epoch":1539600000,"lasttime":1539600060,'
    b'"closetime":0,"occurrences":3,"pushtime":1539600000,"noreraise":false,"exceptionclassname":"Exception",'
    b'"exceptioninfo":"{\\"message\\": \\"d\\\\u00e9faillance\\"}","exceptionmodule":"exceptions"}'
)
ECO_STUB = (
    b'{"occurrences":0,"epoch":1539500000,"guid":"0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0","lasttime":1539500100,'
    b'"pushtime":1539500000,"gid":1,"nid":2}'
)
LOG_RECORD = (
    b'{"message":"Sauvegarde termin\\u00e9e \\/opt\\/backup\\/nline two","level":3,"category":"backup_files",'
    b'"gid":1,"nid":5,"pid":0,"appname":"jumpscale:worker:default","tags":"step:1\\/|retry:2\\/nnode:5",'
    b'"jid":"9f1c2a7b3e4d4f0a8b6c5d4e3f2a1b0c","parentjid":"","masterjid":"","epoch":1539600000,"order":0,"private":0}'
)
LOG_RECORD_PROCESSED = (
    b'{"message":"worker started","level":4,"category":"jumpscale_worker","gid":1,"nid":2,"pid":0,"appname":"jsagent",'
    b'"tags":"","jid":"","parentjid":"","masterjid":"","epoch":1539600001,"order":57,"private":1,"guid":"1_2_57"}'
)

WORKER_A = "0b5c9a1e-3d0f-4b8e-9a51-2f7c6d1e8a90"
WORKER_B = "e3078161-f5c4-45b0-8080-f4aa9a40e1eb"

BYTEFORMS: dict[str, list[ByteForm]] = {
    "jobs_last": [
        ByteForm("counter per grid", "hash", "jobs:last", {b"1": b"4242", b"2": b"17"}, {"1": 4242, "2": 17}),
    ],
    "jobs": [
        ByteForm("ujson scheduled (§4.3)", "hash", "jobs:1", {GUID_A.encode(): JOB_SCHEDULED},
                 {GUID_A: {"id": 1234, "state": "SCHEDULED", "nid": 5, "timeStart": 0, "tags": None, "jscriptid": None}}),
        ByteForm("role job, gid text, nid null, escapes", "hash", "jobs:1", {GUID_ROLE.encode(): JOB_ROLE},
                 {GUID_ROLE: {"gid": "1", "nid": None, "roles": ["node"], "tags": ["nightly", "ops/team"],
                              "args": {"cmd": "ls /opt/jumpscale7 && echo café ☃"}}}),
        ByteForm("NOWORK with roles [null]", "hash", "jobs:1", {GUID_NOWORK.encode(): JOB_NOWORK},
                 {GUID_NOWORK: {"state": "NOWORK", "roles": [None], "timeStart": 0, "timeStop": 0}}),
        ByteForm("pre-2015-12: no timeCreate, no tags, OSIS jscriptid", "hash", "jobs:1", {GUID_LEGACY.encode(): JOB_LEGACY_2015},
                 {GUID_LEGACY: {"timeStart": 1434000000, "jscriptid": 14, "state": "STARTED"}},
                 note="'timeCreate' and 'tags' are absent"),
        ByteForm("internal command, resultcode '4', ECO result", "hash", "jobs:1", {GUID_INTERNAL.encode(): JOB_INTERNAL_ERROR},
                 {GUID_INTERNAL: {"resultcode": "4", "state": "ERROR", "gid": "1", "nid": "5", "jscriptid": "pm_getStatus", "queue": "internal"}}),
        ByteForm("node-local job reported to the AC", "hash", "jobs:1", {GUID_LOCAL.encode(): JOB_LOCAL},
                 {GUID_LOCAL: {"internal": True, "timeout": 60.0, "resultcode": 1, "timeStart": 1539600400.0000100136,
                               "result": "disk / is 97% full"}}),
        ByteForm("stdlib json fallback with NaN/Infinity", "hash", "jobs:1", {GUID_FALLBACK.encode(): JOB_STDLIB_FALLBACK},
                 {GUID_FALLBACK: {"id": 1260, "timeout": float("inf"), "args": {"duration": float("nan"), "path": "/tmp"}}},
                 note="NaN != NaN: compare with math.isnan"),
    ],
    "command_queues": [
        ByteForm("real node queue", "list", "queues:commands:queue:1:5", [JOB_SCHEDULED],
                 {"0": {"guid": GUID_A, "state": "SCHEDULED", "nid": 5}}),
        ByteForm("real role queue", "list", "queues:commands:queue:1:node", [JOB_ROLE],
                 {"0": {"guid": GUID_ROLE, "nid": None, "roles": ["node"]}}),
        ByteForm("documented form commands:queue:<gid>:<nid>", "list", "commands:queue:1:5", [JOB_SCHEDULED, JOB_NOWORK.replace(b'"NOWORK"', b'"SCHEDULED"')],
                 {"0": {"id": 1234}, "1": {"id": 1241, "state": "SCHEDULED"}}),
    ],
    "job_results": [
        ByteForm("real queues:jobqueue:<guid>", "list", f"queues:jobqueue:{GUID_A}", [JOB_OK],
                 {"0": {"state": "OK", "result": "hi", "resultcode": 0, "timeStart": 1539600003.5212841034,
                        "timeStop": 1539600004, "achost": "10.0.0.1", "internal": False}}),
        ByteForm("documented jobqueue:<guid>", "list", f"jobqueue:{GUID_C}", [JOB_PM_INPROCESS],
                 {"0": {"resultcode": None, "timeStop": 1539600600.2345678806, "result": {"hostname": "node4", "load": [0.5, 0.25, 0.125]}}}),
        ByteForm("internal job result", "list", f"queues:jobqueue:{GUID_INTERNAL}", [JOB_INTERNAL_ERROR],
                 {"0": {"resultcode": "4", "timeStart": 0}}),
    ],
    "applications": [
        ByteForm("pid lists", "hash", "application",
                 {b"jsagent": b"[1234,5678]", b"jumpscale:worker:default": b"[2001]", b"jsshell": b"[]"},
                 {"jsagent": [1234, 5678], "jumpscale:worker:default": [2001], "jsshell": []}),
    ],
    "healthcheck_lastcheck": [
        ByteForm("float epoch text (JS6 2014)", "hash", "healthcheck:lastcheck",
                 {b"disks": b"1396800000.123456", b"redis:9999": b"1396800060.25", b"workers:worker_default_0": b"1396800120.0"},
                 {"disks": 1396800000.123456, "redis:9999": 1396800060.25, "workers:worker_default_0": 1396800120.0}),
    ],
    "healthcheck_status": [
        ByteForm("redis-py 2.x bools and tolerated 1/0", "hash", "healthcheck:status",
                 {b"disks": b"True", b"redis:9999": b"False", b"workers:worker_default_0": b"1", b"workers:worker_io_0": b"0"},
                 {"disks": True, "redis:9999": False, "workers:worker_default_0": True, "workers:worker_io_0": False}),
    ],
    "healthcheck_monitoring": [
        ByteForm(
            "results, errors, lastcheck (2014-2015)", "hash", "healthcheck:monitoring",
            {
                b"results": (
                    b'{"5":{"Redis":[{"state":"OK","message":"Redis on port 9999 is running","mem":12.5}],'
                    b'"Heartbeat":["Last heartbeat 2m ago"],"Disks":[{"state":"NOT OK","path":"\\/","free":3.1}]},'
                    b'"6":{"Workers":[{"state":"HALTED","name":"worker_io_0"}]}}'
                ),
                b"errors": b'{"5":{"Disks":[{"errormessage":"disk \\/ is 97% full"},{"state":"NOT OK","path":"\\/"}]}}',
                b"lastcheck": b"1442930000.12",
            },
            {"results": {"5": {"Redis": [{"state": "OK", "message": "Redis on port 9999 is running", "mem": 12.5}],
                               "Heartbeat": ["Last heartbeat 2m ago"],
                               "Disks": [{"state": "NOT OK", "path": "/", "free": 3.1}]}},
             "lastcheck": 1442930000.12},
        ),
    ],
    "eco_incr": [
        ByteForm("JS6 eco:incr:<gid>_<nid>", "string", "eco:incr:1_5", b"42", {"": 42}),
        ByteForm("commented-out variant eco:incr:<gid>_<nid>_<epoch>", "string", "eco:incr:1_5_1396800000", b"7", {"": 7}),
    ],
    "logs_incr": [
        ByteForm("current logs:incr:<gid>_<nid>", "string", "logs:incr:1_5", b"1234", {"": 1234}),
        ByteForm("<= 2014-08 logs:incr:<gid>_<pid>", "string", "logs:incr:1_4711", b"321", {"": 321}),
        ByteForm("<= 2014-08 logs:incr:<gid>_<nid>_<epoch>", "string", "logs:incr:1_5_1396800000", b"57", {"": 57}),
    ],
    "worker_joblastid": [ByteForm("decimal int", "string", "workers:joblastid", b"731", {"": 731})],
    "worker_jumpscriptlastid": [ByteForm("decimal int >= 1000000", "string", "workers:jumpscriptlastid", b"1000003", {"": 1000003})],
    "jumpscripts_by_id": [
        ByteForm("HEAD: literal field None, id null", "hash", "workers:jumpscripts:id", {b"None": JUMPSCRIPT_HEAD},
                 {"None": {"name": "echo", "id": None, "async": True, "roles": [], "timeout": 60,
                           "path": "/opt/jumpscale7/apps/processmanager/jumpscripts/jumpscale/echo.py"}}),
        ByteForm("pre-2018-06 OSIS integer id, cron period", "hash", "workers:jumpscripts:id", {b"14": JUMPSCRIPT_OSIS_ID},
                 {"14": {"id": 14, "period": "0 * * * *", "timeout": 60.0, "roles": ["node"]}}),
        ByteForm("execFunction form, id >= 1000001", "hash", "workers:jumpscripts:id", {b"1000001": JUMPSCRIPT_EXEC_FUNCTION},
                 {"1000001": {"_loaded": False, "category": "", "lastrun": 0, "id": 1000001, "timeout": None}},
                 note="a different key set: no descr/log/enable/async/queue/roles/gid/author"),
    ],
    "jumpscripts_by_name": [
        ByteForm("<org>__<name> field", "hash", "workers:jumpscripts:name", {b"jumpscale__echo": JUMPSCRIPT_HEAD},
                 {"jumpscale__echo": {"organization": "jumpscale", "name": "echo", "source": 'descr = """\nEcho a message\n"""\norganization = "jumpscale"\n\ndef action(msg=""):\n    return msg\n'}}),
        ByteForm("hot reload: path null", "hash", "workers:jumpscripts:name", {b"jumpscale__echo2": JUMPSCRIPT_HOT_RELOAD},
                 {"jumpscale__echo2": {"path": None}}),
        ByteForm("execFunction with a name", "hash", "workers:jumpscripts:name", {b"unknown__listlogs": JUMPSCRIPT_EXEC_FUNCTION},
                 {"unknown__listlogs": {"name": "listlogs", "organization": "unknown"}}),
    ],
    "worker_sessions": [
        ByteForm("JS6 session (<= 2014-06)", "hash", "workers:sessions",
                 {b"482913": b'{"start":1400000000,"gid":1,"nid":5,"pid":1805,"appname":"jumpscale:worker:default"}'},
                 {"482913": {"start": 1400000000, "gid": 1, "nid": 5, "pid": 1805, "appname": "jumpscale:worker:default"}}),
    ],
    "worker_watchdog": [
        ByteForm("JS6 worker names, 0 = started", "hash", "workers:watchdog",
                 {b"worker_default_0": b"1400000000", b"worker_io_0": b"0", b"worker_process_3": b"1400000044"},
                 {"worker_default_0": 1400000000, "worker_io_0": 0, "worker_process_3": 1400000044}),
    ],
    "worker_heartbeat": [
        ByteForm("queue -> int epoch", "hash", "workers:heartbeat",
                 {b"default": b"1539600000", b"io": b"1539599000", b"reports": b"1539500000"},
                 {"default": 1539600000, "io": 1539599000, "reports": 1539500000}),
    ],
    "worker_queues": [
        ByteForm("pretty default queue", "list", "queues:workers:work:default", [JOB_PRETTY],
                 {"0": {"guid": GUID_B, "state": "STARTED", "args": {"msg": "déploiement /opt"}, "internal": False}}),
        ByteForm("io is queues:system (local job)", "list", "queues:system", [JOB_PRETTY_IO],
                 {"0": {"id": 732, "internal": True, "timeout": 60.0, "state": "SCHEDULED"}}),
        ByteForm("JS6 io queue name", "list", "queues:workers:work:io", [JOB_PRETTY_IO],
                 {"0": {"queue": "io"}}),
        ByteForm("NaN/Infinity in a custom queue", "list", "queues:workers:work:reports", [JOB_PRETTY_NAN],
                 {"0": {"id": 1280, "args": {"threshold": float("nan"), "limit": float("inf"), "floor": float("-inf")}}},
                 note="NaN != NaN: compare with math.isnan"),
    ],
    "worker_jobs": [
        ByteForm("workers:jobs:<id> (AC job copy)", "string", "workers:jobs:1234", JOB_OK, {"": {"id": 1234, "state": "OK", "internal": False}}),
        ByteForm("workers:jobs:<id> (local job)", "string", "workers:jobs:731", JOB_LOCAL, {"": {"id": 731, "internal": True}}),
        ByteForm("colon-less workers:jobs<id> (waitJob timeout bug)", "string", "workers:jobs733", JOB_WAIT_TIMEOUT,
                 {"": {"id": 733, "state": "TIMEOUT"}}),
        ByteForm("legacy workers:jobs hash (<= 2015-03)", "hash", "workers:jobs", {b"12": JOB_LOCAL_LEGACY, b"88": JOB_LEGACY_2015},
                 {"12": {"category": "jumpscript", "cmd": "jumpscale/echo", "jscriptid": 12}, "88": {"id": 88}}),
    ],
    "worker_returns": [
        ByteForm("float epoch text", "list", "workers:return:731", [b"1539600123.456789"], {"0": 1539600123.456789}),
    ],
    "worker_inqueuetest": [
        ByteForm("<org>_<name> -> int epoch", "hash", "workers:inqueuetest",
                 {b"system_diskusage": b"1539600000", b"monitor_healthcheck_redis": b"1539600030"},
                 {"system_diskusage": 1539600000, "monitor_healthcheck_redis": 1539600030}),
    ],
    "jumpscript_hashes": [
        ByteForm("md5 -> id text", "hash", "workers:jumpscripthashes",
                 {b"5eb63bbbe01eeed093cb22bb8f5acdc3": b"1000001", b"7d793037a0760186574b0282f2f435e7": b"1000002"},
                 {"5eb63bbbe01eeed093cb22bb8f5acdc3": 1000001, "7d793037a0760186574b0282f2f435e7": 1000002}),
    ],
    "worker_registry": [
        ByteForm("registered worker", "string", f"workers:worker:default:{WORKER_A}", b"1", {"": 1}),
        ByteForm("custom queue worker", "string", f"workers:worker:reports:{WORKER_B}", b"1", {"": 1}),
    ],
    "worker_actions": [
        ByteForm("RELOAD", "list", f"workers:action:default:{WORKER_A}", [b"RELOAD"], {"0": "RELOAD"}),
        ByteForm("lingering RESTART of a dead worker", "list", f"workers:action:process:{WORKER_B}", [b"RESTART", b"RELOAD"],
                 {"0": "RESTART", "1": "RELOAD"}),
    ],
    "ecos": [
        ByteForm("full ECO in Lua cjson", "hash", "eco:objects", {ECO_KEY.encode(): ECO_CJSON},
                 {ECO_KEY: {"uniquekey": ECO_KEY, "occurrences": 3, "errormessage": "défaillance: /opt full",
                            "data": {"elapsed": 1539600000.1235, "mounts": {}}, "funclinenr": 24}},
                 note="'mounts' was an empty array before cjson re-encoded it"),
        ByteForm("reduced 7-field stub (ujson)", "hash", "eco:objects", {ECO_KEY_STUB.encode(): ECO_STUB},
                 {ECO_KEY_STUB: {"occurrences": 0, "epoch": 1539500000, "guid": "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0", "nid": 2}}),
    ],
    "eco_queue": [ByteForm("unique keys", "list", "queues:eco", [ECO_KEY.encode()], {"0": ECO_KEY})],
    "eco_secos": [ByteForm("throttled repeats", "set", "eco:secos", {ECO_KEY.encode()}, {ECO_KEY: True})],
    "eco_htime": [ByteForm("int epoch text", "string", "eco:htime", b"1539600000", {"": 1539600000})],
    "logs": [
        ByteForm("log records (/n, /| escapes, dotted category underscored)", "list", "queues:logs", [LOG_RECORD, LOG_RECORD_PROCESSED],
                 {"0": {"message": "Sauvegarde terminée /opt/backup/nline two", "tags": "step:1/|retry:2/nnode:5",
                        "category": "backup_files", "order": 0},
                  "1": {"order": 57, "guid": "1_2_57", "private": 1}}),
    ],
    "health_status": [ByteForm("plain text aggregate", "string", "health.status", b"WARNING", {"": "WARNING"})],
    "processmanager_startuptime": [ByteForm("int epoch text", "string", "processmanager:startuptime", b"1539427200", {"": 1539427200})],
    "alerts": [
        ByteForm("alert guids", "list", "queues:alerts", [b"0b5c9a1e-3d0f-4b8e-9a51-2f7c6d1e8a90", b"e3078161-f5c4-45b0-8080-f4aa9a40e1eb"],
                 {"0": "0b5c9a1e-3d0f-4b8e-9a51-2f7c6d1e8a90"}),
    ],
}
for _family, _forms in BYTEFORMS.items():
    BYTEFORMS[_family] = [ByteForm(f.name, f.rtype, f.key, f.payload, f.expect, _family, f.note) for f in _forms]

MALFORMED: list[ByteForm] = [
    ByteForm("truncated JSON", "hash", "jobs:1", {b"deadbeefdeadbeefdeadbeefdeadbeef": JOB_SCHEDULED[:80]}, family="jobs"),
    ByteForm("job missing guid", "hash", "jobs:1", {b"c0ffeec0ffeec0ffeec0ffeec0ffee00": b'{"id":99,"state":"OK","gid":1,"nid":2}'}, family="jobs"),
    ByteForm("JSON list where an object is expected", "hash", "jobs:1", {b"11112222333344445555666677778888": b'["not","a","job"]'}, family="jobs"),
    ByteForm("JSON string where an object is expected", "hash", "jobs:1", {b"99990000aaaabbbbccccddddeeeeffff": b'"just text"'}, family="jobs"),
    ByteForm("binary garbage", "list", "queues:commands:queue:1:5", [b"\x80\x81\xfe\xff\x00garbage"], family="command_queues"),
    ByteForm("truncated final job", "list", f"queues:jobqueue:{GUID_B}", [JOB_OK[:-30]], family="job_results"),
    ByteForm("truncated pretty JSON", "list", "queues:workers:work:default", [JOB_PRETTY[:200]], family="worker_queues"),
    ByteForm("binary garbage", "string", "workers:jobs:999", b"\xff\xfe\x00\x01", family="worker_jobs"),
    ByteForm("non-numeric counter", "string", "logs:incr:1_99", b"abc", family="logs_incr"),
    ByteForm("non-numeric counter", "string", "eco:incr:1_98", b"12x", family="eco_incr"),
    ByteForm("non-numeric epoch", "hash", "workers:heartbeat", {b"broken": b"yesterday"}, family="worker_heartbeat"),
    ByteForm("not a boolean", "hash", "healthcheck:status", {b"weird": b"maybe"}, family="healthcheck_status"),
    ByteForm("truncated jumpscript", "hash", "workers:jumpscripts:name", {b"demo__broken": b'{"name":"broken","source":"def act'}, family="jumpscripts_by_name"),
    ByteForm("JSON object where a pid list is expected", "hash", "application", {b"broken": b'{"pid":1}'}, family="applications"),
    ByteForm("binary garbage", "hash", "eco:objects", {b"ffffffffffffffffffffffffffffffff": b"\x00\x9c\xff"}, family="ecos"),
    ByteForm("not a float", "list", "workers:return:998", [b"not-a-float"], family="worker_returns"),
    ByteForm("truncated log record", "list", "queues:logs", [LOG_RECORD[:50]], family="logs"),
]
"""Values that do not decode. Written after the good forms they never overwrite a good value."""
