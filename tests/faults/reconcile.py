"""Compare what Redis holds with what jsadmin reported: nothing lost, nothing duplicated.

Test-side only (it reads whole keys with SCAN/HGETALL/LRANGE, fine for test sizes).

A write call's outcome becomes a :class:`Reported`: the guids jsadmin said it wrote, said it
did not write, and left unknown. :func:`reconcile` then checks, on the real server:

- every reported-written job is in ``jobs:<gid>`` once and queued exactly once, same bytes;
- every reported-not-written job is nowhere (hash or any queue);
- no guid is queued twice anywhere; every ``jobs:<gid>`` field is its job's guid;
- ids are unique per grid and never above ``jobs:last``; with ``no_burned_ids`` the last id
  handed out is the highest id of a job that exists;
- with ``probe``: every job in Redis carrying that probe in its args was reported written
  (nothing landed that jsadmin did not report).

>>> state = reconcile(client, Reported(written={guid}))          # doctest: +SKIP
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import redis

QUEUE_PATTERNS = ("queues:commands:queue:*", "commands:queue:*")
MARKER_PREFIX = "jsadmin:write:"


@dataclass
class GridState:
    """Everything the reconciliation looks at, read from the server."""

    jobs: dict[int, dict[str, bytes]]
    last: dict[int, int]
    queues: dict[str, list[bytes]]
    markers: dict[str, bytes]
    other: dict[str, Any] = field(default_factory=dict)

    def queued_guids(self) -> Counter[str]:
        counts: Counter[str] = Counter()
        for values in self.queues.values():
            for value in values:
                counts[_guid(value) or f"<unparsable {value[:40]!r}>"] += 1
        return counts

    def all_jobs(self) -> dict[str, dict[str, Any]]:
        """guid -> decoded job, from the hashes."""
        out: dict[str, dict[str, Any]] = {}
        for fields in self.jobs.values():
            for guid, raw in fields.items():
                out[guid] = json.loads(raw)
        return out

    def with_probe(self, probe: str) -> set[str]:
        """Guids (hash or queue) of jobs whose args carry ``probe``."""
        found: set[str] = set()
        for fields in self.jobs.values():
            for guid, raw in fields.items():
                if probe.encode() in raw and (json.loads(raw).get("args") or {}).get("probe") == probe:
                    found.add(guid)
        for values in self.queues.values():
            for raw in values:
                if probe.encode() in raw:
                    job = json.loads(raw)
                    if (job.get("args") or {}).get("probe") == probe:
                        found.add(job["guid"])
        return found


def _s(x: bytes | str) -> str:
    return x.decode("utf-8", errors="replace") if isinstance(x, bytes) else x


def _guid(value: bytes) -> str | None:
    try:
        job = json.loads(value)
    except ValueError:
        return None
    return job.get("guid") if isinstance(job, dict) else None


def scan(client: redis.Redis, pattern: str) -> list[str]:
    return sorted({_s(k) for k in client.scan_iter(match=pattern, count=1000)})


def read_state(client: redis.Redis) -> GridState:
    """Read jobs hashes, ``jobs:last``, command queues (both key forms) and write markers."""
    jobs: dict[int, dict[str, bytes]] = {}
    for key in scan(client, "jobs:*"):
        suffix = key[len("jobs:"):]
        if key == "jobs:last" or not suffix.isdigit() or client.type(key) != b"hash":
            continue
        jobs[int(suffix)] = {_s(k): v for k, v in client.hgetall(key).items()}
    last: dict[int, int] = {}
    if client.type("jobs:last") == b"hash":
        last = {int(k): int(v) for k, v in client.hgetall("jobs:last").items()}
    queues: dict[str, list[bytes]] = {}
    for pattern in QUEUE_PATTERNS:
        for key in scan(client, pattern):
            if client.type(key) == b"list":
                queues[key] = client.lrange(key, 0, -1)
    markers = {key: client.get(key) or b"" for key in scan(client, MARKER_PREFIX + "*") if client.type(key) == b"string"}
    return GridState(jobs, last, queues, markers)


@dataclass
class Reported:
    """What jsadmin told the caller, per job guid."""

    written: set[str] = field(default_factory=set)
    not_written: set[str] = field(default_factory=set)
    unknown: set[str] = field(default_factory=set)
    write_ids: dict[str, str] = field(default_factory=dict)  # guid -> write id, when reported

    def merge(self, other: Reported) -> Reported:
        return Reported(self.written | other.written, self.not_written | other.not_written,
                        self.unknown | other.unknown, {**self.write_ids, **other.write_ids})


def reported_from_frame(frame: pd.DataFrame) -> Reported:
    """From an ``enqueue_jobs`` result frame (``guid`` and, after the fix, ``written``/``write_id``)."""
    rep = Reported()
    written = frame["written"] if "written" in frame.columns else pd.Series(True, index=frame.index)
    for guid, flag in zip(frame["guid"], written, strict=True):
        if flag is pd.NA or (not isinstance(flag, (bool, int)) and pd.isna(flag)):
            rep.unknown.add(str(guid))
        elif bool(flag):
            rep.written.add(str(guid))
        else:
            rep.not_written.add(str(guid))
    if "write_id" in frame.columns:
        rep.write_ids = {str(g): str(w) for g, w in zip(frame["guid"], frame["write_id"], strict=True) if not pd.isna(w)}
    return rep


class ReconcileError(AssertionError):
    """Redis and jsadmin's report disagree (the message lists every disagreement)."""


def reconcile(
    client: redis.Redis,
    reported: Reported,
    *,
    probe: str | None = None,
    queued: bool = True,
    no_burned_ids: Iterable[int] = (),
    allow_unknown: bool = False,
) -> GridState:
    """Check the server against ``reported``; raise :class:`ReconcileError` listing every mismatch."""
    state = read_state(client)
    problems: list[str] = []
    queued_counts = state.queued_guids()
    for guid, n in queued_counts.items():
        if n > 1:
            keys = [k for k, vs in state.queues.items() for v in vs if _guid(v) == guid]
            problems.append(f"guid {guid} queued {n} times ({keys})")
    in_hash: dict[str, bytes] = {}
    for gid, fields in state.jobs.items():
        ids: Counter[int] = Counter()
        for guid, raw in fields.items():
            try:
                job = json.loads(raw)
            except ValueError:
                problems.append(f"jobs:{gid} field {guid} is not JSON: {raw[:60]!r}")
                continue
            if job.get("guid") != guid:
                problems.append(f"jobs:{gid} field {guid} holds the job of guid {job.get('guid')}")
            ids[int(job["id"])] += 1
            if guid in in_hash:
                problems.append(f"guid {guid} in two jobs hashes")
            in_hash[guid] = raw
            last = state.last.get(gid)
            if last is not None and int(job["id"]) > last:
                problems.append(f"job {guid} has id {job['id']} above jobs:last {gid} = {last}")
        dup = {i: n for i, n in ids.items() if n > 1}
        if dup:
            problems.append(f"jobs:{gid}: ids given to more than one job: {sorted(dup)[:10]}")
    queued_values = {_guid(v): v for vs in state.queues.values() for v in vs}
    for guid in sorted(reported.written):
        if guid not in in_hash:
            problems.append(f"reported written but not in jobs:<gid>: {guid}")
        if queued:
            if queued_counts.get(guid, 0) != 1:
                problems.append(f"reported written but queued {queued_counts.get(guid, 0)} times: {guid}")
            elif guid in in_hash and queued_values.get(guid) != in_hash[guid]:
                problems.append(f"queue entry and jobs:<gid> entry of {guid} differ")
    for guid in sorted(reported.not_written):
        if guid in in_hash or queued_counts.get(guid, 0):
            problems.append(
                f"reported NOT written but present: {guid} (hash: {guid in in_hash}, queued {queued_counts.get(guid, 0)})"
            )
    both = reported.written & reported.not_written
    if both:
        problems.append(f"reported both written and not written: {sorted(both)[:5]}")
    if reported.unknown and not allow_unknown:
        problems.append(f"{len(reported.unknown)} job(s) left unknown to the caller: {sorted(reported.unknown)[:5]}")
    if probe is not None:
        extra = state.with_probe(probe) - reported.written - (reported.unknown if allow_unknown else set())
        if extra:
            problems.append(f"{len(extra)} job(s) of this test in Redis that jsadmin did not report written: {sorted(extra)[:5]}")
    for gid in no_burned_ids:
        present = [int(json.loads(raw)["id"]) for raw in state.jobs.get(gid, {}).values()]
        last = state.last.get(gid, 0)
        if last != (max(present) if present else 0):
            problems.append(f"grid {gid}: jobs:last is {last} but the highest existing id is {max(present, default=0)} (ids burned)")
    if problems:
        raise ReconcileError(f"{len(problems)} mismatch(es):\n  " + "\n  ".join(problems[:40]))
    return state


def journal_entries(adm: Any) -> list[dict[str, Any]]:
    """Every journal entry of ``adm`` as dicts (through the public ``journal()`` frame)."""
    frame = adm.journal()
    if "entry" in frame.columns:
        return [e for e in frame["entry"] if isinstance(e, Mapping)]
    return frame.to_dict("records")


def mentioned_write_ids(obj: Any) -> set[str]:
    """Every value of a ``write_id``/``write_ids`` field anywhere inside ``obj`` (journal entries)."""
    found: set[str] = set()
    if isinstance(obj, Mapping):
        for k, v in obj.items():
            if k == "write_id" and isinstance(v, str):
                found.add(v)
            elif k == "write_ids" and isinstance(v, (list, tuple)):
                found.update(x for x in v if isinstance(x, str))
            else:
                found |= mentioned_write_ids(v)
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            found |= mentioned_write_ids(v)
    elif isinstance(obj, str) and obj.startswith(MARKER_PREFIX):
        found.add(obj[len(MARKER_PREFIX):])
    return found


def snapshot(client: redis.Redis, *, skip_markers: bool = True) -> dict[str, Any]:
    """Logical content of every key (markers left out): to prove a refused write changed nothing."""
    out: dict[str, Any] = {}
    for key in scan(client, "*"):
        if skip_markers and key.startswith(MARKER_PREFIX):
            continue
        kind = client.type(key)
        if kind == b"hash":
            out[key] = client.hgetall(key)
        elif kind == b"list":
            out[key] = client.lrange(key, 0, -1)
        elif kind == b"string":
            out[key] = client.get(key)
        elif kind == b"set":
            out[key] = client.smembers(key)
        else:
            out[key] = (kind, client.dump(key))
    return out


def removed_records(adm: Any, entry: Mapping[str, Any], *, applied_only: bool = True) -> list[dict[str, Any]]:
    """The removed-value records a journal entry holds (chunked entries: every chunk, or only
    the applied ones; a cancel chunk's per-value flags are honoured), side files included."""
    journal = adm._journal()
    chunks = entry.get("chunks") or {}
    if not chunks:
        if hasattr(journal, "removed_records"):
            return list(journal.removed_records(dict(entry)))
        return list(entry.get("removed") or [])
    out: list[dict[str, Any]] = []
    for n in sorted(chunks, key=int):
        chunk = chunks[n]
        if applied_only and chunk.get("status") != "applied":
            continue
        records = list(journal.chunk_values(chunk))
        flags = chunk.get("result")
        if applied_only and entry.get("helper") == "purge_queue" and isinstance(flags, list) and len(flags) == 2:
            records = records[int(flags[1]):]  # [removed, consumed]: the first `consumed` were popped by others
        elif applied_only and isinstance(flags, list) and len(flags) == len(records) and set(flags) <= {0, 1}:
            records = [rec for rec, ok in zip(records, flags, strict=True) if ok]
        out += records
    return out


def removed_by(adm: Any, helper: str, key: str | None = None, *, applied_only: bool = True) -> list[dict[str, Any]]:
    """Removed-value records of every ``helper`` entry in ``adm``'s journal (of list ``key`` if given)."""
    return [
        rec for e in journal_entries(adm) if e.get("helper") == helper
        for rec in removed_records(adm, e, applied_only=applied_only)
        if key is None or rec.get("key") == key
    ]


def check_enqueue_journal(adm: Any, frame: pd.DataFrame) -> None:
    """The journal agrees with an ``enqueue_jobs`` frame: the plan names every batch's write id
    before sending, and the outcome lists each as applied / not written / unknown exactly as
    the frame's ``written`` column says."""
    entries = journal_entries(adm)
    planned = {b.get("write_id") for e in entries if str(e.get("helper", "")).endswith(".plan")
               for b in ((e.get("result") or {}).get("batches") or [])}
    outcome: dict[str, str] = {}
    for e in entries:
        res = e.get("result") or {}
        if str(e.get("helper", "")).endswith(".plan") or not isinstance(res, Mapping) or "plan" not in res:
            continue
        for b in res.get("batches") or []:
            outcome[b.get("write_id")] = "written"
        for wid in res.get("not_written") or []:
            outcome[wid] = "not_written"
        for wid in res.get("unknown") or []:
            outcome[wid] = "unknown"
    problems = []
    for wid, flag in frame.groupby("write_id", dropna=False)["written"].first().items():
        if pd.isna(wid):
            problems.append("a job without write id")
            continue
        want = "unknown" if pd.isna(flag) else ("written" if bool(flag) else "not_written")
        if wid not in planned:
            problems.append(f"batch {wid} missing from the journalled plan")
        if outcome.get(str(wid)) != want:
            problems.append(f"batch {wid}: frame says {want}, journal says {outcome.get(str(wid))}")
    if problems:
        raise ReconcileError(f"journal disagrees with the result frame: {problems[:10]}")
