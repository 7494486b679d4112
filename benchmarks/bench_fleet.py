"""Fleet.load_all over 20 real redis-servers: one by one vs concurrent, in the same run.

Targets (issue 11): concurrent time <= 0.75 x one-by-one time on localhost, <= 0.35 x behind a
4 ms round trip. Two settings are measured:

* ``tcp``: the servers on localhost TCP, nothing added (CPU-bound: decoding);
* ``rtt=<n>ms``: every server reached through a latency proxy (a separate process) that delays
  each chunk by half the round-trip time in each direction, without limiting throughput:
  what a grid's nodes on a LAN/WAN look like.

and three ways of reading: ``one by one`` (the baseline: ``max_workers=1, processes=0``),
``threads`` (``processes=0``: 16 threads in this process, decoding serialised by the GIL) and
``processes`` (``processes=N``, default one per usable CPU: each worker process reads its share
of the instances with threads and decodes on its own core). Times are the best of ``--repeat``
runs after a warm-up (connections open, worker processes started); the first call of the
process mode, which starts the pool, is printed separately (``cold``). ``--snapshot`` also times
``Fleet.snapshot`` (every family of the 20 instances to Parquet) the three ways on localhost.
``--crossover`` also
times threads vs processes for fleets of 2..20 instances on localhost (what ``processes="auto"``
is based on). ``uptime`` is printed before and after: the machine may be shared.

    python benchmarks/bench_fleet.py [--instances 20] [--rtt-ms 4] [--repeat 3] [--processes 2] [--crossover]
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import multiprocessing as mp
import os
import shutil
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import redis

from jsadmin.demogrid import seed_demo
from jsadmin.embedded import EmbeddedRedis, free_port
from jsadmin.fleetpool import usable_cpus
from jsadmin.fleets import Fleet, fleet


# --- latency proxy (runs in its own process) -------------------------------------------------
async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delay: float) -> None:
    queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

    async def pump_in() -> None:
        while data := await reader.read(65536):
            queue.put_nowait((time.monotonic() + delay, data))
        queue.put_nowait((0.0, b""))

    async def pump_out() -> None:
        while True:
            due, data = await queue.get()
            if not data:
                break
            wait = due - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            writer.write(data)
            await writer.drain()
        writer.close()

    await asyncio.gather(pump_in(), pump_out(), return_exceptions=True)


async def _serve(pairs: list[tuple[int, int]], delay: float) -> None:
    async def handler_for(upstream: int) -> Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]:
        async def handle(cr: asyncio.StreamReader, cw: asyncio.StreamWriter) -> None:
            ur, uw = await asyncio.open_connection("127.0.0.1", upstream)
            await asyncio.gather(_pipe(cr, uw, delay), _pipe(ur, cw, delay), return_exceptions=True)

        return handle

    servers = [
        await asyncio.start_server(await handler_for(up), "127.0.0.1", listen) for listen, up in pairs
    ]
    await asyncio.gather(*(s.serve_forever() for s in servers))


def _proxy_main(pairs: list[tuple[int, int]], delay: float) -> None:
    asyncio.run(_serve(pairs, delay))


# --- measurement ----------------------------------------------------------------------------
def _best(fn: Callable[[], object], repeat: int) -> float:
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - start)
    return min(runs)


def _uptime() -> str:
    load = os.getloadavg()
    return f"load average {load[0]:.2f}, {load[1]:.2f}, {load[2]:.2f} (1, 5, 15 min)"


def _modes(urls: list[str], workers: int, processes: int) -> dict[str, Fleet]:
    """The three fleets compared: one by one (the baseline), threads, worker processes."""
    return {
        "one by one": fleet(urls, readonly=True, max_workers=1, timeout=30, processes=0),
        "threads": fleet(urls, readonly=True, max_workers=workers, timeout=30, processes=0),
        "processes": fleet(urls, readonly=True, max_workers=workers, timeout=30, processes=processes),
    }


def measure(urls: list[str], repeat: int, workers: int, processes: int) -> dict[str, float]:
    """Seconds per ``load_all`` of each mode (best of ``repeat``), plus ``cold`` and ``rows``."""
    modes = _modes(urls, workers, processes)
    out: dict[str, float] = {}
    start = time.perf_counter()
    frames = modes["processes"].load_all()  # starts the pool and opens the connections
    out["cold"] = time.perf_counter() - start
    out["rows"] = sum(len(f) for f in frames.values())
    for f in modes.values():
        f.load_all()  # warm-up
        assert f.status()["ok"].all(), f.status()
    for _ in range(repeat):  # interleaved, so a burst of load elsewhere hits every mode alike
        for name, f in modes.items():
            out[name] = min(out.get(name, float("inf")), _best(f.load_all, 1))
    for f in modes.values():
        f.close()
    return out


def measure_snapshot(urls: list[str], repeat: int, workers: int, processes: int) -> dict[str, float]:
    """Seconds per ``Fleet.snapshot`` (every family of every instance to Parquet) of each mode."""
    modes = _modes(urls, workers, processes)
    out: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="bench-fleet-") as tmp:
        for f in modes.values():  # warm-up: pool started, connections open
            f.load_all()
        for run in range(repeat):
            for name, f in modes.items():
                path = Path(tmp) / f"{name}-{run}".replace(" ", "-")
                out[name] = min(out.get(name, float("inf")), _best(functools.partial(f.snapshot, path), 1))
                assert f.status()["ok"].all(), f.status()
                shutil.rmtree(path)
    for f in modes.values():
        f.close()
    return out


def crossover(servers: list[str], repeat: int, workers: int, processes: int) -> None:
    print(f"\ncrossover on localhost (best of {repeat}; ratio = processes / threads)")
    print(f"{'instances':>9} {'one by one s':>13} {'threads s':>10} {'processes s':>12} {'ratio':>6}")
    for n in (2, 4, 6, 8, 12, 16, 20):
        if n > len(servers):
            break
        t = measure(servers[:n], repeat, workers, processes)
        print(f"{n:>9} {t['one by one']:>13.3f} {t['threads']:>10.3f} {t['processes']:>12.3f} "
              f"{t['processes'] / t['threads']:>6.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--instances", type=int, default=20)
    parser.add_argument("--rtt-ms", type=float, default=4.0, help="round-trip time added by the proxy")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workers", type=int, default=16, help="max_workers: threads, in all processes together")
    parser.add_argument("--processes", type=int, default=usable_cpus(), help="worker processes of the process mode")
    parser.add_argument("--jobs", type=int, default=60, help="seed_demo jobs per instance")
    parser.add_argument("--crossover", action="store_true", help="also threads vs processes for 2..20 instances")
    parser.add_argument("--snapshot", action="store_true", help="also Fleet.snapshot of the instances on localhost, each mode")
    args = parser.parse_args()

    servers = [EmbeddedRedis.start(port=free_port()) for _ in range(args.instances)]
    proxy = None
    try:
        for i, srv in enumerate(servers):
            client = redis.Redis.from_url(srv.url)
            seed_demo(client, seed=i, nodes=2, jobs=args.jobs)
            client.close()
        direct = [srv.url for srv in servers]
        taken = {srv.port for srv in servers}
        pairs = []
        for srv in servers:  # a listening port that is no server's (free_port alone may repeat one)
            port = free_port()
            while port in taken:
                port = free_port()
            taken.add(port)
            pairs.append((port, srv.port or 0))
        proxy = mp.get_context("spawn").Process(
            target=_proxy_main, args=(pairs, args.rtt_ms / 2000.0), daemon=True
        )
        proxy.start()
        time.sleep(1.0)
        proxied = [f"redis://127.0.0.1:{listen}/0" for listen, _ in pairs]

        print(f"jsadmin fleet benchmark: {args.instances} instances, seed_demo(jobs={args.jobs}, nodes=2) each, "
              f"{os.cpu_count()} CPUs ({usable_cpus()} usable), best of {args.repeat}, max_workers={args.workers}, "
              f"processes={args.processes}")
        print(f"before: {_uptime()}")
        print(f"{'setting':<10} {'rows':>5} {'one by one s':>13} {'threads s':>10} {'processes s':>12} "
              f"{'cold s':>7} {'threads/1':>10} {'processes/1':>12}  target")
        for label, urls, target in (("tcp", direct, 0.75), (f"rtt={args.rtt_ms:g}ms", proxied, 0.35)):
            t = measure(urls, args.repeat, args.workers, args.processes)
            base = t["one by one"]
            ratio = t["processes"] / base
            verdict = "meets" if ratio <= target else "misses"
            print(f"{label:<10} {int(t['rows']):>5} {base:>13.3f} {t['threads']:>10.3f} {t['processes']:>12.3f} "
                  f"{t['cold']:>7.3f} {t['threads'] / base:>10.2f} {ratio:>12.2f}  {target} ({verdict})")
        if args.snapshot:
            t = measure_snapshot(direct, args.repeat, args.workers, args.processes)
            base = t["one by one"]
            print(f"{'snapshot':<10} {'':>5} {base:>13.3f} {t['threads']:>10.3f} {t['processes']:>12.3f} "
                  f"{'':>7} {t['threads'] / base:>10.2f} {t['processes'] / base:>12.2f}  (Fleet.snapshot, tcp)")
        if args.crossover:
            crossover(direct, args.repeat, args.workers, args.processes)
        print(f"after: {_uptime()}")
    finally:
        if proxy is not None:
            proxy.terminate()
            proxy.join(5)
        for srv in servers:
            srv.stop()


if __name__ == "__main__":
    main()
