"""cleanup_leftovers: JumpScale 6 leftovers removed through a previewed, journalled, undoable plan."""

from __future__ import annotations

import pytest
import redis

from jsadmin.catalog import FAMILIES
from jsadmin.demogrid import seed_demo
from jsadmin.errors import WriteValidationError
from jsadmin.writes.leftovers import leftover_families
from jsadmin.writes.plan import WritePlan

from .conftest import _A, snapshot, writes_seen

LEGACY_KEYS = {"workers:watchdog", "workers:sessions", "healthcheck:status", "healthcheck:lastcheck",
               "healthcheck:monitoring"}


def test_leftover_families_are_exactly_the_non_current_hashes() -> None:
    fams = leftover_families()
    assert {k for keys in fams.values() for k in keys} == LEGACY_KEYS
    assert all(FAMILIES[n].status != "current" for n in fams)


def test_cleanup_preview_apply_and_undo_on_the_demo_grid(adm: _A, r: redis.Redis) -> None:
    seed_demo(r, seed=7)
    before = snapshot(r)
    legacy = {k: r.hgetall(k) for k in LEGACY_KEYS}
    assert all(legacy.values())  # the demo seeds every JumpScale 6 leftover
    r.config_resetstat()
    plan = adm.cleanup_leftovers(dry_run=True)
    assert isinstance(plan, WritePlan) and writes_seen(r) == set()
    assert snapshot(r) == before
    planned = {(c[1], c[2]) for c in plan.commands}
    expected = {(k, f.decode()) for k, fields in legacy.items() for f in fields}
    assert planned == expected  # exactly the legacy fields, nothing else
    assert {c[0] for c in plan.commands} == {"HDEL"}
    assert any("eco_incr" in w for w in plan.warnings)  # legacy strings are named, not deleted
    assert list(plan.result.columns)[:3] == ["family", "key", "field"]

    out = adm.cleanup_leftovers()
    assert out.frame["removed"].all() and len(out) == len(expected) == out.removed
    assert out.note is not None and "eco_incr" in out.note  # what it left alone, in words
    assert not any(r.exists(k) for k in LEGACY_KEYS)
    after = snapshot(r)
    # nothing but the legacy keys (and jsadmin's write markers) changed
    changed = {k for k in set(before) | set(after) if before.get(k) != after.get(k)}
    assert {k.decode() for k in changed if not k.startswith(b"jsadmin:write:")} == LEGACY_KEYS
    entry = adm.journal().set_index("id").loc[out.journal_id]
    assert entry["helper"] == "cleanup_leftovers"

    adm.undo(out.journal_id)
    assert {k: r.hgetall(k) for k in LEGACY_KEYS} == legacy
    with pytest.raises(WriteValidationError, match="already undone"):
        adm.undo(out.journal_id)


def test_cleanup_selects_families_and_refuses_current_ones_and_wrong_types(adm: _A, r: redis.Redis) -> None:
    r.execute_command("HMSET", "workers:watchdog", "worker_default_0", 1400000000, "worker_io_0", 0)
    r.hset("jobs:1", "a" * 32, '{"guid": "' + "a" * 32 + '", "state": "STARTED", "timeCreate": 1400000000}')
    plan = adm.cleanup_leftovers(families=["worker_watchdog"], dry_run=True)
    assert sorted((c[1], c[2]) for c in plan.commands) == [("workers:watchdog", "worker_default_0"),
                                                           ("workers:watchdog", "worker_io_0")]
    with pytest.raises(WriteValidationError, match="jobs \\(current\\)"):
        adm.cleanup_leftovers(families=["jobs"])
    r.set("workers:sessions", "not a hash")
    with pytest.raises(WriteValidationError, match="refused before writing anything"):
        adm.cleanup_leftovers()
    r.delete("workers:sessions")
    assert r.hexists("jobs:1", "a" * 32)  # a decade-old entry of a current family is never touched
    readonly = _A(r, readonly=True)
    with pytest.raises(Exception, match="read-only"):
        readonly.cleanup_leftovers(dry_run=True)
