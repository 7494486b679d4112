"""Exceptions raised by jsadmin. Every one derives from :class:`JsAdminError`."""

from __future__ import annotations


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


class WriteValidationError(JsAdminError, ValueError):
    """Arguments of a write helper were refused before anything was written."""


class JobTimeoutError(JsAdminError, TimeoutError):
    """``wait_job`` saw no result within its timeout."""


class UnsupportedByServer(JsAdminError):
    """The connected Redis is too old for what was asked (the message names the version needed)."""
