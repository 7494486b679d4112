"""The write-safety contract's error classes, in one place for the fault suite."""

from __future__ import annotations

from jsadmin.errors import PartialWriteError, WriteError, WriteNotApplied, WriteOutcomeUnknown

__all__ = ["PartialWriteError", "WriteError", "WriteNotApplied", "WriteOutcomeUnknown"]
