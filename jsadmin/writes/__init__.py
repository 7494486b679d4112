"""Write helpers: enqueue jobs and register jumpscripts as a real JumpScale 7 grid would.

Every helper is atomic (one Lua script), accepts ``dry_run=True`` (returns a
:class:`WritePlan`, touches nothing) and is journalled. :class:`WritesMixin` is mixed into
``jsadmin.Admin``.
"""

from __future__ import annotations

from .api import WritesMixin
from .plan import WritePlan

__all__ = ["WritePlan", "WritesMixin"]
