"""One simulated node of the live grid: AC ``getWork`` loop, processmanager dispatch, workers.

Private to :mod:`jsadmin.demogrid.grid`. Every Redis command sequence here follows the spec
sections named in the comments (§6.2 pickup, §6.3 dispatch, §6.4 worker loop, §6.5 AC
completion, §6.8 node-local jobs, §6.9 jumpscript storage). None of the real sequences is
transactional, so neither are these: readers may observe the same intermediate states as on a
real grid. Non-transactional pipelines only save round trips; command order is unchanged.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import random
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from .. import keys
from ..domain import Job
from ._grid_eco import EcoStore, build_eco, executejob_eco, log_record
from .protocol import (
    dispatch_to_worker,
    finish_job,
    heartbeat,
    notify_work_completed,
    pickup,
    push_action,
    queue_local_job,
    register_worker,
    schedule,
    store_jumpscripts,
    worker_complete,
    worker_forget,
)
from .scripts import py3_source

if TYPE_CHECKING:  # pragma: no cover
    from .grid import Scenario

log = logging.getLogger("jsadmin.demogrid.grid")

QUEUE_DEFAULT_TIMEOUT = {"default": 300, "process": 300, "hypervisor": 300, "io": 3600}
"""Worker timeout when the jumpscript has none (spec §5.4); any other queue: 3600."""


class _Stopped(Exception):
    """The grid is stopping: abandon the current job like a killed worker would."""


@dataclass
class Shared:
    """State shared by every thread of one :class:`~jsadmin.demogrid.grid.LiveGrid`."""

    url: str
    gid: int
    scenario: Scenario
    speed: float
    seed: int
    poll: float
    achost: str
    block: float = 0.0
    """BLPOP timeout: ``poll``, or whole seconds (at least 1) where the server lacks fractional
    timeouts (Redis < 6.0); 0 means "not set" and falls back to ``poll``."""
    stop: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    stats: dict[str, Any] = field(default_factory=dict)
    paused: set[str] = field(default_factory=set)
    t0: float = field(default_factory=time.monotonic)
    scripts: list[dict[str, Any]] = field(default_factory=list)
    ready: threading.Semaphore = field(default_factory=lambda: threading.Semaphore(0))
    marks: dict[str, list[Any]] = field(default_factory=dict)
    """worker thread name -> [queue, loop count] (lets ``pause`` know workers left BLPOP)."""
    rng_counter: int = 0
    blocked: dict[int, redis.Redis] = field(default_factory=dict)
    """id -> client of every loop inside (or entering) BLPOP: what :meth:`cut_blocked` ends."""

    def blpop(self, client: redis.Redis, keys: list[str]) -> Any:
        """BLPOP ``keys`` (timeout ``block``) unless the grid is stopping; ``None`` if it is.

        :meth:`cut_blocked` can end the call at stop. An item whose reply reaches the loop while the
        grid stops goes back to the head of its list instead of being abandoned.

        >>> item = shared.blpop(node, [keys.worker_queue("default")])   # doctest: +SKIP
        """
        with self.lock:  # cut_blocked holds it too: no loop enters BLPOP unseen after stop.set()
            if self.stop.is_set():
                return None
            self.blocked[id(client)] = client
        try:
            item = client.blpop(keys, timeout=self.block or self.poll)
        finally:
            with self.lock:
                self.blocked.pop(id(client), None)
        if item is not None and self.stop.is_set():
            self._unpop(client, item)
            return None
        return item

    def _unpop(self, client: redis.Redis, item: Any) -> None:
        """LPUSH a popped ``(key, value)`` back; the first try may meet the socket cut at stop."""
        for attempt in (1, 2):
            try:
                client.lpush(item[0], item[1])
                self.count("returned_at_stop")
                return
            except redis.ConnectionError as exc:  # the cut socket; the retry reconnects
                if attempt == 2:
                    log.warning("live grid: item popped at stop from %r is lost: %s", item[0], exc)

    def cut_blocked(self) -> int:
        """End every BLPOP in flight; call after ``stop.set()``. Returns the sockets cut.

        Each blocked loop's socket is half-closed (``SHUT_WR``): the server reads EOF and drops the
        client, the loop's read ends with ``ConnectionError`` (no retry, see :func:`connect`), and a
        reply the server already wrote is still readable, so :meth:`blpop` puts its item back. Redis
        < 6.0 only has whole-second BLPOP timeouts: without this, stop waits up to 1 s per grid.
        Known limit: an item pushed in the very server event-loop iteration that reads the EOF is
        popped into a reply the server then discards, as when a real worker is killed mid-pop
        (measured with 4 loops and a ~1 kHz producer pushing through the stop: 25 items lost in
        250 stops on 2.8.17, 57 on 6.2; none when nothing is pushed at the moment of the cut).
        ``CLIENT KILL`` of the server-side blocked clients has the same race (fewer losses, 3 ms
        per stop, and needs a control connection), ``CLIENT UNBLOCK`` would not but is 5.0+ only.

        >>> shared.stop.set(); shared.cut_blocked()   # doctest: +SKIP
        2
        """
        cut = 0
        with self.lock:
            for client in self.blocked.values():
                for sock in _sockets(client):
                    try:
                        sock.shutdown(socket.SHUT_WR)
                        cut += 1
                    except OSError:  # already closed
                        pass
        return cut

    def count(self, name: str, sub: str | None = None, n: int = 1) -> None:
        with self.lock:
            if sub is None:
                self.stats[name] = self.stats.get(name, 0) + n
            else:
                bucket = self.stats.setdefault(name, {})
                bucket[sub] = bucket.get(sub, 0) + n

    def rng(self) -> random.Random:
        with self.lock:
            self.rng_counter += 1
            return random.Random(self.seed * 1_000_003 + self.rng_counter)

    def sim_elapsed(self) -> float:
        """Simulated seconds since start (real seconds times ``speed``)."""
        return (time.monotonic() - self.t0) * self.speed

    def real(self, simulated: float) -> float:
        return simulated / self.speed


def connect(url: str, poll: float = 1.0) -> redis.Redis:
    """A client of its own for one thread. The socket timeout is set explicitly because recent
    redis-py versions default ``from_url`` clients to 5 s, which would cut longer BLPOPs. No
    redis-py retry: a BLPOP cut at stop (:meth:`Shared.cut_blocked`) must not reconnect and block
    again; the loops retry by themselves (``Node._retry``)."""
    return redis.Redis.from_url(protocol=2, url=url, socket_timeout=poll + 10.0, socket_connect_timeout=5.0,
                                retry=Retry(NoBackoff(), 0))


def _sockets(client: redis.Redis) -> list[socket.socket]:
    """The open sockets of ``client``'s pool. redis-py has no public accessor: these private names
    (``_in_use_connections``, ``_available_connections``, ``_sock``) are stable from 5.0 to 8.x;
    if they go, the list is empty and stop() waits for the BLPOP timeout instead (tested)."""
    pool = client.connection_pool
    conns = [*list(getattr(pool, "_in_use_connections", ())), *list(getattr(pool, "_available_connections", ()))]
    socks = [getattr(conn, "_sock", None) for conn in conns]
    return [sock for sock in socks if isinstance(sock, socket.socket)]


# --- AC side ------------------------------------------------------------------------------


def _popped_job(shared: Any, raw: bytes | str, what: str, counter: str) -> dict[str, Any] | None:
    """Decode a job popped from a queue; an undecodable one is logged, counted and dropped."""
    try:
        job = json.loads(raw)
        job["guid"]
    except (ValueError, KeyError, TypeError):
        log.warning("live grid: dropping undecodable %s %r", what, raw[:200])
        shared.count(counter)
        return None
    return job


def report_to_ac(ac: redis.Redis, job: dict[str, Any]) -> None:
    """:func:`~jsadmin.demogrid.protocol.notify_work_completed` in one round trip (not atomic)."""
    pipe = ac.pipeline(transaction=False)
    notify_work_completed(pipe, job)
    pipe.execute()


def schedule_cmd(
    ac: redis.Redis,
    gid: int,
    *,
    category: str,
    cmd: str,
    nid: int | None = None,
    role: str | None = None,
    args: dict[str, Any] | None = None,
    queue: str = "",
    timeout: float | None = 600,
    wait: bool = False,
    log: bool = True,
    sessionid: str | None = None,
) -> dict[str, Any]:
    """AC ``scheduleCmd`` (§6.1): HINCRBY jobs:last, HSET jobs:<gid>, RPUSH the command queue."""
    if (nid is None) == (role is None):
        raise ValueError("schedule_cmd needs exactly one of nid or role")
    job_id = int(ac.hincrby(keys.JOBS_LAST, str(gid), 1))
    guid = uuid.uuid4().hex
    job = Job.scheduled(
        id=job_id, sessionid=sessionid, gid=gid, nid=nid, cmd=cmd, wait=wait, category=category,
        role=role, args=args, queue=queue, timeout=timeout, time_create=int(time.time()), log=log, guid=guid,
    )
    schedule(ac, job, role if role else cast(int, nid))
    return job


# --- jumpscripts ---------------------------------------------------------------------------


class _DemoLogger:
    """The ``j.logger`` a jumpscript sees: records go to ``queues:logs`` after the run."""

    def __init__(self) -> None:
        self.enabled = True
        self.records: list[tuple[str, int, str, str]] = []

    def log(self, message: Any, level: int = 5, category: str = "", tags: str = "") -> None:
        if self.enabled:
            self.records.append((str(message), int(level), category, tags))


class _DemoJ:
    """Minimal stand-in for JumpScale's ``j`` (the worker's header imports the real one)."""

    def __init__(self) -> None:
        self.logger = _DemoLogger()


@dataclass
class Compiled:
    """A loaded jumpscript: its stored dict and ``action``."""

    script: dict[str, Any]
    action: Callable[..., Any]
    j: _DemoJ

    @property
    def org(self) -> str:
        return str(self.script.get("organization", "unknown"))

    @property
    def name(self) -> str:
        return str(self.script.get("name", ""))


def compile_jumpscript(raw: bytes | str) -> Compiled:
    """Build the jumpscript from its stored JSON (``path`` dropped) and load its module (§5.4)."""
    script = json.loads(raw)
    script.pop("path", None)
    org, name = script.get("organization", "unknown"), script.get("name", "")
    source = py3_source(script["source"])
    code = compile(source, f"jumpscripts/{org}_{name}.py", "exec")
    j = _DemoJ()
    namespace: dict[str, Any] = {"__name__": f"js_{hashlib.md5(code.co_filename.encode()).hexdigest()}", "j": j}
    exec(code, namespace)
    action = namespace.get("action")
    if not callable(action):
        raise AttributeError(f"jumpscript {org}_{name} defines no action()")
    return Compiled(script=script, action=action, j=j)


# --- node ----------------------------------------------------------------------------------


class Node:
    """One node: its AC getWork loop, PM dispatch, workers and periodic scheduler."""

    def __init__(self, shared: Shared, nid: int, roles: list[str], node_url: str) -> None:
        self.shared = shared
        self.nid = nid
        self.roles = list(roles)
        self.node_url = node_url
        self.threads: list[threading.Thread] = []
        self.side_threads: list[threading.Thread] = []
        self.worker_names: dict[str, list[str]] = {}
        self._queues_started: set[str] = set()
        self._qlock = threading.Lock()

    # -- clients
    def _clients(self) -> tuple[redis.Redis, redis.Redis]:
        ac = connect(self.shared.url, self.shared.poll)
        node = ac if self.node_url == self.shared.url else connect(self.node_url, self.shared.poll)
        return ac, node

    @staticmethod
    def _close(*clients: redis.Redis) -> None:
        for client in {id(c): c for c in clients}.values():
            client.close()

    def _spawn(self, name: str, target: Callable[..., None], *args: Any) -> threading.Thread:
        thread = threading.Thread(target=self._guard, args=(target, *args), name=name, daemon=True)
        self.threads.append(thread)
        thread.start()
        return thread

    def _guard(self, target: Callable[..., None], *args: Any) -> None:
        try:
            target(*args)
        except Exception:  # pragma: no cover - a bug in the simulator must not pass silently
            log.exception("live grid thread %s died", threading.current_thread().name)
            self.shared.count("thread_errors")

    def _retry(self, exc: Exception) -> None:
        log.warning("live grid node %s: %s; retrying", self.nid, exc)
        self.shared.count("redis_errors")
        self.shared.stop.wait(min(1.0, self.shared.poll * 2))

    # -- start
    def start(self) -> None:
        self._spawn(f"livegrid-ac-{self.nid}", self.getwork_loop)
        for queue in keys.STANDARD_WORKER_QUEUES:
            self.ensure_queue(queue)
        if self.shared.scenario.periodic_every:
            self._spawn(f"livegrid-periodic-{self.nid}", self.periodic_loop)

    def worker_count(self) -> int:
        """Worker threads started so far."""
        return sum(1 for t in self.threads if t.name.startswith("livegrid-worker-"))

    def ensure_queue(self, queue: str) -> None:
        """Start the worker pool of ``queue`` (the PM starts one for an unknown queue too)."""
        with self._qlock:
            if queue in self._queues_started:
                return
            self._queues_started.add(queue)
        count = max(1, int(self.shared.scenario.workers.get(queue, 1)))
        for index in range(count):
            self._spawn(f"livegrid-worker-{self.nid}-{queue}-{index}", self.worker_loop, queue)

    # -- §6.2 AC getWork + §6.3 PM dispatch
    def getwork_loop(self) -> None:
        shared = self.shared
        ac, node = self._clients()
        eco = EcoStore(node)
        queues = [keys.command_queue(shared.gid, self.nid)]
        queues += [keys.command_queue(shared.gid, role) for role in self.roles]
        shared.ready.release()
        try:
            while not shared.stop.is_set():
                try:
                    item = shared.blpop(ac, queues)
                    if item is None:
                        continue
                    job = _popped_job(shared, item[1], "command", "bad_commands")
                    if job is None:
                        continue
                    pickup(ac, job, self.nid)
                    shared.count("picked_up")
                    self.dispatch(ac, node, eco, job)
                except redis.RedisError as exc:
                    if shared.stop.is_set():
                        break
                    self._retry(exc)
                except Exception as exc:  # a job the real PM could not handle either
                    log.warning("live grid node %s: job not dispatched: %s", self.nid, exc)
                    shared.count("job_errors")
        finally:
            self._close(ac, node)

    def dispatch(self, ac: redis.Redis, node: redis.Redis, eco: EcoStore, job: dict[str, Any]) -> None:
        """PM dispatch (§6.3)."""
        job["achost"] = self.shared.achost
        job["nid"] = self.nid
        if job.get("queue") == "internal":
            self.shared.count("dispatched", "internal")
            self.run_internal(node, job)
            report_to_ac(ac, job)
            self.shared.count("completed", str(job.get("state")))
            return
        raw = node.hget(keys.JUMPSCRIPTS_BY_NAME, keys.jumpscript_name_field(job["category"], job["cmd"]))
        if raw is None:
            msg = "could not find jumpscript {}_{} on processmanager".format(job["category"], job["cmd"])
            job["state"] = "ERROR"
            job["result"] = msg
            report_to_ac(ac, job)
            self.shared.count("completed", "ERROR")
            eco.process(build_eco(msg, category="jumpscript.notfound", gid=self.shared.gid,
                                  nid=self.nid, appname="jsagent", level=1, jid=job["guid"]))
            self.shared.count("ecos")
            return
        script = json.loads(raw)
        if script.get("async") or job.get("queue"):
            self.ensure_queue(job.get("queue") or "default")
            pipe = node.pipeline(transaction=False)
            dispatch_to_worker(pipe, job)
            pipe.execute()
            self.shared.count("dispatched", "worker")
            return
        self.shared.count("dispatched", "in_process")
        thread = threading.Thread(target=self._guard, args=(self.run_in_process, raw, job),
                                  name=f"livegrid-pm-{self.nid}-{job['id']}", daemon=True)
        self.side_threads = [t for t in self.side_threads if t.is_alive()] + [thread]
        thread.start()

    def run_internal(self, node: redis.Redis, job: dict[str, Any]) -> None:
        """``queue == "internal"``: the PM's own command interfaces; string RPC return codes."""
        handlers: dict[str, dict[str | None, Callable[..., Any]]] = {  # looked up by the job's cmd
            "pm": {"ping": lambda **_: "pong", "getStartupTime": lambda **_: self._startup(node)},
            "jumpscripts": {
                "loadJumpscript": lambda jumpscript, **_: self._hot_reload(node, jumpscript),
                "reloadjumpscripts": lambda **_: self._full_reload(node),
            },
        }
        category, cmd = job.get("category"), job.get("cmd")
        if category not in handlers:
            job.update(resultcode="3", state="ERROR", result=f"Could not find cmd category:{category}")
            return
        method = handlers[category].get(cmd)
        if method is None:
            job.update(resultcode="3", state="ERROR", result=f"Could not find method:{category}.{cmd}")
            return
        try:
            job.update(result=method(**(job.get("args") or {})), resultcode="1", state="OK")
        except Exception as exc:
            eco = build_eco(str(exc), category="processmanager.rpc", gid=self.shared.gid,
                            nid=self.nid, appname="jsagent", exc=exc, jid=job["guid"])
            job.update(result={**eco, "tb": None}, resultcode="4", state="ERROR")

    @staticmethod
    def _startup(node: redis.Redis) -> int | None:
        raw = node.get(keys.PROCESSMANAGER_STARTUPTIME)
        return int(raw) if raw else None

    def _push_action(self, node: redis.Redis, action: str, queues: tuple[str, ...] | None) -> int:
        pushed = 0
        pattern = keys.WORKER_REGISTRY_PREFIX + "*"
        for key in node.scan_iter(match=pattern, count=500):
            rest = key.decode()[len(keys.WORKER_REGISTRY_PREFIX):]
            queue, _, wname = rest.partition(":")
            if queues is None or queue in queues:
                push_action(node, queue, wname, action)
                pushed += 1
        return pushed

    def _hot_reload(self, node: redis.Redis, jumpscript: dict[str, Any]) -> int:
        """``jumpscripts.loadJumpscript`` (§6.9.3): both HSETs (path null), RELOAD every worker."""
        script = dict(jumpscript)
        script["path"] = None
        pipe = node.pipeline(transaction=False)
        store_jumpscripts(pipe, [script])
        pipe.execute()
        return self._push_action(node, "RELOAD", None)

    def _full_reload(self, node: redis.Redis) -> int:
        """``pm.reloadjumpscripts`` (§6.9.2): store again, RESTART workers of the standard queues."""
        pipe = node.pipeline(transaction=False)
        store_jumpscripts(pipe, self.shared.scripts)
        pipe.execute()
        return self._push_action(node, "RESTART", keys.STANDARD_WORKER_QUEUES)

    def run_in_process(self, raw: bytes, job: dict[str, Any]) -> None:
        """Non-async jumpscript, empty queue: run in the PM with ``job.timeout`` (§6.3)."""
        ac, _node = self._clients()
        try:
            compiled = compile_jumpscript(raw)
            rng = self.shared.rng()
            sim = self.sim_duration(rng, compiled, "", self.nid)
            timeout = job.get("timeout")
            limit = self.shared.real(float(timeout)) if timeout else math.inf
            job["timeStart"] = time.time()
            try:
                status, result = self.execute(compiled, job, sim, limit, inject=False)
            except _Stopped:
                return
            if status == "TIMEOUT":
                # gevent.Timeout escapes run(): the real PM never reports such a job.
                self.shared.count("lost_in_process_timeouts")
                return
            if status == "OK":
                finish_job(job, state="OK", result=result, stop=time.time(), in_process=True)
            else:
                msg = f"Exec error procmgr jumpscr:{compiled.org}_{compiled.name} on node:{self.shared.gid}_{self.nid} {result}"
                eco = build_eco(msg, category="processmanager.jumpscript", gid=self.shared.gid,
                                nid=self.nid, appname="jsagent", exc=result, jid=job["guid"])
                finish_job(job, state="ERROR", result={**eco, "tb": None}, stop=time.time(), in_process=True)
            report_to_ac(ac, job)
            self.shared.count("completed", job["state"])
        except redis.RedisError as exc:
            if not self.shared.stop.is_set():
                log.warning("live grid in-process job %s: %s", job.get("id"), exc)
        finally:
            self._close(ac, _node)

    # -- durations, errors, timeouts
    def sim_duration(self, rng: random.Random, compiled: Compiled, queue: str, nid: Any = None) -> float:
        """Simulated seconds for one run: per-jumpscript distribution x slow node x slow queue."""
        scenario = self.shared.scenario
        key = keys.jumpscript_name_field(compiled.org, compiled.name)
        dist = scenario.durations.get(key, scenario.default_duration)
        sim = dist.sample(rng)
        sim *= scenario.slow_nodes.get(_as_int(nid, self.nid), 1.0)
        sim *= scenario.queue_factors.get(queue, 1.0)
        if scenario.timeout_rate and rng.random() < scenario.timeout_rate:
            sim = math.inf
        return sim

    def error_probability(self) -> float:
        scenario = self.shared.scenario
        if scenario.burst_length > 0 and scenario.burst_every > 0:
            phase = self.shared.sim_elapsed() % scenario.burst_every
            if phase >= scenario.burst_every - scenario.burst_length:
                return scenario.burst_error_rate
        return scenario.error_rate

    def execute(
        self, compiled: Compiled, job: dict[str, Any], sim: float, limit: float, *, inject: bool
    ) -> tuple[str, Any]:
        """Run ``action(**args)`` for real in a helper thread, padded to the simulated duration.

        Returns ``("OK", value)``, ``("ERROR", exception)`` or ``("TIMEOUT", None)``;
        ``limit`` is the real-time timeout. Raises :class:`_Stopped` when the grid stops.
        """
        box: dict[str, Any] = {}
        args = job.get("args") or {}
        compiled.j.logger.enabled = bool(job.get("log", True))
        compiled.j.logger.records = []

        def target() -> None:
            try:
                if inject:
                    _injected_failure(compiled)
                box["value"] = compiled.action(**args)
            except BaseException as exc:
                box["error"] = exc

        started = time.monotonic()
        runner = threading.Thread(target=target, name="livegrid-action", daemon=True)
        runner.start()
        deadline = started + limit
        while runner.is_alive():
            if self.shared.stop.is_set():
                raise _Stopped
            runner.join(min(self.shared.poll, max(0.0, deadline - time.monotonic())) or 0.001)
            if runner.is_alive() and time.monotonic() >= deadline:
                return "TIMEOUT", None
        padded = self.shared.real(sim)
        if padded > limit:
            if self.shared.stop.wait(max(0.0, deadline - time.monotonic())):
                raise _Stopped
            return "TIMEOUT", None
        remaining = started + padded - time.monotonic()
        if remaining > 0 and self.shared.stop.wait(remaining):
            raise _Stopped
        if "error" in box:
            return "ERROR", box["error"]
        return "OK", box.get("value")

    # -- §6.4 worker loop
    def _register_worker(self, node: redis.Redis, queue: str) -> str:
        wname = str(uuid.uuid4())
        register_worker(node, queue, wname)
        with self._qlock:
            self.worker_names.setdefault(queue, []).append(wname)
        return wname

    def _dead(self, queue: str) -> bool:
        scenario = self.shared.scenario
        return scenario.dead_queue == queue and self.shared.sim_elapsed() >= scenario.dead_after

    def worker_loop(self, queue: str) -> None:
        shared = self.shared
        ac, node = self._clients()
        eco = EcoStore(node)
        rng = shared.rng()
        cache: dict[Any, Compiled] = {}
        mark: list[Any] = [queue, 0]
        shared.marks[threading.current_thread().name] = mark
        try:
            wname = self._register_worker(node, queue)
            shared.ready.release()
            while not shared.stop.is_set():
                mark[1] += 1
                if self._dead(queue):
                    shared.stop.wait(shared.poll)  # hung: no heartbeat, no BLPOP
                    continue
                try:
                    heartbeat(node, queue, int(time.time()))
                    if queue in shared.paused:
                        shared.stop.wait(shared.poll)
                        continue
                    action_key = keys.worker_action(queue, wname)
                    item = shared.blpop(node, [keys.worker_queue(queue), action_key])
                    if item is None:
                        continue
                    if cast(bytes, item[0]).decode() == action_key:  # a bytes client (no decode_responses)
                        node.delete(keys.WORKER_ACTION_PREFIX + queue)
                        action = cast(bytes, item[1]).decode(errors="replace")
                        shared.count("actions", action)
                        if action == "RELOAD":
                            cache.clear()
                        elif action == "RESTART":
                            cache.clear()
                            with self._qlock:
                                self.worker_names[queue].remove(wname)
                            wname = self._register_worker(node, queue)
                        continue
                    job = _popped_job(shared, item[1], "worker item", "bad_worker_items")
                    if job is None:
                        continue
                    shared.count("worker_jobs")
                    self.run_job(ac, node, eco, rng, cache, queue, job)
                except _Stopped:
                    break
                except redis.RedisError as exc:
                    if shared.stop.is_set():
                        break
                    self._retry(exc)
                except Exception as exc:  # e.g. NaN in a job: ujson refuses it, the report fails
                    log.warning("live grid worker %s/%s: job not completed: %s", self.nid, queue, exc)
                    shared.count("job_errors")
        finally:
            self._close(ac, node)

    def run_job(
        self, ac: redis.Redis, node: redis.Redis, eco: EcoStore, rng: random.Random,
        cache: dict[Any, Compiled], queue: str, job: dict[str, Any],
    ) -> None:
        """One worker job item (§6.4 step 4) and its completion (step 5)."""
        appname = f"jumpscale:worker:{queue}"
        # One keyspace may hold several simulated nodes whose workers share the queues: report
        # ECOs and logs under the node the job was dispatched to, as separate Redis would.
        nid = _as_int(job.get("nid"), self.nid)
        category, cmd = job.get("category"), job.get("cmd")
        jskey = (category, cmd)
        compiled = cache.get(jskey)
        if compiled is None:
            raw = node.hget(keys.JUMPSCRIPTS_BY_NAME, keys.jumpscript_name_field(str(category), str(cmd)))
            if raw is None and job.get("jscriptid"):
                raw = node.hget(keys.JUMPSCRIPTS_BY_ID, str(job["jscriptid"]))
            if raw is None:
                msg = f"cannot find jumpscript with id:('{category}', '{cmd}')"
                eco.process(build_eco(msg, category="worker.jscript.notfound", gid=self.shared.gid,
                                      nid=nid, appname=appname, level=2, jid=job["guid"]))
                self.shared.count("ecos")
                finish_job(job, state="ERROR", result=msg, stop=time.time())
                self.complete(ac, node, job)
                return
            try:
                compiled = compile_jumpscript(raw)
            except Exception as exc:
                source, org, name = _script_identity(raw)
                agent = f"{self.shared.gid}_{nid}"
                if name is not None:
                    msg = f"could not compile jscript:{None} {org}_{name} on agent:{agent}.\nError:{exc}"
                else:
                    msg = "could not compile jscriptid:{} on agent:{}.\nError:{}".format(job.get("jscriptid"), agent, exc)
                built = build_eco(msg, category="workers.compilescript", gid=self.shared.gid,
                                  nid=nid, appname=appname, exc=exc, jid=job["guid"], code=source)
                merged = eco.process(built)
                self.shared.count("ecos")
                finish_job(job, state="ERROR", result={**merged, "tb": None}, stop=time.time())
                self.complete(ac, node, job)
                return
            cache[jskey] = compiled
            if job.get("jscriptid"):
                cache[job["jscriptid"]] = compiled
        script = compiled.script
        timeout = script.get("timeout") or QUEUE_DEFAULT_TIMEOUT.get(queue, 3600)
        cap = self.shared.scenario.timeout_cap
        if cap is not None:
            timeout = min(float(timeout), cap)
        sim = self.sim_duration(rng, compiled, queue, job.get("nid"))
        inject = rng.random() < self.error_probability()
        job["timeStart"] = time.time()
        status, result = self.execute(compiled, job, sim, self.shared.real(float(timeout)), inject=inject)
        node.hdel(keys.WORKER_INQUEUETEST, keys.inqueuetest_field(compiled.org, compiled.name))
        if status == "OK":
            finish_job(job, state="OK", result=result, resultcode=0, stop=time.time())
        else:
            agent = f"{self.shared.gid}_{nid}"
            error = f"TIMEOUT (jumpscript timeout {timeout}s)" if status == "TIMEOUT" else str(result)
            msg = "Could not execute jscript:{} {}_{} on agent:{}\nError: {}".format(
                script.get("id"), compiled.org, compiled.name, agent, error)
            built = executejob_eco(
                msg, organization=compiled.org, name=compiled.name, js_category=script.get("category"),
                source=str(script.get("source", "")), gid=self.shared.gid, nid=nid, appname=appname,
                jid=job["guid"], exc=result if isinstance(result, BaseException) else None,
            )
            merged = eco.process(built)
            self.shared.count("ecos")
            finish_job(job, state=status, result={**merged, "tb": None}, resultcode=1, stop=time.time())
        self._flush_logs(node, compiled, job, appname, nid)
        self.complete(ac, node, job)

    def _flush_logs(
        self, node: redis.Redis, compiled: Compiled, job: dict[str, Any], appname: str, nid: int
    ) -> None:
        records = [
            log_record(message, category=category or "jumpscript", gid=self.shared.gid, nid=nid,
                       appname=appname, level=level, jid=job["guid"], tags=tags)
            for message, level, category, tags in compiled.j.logger.records
        ]
        compiled.j.logger.records = []
        if job.get("log"):
            records.append(log_record(
                "job {} {}_{} finished: {}".format(job.get("id"), compiled.org, compiled.name, job["state"]),
                category="workers.executejob", gid=self.shared.gid, nid=nid,
                appname=appname, level=5 if job["state"] == "OK" else 2, jid=job["guid"],
            ))
        if records:
            node.rpush(keys.LOGS_QUEUE, *records)
            self.shared.count("logs", n=len(records))

    def complete(self, ac: redis.Redis, node: redis.Redis, job: dict[str, Any]) -> None:
        """Worker ``notifyWorkCompleted`` (§6.4 step 5) of a finished job (:func:`finish_job`), then
        the AC side (§6.5) when reported."""
        pipe = node.pipeline(transaction=False)
        report = worker_complete(pipe, job, time.time())
        pipe.execute()
        if report:
            report_to_ac(ac, job)
        worker_forget(node, job)
        self.shared.count("completed", str(job.get("state")))

    # -- §6.8 node-local periodic jobs
    def periodic_loop(self) -> None:
        shared = self.shared
        _ac, node = self._clients()
        try:
            while not shared.stop.wait(shared.real(float(shared.scenario.periodic_every or 0))):
                try:
                    raw = node.hget(keys.JUMPSCRIPTS_BY_NAME, shared.scenario.periodic_jumpscript)
                    if raw is None:
                        continue
                    self.schedule_local(node, json.loads(raw))
                except redis.RedisError as exc:
                    if shared.stop.is_set():
                        break
                    self._retry(exc)
        finally:
            self._close(_ac, node)

    def schedule_local(self, node: redis.Redis, script: dict[str, Any]) -> dict[str, Any] | None:
        """PM ``execJumpscript`` (§6.8): inqueuetest check, INCR joblastid, HSET, SET, RPUSH."""
        org, name = script["organization"], script["name"]
        field_name = keys.inqueuetest_field(org, name)
        now = time.time()
        if script.get("period"):
            queued = node.hget(keys.WORKER_INQUEUETEST, field_name)
            if queued is not None and int(queued) > now - 3600:
                self.shared.count("local_skipped")
                return None
        job_id = int(node.incr(keys.WORKER_JOBLASTID))
        job = Job.local(
            id=job_id,
            guid=hashlib.sha1(f"{self.shared.gid}_{self.nid}_{job_id}_{now!r}".encode()).hexdigest(),
            sessionid=f"{self.shared.gid}_{self.nid}_0_{uuid.uuid4()}",
            gid=self.shared.gid, nid=self.nid, cmd=name, category=org, jscriptid=script.get("id"),
            queue=script.get("queue") or "", timeout=script.get("timeout"), time_create=int(now),
            log=bool(script.get("log", True)),
        )
        self.ensure_queue(job["queue"] or "default")
        pipe = node.pipeline(transaction=False)
        queue_local_job(pipe, job, script, int(now))
        pipe.execute()
        self.shared.count("local_jobs")
        return job


def _as_int(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _script_identity(raw: bytes | str) -> tuple[str, str | None, str | None]:
    try:
        script = json.loads(raw)
        return str(script.get("source", "")), script.get("organization"), script.get("name")
    except (ValueError, AttributeError):
        return "", None, None


def _injected_failure(compiled: Compiled) -> None:
    raise RuntimeError(
        f"simulated failure of {compiled.org}_{compiled.name} (scenario error rate, pid {os.getpid()})"
    )
