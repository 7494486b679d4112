"""Clean up JumpScale 6 leftovers through a previewed, journalled, undoable plan.

A production Redis keeps keys no JumpScale 7 process writes any more: the catalog marks their
families ``legacy``, ``read-only`` or ``broken`` (``workers:watchdog``, ``workers:sessions``,
``healthcheck:status``, ``healthcheck:lastcheck``, ``healthcheck:monitoring``). They make every
health view look broken. :func:`cleanup_leftovers` removes the fields of those hashes, and only
those: it reads each field's exact value (``HSCAN``), and each removal is an ``HDEL`` that the
shared ``remove_values`` script performs only if the field still holds that exact value. The
values are journalled before each chunk is sent (undo puts them back with ``HSETNX``); chunks
are marker-guarded like every jsadmin write. Families whose status is ``current`` are never
touched, whatever their age.

>>> plan = admin.cleanup_leftovers(dry_run=True); plan          # doctest: +SKIP
>>> done = admin.cleanup_leftovers(); admin.undo(done.journal_id)   # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pandas as pd
import redis

from ..catalog import FAMILIES
from ..errors import WriteValidationError
from .journal import Journal
from .manage import Found, _apply_removals, _check_types, _removal_plan, removal_chunks
from .plan import WritePlan
from .results import ManageResult

HELPER = "cleanup_leftovers"
SCAN_COUNT = 500


def leftover_families() -> dict[str, tuple[str, ...]]:
    """``{family: fixed hash keys}`` of every catalog family that is not ``current`` and is a hash
    at fixed keys: the families :func:`cleanup_leftovers` may clean.

    >>> sorted(leftover_families())[:2]
    ['healthcheck_lastcheck', 'healthcheck_monitoring']
    """
    return {
        name: fam.fixed_keys
        for name, fam in sorted(FAMILIES.items())
        if fam.status != "current" and fam.redis_type == "hash" and fam.fixed_keys and not fam.globs
    }


def _untouched_note() -> str | None:
    """Leftover families this helper does not clean (not hashes at fixed keys), for the plan."""
    other = sorted(
        name for name, fam in FAMILIES.items()
        if fam.status != "current" and name not in leftover_families()
    )
    if not other:
        return None
    return (f"left alone (not hash fields at a fixed key; delete by hand if you must): {', '.join(other)}; "
            "current families are never touched, however old their entries")


def _as_bytes(value: Any) -> bytes:
    return value if isinstance(value, bytes) else str(value).encode("utf-8")


def find_leftovers(client: redis.Redis, families: Iterable[str] | None = None) -> list[Found]:
    """Every field (with its exact value) of the selected leftover families' hashes (HSCAN, bounded
    per call). ``families`` defaults to all of :func:`leftover_families`; naming a current family
    is refused."""
    allowed = leftover_families()
    names = list(allowed) if families is None else list(families)
    bad = [n for n in names if n not in allowed]
    if bad:
        status = {n: FAMILIES[n].status if n in FAMILIES else "unknown" for n in bad}
        raise WriteValidationError(
            f"cleanup_leftovers cleans only legacy hash families {sorted(allowed)}; refused: "
            + ", ".join(f"{n} ({s})" for n, s in status.items())
        )
    wanted = {key: "hash" for n in names for key in allowed[n]}
    _check_types(client, wanted)
    found: list[Found] = []
    for name in names:
        for key in allowed[name]:
            for field, value in client.hscan_iter(key, count=SCAN_COUNT):
                field_text = field.decode("utf-8", errors="replace") if isinstance(field, bytes) else str(field)
                found.append(Found("hash", key, _as_bytes(value), f"{name}:{field_text}", field=field_text))
    return found


def _with_family(frame: pd.DataFrame) -> pd.DataFrame:
    """The removal frame with ``family`` instead of the job-oriented ``guid`` column."""
    out = frame.copy()
    out.insert(0, "family", out["guid"].str.split(":", n=1).str[0].astype("string"))
    return out.drop(columns=["guid"])


def cleanup_leftovers(
    client: redis.Redis,
    *,
    url: str,
    journal: Journal,
    families: Iterable[str] | None = None,
    dry_run: bool = False,
) -> ManageResult | WritePlan[pd.DataFrame]:
    """Remove the fields of legacy/dead hash families (see the module docstring).

    ``dry_run=True`` returns a :class:`WritePlan` listing every ``HDEL`` (key, field, the exact
    value it expects) and touches nothing. Otherwise returns a
    :class:`~jsadmin.writes.results.ManageResult` whose frame has one row per field: ``family``,
    ``key``, ``field``, ``type``, ``removed`` (False when the value changed meanwhile: left
    alone), ``write_id``; its ``journal_id`` is the entry :meth:`Admin.undo` takes and its
    ``note`` names the leftover families this helper leaves alone.

    >>> cleanup_leftovers(client, url=url, journal=j, dry_run=True).to_frame()   # doctest: +SKIP
    """
    found = find_leftovers(client, families)
    chunks = removal_chunks([], found)
    note = _untouched_note()
    if dry_run:
        plan = _removal_plan(HELPER, url, chunks, [])
        plan.notes = [n.replace("(and, for cancel, the queue entry was removed)", "").replace("  ", " ")
                      for n in plan.notes]
        if note:
            plan.warnings.append(note)
        plan.result = _with_family(plan.result)
        return plan
    return _apply_removals(client, HELPER, url, journal, chunks, [], shape=_with_family, note=note)


__all__ = ["cleanup_leftovers", "find_leftovers", "leftover_families"]
