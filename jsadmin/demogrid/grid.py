"""The live demo grid: a simulated agentcontroller, processmanagers and workers on real Redis.

Jobs enqueued through jsadmin's write helpers (or by any client that follows spec §6.1) are
picked up, dispatched and run by threads that follow the real JumpScale 7 protocol byte for
byte (spec §4, §5.4–§5.7, §6): AC ``getWork`` (§6.2), processmanager dispatch (§6.3), worker
loops with heartbeats, actions, jumpscript cache and completion (§6.4), AC completion (§6.5),
periodic node-local jobs (§6.8), ECOs through an ``eco.lua`` model and log records (§6.10).
The jumpscripts' ``action()`` really runs; a :class:`Scenario` pads run times to simulated
durations (lognormal tails, a slow node, a backed-up queue), injects error bursts and
timeouts, and can make one worker queue stop heartbeating.

>>> from jsadmin.demogrid.grid import LiveGrid, Scenario
>>> with LiveGrid(url, scenario=Scenario.default()) as grid:    # doctest: +SKIP
...     job = admin.enqueue_job(1, nid=1, category="livegrid", cmd="echo",
...                             args={"msg": "hi"}, wait=True)
...     admin.wait_job(job["guid"], timeout=10)["result"]
'hi'
"""

from __future__ import annotations

import copy
import json
import logging
import math
import random
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

import redis

from .. import keys
from ..compat import server_info
from ..errors import JsAdminError
from ._grid_node import Node, Shared, connect, schedule_cmd
from ._grid_scripts import ORGANIZATION, grid_jumpscripts
from .protocol import set_app_pids, store_jumpscripts
from .scripts import load_demo_jumpscripts

__all__ = ["Duration", "LiveGrid", "Scenario", "grid_scripts"]

log = logging.getLogger("jsadmin.demogrid.grid")

DEFAULT_NODES: dict[int, list[str]] = {1: ["master", "node"], 2: ["node"], 3: ["node"]}


@dataclass(frozen=True)
class Duration:
    """A run-time distribution in simulated seconds: lognormal around ``median`` (``sigma=0``: fixed).

    >>> Duration(0.1).sample(random.Random(1))
    0.1
    >>> round(Duration(0.1, 1.0).sample(random.Random(1)), 4) > 0
    True
    """

    median: float
    sigma: float = 0.0

    def __post_init__(self) -> None:
        if self.median < 0 or self.sigma < 0:
            raise ValueError(f"Duration needs median >= 0 and sigma >= 0, got {self}")

    def sample(self, rng: random.Random) -> float:
        """One draw (``median * exp(N(0, sigma))``)."""
        if not self.sigma:
            return self.median
        return self.median * math.exp(rng.gauss(0.0, self.sigma))


def _js(name: str) -> str:
    return keys.jumpscript_name_field(ORGANIZATION, name)


@dataclass(frozen=True)
class Scenario:
    """Knobs that shape what the live grid produces (all times in simulated seconds).

    Use :meth:`default` (realistic, with latency worth plotting) or :meth:`quiet`
    (deterministic, for tests) and adjust with :func:`dataclasses.replace`:

    >>> from dataclasses import replace
    >>> s = replace(Scenario.quiet(), dead_queue="io", dead_after=2.0)
    >>> s.dead_queue, s.error_rate
    ('io', 0.0)

    Fields:
        durations: ``"<org>__<name>"`` -> :class:`Duration` of that jumpscript.
        default_duration: for jumpscripts not in ``durations``.
        slow_nodes: nid -> factor applied to durations of jobs of that node.
        workers: worker threads per node and queue (default 1).
        queue_factors: queue -> duration factor (a backed-up queue: few, slow workers).
        dead_queue, dead_after: that queue's workers hang (no heartbeat, no pops) after N s.
        error_rate: probability that a worker job fails (an injected exception).
        burst_error_rate, burst_every, burst_length: the error rate during the last
            ``burst_length`` seconds of every ``burst_every`` seconds.
        timeout_rate: probability that a worker job hangs until its timeout.
        timeout_cap: caps every worker timeout (so timeouts happen in seconds, not minutes).
        periodic_every, periodic_jumpscript: node-local periodic job (§6.8); ``None``: off.
        traffic_rate: background AC jobs per simulated second (0: none), drawn from
            ``traffic_mix`` (``"<org>__<name>"`` -> weight) with ``traffic_args``; a fraction
            ``traffic_role_fraction`` targets role ``traffic_role``, ``traffic_wait_fraction``
            has ``wait=True`` (their results land in ``queues:jobqueue:<guid>``).
    """

    durations: dict[str, Duration] = field(default_factory=dict)
    default_duration: Duration = Duration(0.0)
    slow_nodes: dict[int, float] = field(default_factory=dict)
    workers: dict[str, int] = field(default_factory=dict)
    queue_factors: dict[str, float] = field(default_factory=dict)
    dead_queue: str | None = None
    dead_after: float = 60.0
    error_rate: float = 0.0
    burst_error_rate: float = 0.0
    burst_every: float = 60.0
    burst_length: float = 0.0
    timeout_rate: float = 0.0
    timeout_cap: float | None = None
    periodic_every: float | None = None
    periodic_jumpscript: str = _js("tick")
    traffic_rate: float = 0.0
    traffic_mix: dict[str, float] = field(default_factory=dict)
    traffic_args: dict[str, dict[str, Any]] = field(default_factory=dict)
    traffic_role: str = "node"
    traffic_role_fraction: float = 0.3
    traffic_wait_fraction: float = 0.7

    def __post_init__(self) -> None:
        for name in ("error_rate", "burst_error_rate", "timeout_rate",
                     "traffic_role_fraction", "traffic_wait_fraction"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"Scenario.{name} must be a probability in [0, 1], got {value!r}")
        for name in ("dead_after", "burst_every", "burst_length", "traffic_rate"):
            if getattr(self, name) < 0:
                raise ValueError(f"Scenario.{name} must be >= 0, got {getattr(self, name)!r}")
        if self.periodic_every is not None and self.periodic_every <= 0:
            raise ValueError("Scenario.periodic_every must be > 0 or None")
        if self.timeout_cap is not None and self.timeout_cap <= 0:
            raise ValueError("Scenario.timeout_cap must be > 0 or None")
        if self.traffic_rate and not self.traffic_mix:
            raise ValueError("Scenario.traffic_rate > 0 needs a traffic_mix")
        if any(n < 1 for n in self.workers.values()):
            raise ValueError("Scenario.workers counts must be >= 1")

    @classmethod
    def default(cls, *, slow_node: int | None = 3) -> Scenario:
        """Realistic but fast: median job ~50 ms with lognormal tails, node ``slow_node`` x3,
        a backed-up ``hypervisor`` queue (one worker per node, jobs x4: arrivals outpace it),
        ``io`` workers that stop heartbeating after 60 s (``queues:system`` then grows),
        2 % errors with 10 s bursts of 50 % every minute, rare timeouts (worker timeouts capped
        at 10 s), a periodic node-local job every 5 s and ~6 background jobs/s.
        """
        return cls(
            durations={
                _js("echo"): Duration(0.03, 0.5),
                _js("ping"): Duration(0.01, 0.3),
                _js("fail"): Duration(0.02, 0.3),
                _js("flaky"): Duration(0.1, 0.8),
                _js("diskusage"): Duration(0.08, 0.6),
                _js("vmstatus"): Duration(0.3, 0.6),
                _js("backup"): Duration(0.5, 1.2),
                _js("tick"): Duration(0.05, 0.4),
            },
            default_duration=Duration(0.05, 0.7),
            slow_nodes={slow_node: 3.0} if slow_node is not None else {},
            workers={"default": 2, "io": 1, "hypervisor": 1, "process": 2},
            queue_factors={"hypervisor": 4.0},
            dead_queue="io",
            dead_after=60.0,
            error_rate=0.02,
            burst_error_rate=0.5,
            burst_every=60.0,
            burst_length=10.0,
            timeout_rate=0.003,
            timeout_cap=10.0,
            periodic_every=5.0,
            traffic_rate=6.0,
            traffic_mix={
                _js("echo"): 4.0, _js("ping"): 1.0, _js("diskusage"): 1.0,
                _js("vmstatus"): 2.5, _js("backup"): 1.0, _js("flaky"): 1.0,
            },
            traffic_args={_js("echo"): {"msg": "probe"}, _js("flaky"): {"p": 0.1}},
        )

    @classmethod
    def quiet(cls) -> Scenario:
        """Deterministic: no padding, no random errors or timeouts, no background traffic,
        no periodic jobs, one worker per queue.
        """
        return cls(workers={"default": 1, "io": 1, "hypervisor": 1, "process": 1})


def grid_scripts(gid: int = 1) -> list[dict[str, Any]]:
    """Every jumpscript the live grid stores: its own (``livegrid/*``) plus the demo set of
    :func:`jsadmin.demogrid.scripts.load_demo_jumpscripts` when that module is present.

    >>> any(s["name"] == "echo" and s["organization"] == "livegrid" for s in grid_scripts())
    True
    """
    scripts = grid_jumpscripts(gid)
    seen = {(s["organization"], s["name"]) for s in scripts}
    for script in load_demo_jumpscripts():
        if (script["organization"], script["name"]) not in seen:
            scripts.append({**script, "gid": gid})
    return scripts


def _redact(url: str) -> str:
    return re.sub(r"//[^@/]*@", "//***@", url)


def _achost(url: str) -> str:
    parsed = urlparse(url)
    return parsed.hostname or "127.0.0.1"


class LiveGrid:
    """Simulated JumpScale 7 grid threads on a real Redis.

    Args:
        url: Redis of the agentcontroller (and of every node unless ``node_urls`` says otherwise).
        gid: grid id.
        nodes: nid -> roles (default ``{1: ["master", "node"], 2: ["node"], 3: ["node"]}``).
        seed: seeds the simulation's random draws.
        speed: simulated seconds per real second (2.0 runs twice as fast).
        scenario: :class:`Scenario` (default :meth:`Scenario.default`).
        node_urls: nid -> Redis URL of that node's own ``system`` Redis (a real grid has one per
            node); nodes not listed share ``url``, as on a master.
        poll: BLPOP timeout of every loop, in real seconds (:meth:`stop` cuts blocked BLPOPs at once).
        clean_start: also do the jsagent/PM start-up deletes (``workers:worker:*`` via SCAN,
            ``queues:workers:work:process``); off by default so seeded data survives.

    >>> grid = LiveGrid(url, scenario=Scenario.quiet()).start()   # doctest: +SKIP
    >>> grid.stats["completed"]                                  # doctest: +SKIP
    {'OK': 3}
    >>> grid.stop()                                              # doctest: +SKIP
    """

    def __init__(
        self,
        url: str,
        *,
        gid: int = 1,
        nodes: dict[int, list[str]] | None = None,
        seed: int = 7,
        speed: float = 1.0,
        scenario: Scenario | None = None,
        node_urls: dict[int, str] | None = None,
        poll: float = 0.5,
        clean_start: bool = False,
    ) -> None:
        if not isinstance(url, str) or not url:
            raise ValueError("LiveGrid needs a Redis URL such as 'redis://127.0.0.1:9999/0'")
        if not speed or speed <= 0 or not math.isfinite(speed):
            raise ValueError(f"LiveGrid speed must be a positive number, got {speed!r}")
        if not 0.01 <= poll <= 10:
            raise ValueError(f"LiveGrid poll must be between 0.01 and 10 seconds, got {poll!r}")
        nodes = DEFAULT_NODES if nodes is None else nodes
        if not nodes:
            raise ValueError("LiveGrid needs at least one node")
        for nid, roles in nodes.items():
            if not isinstance(nid, int) or isinstance(nid, bool) or nid < 1:
                raise ValueError(f"LiveGrid node ids must be positive ints, got {nid!r}")
            if isinstance(roles, str) or not all(isinstance(r, str) and r for r in roles):
                raise ValueError(f"roles of node {nid} must be a list of non-empty strings, got {roles!r}")
        unknown = set(node_urls or {}) - set(nodes)
        if unknown:
            raise ValueError(f"node_urls names nodes that are not in nodes: {sorted(unknown)}")
        self.url = url
        self.gid = int(gid)
        self.nodes = {nid: list(roles) for nid, roles in nodes.items()}
        self.seed = seed
        self.speed = float(speed)
        self.scenario = scenario if scenario is not None else Scenario.default()
        self.node_urls = {nid: (node_urls or {}).get(nid, url) for nid in self.nodes}
        self.poll = float(poll)
        self.clean_start = clean_start
        self._shared: Shared | None = None
        self._nodes: dict[int, Node] = {}
        self._traffic: threading.Thread | None = None

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<LiveGrid {state} gid={self.gid} nodes={sorted(self.nodes)} url={_redact(self.url)!r}>"

    # -- lifecycle
    @property
    def running(self) -> bool:
        """True between :meth:`start` and :meth:`stop`."""
        return self._shared is not None and not self._shared.stop.is_set()

    def start(self) -> LiveGrid:
        """Store the jumpscripts, do the processmanager start-up writes, start every thread.

        Returns ``self``; raises :class:`~jsadmin.errors.JsAdminError` if Redis is unreachable.
        """
        if self.running:
            raise JsAdminError("this LiveGrid is already running")
        urls = {self.url, *self.node_urls.values()}
        fractional = True
        for url in urls:
            client = connect(url)
            try:
                client.ping()
                fractional = fractional and server_info(client).has("float_timeout")
            except redis.RedisError as exc:
                raise JsAdminError(f"LiveGrid cannot reach Redis at {_redact(url)}: {exc}") from exc
            finally:
                client.close()
        block: float = self.poll if fractional else max(1, math.ceil(self.poll))  # int: "1.0" is refused
        shared = Shared(url=self.url, gid=self.gid, scenario=self.scenario, speed=self.speed,
                        seed=self.seed, poll=self.poll, achost=_achost(self.url), block=block)
        shared.scripts = grid_scripts(self.gid)
        shared.stats.update({"picked_up": 0, "worker_jobs": 0, "local_jobs": 0, "scheduled": 0,
                             "ecos": 0, "logs": 0, "dispatched": {}, "completed": {}, "actions": {}})
        rng = random.Random(self.seed)
        self._startup_writes(shared, rng)
        self._shared = shared
        self._nodes = {nid: Node(shared, nid, roles, self.node_urls[nid]) for nid, roles in self.nodes.items()}
        for node in self._nodes.values():
            node.start()
        expected = sum(1 + n.worker_count() for n in self._nodes.values())
        deadline = time.monotonic() + 10.0
        for _ in range(expected):  # every AC loop polling, every worker registered
            if not shared.ready.acquire(timeout=max(0.0, deadline - time.monotonic())):
                log.warning("live grid: not every loop was ready within 10 s")
                break
        if self.scenario.traffic_rate > 0:
            self._traffic = threading.Thread(target=self._traffic_loop, name="livegrid-traffic", daemon=True)
            self._traffic.start()
        log.info("live grid started: gid=%s nodes=%s", self.gid, sorted(self.nodes))
        return self

    def _startup_writes(self, shared: Shared, rng: random.Random) -> None:
        """PM/jsagent start (§3.2–§3.4, §6.9): jumpscripts, joblastid, inqueuetest, startuptime, application."""
        ac = connect(self.url)
        try:
            _app_register(ac, "jumpscale:agentcontroller", rng.randint(1000, 65000))
        finally:
            ac.close()
        by_url: dict[str, list[int]] = {}
        for nid, url in self.node_urls.items():
            by_url.setdefault(url, []).append(nid)
        for url, nids in by_url.items():
            client = connect(url)
            try:
                pipe = client.pipeline(transaction=False)
                store_jumpscripts(pipe, shared.scripts)
                pipe.execute()
                raw = client.get(keys.WORKER_JOBLASTID)
                if raw is None or int(raw) > keys.JOBLASTID_CEILING:
                    client.set(keys.WORKER_JOBLASTID, 1)
                if self.clean_start:
                    stale = list(client.scan_iter(match=keys.WORKER_REGISTRY_PREFIX + "*", count=500))
                    if stale:
                        client.delete(*stale)
                    client.delete(keys.worker_queue("process"))
                client.delete(keys.WORKER_INQUEUETEST)
                client.set(keys.PROCESSMANAGER_STARTUPTIME, int(time.time()))
                for _nid in nids:
                    _app_register(client, "jsagent", rng.randint(1000, 65000))
                    for queue in keys.STANDARD_WORKER_QUEUES:
                        for _ in range(max(1, self.scenario.workers.get(queue, 1))):
                            _app_register(client, f"jumpscale:worker:{queue}", rng.randint(1000, 65000))
            finally:
                client.close()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop every thread and wait for them (at most ``timeout`` seconds); safe to call twice.

        Loops blocked in BLPOP are cut at once (their socket half-closed), so this returns in
        milliseconds on every server, not after the whole-second BLPOP timeout of Redis < 6.0. An
        item popped while stopping goes back to the head of its list; one pushed at the very moment
        of the cut can be lost, as with a real worker killed mid-pop.

        >>> grid.stop()   # doctest: +SKIP
        """
        shared = self._shared
        if shared is None:
            return
        shared.stop.set()
        deadline = time.monotonic() + timeout
        threads = [t for node in self._nodes.values() for t in node.threads + node.side_threads]
        if self._traffic is not None:
            threads.append(self._traffic)
        pending = threads
        while pending and time.monotonic() < deadline:
            # BLPOPs end at once instead of at their (whole-second before Redis 6.0) timeout; a
            # loop that was reconnecting as the first cut ran is caught by the next one
            shared.cut_blocked()
            pending[0].join(min(0.05, max(0.0, deadline - time.monotonic())))
            pending = [t for t in pending if t.is_alive()]
        alive = [t.name for t in threads if t.is_alive()]
        if alive:
            log.warning("live grid: %d threads still running after stop(): %s", len(alive), alive[:5])
        log.info("live grid stopped")

    def __enter__(self) -> LiveGrid:
        return self.start() if not self.running else self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- introspection and control
    @property
    def stats(self) -> dict[str, Any]:
        """Counters: ``picked_up`` (AC getWork pops), ``dispatched`` (by path), ``worker_jobs``,
        ``local_jobs``, ``completed`` (by final state), ``ecos``, ``logs``, ``actions``, ``scheduled``.
        """
        if self._shared is None:
            return {}
        with self._shared.lock:
            return copy.deepcopy(self._shared.stats)

    def threads(self) -> list[threading.Thread]:
        """The grid's long-lived threads (loops of every node, plus the traffic generator)."""
        out = [t for node in self._nodes.values() for t in node.threads]
        return [*out, self._traffic] if self._traffic is not None else out

    def worker_names(self) -> dict[tuple[int, str], list[str]]:
        """Current worker names per ``(nid, queue)`` (as registered in ``workers:worker:<q>:<wname>``)."""
        return {(nid, q): list(names) for nid, node in self._nodes.items()
                for q, names in node.worker_names.items()}

    def pause(self, queue: str | None = None, *, timeout: float = 5.0) -> bool:
        """Workers of ``queue`` (all queues if None) keep heartbeating but stop popping jobs.

        Waits until every such worker has left its current BLPOP (or job), so that jobs pushed
        after this returns stay in the worker queue. Returns False if some worker did not get
        there within ``timeout`` seconds (e.g. it is busy with a long job).

        >>> grid.pause("default")        # doctest: +SKIP
        True
        """
        shared = self._shared
        if shared is None:
            raise JsAdminError("LiveGrid.pause() needs a started grid")
        shared.paused.update([queue] if queue else [*keys.STANDARD_WORKER_QUEUES, *self._all_queues()])
        wanted = {name: mark[1] for name, mark in list(shared.marks.items())
                  if queue is None or mark[0] == queue}
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if all(shared.marks[name][1] > seen for name, seen in wanted.items()):
                return True
            time.sleep(0.01)
        return False

    def resume(self, queue: str | None = None) -> None:
        """Undo :meth:`pause` for ``queue`` (all queues if None)."""
        if self._shared is None:
            return
        if queue is None:
            self._shared.paused.clear()
        else:
            self._shared.paused.discard(queue)

    def _all_queues(self) -> set[str]:
        return {q for node in self._nodes.values() for q in node.worker_names}

    @property
    def scripts(self) -> list[dict[str, Any]]:
        """The jumpscripts the grid stored at start (PM 20-key dicts)."""
        return list(self._shared.scripts) if self._shared else grid_scripts(self.gid)

    # -- background traffic
    def _traffic_loop(self) -> None:
        shared = self._shared
        assert shared is not None
        scenario = self.scenario
        rng = shared.rng()
        by_field = {keys.jumpscript_name_field(s["organization"], s["name"]): s for s in shared.scripts}
        mix = [(name, w) for name, w in scenario.traffic_mix.items() if name in by_field and w > 0]
        if not mix:
            log.warning("live grid: no traffic_mix entry names a stored jumpscript; no traffic")
            return
        names, weights = zip(*mix, strict=True)
        nids = sorted(self.nodes)
        ac = connect(self.url)
        try:
            while not shared.stop.wait(shared.real(rng.expovariate(scenario.traffic_rate))):
                script = by_field[rng.choices(names, weights)[0]]
                name = keys.jumpscript_name_field(script["organization"], script["name"])
                use_role = rng.random() < scenario.traffic_role_fraction
                try:
                    schedule_cmd(
                        ac, self.gid, category=script["organization"], cmd=script["name"],
                        nid=None if use_role else rng.choice(nids),
                        role=scenario.traffic_role if use_role else None,
                        args=dict(scenario.traffic_args.get(name, {})),
                        queue=script.get("queue") or "",
                        timeout=script.get("timeout") or 600,
                        wait=rng.random() < scenario.traffic_wait_fraction,
                        log=bool(script.get("log", True)),
                        sessionid=f"{self.gid}_{nids[0]}_0_{_uuid(rng)}",
                    )
                    shared.count("scheduled")
                except redis.RedisError as exc:
                    if shared.stop.is_set():
                        break
                    log.warning("live grid traffic: %s", exc)
                    shared.stop.wait(1.0)
        finally:
            ac.close()


def _uuid(rng: random.Random) -> str:
    import uuid

    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _app_register(client: redis.Redis, appname: str, pid: int) -> None:
    """``j.application.start`` bookkeeping: read-modify-write of the ``application`` pid list."""
    raw = client.hget(keys.APPLICATION, appname)
    try:
        pids = [int(p) for p in json.loads(raw)] if raw else []
    except (ValueError, TypeError):
        pids = []
    pids.append(pid)
    set_app_pids(client, appname, pids)

