"""Code run in child processes by the concurrency and fault tests (importable under spawn)."""

from __future__ import annotations

import sys
from pathlib import Path

import redis


def enqueue_worker(url: str, worker: int, n: int, batch_size: int, journal: str) -> int:
    """Enqueue ``n`` jobs into gid 1 (node queue = worker number) and return how many were written."""
    from jsadmin.writes import WritesMixin

    class _A(WritesMixin):
        def __init__(self) -> None:
            self.redis = redis.Redis.from_url(protocol=2, url=url)
            self.readonly = False
            self.url = "test"
            self.journal_path = Path(journal)

    adm = _A()
    jobs = [{"gid": 1, "nid": worker, "category": "jumpscale", "cmd": "echo", "args": {"w": worker, "i": i}}
            for i in range(n)]
    frame = adm.enqueue_jobs(jobs, batch_size=batch_size)
    return len(frame)


if __name__ == "__main__":  # python _procs.py URL N BATCH JOURNAL: the fault test's victim
    url, n, batch, journal = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    enqueue_worker(url, 1, n, batch, journal)
