"""Exceptions raised by jsadmin. Every one derives from :class:`JsAdminError`."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Any


def did_you_mean(given: str, choices: Iterable[str]) -> str:
    """``" (did you mean 'x'?)"`` for the closest of ``choices``, or ``""`` when none is close.

    >>> did_you_mean("--fromat", ["--format", "--out"]), did_you_mean("zzz", ["jobs"])
    (" (did you mean '--format'?)", '')
    """
    close = difflib.get_close_matches(given, [str(c) for c in choices], n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


class JsAdminError(Exception):
    """Base class of every error jsadmin raises on purpose."""


class ReadOnlyError(JsAdminError):
    """A write helper was called on an ``Admin`` opened with ``readonly=True``."""


class ConnectionConfigError(JsAdminError, ValueError):
    """A connection URL or option that jsadmin cannot use (the message never holds secrets)."""


class RedisServerNotFound(JsAdminError, FileNotFoundError):
    """No ``redis-server`` binary could be found for the embedded default."""


class UnknownFamilyError(JsAdminError, KeyError):
    """A family name that is not in the catalog."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else "unknown family"


class UnknownFilterError(JsAdminError, TypeError, ValueError):
    """A ``load`` filter that names no column of the family: the same error on every source.

    A ``TypeError`` because an unknown filter is an unexpected keyword argument (what
    ``Admin.load`` raised), and a ``ValueError`` because ``Snapshot.load`` raised that: existing
    ``except`` clauses for either keep working.
    """


class WriteValidationError(JsAdminError, ValueError):
    """Arguments of a write helper were refused before anything was written."""


class JobTimeoutError(JsAdminError, TimeoutError):
    """``wait_job`` saw no result within its timeout."""


class UnsupportedByServer(JsAdminError):
    """The connected Redis is too old for what was asked (the message names the version needed)."""


class WriteError(JsAdminError):
    """A write that did not complete as asked. ``write_id`` names it (its marker key is
    ``jsadmin:write:<write_id>``); :meth:`jsadmin.Admin.write_status` tells later what happened.
    """

    def __init__(self, message: str, *, write_id: str | None = None) -> None:
        super().__init__(message)
        self.write_id = write_id


class WriteNotApplied(WriteError):
    """Nothing was written, for certain: the server refused the write before running it, or
    after a lost reply its write id was fenced (a delayed copy can no longer run). Safe to retry.
    """


class WriteRefused(WriteNotApplied):
    """The write's script found a precondition false (a key of the wrong type, a counter that
    is not an integer, an id already present) and wrote nothing. Retrying will not help."""


class WriteOutcomeUnknown(WriteError):
    """The reply was lost and the server could not be reached in time to learn whether the
    write happened. ``Admin.write_status(err.write_id)`` resolves it once the server is back."""


class PartialWriteError(WriteError):
    """A bulk write stopped part-way; the message says how many landed. ``result`` is what the
    helper returns when it completes: the per-job frame of ``enqueue_jobs`` (``write_id``,
    ``written`` True / False / NA when unknown), the ``ManageResult`` of ``cancel_jobs``,
    ``delete_jobs``, ``cleanup_leftovers`` and ``requeue_jobs``, the ``PurgeResult`` of
    ``purge_queue`` or the ``UndoResult`` of ``undo`` (each with its ``journal_id``)."""

    def __init__(self, message: str, *, result: Any, write_id: str | None = None) -> None:
        super().__init__(message, write_id=write_id)
        self.result = result
