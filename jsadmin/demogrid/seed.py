"""Seed a realistic demo grid into one Redis, in exactly the byte forms of the spec.

:func:`seed_demo` writes what the ``system`` Redis of a JumpScale 7 master looks like when it also
holds the node-side keys of ``nodes`` more nodes: every one of the 31 key families is non-empty,
every job state and every loosely typed job field shape of spec §4 and §8.3 appears, legacy shapes
by date (§8.8) sit next to current ones, and the three JSON dialects of §8.1 are used where the real
code uses them. Nothing in the demo is malformed (malformed values live in ``tests/byteforms.py``).

The seed plays each job's history through the live grid's own write sequences
(:mod:`jsadmin.demogrid.protocol`: scheduling, pickup, dispatch, the end of an execution,
completion, node-local jobs, jumpscript and ``execFunction`` storage, heartbeats, worker
registration and actions, ECOs through ``eco.lua`` and a ``loghandling`` pass) and its ECO and log
builders, so it holds what the live grid would have written; only the deliberate odd forms (documented keys,
legacy shapes, copies caught in flight) are written as they are. Each key's family is the
catalog's. Everything is written in one MULTI/EXEC transaction, and the result only depends on
``now`` and ``seed``: the same arguments give byte-identical Redis contents.

>>> import redis                                                  # doctest: +SKIP
>>> counts = seed_demo(redis.Redis(port=9999), now=1_700_000_000)  # doctest: +SKIP
>>> counts["jobs"], counts["worker_queues"]                       # doctest: +SKIP
(1, 5)
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import time
import uuid
from collections.abc import Callable
from typing import Any

import redis

from jsadmin import catalog, keys
from jsadmin.domain import Job

from . import protocol
from ._grid_eco import build_eco, executejob_eco, log_record
from .encoding import py2_text, ujson_dumps
from .scripts import load_demo_jumpscripts

__all__ = ["FAMILIES", "seed_demo"]

FAMILIES = tuple(f.name for f in catalog.FAMILY_LIST)
"""The families the seed fills: every family of the catalog (its 32 built-in ones)."""

# Historic epochs for legacy data (spec §8.8).
_JS6_2014_04 = 1_396_800_000  # healthcheck:status / lastcheck (2014-03-26 .. 2014-04-06)
_JS6_2014_05 = 1_400_000_000  # workers:sessions, workers:watchdog
_JS7_2015_02 = 1_423_000_000  # legacy workers:jobs hash (<= 2015-03-15)
_JS7_2015_09 = 1_442_930_000  # healthcheck:monitoring last maintained
_JS7_2015_06 = 1_434_000_000  # pre-2015-12 AC jobs without timeCreate
_JS7_2017_03 = 1_489_000_000  # 2015-12 .. 2018-06: timeCreate, OSIS integer jscriptid, no tags

_ACHOST = "10.101.0.1"
_WORKER_QUEUES = ("default", "io", "hypervisor", "process")
_WORKERS_PER_QUEUE = {"default": 2, "io": 1, "hypervisor": 1, "process": 5}
_CUSTOM_QUEUE = "reports"  # a custom worker queue whose worker died: stale heartbeat, backlog

_ECHO_MESSAGES = (
    "hi",
    "hello world",
    "déploiement terminé",
    "path /opt/jumpscale7/var/log",
    "Grüße aus Gent",
    "ping ✓",
    "a/b/c",
)


class _Writer:
    """A buffered :class:`~jsadmin.demogrid.protocol.Commands`: the whole grid goes in one MULTI/EXEC
    that starts with one DEL of every key written. A key's family is the catalog's
    (:func:`jsadmin.catalog.classify`); with ``expire=False`` TTLs are left out."""

    def __init__(self, *, expire: bool) -> None:
        self.ttls = expire
        self.commands: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []
        self.family_keys: dict[str, set[str]] = {}
        self.order: list[str] = []

    def _touch(self, key: str) -> None:
        family = catalog.classify(key)
        if family is None:
            raise ValueError(f"the seed wrote {key!r}, a key of no family in the catalog")
        if key not in self.family_keys.setdefault(family, set()):
            self.family_keys[family].add(key)
            self.order.append(key)

    def _write(self, command: str, key: str, *args: Any, **kwargs: Any) -> None:
        self._touch(key)
        self.commands.append((command, (key, *args), kwargs))

    def eval(self, script: str, numkeys: int, *keys_and_args: Any) -> None:
        """A script (``eco.lua``, loghandling) in the transaction: it sees the writes before it."""
        for key in keys_and_args[:numkeys]:
            self._touch(key)
        self.commands.append(("eval", (script, numkeys, *keys_and_args), {}))

    def hset(self, name: str, key: Any, value: Any) -> None:
        self._write("hset", name, key, value)

    def rpush(self, name: str, *values: Any) -> None:
        self._write("rpush", name, *values)

    def lpush(self, name: str, *values: Any) -> None:
        self._write("lpush", name, *values)

    def sadd(self, name: str, *values: Any) -> None:
        self._write("sadd", name, *values)

    def set(self, name: str, value: Any, ex: Any = None) -> None:
        self._write("set", name, value, **({"ex": ex} if ex and self.ttls else {}))

    def hdel(self, name: str, *fields: Any) -> None:
        self.commands.append(("hdel", (name, *fields), {}))

    def delete(self, *names: Any) -> None:
        self.commands.append(("delete", names, {}))
        for found in self.family_keys.values():
            found.difference_update(names)  # still in the DEL of every key written, in ``order``

    def expire(self, name: str, time: Any) -> None:
        if self.ttls:
            self.commands.append(("expire", (name, time), {}))

    def wrote(self, key: str) -> bool:
        return any(key in found for found in self.family_keys.values())

    def execute(self, client: redis.Redis) -> None:
        pipe = client.pipeline(transaction=True)
        if self.order:
            pipe.delete(*self.order)
        for name, args, kwargs in self.commands:
            getattr(pipe, name)(*args, **kwargs)
        pipe.execute()

    def counts(self) -> dict[str, int]:
        return {f.name: len(self.family_keys.get(f.name, ())) for f in catalog.FAMILY_LIST}


class _Seeder:
    """Builds the demo grid. One instance per :func:`seed_demo` call."""

    def __init__(self, *, now: float, seed: int, gid: int, nodes: int, jobs: int, expire: bool) -> None:
        self.rng = random.Random(seed)
        self.now = now
        self.now_i = int(now)
        self.gid = gid
        self.jobs = jobs
        self.w = _Writer(expire=expire)
        self.nids = list(range(1, nodes + 2))  # nid 1 is the master
        self.node_roles = {nid: self._roles_of(nid) for nid in self.nids}
        self.scripts = load_demo_jumpscripts(gid=gid)
        self.by_name = {s["name"]: s for s in self.scripts}
        self.ac_last_id = 4100 + self.rng.randrange(100)
        self.local_last_id = 700 + self.rng.randrange(100)
        self.slow_nid = self.nids[min(3, len(self.nids) - 1)]
        self.ecos: list[dict[str, Any]] = []
        self.job_guids: list[str] = []

    # ---- small generators ---------------------------------------------------------------------
    @staticmethod
    def _roles_of(nid: int) -> list[str]:
        if nid == 1:
            return ["master", "node"]
        roles = ["node"]
        if nid % 2 == 0:
            roles.append("cpunode")
        if nid % 3 == 0:
            roles.append("storagenode")
        return roles

    def guid32(self) -> str:
        return uuid.UUID(int=self.rng.getrandbits(128), version=4).hex

    def uuid_text(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def guid40(self) -> str:
        return f"{self.rng.getrandbits(160):040x}"

    def sessionid(self, nid: int) -> str:
        return f"{self.gid}_{nid}_0_{self.uuid_text()}"

    def next_ac_id(self) -> int:
        self.ac_last_id += 1
        return self.ac_last_id

    def next_local_id(self) -> int:
        self.local_last_id += 1
        return self.local_last_id

    def epoch_float(self, value: float) -> float:
        """A ``time.time()``-like float: microsecond resolution (ujson then prints the binary tail)."""
        return round(value, 6)

    def nid_choice(self) -> int:
        return self.rng.choice(self.nids)

    # ---- jumpscript-specific args, durations and results -----------------------------------------
    def args_for(self, name: str) -> dict[str, Any]:
        rng = self.rng
        if name == "echo":
            return {"msg": rng.choice(_ECHO_MESSAGES)}
        if name == "exec":
            return {"cmd": rng.choice(["df -h /opt/jumpscale7", "uptime", "ls /var/log/jumpscale"]), "die": False}
        if name == "sleep":
            return {"duration": rng.choice([0.5, 1, 2.5, 5, 300])}
        if name == "diskusage":
            return {"paths": ["/", "/opt/jumpscale7/var"]}
        if name == "flaky":
            return {"failrate": 0.3, "seed": rng.randrange(10_000)}
        if name == "backup_dirs":
            return {"source": "/opt/jumpscale7/cfg", "duration": 600.0, "chunks": 20}
        if name == "healthcheck_redis":
            return {"port": 9999}
        return {}

    def duration_for(self, name: str, nid: int) -> float:
        rng = self.rng
        base = {
            "echo": 0.02,
            "exec": 0.4,
            "diskusage": 0.05,
            "flaky": 0.1,
            "backup_dirs": 420.0,
            "healthcheck_redis": 0.01,
            "healthcheck_workers": 0.03,
            "info": 0.005,
            "loadavg": 0.004,
            "cleanupredisac": 0.8,
        }.get(name, 0.1)
        value = base * rng.lognormvariate(0, 0.6)
        if nid == self.slow_nid:
            value *= 6
        return value

    def queue_latency(self, nid: int) -> float:
        value = 0.15 * self.rng.lognormvariate(0, 1.0)
        if nid == self.slow_nid:
            value *= 8
        return value

    def ok_result(self, name: str, args: dict[str, Any], duration: float) -> Any:
        rng = self.rng
        if name == "echo":
            return args.get("msg", "")
        if name == "exec":
            return [0, f"{args.get('cmd', '')}: ok\n", ""]
        if name == "sleep":
            return round(float(args.get("duration", 1)) + 0.0011, 6)
        if name == "diskusage":
            total = 107_374_182_400
            used = rng.randrange(total // 10, total // 10 * 9)
            return {"/": {"total": total, "used": used, "free": total - used, "percent": round(100.0 * used / total, 2)}}
        if name == "flaky":
            return {"draw": round(rng.uniform(0.3, 1.0), 6), "failrate": 0.3}
        if name == "backup_dirs":
            return {"archive": "/tmp/backup-x8d2.tar.gz", "files": rng.randrange(50, 400), "size": rng.randrange(10**6, 10**8)}
        if name == "info":
            return {"hostname": "demo-node", "platform": "Linux-3.13.0-x86_64", "python": "2.7.6", "cpus": 8, "load": [0.42, 0.3, 0.25]}
        if name == "loadavg":
            return {"load1": round(rng.uniform(0, 4), 2), "load5": 0.8, "load15": 0.6}
        if name == "healthcheck_workers":
            return [{"category": "Workers", "uid": "worker:default", "state": "OK", "message": "Last heartbeat of queue default 4s ago"}]
        if name.startswith("healthcheck"):
            return [{"category": "Redis", "uid": "redis:9999", "state": "OK", "message": "redis on port 9999 is alive"}]
        return None

    # ---- ECOs ----------------------------------------------------------------------------------
    def eco(
        self,
        *,
        nid: int,
        category: str,
        errormessage: str,
        epoch: int,
        jid: Any = 0,
        level: int = 1,
        eco_type: str = "BUG",
        appname: str = "jumpscale:worker:default",
        funcname: str = "action",
        funcfilename: str = "",
        code: str = "",
        exception: tuple[str, str] | None = ("RuntimeError", "exceptions"),
        data: Any = None,
        tags: str = "",
    ) -> dict[str, Any]:
        obj = build_eco(
            errormessage, category=category, gid=self.gid, nid=nid, appname=appname, level=level, jid=jid,
            code=code, tags=tags, type_=eco_type, now=epoch, where=(funcname, funcfilename, 24 if funcfilename else ""),
        )
        return self.raised(obj, errormessage=errormessage, epoch=epoch, funcname=funcname,
                           funcfilename=funcfilename, exception=exception, data=data)

    def raised(
        self, obj: dict[str, Any], *, errormessage: str, epoch: int, funcname: str, funcfilename: str,
        exception: tuple[str, str] | None, data: Any,
    ) -> dict[str, Any]:
        """``obj`` as a Python 2 worker's exception fills it (without raising one here), as
        ``eco.lua`` returns a first occurrence; kept to be stored by :meth:`seed_ecos`."""
        backtrace = "~ ".join(
            [
                "Traceback (most recent call last):",
                '  File "/opt/jumpscale7/apps/jsagent/lib/worker.py", line 211, in run',
                "    result = self.executeJob(job)",
                f'  File "{funcfilename or "/opt/jumpscale7/var/tmp/jumpscripts/x.py"}", line 24, in {funcname}',
                f"{exception[0] if exception else 'Error'}: {errormessage}",
            ]
        )
        obj.update(  # what a Python 2 worker's exception gives, without raising one here
            aid=0, data=data, backtrace=backtrace,
            backtraceDetailed=backtrace.replace("~ ", "\n") + "\n\nlocals: {'args': {}}",
            exceptionclassname=exception[0] if exception else None,
            exceptioninfo=json.dumps({"message": errormessage}) if exception else "",
            exceptionmodule=exception[1] if exception else None,
        )
        obj.update(lasttime=epoch, occurrences=1, pushtime=epoch)  # eco.lua: a first occurrence
        self.ecos.append(obj)
        return obj

    def job_eco(self, job: dict[str, Any], script: dict[str, Any] | None, errormessage: str, epoch: int) -> dict[str, Any]:
        """The ECO a worker puts in ``result`` of a failed job (with ``tb: null``, §4.8)."""
        name = script["name"] if script else job.get("cmd", "")
        org = script["organization"] if script else job.get("category", "")
        funcfilename = f"/opt/jumpscale7/var/tmp/jumpscripts/{org}_{name}.py"
        obj = executejob_eco(
            errormessage, organization=org, name=name, js_category=script["category"] if script else "",
            source=script["source"] if script else "", gid=self.gid, nid=int(job["nid"] or 0),
            appname="jumpscale:worker:default", jid=job["guid"], now=epoch, where=("action", funcfilename, 24),
        )
        obj = self.raised(obj, errormessage=errormessage, epoch=epoch, funcname="action", funcfilename=funcfilename,
                          exception=("RuntimeError", "exceptions"), data=None)
        return {**obj, "tb": None}

    # ---- job builders --------------------------------------------------------------------------
    def ac_job(
        self,
        script: dict[str, Any] | None,
        *,
        t_create: int,
        nid: int | str | None = None,
        role: str | None = None,
        wait: bool | None = None,
        gid_text: bool = False,
        category: str | None = None,
        cmd: str | None = None,
        args: dict[str, Any] | None = None,
        queue: str | None = None,
        timeout: Any = "script",
        jscriptid: Any = None,
        tags: Any = None,
        era: str = "current",
        sessionid: bool = True,
    ) -> dict[str, Any]:
        """An AC job in §4.3 field order. ``era``: ``current``, ``2017`` (no tags, int jscriptid), ``2015``."""
        if script is not None:
            category = script["organization"] if category is None else category
            cmd = script["name"] if cmd is None else cmd
            args = self.args_for(script["name"]) if args is None else args
            queue = script["queue"] if queue is None else queue
            if timeout == "script":
                timeout = script["timeout"] if script["timeout"] is not None else 600
            log = bool(script["log"]) and script["category"] != "monitor.healthcheck"
        else:
            log = True
            if timeout == "script":
                timeout = 60
        if wait is None:
            wait = self.rng.random() < 0.5
        target_nid: Any = None if role else nid
        if target_nid is not None and gid_text:
            target_nid = str(target_nid)
        session = self.sessionid(self.nid_choice()) if sessionid else None
        job = Job.scheduled(
            id=self.next_ac_id(), sessionid=session, gid=str(self.gid) if gid_text else self.gid,
            nid=target_nid, cmd=cmd, wait=wait, category=category, role=role, args=args,
            queue=queue or "", timeout=timeout, time_create=t_create, log=log, tags=tags,
            guid=self.guid32(), jscriptid=jscriptid,
        )
        if era in ("2017", "2015"):
            del job["tags"]
            if job["jscriptid"] is None and script is not None:
                job["jscriptid"] = self.legacy_script_id(script)
        if era == "2015":
            del job["timeCreate"]
            job["timeStart"] = t_create  # before 2015-12 timeStart was the creation time
        self.job_guids.append(job["guid"])
        return job

    def legacy_script_id(self, script: dict[str, Any]) -> int:
        return 11 + [s["name"] for s in self.scripts].index(script["name"]) * 3

    def pick_up(self, job: dict[str, Any], nid: int, *, write: bool = False) -> dict[str, Any]:
        """AC getWork + PM dispatch: STARTED, nid set, achost added. ``write``: the AC's writes of
        the pickup too (:func:`~jsadmin.demogrid.protocol.pickup`), for a job whose history the
        seed plays; without, only the state a copy of it shows (an old or odd copy)."""
        job = dict(job)
        if write:
            protocol.pickup(self.w, job, nid)
        job.update(nid=nid, state="STARTED")
        job["achost"] = _ACHOST
        return job

    def worker_copy(self, job: dict[str, Any]) -> dict[str, Any]:
        return {**job, "internal": False}

    def run(self, job: dict[str, Any], *, state: str, result: Any, resultcode: Any, in_process: bool = False) -> dict[str, Any]:
        """Executor timestamps: float timeStart; int timeStop from workers, float from the PM."""
        nid = int(job["nid"] or 1)
        name = str(job["cmd"]).split("/")[-1]
        job = dict(job)
        created = job.get("timeCreate", job["timeStart"] or self.now_i - 100)
        if name == "sleep":
            duration = float(job["args"].get("duration", 1)) + 0.001
        else:
            duration = self.duration_for(name, nid)
        if state == "TIMEOUT" and isinstance(job.get("timeout"), (int, float)):
            duration = float(job["timeout"]) + 0.5  # the worker killed it after the jumpscript timeout
        latency = self.queue_latency(nid)
        overshoot = math.ceil(created + latency + duration - (self.now - 1))
        if overshoot > 0:  # a finished job finished in the past: move its creation back
            created -= overshoot
            if "timeCreate" in job:
                job["timeCreate"] = created
        start = self.epoch_float(created + latency)
        stop_f = start + duration
        job["timeStart"] = start
        return protocol.finish_job(job, state=state, result=result, resultcode=resultcode, in_process=in_process,
                                   stop=self.epoch_float(stop_f) if in_process else stop_f)

    def local_job(self, script: dict[str, Any], *, nid: int, t_create: int, legacy: bool = False, exec_function: dict[str, Any] | None = None) -> dict[str, Any]:
        """A node-local job (§4.5), or the pre-2015-10 shape (``category:"jumpscript"``)."""
        if exec_function is not None:
            category, cmd, jscriptid = "", exec_function["name"], exec_function["id"]
            timeout: Any = None
            log = True
        else:
            category, cmd, jscriptid = script["organization"], script["name"], None
            timeout, log = script["timeout"], script["log"]
        if legacy:
            category, cmd = "jumpscript", f"{script['organization']}/{script['name']}"
        return Job.local(
            id=self.next_local_id(), guid=self.guid40(), sessionid=self.sessionid(nid), gid=self.gid,
            nid=nid, cmd=cmd, category=category, jscriptid=jscriptid,
            args=self.args_for(script["name"]) if exec_function is None else {"path": "/var/log/jumpscale"},
            queue=script["queue"] if exec_function is None else "default",
            timeout=timeout, time_create=t_create, log=log,
        )

    # ---- writers per area ----------------------------------------------------------------------
    def job_bytes(self, job: dict[str, Any]) -> bytes:
        return ujson_dumps(job)

    def seed_jumpscripts(self) -> list[dict[str, Any]]:
        w = self.w
        # at HEAD every PM-loaded script lands on field "None": the hash collapses to the last one
        protocol.store_jumpscripts(w, self.scripts)
        # pre-2018-06 entries: OSIS integer ids, still present because old entries are never removed
        for script in self.scripts[:4]:
            old = dict(script, id=self.legacy_script_id(script), version="0.9")
            w.hset(keys.JUMPSCRIPTS_BY_ID, py2_text(old["id"]), ujson_dumps(old))
        retired = dict(self.by_name["echo"], name="oldping", id=7, descr="Retired ping (kept: stale scripts persist)\n")
        retired["source"] = retired["source"].replace("return msg", 'return "pong"')
        retired["path"] = f"{retired['path'].rsplit('/', 1)[0]}/oldping.py"
        protocol.store_jumpscripts(w, [retired])
        # a hot reload (jumpscripts.loadJumpscript, §6.9.3) stores it again with a null path
        protocol.store_jumpscripts(w, [dict(self.by_name["flaky"], path=None)])

        # execFunction: a different key set, ids >= 1000001, md5 of the source in jumpscripthashes
        functions = [
            ("listlogs", "unknown", 'def action(path="/var/log/jumpscale"):\n    import os\n    return sorted(os.listdir(path))\n'),
            ("", "", "def action(n=10):\n    return sum(range(int(n)))\n"),
            ("freemem", "ops", "def action():\n    import os\n    return os.sysconf('SC_AVPHYS_PAGES') * os.sysconf('SC_PAGE_SIZE')\n"),
        ]
        exec_functions = []
        last = keys.JUMPSCRIPTID_FLOOR
        for name, org, body in functions:
            last += 1
            source = f"from JumpScale import j\n\n{body}\n\nresult = action()\n"
            obj = {
                "_loaded": False,
                "name": name,
                "organization": org,
                "period": 0,
                "category": "",
                "lastrun": 0,
                "source": source,
                "debug": False,
                "path": None,
                "id": last,
                "startatboot": False,
                "timeout": None,
            }
            protocol.store_exec_function(w, obj, hashlib.md5(source.encode()).hexdigest())
            exec_functions.append(obj)
        return exec_functions

    def seed_command_queues(self, count: int) -> None:
        """SCHEDULED jobs in command queues (real and documented forms), with their jobs:<gid> copies."""
        w = self.w
        async_scripts = [s for s in self.scripts if s["name"] not in ("cleanupredisac",)]
        for index in range(count):
            script = self.rng.choice(async_scripts)
            t_create = self.now_i - self.rng.randrange(0, 30)
            roll = self.rng.random()
            # the first four entries pin the shapes every seed must show
            roll = (0.05, 0.5, 0.95, 0.2)[index] if index < 4 else roll
            if index < 4:
                script = self.by_name["echo"]
            if roll < 0.3:
                role = "node" if index < 4 else self.rng.choice(["node", "cpunode", "storagenode"] if script["name"] != "backup_dirs" else ["storagenode"])
                job = self.ac_job(script, t_create=t_create, role=role, gid_text=roll < 0.08)
                target: Any = role
            else:
                nid = self.nid_choice()
                job = self.ac_job(script, t_create=t_create, nid=nid, tags=["demo", "batch-7"] if roll > 0.9 else None)
                target = nid
            documented = index % 12 == 1 and job["nid"] is not None
            protocol.schedule(w, job, target, queue_key=f"{keys.DOC_COMMAND_QUEUE_PREFIX}{self.gid}:{target}" if documented else None)
        # AC-internal commands (jscriptid 0, gid/nid as strings, queue "internal")
        for nid in self.nids[:3]:
            job = self.ac_job(
                None, t_create=self.now_i - 3, nid=nid, gid_text=True, category="pm", cmd="reloadjumpscripts",
                args={}, queue="internal", jscriptid=0, wait=False, sessionid=False,
            )
            protocol.schedule(w, job, nid)
        # hot reload: loadJumpscript embeds the whole jumpscript dict (large args)
        for nid in self.nids[-2:]:
            job = self.ac_job(
                None, t_create=self.now_i - 2, nid=nid, gid_text=True, category="jumpscripts", cmd="loadJumpscript",
                args={"jumpscript": dict(self.by_name["flaky"])}, queue="internal", jscriptid=0, wait=False, sessionid=False,
            )
            protocol.schedule(w, job, nid)

    def seed_special_ac_jobs(self) -> None:
        """NOWORK, AC wait TIMEOUT, brief final copies and legacy entries in jobs:<gid>."""
        w, rng = self.w, self.rng
        jobs_key = keys.jobs(self.gid)
        for role in ("gpunode", "gpunode", None):
            job = self.ac_job(self.by_name["exec"], t_create=self.now_i - rng.randrange(10, 200), role=role or "x", wait=False)
            job["state"] = "NOWORK"
            if role is None:
                job["roles"] = [None]
            w.hset(jobs_key, job["guid"], self.job_bytes(job))
        for index in range(4):
            script = rng.choice([self.by_name["sleep"], self.by_name["backup_dirs"], self.by_name["exec"]])
            role_job = index % 2 == 1
            job = self.ac_job(script, t_create=self.now_i - rng.randrange(60, 280), wait=True,
                              role="storagenode" if role_job else None, nid=None if role_job else self.nid_choice())
            job.update(state="TIMEOUT", resultcode=1)
            if role_job:
                job["nid"] = 0  # role jobs get nid 0 on an AC wait timeout
            w.hset(jobs_key, job["guid"], self.job_bytes(job))
        for state in ("OK", "ERROR"):
            script = self.by_name["echo"] if state == "OK" else self.by_name["flaky"]
            nid = self.nid_choice()
            job = self.pick_up(self.ac_job(script, t_create=self.now_i - 5, nid=nid, wait=False), nid)
            job = self.worker_copy(job)
            if state == "OK":
                job = self.run(job, state="OK", result=self.ok_result(script["name"], job["args"], 0), resultcode=0)
            else:
                job = self.run(job, state="ERROR", result=None, resultcode=1)
                job["result"] = self.job_eco(job, script, "flaky failure (draw 0.112 < failrate 0.300)", int(job["timeStop"]))
            w.hset(jobs_key, job["guid"], self.job_bytes(job))
        # legacy entries from before the upgrade: no tags (2017) and no timeCreate either (2015)
        for era, base in (("2017", _JS7_2017_03), ("2015", _JS7_2015_06)):
            for _ in range(2):
                script = rng.choice([self.by_name["exec"], self.by_name["diskusage"]])
                nid = self.nid_choice()
                job = self.ac_job(script, t_create=base + rng.randrange(86_400), nid=nid, era=era, wait=False)
                job = self.pick_up(job, nid)
                w.hset(jobs_key, job["guid"], self.job_bytes(job))
        # a node-local job reported to the AC because it failed (§4.5): 40-hex guid, internal true
        script = self.by_name["diskusage"]
        job = self.local_job(script, nid=self.nids[-1], t_create=self.now_i - 40)
        job = self.run(job, state="ERROR", result=None, resultcode=1)
        job["result"] = self.job_eco(job, script, "[Errno 2] No such file or directory: '/opt/jumpscale7/var'", int(job["timeStop"]))
        w.hset(jobs_key, job["guid"], self.job_bytes(job))

    def seed_results(self, count: int) -> None:
        """Final jobs in queues:jobqueue:<guid> (wait=true), and a few in the documented jobqueue:<guid>."""
        w, rng = self.w, self.rng
        worker_scripts = [s for s in self.scripts if (s["async"] or s["queue"]) and s["name"] != "cleanupredisac"]
        for index in range(count):
            roll = rng.random()
            nid = self.nid_choice()
            t_create = self.now_i - rng.randrange(1, 55)
            documented = index % 10 == 3  # a result in the documented jobqueue:<guid> form: written as is
            worker = False
            if index < 6:  # one PM internal command per RPC return code "1".."6"
                job = self.internal_result(nid, t_create, index, write=not documented)
            elif roll < 0.1 or index == 6:
                script = self.by_name["info"]  # PM in-process: float timeStop, resultcode null
                job = self.pick_up(self.ac_job(script, t_create=t_create, nid=nid, wait=True), nid, write=not documented)
                job = self.run(job, state="OK", result=self.ok_result("info", {}, 0), resultcode=None, in_process=True)
            else:
                worker = True
                script = self.by_name["echo"] if index == 7 else rng.choice(worker_scripts)
                job = self.pick_up(self.ac_job(script, t_create=t_create, nid=nid, wait=True), nid, write=not documented)
                if documented:
                    job = self.worker_copy(job)
                else:
                    protocol.dispatch_to_worker(w, job, popped=True)  # a worker took it and ran it
                if index == 7:
                    roll = 0.5
                if (script["name"] == "flaky" and roll < 0.75) or roll > 0.93:
                    job = self.run(job, state="ERROR", result=None, resultcode=1)
                    message = "flaky failure (draw 0.041 < failrate 0.300)" if script["name"] == "flaky" else "command failed: exit code 2"
                    job["result"] = self.job_eco(job, script, message, int(job["timeStop"]))
                elif script["name"] == "sleep" and job["args"]["duration"] > script["timeout"]:
                    job = self.run(job, state="TIMEOUT", result=None, resultcode=1)
                    job["result"] = self.job_eco(job, script, "Execution timed out after 120 seconds", int(job["timeStop"]))
                else:
                    job = self.run(job, state="OK", result=None, resultcode=0)
                    job["result"] = self.ok_result(script["name"], job["args"], 0)
            if documented:
                key = f"{keys.DOC_JOBQUEUE_PREFIX}{job['guid']}"
                w.rpush(key, self.job_bytes(job))
                w.expire(key, keys.JOBQUEUE_TTL)
            elif worker:  # the worker reports (its copy expires or goes), the AC pushes the result
                if protocol.worker_complete(w, job, job["timeStop"]):
                    protocol.notify_work_completed(w, job)
                protocol.worker_forget(w, job)
            else:  # the PM reports what it ran itself
                protocol.notify_work_completed(w, job)

    def internal_result(self, nid: int, t_create: int, index: int, *, write: bool = True) -> dict[str, Any]:
        """PM internal commands: string resultcodes "1".."6"; RPC-proxy jobs carry jscriptid "<cat>_<cmd>"."""
        code = str(1 + index % 6)
        category, cmd = [("pm", "getStatus"), ("worker", "getQueuedJobs"), ("process", "list"), ("agent", "nosuch"), ("stats", "get"), ("pm", "ping")][index % 6]
        job = self.ac_job(
            None, t_create=t_create, nid=nid, category=category, cmd=cmd, args={"queue": "default"} if category == "worker" else {},
            queue="internal", wait=True, jscriptid=f"{category}_{cmd}", gid_text=index % 4 == 0,
        )
        job = self.pick_up(job, nid, write=write)
        job["state"] = "OK" if code == "1" else "ERROR"
        job["resultcode"] = code
        if code == "1":
            job["result"] = {"pid": 2000 + nid, "uptime": 86_400 + index, "status": "running"}
        elif code == "3":
            job["result"] = f"Could not find method {cmd} in category {category}"
        else:
            eco = self.eco(nid=nid, category="processmanager.cmd", errormessage=f"{category}.{cmd} failed (code {code})",
                           epoch=t_create + 1, appname="jsagent", funcname=cmd, funcfilename="/opt/jumpscale7/apps/jsagent/jsagent.py",
                           eco_type="OPERATIONS", level=2)
            job["result"] = {**eco, "tb": None}
        return job  # internal jobs never set timeStart/timeStop

    def seed_worker_side(self, started: int, stuck: int, local: int, exec_functions: list[dict[str, Any]]) -> None:
        """Worker queues (pretty), workers:jobs:<id> copies, returns, inqueuetest and the legacy forms."""
        w, rng = self.w, self.rng
        worker_scripts = [s for s in self.scripts if (s["async"] or s["queue"]) and s["name"] != "cleanupredisac"]
        for index in range(started):
            # the first two pin raw UTF-8 in the pretty form and the io queue (queues:system)
            script = (self.by_name["echo"], self.by_name["diskusage"])[index] if index < 2 else rng.choice(worker_scripts)
            nid = self.nid_choice()
            queue = _CUSTOM_QUEUE if index % 9 == 4 else None
            args = {"msg": "déploiement terminé /opt"} if index == 0 else None
            job = self.ac_job(script, t_create=self.now_i - rng.randrange(1, 120), nid=nid, queue=queue, args=args)
            job = self.pick_up(job, nid, write=True)
            # every third is running: popped from the worker queue already
            protocol.dispatch_to_worker(w, job, popped=index % 3 == 2)
        # a deployment without ujson (§8.9): stdlib json, and NaN in a caller-supplied value
        script = self.by_name["exec"]
        nid = self.nid_choice()
        job = self.pick_up(self.ac_job(script, t_create=self.now_i - 7, nid=nid, tags={"budget": math.nan, "owner": "ops"}), nid)
        protocol.dispatch_to_worker(w, job)

        # AC jobs that never finished (stay forever) and failed ones (EXPIRE 60)
        for index in range(stuck):
            script = rng.choice(worker_scripts)
            nid = self.nid_choice()
            days = rng.randrange(1, 40)
            job = self.pick_up(self.ac_job(script, t_create=self.now_i - days * 86_400 - rng.randrange(86_400), nid=nid), nid)
            if index % 3 == 0:  # its worker died mid-job: the final copy, caught before its 60 s ran out
                job = self.worker_copy(job)
                job["timeCreate"] = self.now_i - 30
                job = self.run(job, state="ERROR", result=None, resultcode=1)
                job["result"] = self.job_eco(job, script, "worker crashed: MemoryError", int(job["timeStop"]))
                w.set(keys.worker_job(job["id"]), self.job_bytes(job), ex=60)
            else:  # taken by a worker that never reported
                protocol.dispatch_to_worker(w, job, popped=True)

        # node-local periodic jobs (§4.5, §6.8)
        periodic = [s for s in self.scripts if s["period"] and s["async"]]
        for index in range(local):
            script = periodic[index % len(periodic)]
            nid = self.nid_choice()
            legacy = index % 11 == 7
            exec_fn = exec_functions[index % len(exec_functions)] if index % 13 == 5 else None
            job = self.local_job(script, nid=nid, t_create=self.now_i - rng.randrange(0, 50), legacy=legacy, exec_function=exec_fn)
            phase = index % 4
            if phase in (0, 1):  # queued
                protocol.queue_local_job(w, job, script, job["timeCreate"])
            else:  # done: SET EX 60 + workers:return:<id>
                if phase == 3 and script["name"] == "diskusage":
                    job = self.run(job, state="ERROR", result=None, resultcode=1)
                    job["result"] = self.job_eco(job, script, "disk /dev/sdb1 is 97% full", int(job["timeStop"]))
                else:
                    job = self.run(job, state="OK", result=self.ok_result(script["name"], job["args"], 0), resultcode=0)
                if protocol.worker_complete(w, job, self.epoch_float(job["timeStop"] + rng.random() * 0.01)):
                    protocol.notify_work_completed(w, job)
                protocol.worker_forget(w, job)
        # RedisWorkerFactory.waitJob timeout: the colon-less key (bug), SET EX 60
        for _ in range(2):
            script = self.by_name["healthcheck_redis"]
            job = self.local_job(script, nid=self.nid_choice(), t_create=self.now_i - 45)
            job["state"] = "TIMEOUT"
            w.set(f"{keys.WORKER_JOBS_LEGACY_HASH}{job['id']}", self.job_bytes(job), ex=60)
        w.set(keys.WORKER_JOBLASTID, py2_text(self.local_last_id))

        # legacy workers:jobs hash (<= 2015-03-15): old shapes, no timeCreate, integer jscriptid
        for index in range(6):
            script = rng.choice([*periodic, self.by_name["exec"]])
            nid = self.nid_choice()
            if index % 2:
                job = self.local_job(script, nid=nid, t_create=_JS7_2015_02 + index * 3600, legacy=True)
                del job["timeCreate"]
                job["timeStart"] = _JS7_2015_02 + index * 3600
            else:
                job = self.worker_copy(self.pick_up(self.ac_job(script, t_create=_JS7_2015_02 + index * 3600, nid=nid, era="2015"), nid))
            w.hset(keys.WORKER_JOBS_LEGACY_HASH, py2_text(job["id"]), self.job_bytes(job))

    def seed_workers(self) -> None:
        """Heartbeats (some stale), registrations, action lists, application pids, start-up time."""
        w, rng = self.w, self.rng
        beats = {"default": 3, "io": 8, "hypervisor": 1500, "process": 2, _CUSTOM_QUEUE: 7200}
        for queue, age in beats.items():
            protocol.heartbeat(w, queue, self.now_i - age - rng.randrange(3))
        live: dict[str, list[str]] = {}
        for queue in (*_WORKER_QUEUES, _CUSTOM_QUEUE):
            names = [self.uuid_text() for _ in range(_WORKERS_PER_QUEUE.get(queue, 1))]
            live[queue] = names
            dead = [self.uuid_text() for _ in range(1 if queue in ("default", "process") else 0)]
            for name in names + dead:
                protocol.register_worker(w, queue, name)
            for name in dead:  # lingering RESTART lists of workers that were respawned under a new name
                protocol.push_action(w, queue, name, "RESTART")
        protocol.push_action(w, "default", live["default"][0], "RELOAD")
        for action in ("RELOAD", "RESTART"):
            protocol.push_action(w, "process", live["process"][1], action)
        pid = 2100 + rng.randrange(400)
        apps: dict[str, list[int]] = {"jsagent": [pid], "jumpscale:agentcontroller": [pid - 40], "osis": [pid - 60]}
        for queue, names in live.items():
            apps[f"jumpscale:worker:{queue}"] = [pid + 10 + i + len(apps) * 7 for i in range(len(names))]
        apps["jumpscale:worker:" + _CUSTOM_QUEUE] = []  # its worker died: the list went empty
        apps["jsshell"] = [pid + 300, pid + 305]
        for name, pids in apps.items():
            protocol.set_app_pids(w, name, pids)
        w.set(keys.PROCESSMANAGER_STARTUPTIME, py2_text(self.now_i - 2 * 86_400 - rng.randrange(3600)))

    def seed_legacy(self) -> None:
        """JS6-era keys (§3.7, §5.1-5.3, §5.5, §5.8, §8.8)."""
        w, rng = self.w, self.rng
        for index, queue in enumerate(("default", "default", "io", "hypervisor", "process")):
            name = f"worker_{queue}_{index % 2}"
            value = py2_text(0) if index == 3 else py2_text(_JS6_2014_05 + index * 11)
            w.hset(keys.WORKER_WATCHDOG, name, value)
        for nid in self.nids[:3]:
            session = rng.randrange(1, 1_000_001)
            body = {"start": _JS6_2014_05 - 3600 * nid, "gid": self.gid, "nid": nid, "pid": 1800 + nid, "appname": "jumpscale:worker:default"}
            w.hset(keys.WORKER_SESSIONS, py2_text(session), ujson_dumps(body))
        checks = ["disks", "redis:9999", "redis:7768", "workers:worker_default_0", "workers:worker_io_0"]
        for index, check in enumerate(checks):
            w.hset(keys.HEALTHCHECK_STATUS, check, py2_text(index != 2))
            w.hset(keys.HEALTHCHECK_LASTCHECK, check, py2_text(_JS6_2014_04 + index * 60 + 0.123456 * (index + 1)))
        results: dict[str, Any] = {}
        errors: dict[str, Any] = {}
        for nid in self.nids:
            disk_state = "OK" if nid != self.slow_nid else "ERROR"
            results[str(nid)] = {
                "Redis": [{"state": "OK", "message": "Redis on port 9999 is running", "mem": 12.5 + nid}],
                "Disks": [{"state": disk_state, "path": "/", "free": 41.2 - nid, "message": f"disk / {58 + nid}% used"}],
                "Heartbeat": [f"Last heartbeat {nid}m ago"],  # plain-string items
                "Workers": [{"state": "RUNNING", "name": "worker_default_0"}, {"state": "HALTED" if nid == 2 else "RUNNING", "name": "worker_io_0"}],
            }
            if disk_state != "OK":
                errors[str(nid)] = {"Disks": [{"errormessage": "disk / is 97% full (/dev/sda1)"}, results[str(nid)]["Disks"][0]]}
        errors[str(self.nids[-1])] = {"Heartbeat": [{"errormessage": "No heartbeat for 15 minutes"}]}
        w.hset(keys.HEALTHCHECK_MONITORING, "results", ujson_dumps(results))
        w.hset(keys.HEALTHCHECK_MONITORING, "errors", ujson_dumps(errors))
        w.hset(keys.HEALTHCHECK_MONITORING, "lastcheck", py2_text(_JS7_2015_09 + 0.12))
        for nid in self.nids:
            w.set(keys.eco_incr(self.gid, nid), py2_text(rng.randrange(5, 900)))

    def seed_logs(self, count: int) -> None:
        """queues:logs records (§5.7) and the logs:incr counters, current and legacy shapes (§5.8)."""
        w, rng = self.w, self.rng
        templates = [
            (3, "jumpscale.worker", "Job {guid} started on queue default"),
            (3, "jumpscale.worker", "Job {guid} finished in 0.42s"),
            (2, "workers.executejob", "Jumpscript demo/flaky failed:\nflaky failure (draw 0.041 < failrate 0.300)"),
            (4, "processmanager.loghandling", "processed 12 logs, 1 eco"),
            (3, "backup.files", "Sauvegarde terminée: /opt/jumpscale7/cfg → /tmp/backup-x8d2.tar.gz"),
            (1, "monitor.healthcheck.disks", "disk / is 97% full\nfree: 3.1 GB"),
            (5, "agentcontroller.getwork", "getWork: no work for node {nid} (30s)"),
        ]
        for index in range(count):
            level, category, message = templates[index % len(templates)]
            nid = self.nid_choice()
            guid = rng.choice(self.job_guids) if self.job_guids and index % 3 else ""
            record = log_record(
                message.format(guid=guid or "-", nid=nid), category=category, gid=self.gid, nid=nid,
                appname="jumpscale:worker:default" if guid else "jsagent", level=level, jid=guid,
                tags="retry:1|step:2\nnode:" + str(nid) if index % 5 == 0 else "",
                now=self.now_i - (count - index) // 2, private=index % 17 == 0,
            )
            w.rpush(keys.LOGS_QUEUE, record)
        for nid in self.nids:
            w.set(keys.logs_incr(self.gid, nid), py2_text(rng.randrange(1000, 90_000)))
        # legacy shapes (<= 2014-08): logs:incr:<gid>_<pid> and logs:incr:<gid>_<nid>_<epoch>
        w.set(keys.logs_incr(self.gid, 4711), py2_text(321))
        w.set(keys.logs_incr(self.gid, f"{self.nids[0]}_{_JS6_2014_04}"), py2_text(57))

    def seed_ecos(self) -> None:
        """eco:objects (full cjson + ujson stubs), queues:eco and eco:secos (§5.6, §6.10)."""
        w, rng = self.w, self.rng
        for nid in self.nids[:3]:
            self.eco(nid=nid, category="worker.jscript.notfound", errormessage="Cannot find jumpscript jumpscale:oldecho",
                     epoch=self.now_i - 600, appname="jumpscale:worker:default", funcname="getJumpscript", exception=None, eco_type="INPUT", level=2)
        self.eco(nid=self.nids[-1], category="workers.compilescript", errormessage="SyntaxError: invalid syntax (demo_broken.py, line 12)",
                 epoch=self.now_i - 300, funcname="compile", exception=("SyntaxError", "exceptions"))
        self.eco(nid=self.slow_nid, category="healthcheck.disks", errormessage="disk / is 97% full",
                 epoch=self.now_i - 1200, appname="jsagent", eco_type="MONITORING", level=1, exception=None,
                 data={"free": 3.1415926535897931, "mounts": [], "elapsed": 1539600000.123456})
        # every occurrence goes through eco.lua (protocol.process_eco), in time order per ECO
        groups: dict[str, list[dict[str, Any]]] = {}
        for obj in self.ecos:
            groups.setdefault(obj["uniquekey"], []).append({k: v for k, v in obj.items() if k != "tb"})
        phases = {key: 1 if occ[0]["data"] is not None else index % 4 for index, (key, occ) in enumerate(groups.items())}

        def store(key: str) -> dict[str, Any]:
            ordered = sorted(groups[key], key=lambda e: e["epoch"])
            for occurrence in ordered:
                protocol.process_eco(w, occurrence)
            return ordered[-1]

        handled = [key for key, phase in phases.items() if phase == 0]
        for key in handled:  # processed: a loghandling pass took them and left reduced stubs (ujson)
            store(key)
        if handled:
            protocol.loghandling_pass(w)
        throttled = False
        for key, phase in phases.items():
            if phase == 0:
                continue
            last = store(key)  # pushed to queues:eco (phases 1-3)
            if phase == 3:  # repeats within the throttle window (never after now): eco.lua puts them in eco:secos
                for later in range(1, 3 + rng.randrange(5)):
                    protocol.process_eco(w, dict(last, epoch=min(last["epoch"] + later, self.now_i)))
                throttled = True
        w.set(keys.ECO_HTIME, py2_text(self.now_i - rng.randrange(1, 300)))
        if not throttled:  # make sure eco:secos exists even for tiny seeds
            w.sadd(keys.ECO_SECOS, next(iter(groups)).encode())

    def seed_master(self) -> None:
        w = self.w
        w.hset(keys.JOBS_LAST, str(self.gid), py2_text(self.ac_last_id))
        w.set(keys.HEALTH_STATUS, b"ERROR", ex=300)
        for _ in range(5):
            w.rpush(keys.ALERTS, self.uuid_text().encode())


def seed_demo(
    client: redis.Redis,
    *,
    now: float | None = None,
    seed: int = 7,
    gid: int = 1,
    nodes: int = 6,
    jobs: int = 240,
    expire: bool = False,
) -> dict[str, int]:
    """Write the demo grid into ``client`` in one MULTI/EXEC and return the key count per family.

    ``nodes`` nodes (nids 2..nodes+1) plus the master (nid 1) share the one Redis. ``jobs`` scales the
    number of AC and node-local jobs (about that many job values overall, spread over ``jobs:<gid>``,
    the command queues, results, worker queues and worker-side copies). Every key written is first
    deleted, so seeding twice gives the same contents. With ``expire=True`` the real TTLs are set
    (60 s on ``queues:jobqueue:*``, finished ``workers:jobs:*`` and ``workers:return:*``, 300 s on
    ``health.status``); by default nothing expires so a notebook can explore the demo at leisure.

    >>> import redis                                    # doctest: +SKIP
    >>> counts = seed_demo(redis.Redis(port=9999))      # doctest: +SKIP
    >>> all(counts[f] > 0 for f in FAMILIES)            # doctest: +SKIP
    True
    """
    if nodes < 1:
        raise ValueError(f"nodes must be >= 1, got {nodes}")
    if jobs < 20:
        raise ValueError(f"jobs must be >= 20, got {jobs}")
    seeder = _Seeder(now=time.time() if now is None else float(now), seed=seed, gid=gid, nodes=nodes, jobs=jobs, expire=expire)
    exec_functions = seeder.seed_jumpscripts()
    share = {"queued": 0.2, "started": 0.25, "results": 0.15, "local": 0.25, "stuck": 0.05}
    steps: list[Callable[[], None]] = [
        lambda: seeder.seed_command_queues(max(4, round(jobs * share["queued"]))),
        seeder.seed_special_ac_jobs,
        lambda: seeder.seed_results(max(8, round(jobs * share["results"]))),
        lambda: seeder.seed_worker_side(
            max(4, round(jobs * share["started"])), max(3, round(jobs * share["stuck"])), max(8, round(jobs * share["local"])), exec_functions
        ),
        seeder.seed_workers,
        seeder.seed_legacy,
        lambda: seeder.seed_logs(max(20, jobs // 4)),
        seeder.seed_ecos,
        seeder.seed_master,
    ]
    for step in steps:
        step()
    seeder.w.execute(client)
    return seeder.w.counts()
