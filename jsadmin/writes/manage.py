"""Queue and job management on explicit selections: cancel, purge, requeue, delete, undo.

A selection is a DataFrame as returned by ``Admin.load("command_queues")``, ``load("jobs")``,
``load("job_results")`` ... (columns ``key``, ``field``, ``guid``, ``gid``, ``position``, and
``raw`` when present), or a list of job guids. The helpers act only on the jobs selected,
never on "whatever matches now": every removal deletes the exact bytes that were read, inside
a Lua script that leaves the value alone if it changed or vanished meanwhile.

>>> rows = selection_rows(["9f1c2a7b3e4d4f0a8b6c5d4e3f2a1b0c"])
>>> rows[0].guid
'9f1c2a7b3e4d4f0a8b6c5d4e3f2a1b0c'
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
import redis

from .. import keys
from ..errors import WriteValidationError
from . import validate as v
from .jobs import Batch, PreparedJob, enqueue_many, make_batches, plan_enqueue, prepare_job
from .journal import Journal, decode_value, encode_value
from .plan import WritePlan
from .scripts import SCRIPTS

WINDOW = 500
"""Elements per LRANGE window when a list is searched."""
MAX_SCAN_ITEMS = 2_000_000
SCAN_COUNT = 500
REQUEUE_STATES = ("ERROR", "TIMEOUT", "NOWORK")
UNDOABLE = ("cancel_jobs", "purge_queue", "delete_jobs")


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


def _is_list_key(key: str) -> bool:
    return key.startswith((keys.COMMAND_QUEUE_PREFIX, keys.WORKER_QUEUE_PREFIX, keys.JOBQUEUE_PREFIX)) or key == keys.SYSTEM_QUEUE


def _is_jobs_hash(key: str) -> bool:
    return key.startswith(keys.JOBS_PREFIX) and key != keys.JOBS_LAST


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
            yield start + i, value
        if len(chunk) < window:
            return
        start += window


def find_in_lists(client: redis.Redis, list_keys: Iterable[str], guids: set[str]) -> dict[str, Found]:
    """Locate jobs by guid in lists (windowed LRANGE); the first occurrence of each guid wins."""
    found: dict[str, Found] = {}
    needles = {g: g.encode() for g in guids}
    for key in list_keys:
        if len(found) == len(guids):
            break
        for pos, value in iter_list(client, key):
            hits = [g for g, n in needles.items() if g not in found and n in value]
            if hits and (guid := _guid_of(value)) in hits:
                found[guid] = Found("list", key, value, guid, position=pos)
    return found


def find_in_jobs_hashes(client: redis.Redis, guids: set[str], gids: Iterable[int] = ()) -> dict[str, Found]:
    """Locate jobs by guid in ``jobs:<gid>`` hashes (given gids, else every ``jobs:*`` by SCAN)."""
    hash_keys = [keys.jobs(g) for g in gids] or [
        k for k in scan_keys(client, keys.JOBS_PREFIX + "*") if _is_jobs_hash(k) and ":" not in k[len(keys.JOBS_PREFIX):]
    ]
    found: dict[str, Found] = {}
    order = sorted(guids)
    for key in hash_keys:
        missing = [g for g in order if g not in found]
        if not missing:
            break
        pipe = client.pipeline(transaction=False)
        for g in missing:
            pipe.hget(key, g)
        for g, value in zip(missing, pipe.execute(), strict=True):
            if value is not None:
                found[g] = Found("hash", key, value, g, field=g)
    return found


def _command_queue_keys(client: redis.Redis, gid: int | None) -> list[str]:
    pattern = keys.COMMAND_QUEUE_PREFIX + (f"{gid}:*" if gid is not None else "*")
    return scan_keys(client, pattern)


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


def _removal_call(lists: Sequence[Found], hashes: Sequence[Found]) -> tuple[list[str], list[Any]]:
    """Arguments of remove_values.lua; a hash entry depends on the queue removal of its guid."""
    key_index: dict[str, int] = {}

    def idx(key: str) -> int:
        return key_index.setdefault(key, len(key_index) + 1)

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


def _apply_removals(
    client: redis.Redis, helper: str, url: str, journal: Journal, lists: list[Found], hashes: list[Found],
    extra: dict[str, Any] | None = None,
) -> pd.DataFrame:
    """Run remove_values.lua, journal what was really removed, return one row per value."""
    flags: list[int] = []
    if lists or hashes:
        script_keys, args = _removal_call(lists, hashes)
        flags = [int(x) for x in SCRIPTS["remove_values"](client, script_keys, args)]
    items = lists + hashes
    removed = [f for f, ok in zip(items, flags, strict=True) if ok]
    commands: list[list[Any]] = [
        ["LREM", f.key, 1, f.value] if f.kind == "list" else ["HDEL", f.key, f.field] for f in removed
    ]
    entry_id = None
    if removed:
        entry_id = journal.append(
            helper=helper, url=url, commands=commands,
            removed=[_removed_record(f) for f in removed],
            result={"removed": len(removed), "skipped": len(items) - len(removed), **(extra or {})},
        )["id"]
    frame = _outcome_frame(items, flags)
    frame.attrs["journal_id"] = entry_id
    return frame


def _outcome_frame(items: Sequence[Found], flags: Sequence[int]) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "guid": [f.guid for f in items],
            "key": [f.key for f in items],
            "field": [f.field for f in items],
            "type": [f.kind for f in items],
            "removed": [bool(x) for x in flags],
        },
        columns=["guid", "key", "field", "type", "removed"],
    )
    return frame.astype({"guid": "string", "key": "string", "field": "string", "type": "string", "removed": "boolean"})


def _removal_plan(helper: str, url: str, lists: Sequence[Found], hashes: Sequence[Found], missing: Sequence[str]) -> WritePlan:
    plan = WritePlan(helper, url)
    for f in lists:
        plan.add("LREM", f.key, 1, f.value, note=f"job {f.guid}, only if this exact value is still there")
    for f in hashes:
        plan.add("HDEL", f.key, f.field, note="only if the value is unchanged (and, for cancel, the queue entry was removed)")
    if missing:
        plan.warnings.append(f"not found in Redis, left alone: {', '.join(missing)}")
    plan.result = _outcome_frame([*lists, *hashes], [1] * (len(lists) + len(hashes)))
    return plan


def cancel_jobs(client: redis.Redis, selection: Any, *, url: str, journal: Journal, dry_run: bool = False) -> pd.DataFrame | WritePlan:
    """Remove the selected queued jobs (exact bytes, LREM 1) and their unchanged ``jobs:<gid>`` entries."""
    rows = selection_rows(selection)
    lists, missing = locate_queued(client, rows)
    wanted: dict[int | None, set[str]] = {}
    for f in lists:
        wanted.setdefault(_gid_of_job(f.value), set()).add(f.guid)
    hashes: list[Found] = []
    for gid, guids in wanted.items():
        if gid is not None:
            hashes += find_in_jobs_hashes(client, guids, [gid]).values()
    if dry_run:
        return _removal_plan("cancel_jobs", url, lists, hashes, missing)
    frame = _apply_removals(client, "cancel_jobs", url, journal, lists, hashes, {"not_found": missing})
    frame.attrs["not_found"] = missing
    return frame


def delete_jobs(client: redis.Redis, selection: Any, *, url: str, journal: Journal, dry_run: bool = False) -> pd.DataFrame | WritePlan:
    """HDEL the selected ``jobs:<gid>`` entries, each only if its value is unchanged."""
    rows = selection_rows(selection)
    hashes: list[Found] = []
    lookup: dict[int | None, set[str]] = {}
    for row in rows:
        if row.key and _is_jobs_hash(row.key) and row.field:
            value = row.raw if row.raw is not None else client.hget(row.key, row.field)
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
    if dry_run:
        return _removal_plan("delete_jobs", url, [], hashes, missing)
    frame = _apply_removals(client, "delete_jobs", url, journal, [], hashes, {"not_found": missing})
    frame.attrs["not_found"] = missing
    return frame


def purge_queue(client: redis.Redis, key: str, *, url: str, journal: Journal, dry_run: bool = False) -> dict[str, Any] | WritePlan:
    """Empty one list atomically; every removed value goes to the journal (undo puts them back)."""
    key = v.text("key", key)
    kind = client.type(key)
    kind = kind.decode() if isinstance(kind, bytes) else kind
    if kind not in ("list", "none"):
        raise WriteValidationError(f"purge_queue empties lists; {key} is a {kind}")
    if dry_run:
        plan = WritePlan("purge_queue", url)
        n = client.llen(key)
        plan.add("LRANGE", key, 0, -1, note=f"{n} value(s) now, all saved to the journal")
        plan.add("DEL", key)
        plan.result = {"key": key, "removed": n}
        return plan
    values = SCRIPTS["purge"](client, [key], [])
    removed = [
        {"type": "list", "key": key, "position": i, "guid": _guid_of(val), "value": encode_value(val)}
        for i, val in enumerate(values)
    ]
    entry = journal.append(
        helper="purge_queue", url=url, commands=[["LRANGE", key, 0, -1], ["DEL", key]],
        removed=removed, result={"key": key, "removed": len(values)},
    )
    return {"key": key, "removed": len(values), "journal_id": entry["id"]}


def _source_jobs(client: redis.Redis, rows: Sequence[Row]) -> list[dict[str, Any]]:
    """The current JSON of each selected job (raw bytes, else read back by key/field/guid)."""
    out: dict[str, dict[str, Any]] = {}
    pending: list[Row] = []
    for row in rows:
        value = row.raw
        if value is None and row.key and row.field and _is_jobs_hash(row.key):
            value = client.hget(row.key, row.field)
        if value is None and row.key and row.key.startswith(keys.JOBQUEUE_PREFIX):
            value = client.lindex(row.key, 0)
        if value is None and row.key and row.key.startswith(keys.WORKER_JOBS_PREFIX):
            value = client.get(row.key)  # workers:jobs:<id> (a string)
        if value is None:
            pending.append(row)
            continue
        job = json.loads(value)
        out[job.get("guid") or row.guid or str(len(out))] = job
    if pending:
        guids = {r.guid for r in pending if r.guid}
        if len(guids) != len(pending):
            raise WriteValidationError("selected rows without guid cannot be read back")
        found = find_in_jobs_hashes(client, guids)
        for g in guids - found.keys():
            value = client.lindex(keys.jobqueue(g), 0)
            if value is not None:
                found[g] = Found("list", keys.jobqueue(g), value, g)
        by_key: dict[str, set[str]] = {}
        for r in pending:
            if r.guid not in found and r.key and _is_list_key(r.key):
                by_key.setdefault(r.key, set()).add(r.guid or "")
        for key, gs in by_key.items():
            found.update(find_in_lists(client, [key], gs))
        lost = sorted(guids - found.keys())
        if lost:
            raise WriteValidationError(f"jobs not found in Redis (jobs:<gid>, queues:jobqueue:<guid>): {lost}")
        for g, f in found.items():
            out[g] = f.job()
    return list(out.values())


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
) -> pd.DataFrame | WritePlan:
    """Clone failed / timed-out jobs into new scheduled ones ("clone and edit").

    ``states=None`` clones jobs in any state.
    """
    if nid is not None and role is not None:
        raise WriteValidationError("give at most one of nid= and role=")
    if args is not None:
        v.mapping("args", args)
    sources = _source_jobs(client, selection_rows(selection))
    bad = [] if states is None else [(j.get("guid"), j.get("state")) for j in sources if j.get("state") not in states]
    if bad:
        raise WriteValidationError(
            f"requeue_jobs clones jobs in states {list(states)}; refused {bad[:10]}"
            + (f" and {len(bad) - 10} more" if len(bad) > 10 else "")
            + " (pass states=None to clone jobs in any state)"
        )
    try:
        clones = [clone_job(j, args=args, nid=nid, role=role) for j in sources]
    except WriteValidationError as exc:
        raise WriteValidationError(f"cannot clone: {exc}") from None
    if dry_run:
        return plan_enqueue("requeue_jobs", url, make_batches(clones))
    frame = enqueue_many(client, clones, batch_size=1000, url=url, journal=journal)
    frame.insert(0, "source_guid", pd.array([j.get("guid") for j in sources], dtype="string"))
    return frame


def undo(client: redis.Redis, entry_id: str, *, url: str, journal: Journal, dry_run: bool = False) -> dict[str, Any] | WritePlan:
    """Put back what a journalled cancel / purge / delete removed.

    List values go back to their original positions (an unchanged list gets its exact order
    back; elements queued since stay after them); hash entries are restored with HSETNX (an
    entry written since is never overwritten).
    """
    entry = journal.find(v.text("entry_id", entry_id))
    if entry is None:
        raise WriteValidationError(f"no journal entry {entry_id} in {journal.path}")
    if entry.get("helper") not in UNDOABLE:
        raise WriteValidationError(f"journal entry {entry_id} is a {entry.get('helper')}; only {UNDOABLE} can be undone")
    if (done := journal.undone_by(entry_id)) is not None:
        raise WriteValidationError(f"journal entry {entry_id} was already undone by {done['id']} at {done['time']}")
    if entry.get("url") != url:
        raise WriteValidationError(f"journal entry {entry_id} was written on {entry.get('url')}, not on {url}")
    lists: dict[str, list[tuple[int, bytes]]] = {}
    hashes: list[tuple[str, str, bytes]] = []
    for n, rec in enumerate(entry.get("removed") or []):
        value = decode_value(rec["value"])
        if rec["type"] == "list":
            pos = rec.get("position")
            lists.setdefault(rec["key"], []).append((int(pos) if pos is not None else n, value))
        else:
            hashes.append((rec["key"], rec["field"], value))
    plan = WritePlan("undo", url)
    for key, items in lists.items():
        items.sort(key=lambda item: item[0])
        for pos, value in items:
            plan.add("LINSERT", key, "BEFORE", f"<element now at {pos}>", value,
                     note=f"back at position {pos} (RPUSH if the list is shorter now)")
    for key, field, value in hashes:
        plan.add("HSETNX", key, field, value)
    plan.result = {"undo_of": entry_id, "pushed": sum(map(len, lists.values())), "restored": len(hashes)}
    if dry_run:
        return plan
    key_index: dict[str, int] = {}
    args: list[Any] = [len(lists)]
    for key, items in lists.items():
        args += [key_index.setdefault(key, len(key_index) + 1), len(items)]
        for pos, value in items:
            args += [pos, value]
    for key, field, value in hashes:
        args += [key_index.setdefault(key, len(key_index) + 1), field, value]
    pushed, restored, skipped = (int(x) for x in SCRIPTS["restore"](client, list(key_index), args))
    result = {"undo_of": entry_id, "pushed": pushed, "restored": restored, "skipped": skipped}
    entry2 = journal.append(helper="undo", url=url, commands=list(plan.commands), result=result, undo_of=entry_id)
    return {**result, "journal_id": entry2["id"]}


__all__ = [
    "Batch", "Found", "Row", "cancel_jobs", "delete_jobs", "purge_queue", "requeue_jobs",
    "selection_rows", "undo",
]
