"""Code run in child processes by the concurrency case (importable by name: forked from a forkserver).

Each function connects its own ``jsadmin.Admin``, does one write, and returns a plain,
picklable report of what jsadmin told it (never raises: the error is part of the report).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

import jsadmin


def _frame_report(frame: pd.DataFrame) -> dict[str, list[str]]:
    written = frame["written"] if "written" in frame.columns else pd.Series(True, index=frame.index)
    out: dict[str, list[str]] = {"written": [], "not_written": [], "unknown": []}
    for guid, flag in zip(frame["guid"], written, strict=True):
        key = "unknown" if pd.isna(flag) else ("written" if bool(flag) else "not_written")
        out[key].append(str(guid))
    return out


def enqueue(url: str, probe: str, n: int, nid: int, batch_size: int) -> dict[str, Any]:
    """Enqueue ``n`` probe jobs to ``nid``; report per guid."""
    adm = jsadmin.connect(url)
    jobs = [{"gid": 1, "nid": nid, "category": "jumpscale", "cmd": "echo", "args": {"probe": probe, "i": i}}
            for i in range(n)]
    try:
        return {"error": None, **_frame_report(adm.enqueue_jobs(jobs, batch_size=batch_size))}
    except Exception as exc:
        frame = getattr(exc, "result", None)
        rep = _frame_report(frame) if isinstance(frame, pd.DataFrame) else {}
        return {"error": repr(exc), **rep}


def purge(url: str, key: str) -> dict[str, Any]:
    adm = jsadmin.connect(url)
    try:
        return {"error": None, "result": adm.purge_queue(key)}
    except Exception as exc:
        return {"error": repr(exc), "result": None}


def undo(url: str, entry_id: str) -> dict[str, Any]:
    adm = jsadmin.connect(url)
    try:
        return {"error": None, "result": adm.undo(entry_id)}
    except Exception as exc:
        return {"error": repr(exc), "type": type(exc).__name__, "result": None}


def enqueue_then_hang(url: str, probe: str, n: int, nid: int, batch_size: int) -> None:
    """The victim of the client-kill case: enqueue (the parent kills this process mid-way)."""
    enqueue(url, probe, n, nid, batch_size)


def purge_victim(url: str, key: str) -> None:
    """The victim of the client-kill case: purge (the parent kills this process mid-way)."""
    purge(url, key)
