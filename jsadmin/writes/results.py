"""Typed results of the management writes: what a cancel, delete, cleanup, requeue, purge or undo did.

Every destructive helper journals its values first; its result names that journal entry
(``journal_id``, what :meth:`Admin.undo` takes) beside what it did. The same object is the
``.result`` of a :class:`~jsadmin.errors.PartialWriteError` when the helper stopped part-way.

=================================================  ==========================================
helper                                             returns
=================================================  ==========================================
``cancel_jobs``, ``delete_jobs``,                  :class:`ManageResult` (one row per value /
``cleanup_leftovers``, ``requeue_jobs``            clone in ``frame``)
``purge_queue``                                    :class:`PurgeResult`
``undo``                                           :class:`UndoResult`
=================================================  ==========================================

``enqueue_job`` and ``register_jumpscript`` return the job / jumpscript dict as written, and
``enqueue_jobs`` its per-job frame: the objects written, with nothing beside them to report.

>>> done = admin.cancel_jobs(queued)                              # doctest: +SKIP
>>> done.removed, done.not_found, done.journal_id                 # doctest: +SKIP
(6, (), '1f0c...')
>>> admin.undo(done.journal_id).pushed                            # doctest: +SKIP
6
"""

from __future__ import annotations

import html
from dataclasses import dataclass, fields
from typing import Any

import pandas as pd

_DONE_COLUMNS = ("removed", "written")
"""The per-row outcome column of a result frame: removals say ``removed``, clones ``written``."""


@dataclass(frozen=True, eq=False)
class ManageResult:
    """What ``cancel_jobs``, ``delete_jobs``, ``cleanup_leftovers`` or ``requeue_jobs`` did.

    ``frame``: one row per value removed (``guid``/``family``, ``key``, ``field``, ``type``,
    ``removed`` True/False/NA when unknown, ``write_id``) or, for ``requeue_jobs``, per clone
    (``source_guid`` then the ``enqueue_jobs`` columns, ``written``). ``journal_id``: the journal
    entry (``None`` when nothing was sent); ``not_found``: selected jobs no longer in Redis,
    skipped; ``note``: what was left alone, in words.

    >>> r = ManageResult("cancel_jobs", pd.DataFrame({"removed": [True, False]}), "e1")
    >>> r.removed, len(r)
    (1, 2)
    """

    helper: str
    frame: pd.DataFrame
    journal_id: str | None
    not_found: tuple[str, ...] = ()
    note: str | None = None

    def __len__(self) -> int:
        return len(self.frame)

    @property
    def removed(self) -> int:
        """Rows that certainly landed (values removed, or clones written)."""
        for col in _DONE_COLUMNS:
            if col in self.frame.columns:
                return int(self.frame[col].fillna(False).astype(bool).sum())
        return 0

    @property
    def unknown(self) -> int:
        """Rows whose outcome is unknown (a lost reply): settle them with ``undo`` or ``write_status``."""
        for col in _DONE_COLUMNS:
            if col in self.frame.columns:
                return int(self.frame[col].isna().sum())
        return 0

    def _summary(self) -> str:
        verb = "written" if "written" in self.frame.columns else "removed"
        text = f"{self.helper}: {self.removed} of {len(self)} {verb}"
        if self.unknown:
            text += f", {self.unknown} unknown"
        text += f"; journal entry {self.journal_id}" if self.journal_id else "; nothing sent"
        return text

    def __repr__(self) -> str:
        lines = [f"ManageResult({self._summary()})"]
        if self.note:
            lines.append(f"  ! {self.note}")
        if len(self.frame):
            lines.append(self.frame.to_string(max_rows=20, max_colwidth=40))
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        note = f"<p><small>{html.escape(self.note)}</small></p>" if self.note else ""
        return (
            f'<div class="jsadmin-result"><p><b>{html.escape(self._summary())}</b></p>{note}'
            f"{self.frame.to_html(max_rows=50, index=False)}</div>"
        )


def _counts_as_dict(result: PurgeResult | UndoResult) -> dict[str, Any]:
    """The fields of a counts result as a dict, but its constant ``helper`` (what the journal
    entry records as its result, plus ``journal_id``)."""
    return {f.name: getattr(result, f.name) for f in fields(result) if f.name != "helper"}


@dataclass(frozen=True, kw_only=True)
class PurgeResult:
    """What ``purge_queue`` did: ``removed`` values of ``key`` (``consumed_meanwhile`` were popped
    by a consumer between a read and its trim), in ``chunks`` scripts; ``unknown`` values of a
    chunk whose reply was lost; ``journal_id`` for :meth:`Admin.undo`.

    >>> PurgeResult(key="q", removed=3, consumed_meanwhile=0, chunks=1, unknown=0, journal_id="e1").removed
    3
    """

    key: str
    removed: int
    consumed_meanwhile: int
    chunks: int
    unknown: int
    journal_id: str | None
    helper: str = "purge_queue"

    as_dict = _counts_as_dict


@dataclass(frozen=True, kw_only=True)
class UndoResult:
    """What ``undo`` put back: ``pushed`` list values, ``restored`` hash entries, ``skipped``
    (a hash entry written since is never overwritten), ``already_undone_chunks`` (restored by an
    earlier undo); ``undo_of`` is the entry undone, ``journal_id`` the undo's own entry.

    >>> UndoResult(undo_of="e1", pushed=2, restored=1, skipped=0, already_undone_chunks=0, journal_id="e2").pushed
    2
    """

    undo_of: str
    pushed: int
    restored: int
    skipped: int
    already_undone_chunks: int
    journal_id: str | None
    helper: str = "undo"

    as_dict = _counts_as_dict


WriteResult = ManageResult | PurgeResult | UndoResult
"""Any management result; each has ``helper`` and ``journal_id``."""

__all__ = ["ManageResult", "PurgeResult", "UndoResult", "WriteResult"]
