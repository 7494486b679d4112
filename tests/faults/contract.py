"""The write-safety contract's names (BRIEF), looked up so the suite imports before they exist.

Until the transport lands, a missing error class is a stand-in that is never raised, so the
tests that rely on it fail (they do not skip): they describe what must become true.
"""

from __future__ import annotations

from typing import Any

from jsadmin import errors


class _NotYetDefined(Exception):
    """Stand-in for an error class jsadmin does not define yet (never raised)."""


def _error(name: str) -> type[Exception]:
    found: Any = getattr(errors, name, None)
    return found if isinstance(found, type) and issubclass(found, Exception) else _NotYetDefined


WriteError = _error("WriteError")
WriteNotApplied = _error("WriteNotApplied")
WriteOutcomeUnknown = _error("WriteOutcomeUnknown")
PartialWriteError = _error("PartialWriteError")
