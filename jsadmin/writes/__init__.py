"""Write helpers: enqueue jobs and register jumpscripts as a real JumpScale 7 grid would.

Every helper is atomic (one Lua script per write, preconditions checked before any mutation),
accepts ``dry_run=True`` (returns a :class:`WritePlan`, touches nothing) and is journalled.
Writes are sent once, never retried: each runs under a write id whose marker
``jsadmin:write:<id>`` (7-day TTL) makes a re-run harmless and lets a lost reply be resolved
(:mod:`jsadmin.writes.scripts`). :class:`WritesMixin` is mixed into ``jsadmin.Admin``.
"""

from __future__ import annotations

from .api import WritesMixin
from .plan import WritePlan
from .results import ManageResult, PurgeResult, UndoResult

__all__ = ["ManageResult", "PurgeResult", "UndoResult", "WritePlan", "WritesMixin"]
