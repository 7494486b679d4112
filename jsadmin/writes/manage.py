"""Queue and job management on explicit selections: cancel, purge, requeue, delete, undo.

A selection is a DataFrame as returned by ``Admin.load("command_queues")``, ``load("jobs")``,
``load("job_results")`` ... (columns ``key``, ``field``, ``guid``, ``gid``, ``position``, and
``raw`` when present), or a list of job guids. The helpers act only on the jobs selected,
never on "whatever matches now": every removal deletes the exact bytes that were read, inside
a Lua script that leaves the value alone if it changed or vanished meanwhile.

Destructive helpers are chunked (each script removes or restores at most ``CHUNK`` values, so
none blocks Redis long) and journal the exact values a chunk may remove **before** sending it,
each chunk under its own write id (see :mod:`jsadmin.writes.scripts`). ``undo`` derives its
chunk write ids from the journal entry (``undo:<entry id>:<chunk>``), so a second undo of the
same entry, from any process or machine, restores nothing.

>>> rows = selection_rows(["9f1c2a7b3e4d4f0a8b6c5d4e3f2a1b0c"])
>>> rows[0].guid
'9f1c2a7b3e4d4f0a8b6c5d4e3f2a1b0c'
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn

import pandas as pd
import redis

from .. import catalog, keys
from ..domain import JobState
from ..errors import (
    PartialWriteError,
    WriteError,
    WriteNotApplied,
    WriteOutcomeUnknown,
    WriteValidationError,
)
from . import validate as v
from .jobs import Batch, PreparedJob, enqueue_many, make_batches, plan_enqueue, prepare_job
from .journal import Journal, decode_value, encode_value
from .plan import EnqueuePreview, WritePlan
from .results import ManageResult, PurgeResult, UndoResult
from .scripts import FENCED, SCRIPTS, marker_key, new_write_id, resolve

WINDOW = 500
"""Elements per LRANGE window when a list is searched."""
CHUNK = 1000
"""Most values one purge / cancel / delete / undo script removes or restores."""
LREM_BUDGET = 200_000
"""Most list elements the LREMs of one cancel chunk may walk past (sum of positions + 1)."""
MAX_HEAD_MOVES = 100
"""Purge chunks re-read after the list head changed under them before purge_queue gives up."""
MAX_SCAN_ITEMS = 2_000_000
SCAN_COUNT = 500
REQUEUE_STATES = JobState.RETRYABLE
UNDOABLE = ("cancel_jobs", "purge_queue", "delete_jobs", "cleanup_leftovers")


MAX_UNDO_ATTEMPTS = 16
"""Fenced undo write ids (``undo:<entry>:<chunk>[:k]``) an undo walks past for one chunk."""


def undo_write_id(entry_id: str, chunk: int, attempt: int = 0) -> str:
    """The deterministic write id of chunk ``chunk`` of the undo of journal entry ``entry_id``.

    Attempt ``k > 0`` is used only when attempt ``k - 1`` was fenced by an earlier undo (it
    never ran and never will), so every undoer walks the same ids and at most one applies.

    >>> undo_write_id("ab12", 3), undo_write_id("ab12", 3, 1)
    ('undo:ab12:3', 'undo:ab12:3:1')
    """
    return f"undo:{entry_id}:{chunk}" + (f":{attempt}" if attempt else "")


@dataclass(frozen=True)
class Row:
    """One selected job: where it was seen and, when known, its exact bytes."""

    guid: str | None
    key: str | None = None
    field: str | None = None
    gid: int | None = None
    position: int | None = None
    raw: bytes | None = None


@dataclass(frozen=True)
class Found:
    """A job value located in Redis: ``kind`` is ``list`` or ``hash``."""

    kind: str
    key: str
    value: bytes
    guid: str
    field: str | None = None
    position: int | None = None

    def job(self) -> dict[str, Any]:
        return json.loads(self.value)


def _bytes(value: Any) -> bytes | None:
    """A reply as bytes (jsadmin's clients answer bytes; a ``str`` is encoded)."""
    return value.encode("utf-8") if isinstance(value, str) else value


def _text(value: Any) -> str | None:
    if v.is_missing(value):
        return None
    return value.decode("utf-8", errors="replace") if isinstance(value, bytes) else str(value)


def selection_rows(selection: Any) -> list[Row]:
    """Normalise a selection (DataFrame, one guid, or an iterable of guids) into rows."""
    if isinstance(selection, pd.DataFrame):
        if "guid" not in selection.columns and "raw" not in selection.columns:
            raise WriteValidationError("the selection frame needs a guid column (or raw job bytes)")
        rows = []
        for rec in selection.to_dict("records"):
            gid = rec.get("gid")
            pos = rec.get("position")
            raw = rec.get("raw")
            rows.append(
                Row(
                    guid=_text(rec.get("guid")),
                    key=_text(rec.get("key")),
                    field=_text(rec.get("field")),
                    gid=None if v.is_missing(gid) else v.int_like("gid", gid),
                    position=None if v.is_missing(pos) else int(pos),
                    raw=raw.encode("utf-8") if isinstance(raw, str) else (raw if isinstance(raw, bytes) else None),
                )
            )
        return rows
    if isinstance(selection, (str, bytes)):
        selection = [selection]
    if isinstance(selection, pd.Series):
        selection = selection.tolist()
    if not isinstance(selection, Iterable):
        raise WriteValidationError(f"a selection is a DataFrame or a list of job guids, got {type(selection).__name__}")
    rows = []
    for guid in selection:
        text = _text(guid)
        if not text or not isinstance(guid, (str, bytes)):
            raise WriteValidationError(f"job guids must be non-empty strings, got {guid!r}")
        rows.append(Row(guid=text))
    return rows


def _guid_of(value: bytes) -> str | None:
    try:
        job = json.loads(value)
    except ValueError:
        return None
    guid = job.get("guid") if isinstance(job, dict) else None
    return guid if isinstance(guid, str) else None


# Which keys may be touched is the catalog's to say: only keys of its job families
# (:func:`jsadmin.catalog.job_family`), told apart by the Redis type the family declares.
def _job_type(key: str) -> str | None:
    """The declared Redis type of the job family ``key`` belongs to, else ``None``."""
    fam = catalog.job_family(key)
    return None if fam is None else fam.redis_type


def _is_list_key(key: str) -> bool:
    """A list of jobs (command and worker queues, results), real or documented form (spec §3)."""
    return _job_type(key) == "list"


def _is_result_key(key: str) -> bool:
    """A list of jobs that is no queue: a final copy pushed for a waiter (read with ``LINDEX 0``)."""
    fam = catalog.job_family(key)
    return fam is not None and fam.redis_type == "list" and fam.queue is None


def _is_jobs_hash(key: str) -> bool:
    """A hash of jobs by guid (``jobs:<gid>``)."""
    return _job_type(key) == "hash"


def _is_worker_job_key(key: str) -> bool:
    """``workers:jobs:<id>``, the colon-less ``workers:jobs<id>`` or the legacy hash ``workers:jobs``."""
    return _job_type(key) == "string"


def scan_keys(client: redis.Redis, pattern: str) -> list[str]:
    """Key names matching ``pattern`` (SCAN MATCH COUNT, never KEYS)."""
    out = {k.decode("utf-8", errors="replace") if isinstance(k, bytes) else k
           for k in client.scan_iter(match=pattern, count=SCAN_COUNT)}
    return sorted(out)


def iter_list(client: redis.Redis, key: str, window: int = WINDOW) -> Iterator[tuple[int, bytes]]:
    """``(position, value)`` of a list, read in LRANGE windows of ``window`` elements."""
    start = 0
    while start < MAX_SCAN_ITEMS:
        chunk = client.lrange(key, start, start + window - 1)
        for i, value in enumerate(chunk):
            yield start + i, _bytes(value) or b""
        if len(chunk) < window:
            return
        start += window


_GUID_RE = re.compile(rb'"guid"\s*:\s*"([^"\\]+)"')


def find_in_lists(client: redis.Redis, list_keys: Iterable[str], guids: set[str]) -> dict[str, Found]:
    """Locate jobs by guid in lists (windowed LRANGE); the first occurrence of each guid wins.

    Each value is matched by the ``"guid": "..."`` texts it holds (one regex pass, then a set
    lookup), and a hit is confirmed by decoding it: O(values), whatever the number of guids."""
    found: dict[str, Found] = {}
    for key in list_keys:
        if len(found) == len(guids):
            break
        if client.type(key) not in (b"list", "list"):
            continue  # not a queue (vanished, or a stray key of another type matching the pattern)
        for pos, value in iter_list(client, key):
            hits = [g for g in (m.decode("utf-8", "replace") for m in _GUID_RE.findall(value))
                    if g in guids and g not in found]
            guid = _guid_of(value) if hits else None
            if guid is not None and guid in hits:
                found[guid] = Found("list", key, value, guid, position=pos)
                if len(found) == len(guids):
                    break
    return found


def find_in_jobs_hashes(client: redis.Redis, guids: set[str], gids: Iterable[int] = ()) -> dict[str, Found]:
    """Locate jobs by guid in ``jobs:<gid>`` hashes (given gids, else every ``jobs:*`` by SCAN)."""
    hash_keys = [keys.jobs(g) for g in gids] or [
        k for k in scan_keys(client, keys.JOBS_PREFIX + "*") if _is_jobs_hash(k)
    ]
    found: dict[str, Found] = {}
    order = sorted(guids)
    for key in hash_keys:
        missing = [g for g in order if g not in found]
        if not missing:
            break
        if client.type(key) not in (b"hash", "hash"):
            continue
        pipe = client.pipeline(transaction=False)
        for g in missing:
            pipe.hget(key, g)
        for g, value in zip(missing, pipe.execute(), strict=True):
            if value is not None:
                found[g] = Found("hash", key, _bytes(value) or b"", g, field=g)
    return found


def _command_queue_keys(client: redis.Redis, gid: int | None) -> list[str]:
    """Command queues of a grid (every grid when ``gid`` is None), real and documented forms."""
    suffix = f"{gid}:*" if gid is not None else "*"
    globs = [g.removesuffix("*") + suffix for name, kind in catalog.queue_families().items() if kind == "command"
             for g in catalog.family(name).globs]
    return [k for g in globs for k in scan_keys(client, g)]


def locate_queued(client: redis.Redis, rows: Sequence[Row]) -> tuple[list[Found], list[str]]:
    """Exact queue entries of the selected jobs; also returns the guids not found in any queue."""
    located: list[Found] = []
    missing: list[str] = []
    by_key: dict[str, set[str]] = {}
    by_gid: dict[int | None, set[str]] = {}
    for row in rows:
        if row.key and _is_list_key(row.key):
            if row.raw is not None:
                located.append(Found("list", row.key, row.raw, row.guid or _guid_of(row.raw) or "", position=row.position))
            elif row.guid:
                by_key.setdefault(row.key, set()).add(row.guid)
            continue
        if not row.guid:
            raise WriteValidationError(f"selected row without guid or raw bytes: {row}")
        by_gid.setdefault(row.gid, set()).add(row.guid)
    for key, guids in by_key.items():
        found = find_in_lists(client, [key], guids)
        located += found.values()
        missing += sorted(guids - found.keys())
    for gid, guids in by_gid.items():
        found = find_in_lists(client, _command_queue_keys(client, gid), guids)
        located += found.values()
        missing += sorted(guids - found.keys())
    return located, missing


def _gid_of_job(value: bytes) -> int | None:
    try:
        job = json.loads(value)
        return v.int_like("gid", job.get("gid"))
    except (ValueError, AttributeError, WriteValidationError):
        return None


# -- sending chunks ------------------------------------------------------------------------
def _send(client: redis.Redis, name: str, script_keys: Sequence[Any], args: Sequence[Any],
          write_id: str) -> tuple[str, Any]:
    """Run one marker-guarded chunk once: ``(status, result or error)``; status is
    ``applied``, ``fenced`` (its request or reply was lost and the transport sealed the id:
    certainly never ran), ``not_applied`` (refused, server not accepting writes) or ``unknown``."""
    try:
        return "applied", SCRIPTS[name].run(client, script_keys, args, write_id=write_id)
    except WriteOutcomeUnknown as exc:
        return "unknown", exc
    except WriteNotApplied as exc:
        return ("fenced" if _is_fenced(client, write_id) else "not_applied"), exc
    except WriteError as exc:  # failed inside the script: preconditions make this unexpected
        return "unknown", exc


def _is_fenced(client: redis.Redis, write_id: str) -> bool:
    """True when the write's marker holds ``"fenced"`` (it never ran and never will)."""
    try:
        return _bytes(client.get(marker_key(write_id))) == json.dumps(FENCED).encode()
    except redis.RedisError:
        return False


def _check_types(client: redis.Redis, wanted: dict[str, str]) -> None:
    """Refuse (before any write) keys that exist with another type than the helper needs."""
    names = list(wanted)
    pipe = client.pipeline(transaction=False)
    for key in names:
        pipe.type(key)
    bad = []
    for key, kind in zip(names, pipe.execute(), strict=True):
        kind = kind.decode() if isinstance(kind, bytes) else kind
        if kind not in (wanted[key], "none"):
            bad.append(f"{key} is a {kind}, not a {wanted[key]}")
    if bad:
        raise WriteValidationError("refused before writing anything: " + "; ".join(bad))


def _removal_call(lists: Sequence[Found], hashes: Sequence[Found]) -> tuple[list[str], list[Any]]:
    """Arguments of remove_values.lua (keys indexed from 2: KEYS[1] is the marker); a hash entry
    depends on the queue removal of its guid."""
    key_index: dict[str, int] = {}

    def idx(key: str) -> int:
        return key_index.setdefault(key, len(key_index) + 2)

    args: list[Any] = [len(lists)]
    by_guid: dict[str, int] = {}
    for n, f in enumerate(lists, 1):
        args += [idx(f.key), f.value]
        by_guid.setdefault(f.guid, n)
    for f in hashes:
        args += [idx(f.key), f.field, f.value, by_guid.get(f.guid, 0)]
    return list(key_index), args


def _removed_record(f: Found) -> dict[str, Any]:
    rec: dict[str, Any] = {"type": f.kind, "key": f.key, "guid": f.guid, "value": encode_value(f.value)}
    if f.field is not None:
        rec["field"] = f.field
    if f.position is not None:
        rec["position"] = f.position
    return rec


def _list_lengths(client: redis.Redis, list_keys: Iterable[str]) -> dict[str, int]:
    names = sorted(set(list_keys))
    pipe = client.pipeline(transaction=False)
    for key in names:
        pipe.llen(key)
    return dict(zip(names, (int(x) for x in pipe.execute()), strict=True))


def removal_chunks(
    lists: Sequence[Found], hashes: Sequence[Found], lengths: dict[str, int] | None = None,
) -> list[tuple[list[Found], list[Found]]]:
    """Split removals into chunks of at most ``CHUNK`` values whose LREMs walk at most
    ``LREM_BUDGET`` list elements; a job's queue value and its ``jobs:<gid>`` entry share a chunk.
    List values are ordered by (key, position) so that undo can put them back in order."""
    lengths = lengths or {}
    hash_by_guid: dict[str, list[Found]] = {}
    for f in hashes:
        hash_by_guid.setdefault(f.guid, []).append(f)
    ordered = sorted(lists, key=lambda f: (f.key, f.position if f.position is not None else 1 << 62))
    units: list[tuple[list[Found], list[Found], int]] = []
    for f in ordered:
        cost = (f.position + 1) if f.position is not None else lengths.get(f.key, 1)
        units.append(([f], hash_by_guid.pop(f.guid, []), max(cost, 1)))
    units += [([], hs, 0) for hs in hash_by_guid.values()]
    chunks: list[tuple[list[Found], list[Found]]] = []
    cur_l: list[Found] = []
    cur_h: list[Found] = []
    cost = 0
    for ls, hs, c in units:
        if (cur_l or cur_h) and (len(cur_l) + len(cur_h) + len(ls) + len(hs) > CHUNK or cost + c > LREM_BUDGET):
            chunks.append((cur_l, cur_h))
            cur_l, cur_h, cost = [], [], 0
        cur_l += ls
        cur_h += hs
        cost += c
    if cur_l or cur_h:
        chunks.append((cur_l, cur_h))
    return chunks


def _outcome_frame(items: Sequence[Found], flags: Sequence[bool | None], write_ids: Sequence[str | None]) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "guid": [f.guid for f in items],
            "key": [f.key for f in items],
            "field": [f.field for f in items],
            "type": [f.kind for f in items],
            "removed": pd.array(list(flags), dtype="boolean"),
            "write_id": list(write_ids),
        },
        columns=["guid", "key", "field", "type", "removed", "write_id"],
    )
    return frame.astype({"guid": "string", "key": "string", "field": "string", "type": "string",
                         "write_id": "string"})


def _reraise(error: WriteError, msg: str, *, partial: bool, result: Any) -> NoReturn:
    """Raise ``error`` again as ``msg``: a :class:`PartialWriteError` with ``result`` when part of it landed."""
    if partial:
        raise PartialWriteError(msg, result=result, write_id=getattr(error, "write_id", None)) from error
    raise type(error)(msg, write_id=getattr(error, "write_id", None)) from error


def _skip_note(missing: Sequence[str]) -> str | None:
    if not missing:
        return None
    shown = ", ".join(missing[:10]) + (f" and {len(missing) - 10} more" if len(missing) > 10 else "")
    return f"{len(missing)} selected job(s) no longer in Redis were skipped: {shown}"


def _apply_removals(
    client: redis.Redis, helper: str, url: str, journal: Journal,
    chunks: Sequence[tuple[list[Found], list[Found]]], missing: Sequence[str],
    *, shape: Callable[[pd.DataFrame], pd.DataFrame] | None = None, note: str | None = None,
) -> ManageResult:
    """Journal each chunk's exact values, then send it once; stop at the first chunk that did
    not certainly apply. The result has one row per value (``removed`` True/False, NA when
    unknown), ``shape`` applied to that frame; ``note`` defaults to the skipped jobs."""
    note = note if note is not None else _skip_note(missing)

    def outcome(frame: pd.DataFrame, eid: str | None) -> ManageResult:
        return ManageResult(helper, shape(frame) if shape else frame, eid, tuple(missing), note)

    if not chunks:  # nothing selected is still there: nothing to send, nothing to journal
        return outcome(_outcome_frame([], [], []), None)
    eid = journal.begin(helper=helper, url=url, not_found=list(missing), planned_chunks=len(chunks))
    items: list[Found] = []
    flags: list[bool | None] = []
    wids: list[str | None] = []
    error: WriteError | None = None
    for n, (ls, hs) in enumerate(chunks):
        chunk_items = ls + hs
        items += chunk_items
        if error is not None:
            flags += [False] * len(chunk_items)
            wids += [None] * len(chunk_items)
            continue
        script_keys, args = _removal_call(ls, hs)
        commands = [["LREM", f.key, 1, f"<job {f.guid}>"] for f in ls] + [["HDEL", f.key, f.field] for f in hs]
        wid = new_write_id()
        journal.chunk(eid, n, write_id=wid, removed=[_removed_record(f) for f in chunk_items], commands=commands)
        status, res = _send(client, "remove_values", script_keys, args, wid)
        wids += [wid] * len(chunk_items)
        if status == "applied":
            got = [bool(int(x)) for x in res]
            flags += got
            journal.outcome(eid, n, status="applied", result=[int(x) for x in got], removed_n=sum(got))
        else:
            flags += [None if status == "unknown" else False] * len(chunk_items)
            journal.outcome(eid, n, status="unknown" if status == "unknown" else "not_applied", result=str(res),
                            write_id=wid)
            error = res
    done = sum(1 for x in flags if x)
    unknown = sum(1 for x in flags if x is None)
    result = {"removed": done, "skipped": len(flags) - done - unknown, "unknown": unknown, "not_found": list(missing)}
    journal.end(eid, status="done" if error is None else ("partial" if done or unknown else "failed"), result=result)
    out = outcome(_outcome_frame(items, flags, wids), eid)
    if error is not None:
        msg = (f"{helper} removed {done} of {len(flags)} values; {len(flags) - done - unknown} not removed; "
               f"{unknown} unknown (journal entry {eid}; {error})")
        _reraise(error, msg, partial=bool(done or unknown), result=out)
    return out


def _removal_plan(helper: str, url: str, chunks: Sequence[tuple[list[Found], list[Found]]],
                  missing: Sequence[str]) -> WritePlan[pd.DataFrame]:
    plan: WritePlan[pd.DataFrame] = WritePlan(helper, url)
    for n, (ls, hs) in enumerate(chunks):
        where = f"chunk {n + 1}/{len(chunks)} (one EVALSHA remove_values, journalled before it is sent)"
        for f in ls:
            plan.add("LREM", f.key, 1, f.value, note=f"job {f.guid}, only if this exact value is still there; {where}")
        for f in hs:
            plan.add("HDEL", f.key, f.field,
                     note=f"only if the value is unchanged (and, for cancel, the queue entry was removed); {where}")
    if missing:
        plan.warnings.append(f"not found in Redis, left alone: {', '.join(missing)}")
    items = [f for ls, hs in chunks for f in ls + hs]
    plan.result = _outcome_frame(items, [True] * len(items), ["<new write id>"] * len(items))
    return plan


def cancel_jobs(client: redis.Redis, selection: Any, *, url: str, journal: Journal, dry_run: bool = False) -> ManageResult | WritePlan[pd.DataFrame]:
    """Remove the selected queued jobs (exact bytes, LREM 1) and their unchanged ``jobs:<gid>`` entries.

    Every key's type is checked before anything is written; jobs no longer queued are skipped
    (the result's ``not_found`` and ``note``)."""
    rows = selection_rows(selection)
    _check_types(client, {row.key: "list" for row in rows if row.key and _is_list_key(row.key)})
    lists, missing = locate_queued(client, rows)
    wanted: dict[int | None, set[str]] = {}
    for f in lists:
        wanted.setdefault(_gid_of_job(f.value), set()).add(f.guid)
    hashes: list[Found] = []
    for gid, guids in wanted.items():
        if gid is not None:
            hashes += find_in_jobs_hashes(client, guids, [gid]).values()
    _check_types(client, {**{f.key: "list" for f in lists}, **{f.key: "hash" for f in hashes}})
    chunks = removal_chunks(lists, hashes, _list_lengths(client, (f.key for f in lists if f.position is None)))
    if dry_run:
        return _removal_plan("cancel_jobs", url, chunks, missing)
    return _apply_removals(client, "cancel_jobs", url, journal, chunks, missing)


def delete_jobs(client: redis.Redis, selection: Any, *, url: str, journal: Journal, dry_run: bool = False) -> ManageResult | WritePlan[pd.DataFrame]:
    """HDEL the selected ``jobs:<gid>`` entries (and legacy ``workers:jobs`` hash fields), each
    only if its value is unchanged; other rows are looked up by guid in ``jobs:<gid>``."""
    rows = selection_rows(selection)
    _check_types(client, {row.key: "hash" for row in rows
                          if row.key and row.field and (_is_jobs_hash(row.key) or row.key == keys.WORKER_JOBS_LEGACY_HASH)})
    hashes: list[Found] = []
    lookup: dict[int | None, set[str]] = {}
    for row in rows:
        if row.key and (_is_jobs_hash(row.key) or row.key == keys.WORKER_JOBS_LEGACY_HASH) and row.field:
            value = row.raw if row.raw is not None else _bytes(client.hget(row.key, row.field))
            if value is not None:
                hashes.append(Found("hash", row.key, value, row.guid or row.field, field=row.field))
            continue
        if not row.guid:
            raise WriteValidationError(f"selected row without guid: {row}")
        lookup.setdefault(row.gid, set()).add(row.guid)
    for gid, guids in lookup.items():
        hashes += find_in_jobs_hashes(client, guids, [gid] if gid is not None else []).values()
    found = {f.guid for f in hashes}
    missing = sorted({r.guid for r in rows if r.guid} - found)
    _check_types(client, {f.key: "hash" for f in hashes})
    chunks = removal_chunks([], hashes)
    if dry_run:
        return _removal_plan("delete_jobs", url, chunks, missing)
    return _apply_removals(client, "delete_jobs", url, journal, chunks, missing)


def _list_type(client: redis.Redis, key: str) -> None:
    kind = client.type(key)
    kind = kind.decode() if isinstance(kind, bytes) else kind
    if kind not in ("list", "none"):
        raise WriteValidationError(f"purge_queue empties lists; {key} is a {kind}")


def purge_queue(client: redis.Redis, key: str, *, url: str, journal: Journal, dry_run: bool = False) -> PurgeResult | WritePlan[dict[str, Any]]:
    """Empty one list in chunks; every removed value goes to the journal first (undo puts them back).

    The values present when the purge starts (``LLEN``) are removed from the head, ``CHUNK`` at
    a time: each window is read (``LRANGE``), journalled, then trimmed by a script only if the
    head still holds exactly those values. A consumer popping meanwhile only makes a window be
    read again; values pushed meanwhile stay (unless consumers drained the original ones first).
    """
    key = v.text("key", key)
    _list_type(client, key)
    total = int(client.llen(key))
    if dry_run:
        plan: WritePlan[dict[str, Any]] = WritePlan("purge_queue", url)
        left = total
        n_chunks = -(-total // CHUNK)
        for n in range(n_chunks):
            k = min(CHUNK, left)
            plan.add("LRANGE", key, 0, k - 1, note=f"chunk {n + 1}/{n_chunks}: read {k} value(s), journal them")
            plan.add("LTRIM", key, k, -1, note="one EVALSHA purge: only if the head still holds exactly those values")
            left -= k
        plan.result = {"key": key, "removed": total, "chunks": n_chunks}
        return plan
    eid = journal.begin(helper="purge_queue", url=url, key=key, length=total)
    removed = consumed = moved = n = 0
    error: WriteError | None = None
    unknown = 0
    while removed + consumed < total:
        try:
            window = [_bytes(x) or b"" for x in client.lrange(key, 0, min(CHUNK, total - removed - consumed) - 1)]
        except redis.RedisError as exc:  # the read of the next window failed: nothing more was sent
            error = WriteNotApplied(f"reading the next window of {key} failed ({type(exc).__name__}: {exc}); "
                                    "no further chunk was sent")
            break
        if not window:
            break
        wid = new_write_id()
        records = [{"type": "list", "key": key, "position": removed + consumed + i, "guid": _guid_of(val),
                    "value": encode_value(val)} for i, val in enumerate(window)]
        journal.chunk(eid, n, write_id=wid, removed=records, commands=[["LTRIM", key, len(window), -1]])
        status, res = _send(client, "purge", [key], [len(window), *window], wid)
        if status == "applied" and int(res[1]) >= 0:
            removed += int(res[0])
            consumed += int(res[1])  # popped by a consumer between our read and the trim
            journal.outcome(eid, n, status="applied", result=res, removed_n=int(res[0]))
        elif status == "applied":  # the head changed under us: nothing written, read again
            journal.outcome(eid, n, status="not_applied", result="head changed")
            moved += 1
            if moved > MAX_HEAD_MOVES:
                error = WriteNotApplied(f"the head of {key} kept changing; purge stopped", write_id=wid)
        else:
            journal.outcome(eid, n, status="unknown" if status == "unknown" else "not_applied", result=str(res),
                            write_id=wid)
            error = res
            unknown = len(window) if status == "unknown" else 0
        n += 1
        if error is not None:
            break
    result = {"key": key, "removed": removed, "consumed_meanwhile": consumed, "chunks": n, "unknown": unknown}
    journal.end(eid, status="done" if error is None else ("partial" if removed or unknown else "failed"), result=result)
    out = PurgeResult(key=key, removed=removed, consumed_meanwhile=consumed, chunks=n, unknown=unknown, journal_id=eid)
    if error is not None:
        msg = (f"purge_queue removed {removed} of {total} values of {key}; {unknown} unknown "
               f"(journal entry {eid}; {error})")
        _reraise(error, msg, partial=bool(removed or unknown), result=out)
    return out


# -- requeue -------------------------------------------------------------------------------
def _read_row(client: redis.Redis, row: Row) -> bytes | None:
    """The current bytes of a selected job at the key its reader saw it under, if still there."""
    key = row.key
    if not key:
        return None
    if _is_jobs_hash(key) and row.field:
        return _bytes(client.hget(key, row.field))
    if _is_result_key(key):
        return _bytes(client.lindex(key, 0))
    if key == keys.WORKER_JOBS_LEGACY_HASH:
        return _bytes(client.hget(key, row.field)) if row.field else None
    if _is_worker_job_key(key):  # workers:jobs:<id> or workers:jobs<id> (strings)
        return _bytes(client.get(key))
    return None


def _source_jobs(client: redis.Redis, rows: Sequence[Row]) -> tuple[list[dict[str, Any]], list[str]]:
    """The current JSON of each selected job (raw bytes, else read back by key/field/guid), and
    the guids of jobs no longer in Redis (skipped, like ``cancel_jobs`` does)."""
    out: dict[str, dict[str, Any]] = {}
    pending: list[Row] = []
    for row in rows:
        value = row.raw if row.raw is not None else _read_row(client, row)
        if value is None:
            pending.append(row)
            continue
        try:
            job = json.loads(value)
        except ValueError:
            raise WriteValidationError(f"selected job at {row.key} is not JSON: {value[:80]!r}") from None
        out[job.get("guid") or row.guid or str(len(out))] = job
    lost: list[str] = []
    if pending:
        if any(not r.guid for r in pending):
            raise WriteValidationError("selected rows without guid cannot be read back")
        guids = {r.guid for r in pending if r.guid}
        found = find_in_jobs_hashes(client, guids)
        for g in guids - found.keys():
            for key in (keys.jobqueue(g), keys.DOC_JOBQUEUE_PREFIX + g):
                value = _bytes(client.lindex(key, 0)) if client.type(key) in (b"list", "list") else None
                if value is not None:
                    found[g] = Found("list", key, value, g)
                    break
        by_key: dict[str, set[str]] = {}
        for r in pending:
            if r.guid not in found and r.key and _is_list_key(r.key):
                by_key.setdefault(r.key, set()).add(r.guid or "")
        for key, gs in by_key.items():
            found.update(find_in_lists(client, [key], gs))
        lost = sorted(guids - found.keys())
        for g, f in found.items():
            out[g] = f.job()
    return list(out.values()), lost


def clone_job(job: dict[str, Any], *, args: dict[str, Any] | None, nid: Any, role: Any) -> PreparedJob:
    """A new SCHEDULED job from an old one: same command, new id and guid, optional edits."""
    if nid is None and role is None:
        roles = [r for r in (job.get("roles") or []) if r]
        if roles:
            role = roles[0]
        else:
            nid = job.get("nid")
    new_args = dict(job.get("args") or {})
    if args:
        new_args.update(v.mapping("args", args))
    return prepare_job(
        job.get("gid"), nid=nid, role=role, category=job.get("category"), cmd=job.get("cmd"),
        args=new_args, queue=job.get("queue") or "", timeout=job.get("timeout"),
        wait=bool(job.get("wait", False)), log=bool(job.get("log", True)),
        errorreport=bool(job.get("errorreport", False)), tags=job.get("tags"),
        jscriptid=job.get("jscriptid"),
    )


def requeue_jobs(
    client: redis.Redis, selection: Any, *, args: dict[str, Any] | None, nid: Any, role: Any,
    states: Sequence[str] | None, url: str, journal: Journal, dry_run: bool = False,
) -> ManageResult | WritePlan[EnqueuePreview]:
    """Clone failed / timed-out jobs into new scheduled ones ("clone and edit").

    ``states=None`` clones jobs in any state. Selected jobs no longer in Redis (an expired
    ``queues:jobqueue:<guid>`` result, a finished ``jobs:<gid>`` entry) are skipped with a note
    (the result's ``not_found`` and ``note``), as ``cancel_jobs`` does. The result's frame has
    one row per clone (``source_guid`` first); ``journal_id`` is the enqueue's journal entry.
    """
    if nid is not None and role is not None:
        raise WriteValidationError("give at most one of nid= and role=")
    if args is not None:
        v.mapping("args", args)
    sources, lost = _source_jobs(client, selection_rows(selection))
    bad = [] if states is None else [(j.get("guid"), j.get("state")) for j in sources if j.get("state") not in states]
    if bad:
        raise WriteValidationError(
            f"requeue_jobs clones jobs in states {list(states or ())}; refused {bad[:10]}"
            + (f" and {len(bad) - 10} more" if len(bad) > 10 else "")
            + " (pass states=None to clone jobs in any state)"
        )
    if not sources and lost:
        raise WriteValidationError(f"none of the selected jobs is still in Redis (jobs:<gid>, queues:jobqueue:<guid>): {lost}")
    try:
        clones = [clone_job(j, args=args, nid=nid, role=role) for j in sources]
    except WriteValidationError as exc:
        raise WriteValidationError(f"cannot clone: {exc}") from None
    note = _skip_note(lost)
    if dry_run:
        plan = plan_enqueue("requeue_jobs", url, make_batches(clones))
        if note:
            plan.warnings.append(note)
        return plan
    source_guids = pd.array([j.get("guid") for j in sources], dtype="string")
    entry: list[str] = []
    try:
        frame = enqueue_many(client, clones, batch_size=1000, url=url, journal=journal, helper="requeue_jobs",
                             entry=entry)
    except PartialWriteError as exc:  # say which source each clone row came from
        if isinstance(exc.result, pd.DataFrame) and len(exc.result) == len(source_guids):
            exc.result.insert(0, "source_guid", source_guids)
            exc.result = ManageResult("requeue_jobs", exc.result, entry[0] if entry else None, tuple(lost), note)
        raise
    frame.insert(0, "source_guid", source_guids)
    return ManageResult("requeue_jobs", frame, entry[0] if entry else None, tuple(lost), note)


# -- undo ----------------------------------------------------------------------------------
def entry_id_of(entry: Any) -> str:
    """The journal entry id of ``entry``: an id, a ``journal()`` row (Series), an entry dict or
    a write's result (its ``journal_id``)."""
    if isinstance(entry, (ManageResult, PurgeResult, UndoResult)):
        if entry.journal_id is None:
            raise WriteValidationError(f"this {entry.helper} sent nothing, so there is nothing to undo")
        return entry.journal_id
    if isinstance(entry, (pd.Series, dict)):
        entry = entry.get("id")
    return v.text("entry_id", entry)


def _settle_chunks(client: redis.Redis, journal: Journal, entry: dict[str, Any]) -> None:
    """Resolve chunks of ``entry`` whose outcome was never learnt (lost reply, process died):
    their markers tell; an unmarked one is fenced (it never ran and now never will)."""
    chunks = entry.get("chunks") or {}
    todo = [(n, c) for n, c in sorted(chunks.items()) if c.get("status") in ("sent", "unknown") and c.get("write_id")]
    if not todo:
        return
    outcomes = resolve(client, [c["write_id"] for _, c in todo], name=entry.get("helper") or "write")
    for (n, c), res in zip(todo, outcomes, strict=True):
        if isinstance(res, WriteNotApplied):
            c["status"], c["result"] = "not_applied", "fenced when undo resolved it"
        elif entry.get("helper") == "purge_queue":
            ok = int(res[1]) >= 0
            c["status"], c["result"], c["removed_n"] = ("applied" if ok else "not_applied"), res, int(res[0])
        else:
            c["status"], c["result"], c["removed_n"] = "applied", res, sum(int(x) for x in res)
        journal.outcome(entry["id"], n, status=c["status"], result=c.get("result"), removed_n=c.get("removed_n"),
                        resolved=True)


def _removed_groups(journal: Journal, entry: dict[str, Any]) -> list[tuple[int, list[dict[str, Any]]]]:
    """``(chunk number, records really removed)`` per applied chunk, in chunk order."""
    chunks = entry.get("chunks") or {}
    if not chunks:  # a single-line entry (older jsadmin): every record was removed
        records = journal.removed_records(entry)
        return [(i // CHUNK, records[i:i + CHUNK]) for i in range(0, len(records), CHUNK)]
    groups = []
    for n, c in sorted(chunks.items()):
        if c.get("status") != "applied":
            continue
        records = journal.chunk_values(c)
        if not records and c.get("count"):
            raise WriteValidationError(
                f"the values removed by chunk {n} of journal entry {entry['id']} are gone from the journal "
                f"(side file {c.get('side')} rotated away); cannot undo"
            )
        flags = c.get("result")
        if entry.get("helper") == "purge_queue" and isinstance(flags, list) and len(flags) == 2:
            records = records[int(flags[1]):]  # the first `offset` were popped by a consumer, not by us
        elif isinstance(flags, list) and len(flags) == len(records):
            records = [rec for rec, ok in zip(records, flags, strict=True) if int(ok)]
        groups.append((int(n), records))
    return groups


def _restore_call(records: Sequence[dict[str, Any]]) -> tuple[list[str], list[Any], int, int]:
    """Arguments of restore.lua for one chunk: list values LPUSHed last-first per key."""
    key_index: dict[str, int] = {}

    def idx(key: str) -> int:
        return key_index.setdefault(key, len(key_index) + 2)

    lists = [r for r in records if r["type"] == "list"]
    lists.sort(key=lambda r: (r["key"], r.get("position") if r.get("position") is not None else 0))
    hashes = [r for r in records if r["type"] != "list"]
    args: list[Any] = [len(lists)]
    for r in reversed(lists):
        args += [idx(r["key"]), decode_value(r["value"])]
    for r in hashes:
        args += [idx(r["key"]), r["field"], decode_value(r["value"])]
    return list(key_index), args, len(lists), len(hashes)


def undo(client: redis.Redis, entry: Any, *, url: str, journal: Journal, dry_run: bool = False) -> UndoResult | WritePlan[dict[str, Any]]:
    """Put back what a journalled cancel / purge / delete removed, once.

    List values go back at the head of their list in their original order, ahead of anything
    queued since (an untouched list gets its exact order back after a purge); hash entries are
    restored with HSETNX (an entry written since is never overwritten). One script per chunk
    of the original write, last chunk first; each runs under the write id
    ``undo:<entry id>:<chunk>``, so a second undo of the same entry (from any process) finds
    the markers and restores nothing. Chunks whose outcome was unknown are resolved first.
    """
    entry_id = entry_id_of(entry)
    found = journal.find(entry_id)
    if found is None or not found.get("helper"):
        raise WriteValidationError(f"no journal entry {entry_id} in {journal.path}")
    if found.get("helper") not in UNDOABLE:
        raise WriteValidationError(f"journal entry {entry_id} is a {found.get('helper')}; only {UNDOABLE} can be undone")
    if (done := journal.undone_by(entry_id)) is not None:
        raise WriteValidationError(f"journal entry {entry_id} was already undone by {done['id']} at {done['time']}")
    if found.get("url") != url:
        raise WriteValidationError(f"journal entry {entry_id} was written on {found.get('url')}, not on {url}")
    if not dry_run:
        _settle_chunks(client, journal, found)
    groups = _removed_groups(journal, found)
    wanted: dict[str, str] = {}
    for _, records in groups:
        for r in records:
            wanted[r["key"]] = "list" if r["type"] == "list" else "hash"
    _check_types(client, wanted)
    calls = []
    for n, records in reversed(groups):
        script_keys, args, n_list, n_hash = _restore_call(records)
        calls.append((n, script_keys, args, n_list, n_hash))
    if dry_run:
        plan: WritePlan[dict[str, Any]] = WritePlan("undo", url)
        for n, *_ in calls:
            recs = dict(groups)[n]
            where = f"one EVALSHA restore, write id {undo_write_id(entry_id, n)}"
            lists = sorted((r for r in recs if r["type"] == "list"),
                           key=lambda r: (r["key"], r.get("position") or 0), reverse=True)
            for r in lists:
                plan.add("LPUSH", r["key"], decode_value(r["value"]),
                         note=f"back at the head, in original order (position {r.get('position')} was); {where}")
            for r in recs:
                if r["type"] != "list":
                    plan.add("HSETNX", r["key"], r["field"], decode_value(r["value"]), note=where)
        if found.get("status") in ("intent", "partial") or any(
            c.get("status") in ("sent", "unknown") for c in (found.get("chunks") or {}).values()
        ):
            plan.warnings.append("some chunks of this entry have an unknown outcome: undo resolves them first "
                                 "(fencing any that never ran), so fewer values may be restored")
        plan.result = {"undo_of": entry_id, "pushed": sum(c[3] for c in calls), "restored": sum(c[4] for c in calls)}
        return plan
    token = uuid.uuid4().hex
    eid = journal.begin(helper="undo", url=url, undo_of=entry_id, planned_chunks=len(calls))
    pushed = restored = skipped = already = 0
    error: WriteError | None = None
    for n, script_keys, args, _, _ in calls:
        attempt = 0  # walk undo:<entry>:<n>[:k] past ids an earlier undo left fenced (they never ran)
        while attempt < MAX_UNDO_ATTEMPTS - 1 and _is_fenced(client, undo_write_id(entry_id, n, attempt)):
            attempt += 1
        wid = undo_write_id(entry_id, n, attempt)
        journal.chunk(eid, n, write_id=wid, attempt=attempt)
        status, res = _send(client, "restore", script_keys, [token, *args], wid)
        if status != "applied":
            journal.outcome(eid, n, status=status, result=str(res), write_id=wid)
            error = res
            break
        if res[3] != token:  # the marker of an earlier undo of this entry answered: nothing written
            already += 1
            journal.outcome(eid, n, status="already", result=res[:3])
            continue
        pushed, restored, skipped = pushed + int(res[0]), restored + int(res[1]), skipped + int(res[2])
        journal.outcome(eid, n, status="applied", result=res[:3], removed_n=0)
    out = UndoResult(undo_of=entry_id, pushed=pushed, restored=restored, skipped=skipped,
                     already_undone_chunks=already, journal_id=eid)
    result = {k: v for k, v in out.as_dict().items() if k != "journal_id"}
    if error is not None:
        journal.end(eid, status="partial" if pushed or restored else "failed", result=result)
        msg = (f"undo of {entry_id} restored {pushed + restored} value(s) before chunk {n} failed ({error}); "
               "run undo again: chunks already restored are skipped on the server, fenced ones are sent anew")
        _reraise(error, msg, partial=bool(pushed or restored), result=out)
    if calls and already == len(calls):
        journal.end(eid, status="failed", result=result)
        raise WriteValidationError(
            f"journal entry {entry_id} was already undone (the server holds the undo markers "
            f"{undo_write_id(entry_id, calls[0][0])} ...); nothing was written"
        )
    journal.end(eid, status="done", result=result)
    return out


__all__ = [
    "Batch", "Found", "ManageResult", "PurgeResult", "Row", "UndoResult", "cancel_jobs", "delete_jobs", "entry_id_of", "purge_queue", "removal_chunks",
    "requeue_jobs", "selection_rows", "undo", "undo_write_id",
]
