"""Code run in child processes by the concurrency and fault tests (importable by name: forked from a forkserver)."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import pandas as pd
import redis

from jsadmin.errors import PartialWriteError
from jsadmin.writes import WritesMixin


class _Admin(WritesMixin):
    def __init__(self, url: str, journal: str) -> None:
        self.redis = redis.Redis.from_url(protocol=2, url=url)
        self.readonly = False
        self.url = "test"
        self.journal_path = Path(journal)


def worker_jobs(worker: int, n: int, start: int = 0) -> list[dict[str, Any]]:
    """Jobs ``start..n-1`` of one worker: gid 1, node queue = worker number, args name the job."""
    return [{"gid": 1, "nid": worker, "category": "jumpscale", "cmd": "echo", "args": {"w": worker, "i": i}}
            for i in range(start, n)]


def enqueue_worker(url: str, worker: int, n: int, batch_size: int, journal: str, parties: int = 1) -> int:
    """Enqueue ``n`` jobs into gid 1 (node queue = worker number) and return how many were written.

    With ``parties`` > 1 the worker first waits until that many workers are ready (a counter key
    outside the job families, ``test:ready``), so their enqueues overlap for sure.
    """
    admin = _Admin(url, journal)
    jobs = worker_jobs(worker, n)
    if parties > 1:
        admin.redis.incr("test:ready")
        deadline = time.monotonic() + 60
        while int(admin.redis.get("test:ready") or 0) < parties and time.monotonic() < deadline:
            time.sleep(0.001)
    frame = admin.enqueue_jobs(jobs, batch_size=batch_size)
    return len(frame)


def report_frame(frame: pd.DataFrame, path: str, message: str) -> None:
    """What enqueue_jobs reported, as JSON: per job its guid, write id and written flag."""
    written = [None if pd.isna(w) else bool(w) for w in frame["written"]]
    Path(path).write_text(json.dumps({
        "message": message, "guid": frame["guid"].tolist(), "write_id": frame["write_id"].tolist(),
        "written": written,
    }))


def victim(url: str, n: int, batch_size: int, journal: str, out: str) -> int:
    """Enqueue ``n`` jobs; whatever happens, write what enqueue_jobs reported to ``out``."""
    try:
        frame = _Admin(url, journal).enqueue_jobs(worker_jobs(1, n), batch_size=batch_size)
    except PartialWriteError as exc:
        report_frame(exc.result, out, str(exc))
        return 3
    report_frame(frame, out, "complete")
    return 0


if __name__ == "__main__":  # python _procs.py URL N BATCH JOURNAL OUT: the fault test's victim
    url, n, batch, journal, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
    sys.exit(victim(url, n, batch, journal, out))
