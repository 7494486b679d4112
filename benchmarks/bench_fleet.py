"""Fleet.load_all over 20 real redis-servers: concurrent vs one by one, in the same run.

Target: concurrent time <= 0.35 x sequential time. Two settings are measured:

* ``tcp``: the servers on localhost TCP, nothing added (CPU-bound: decoding runs under the GIL);
* ``rtt=<n>ms``: every server reached through a latency proxy (a separate process) that delays
  each chunk by half the round-trip time in each direction, without limiting throughput:
  what a grid's nodes on a LAN/WAN look like.

    /opt/jsvenv/bin/python benchmarks/bench_fleet.py [--instances 20] [--rtt-ms 4] [--repeat 3]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import os
import statistics
import time
from collections.abc import Callable

import redis

from jsadmin.demogrid import seed_demo
from jsadmin.embedded import EmbeddedRedis, free_port
from jsadmin.fleets import fleet


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
    async def handler_for(upstream: int) -> Callable[..., object]:
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
def _time(fn: Callable[[], object], repeat: int) -> float:
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - start)
    return statistics.median(runs)


def measure(urls: list[str], repeat: int, workers: int) -> tuple[float, float, int]:
    concurrent = fleet(urls, readonly=True, max_workers=workers, timeout=30)
    sequential = fleet(urls, readonly=True, max_workers=1, timeout=30)
    rows = sum(len(f) for f in concurrent.load_all().values())  # warm-up, connections opened
    sequential.load_all()
    assert concurrent.status()["ok"].all() and sequential.status()["ok"].all()
    t_seq = _time(sequential.load_all, repeat)
    t_con = _time(concurrent.load_all, repeat)
    return t_seq, t_con, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--instances", type=int, default=20)
    parser.add_argument("--rtt-ms", type=float, default=4.0, help="round-trip time added by the proxy")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workers", type=int, default=16)
    parser.add_argument("--jobs", type=int, default=60, help="seed_demo jobs per instance")
    args = parser.parse_args()

    servers = [EmbeddedRedis.start(port=free_port()) for _ in range(args.instances)]
    proxy = None
    try:
        for i, srv in enumerate(servers):
            client = redis.Redis.from_url(srv.url)
            seed_demo(client, seed=i, nodes=2, jobs=args.jobs)
            client.close()
        direct = [srv.url for srv in servers]
        pairs = [(free_port(), srv.port or 0) for srv in servers]
        proxy = mp.get_context("spawn").Process(
            target=_proxy_main, args=(pairs, args.rtt_ms / 2000.0), daemon=True
        )
        proxy.start()
        time.sleep(1.0)
        proxied = [f"redis://127.0.0.1:{listen}/0" for listen, _ in pairs]

        print(f"jsadmin fleet benchmark: {args.instances} instances, seed_demo(jobs={args.jobs}, nodes=2) each, "
              f"{os.cpu_count()} CPUs, median of {args.repeat}, max_workers={args.workers}")
        print(f"{'setting':<12} {'rows':>7} {'sequential s':>13} {'concurrent s':>13} {'ratio':>7}  target 0.35")
        for label, urls in (("tcp", direct), (f"rtt={args.rtt_ms:g}ms", proxied)):
            t_seq, t_con, rows = measure(urls, args.repeat, args.workers)
            ratio = t_con / t_seq
            verdict = "meets" if ratio <= 0.35 else "misses"
            print(f"{label:<12} {rows:>7} {t_seq:>13.3f} {t_con:>13.3f} {ratio:>7.2f}  {verdict}")
    finally:
        if proxy is not None:
            proxy.terminate()
            proxy.join(5)
        for srv in servers:
            srv.stop()


if __name__ == "__main__":
    main()
