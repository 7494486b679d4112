"""jsadmin: the Jupyter-friendly admin SDK for the Redis state of JumpScale 7 grids.

>>> import jsadmin
>>> admin = jsadmin.connect()    # $JSADMIN_URL, else the embedded demo grid  # doctest: +SKIP
>>> admin.load("jobs").head()    # doctest: +SKIP
"""

from __future__ import annotations

from ._version import __version__
from .admin import Admin, connect, demo
from .analytics.source import History, history
from .catalog import FAMILIES, Family, family
from .diffs import Diff, diff
from .errors import (
    ConnectionConfigError,
    JobTimeoutError,
    JsAdminError,
    ReadOnlyError,
    RedisServerNotFound,
    UnknownFamilyError,
    UnknownFilterError,
    WriteValidationError,
)
from .fleets import Fleet, fleet, load_inventory
from .loadinfo import Loaded, LoadInfo
from .snapshot import Snapshot, open_snapshot
from .writes.results import ManageResult, PurgeResult, UndoResult

__all__ = [
    "FAMILIES",
    "Admin",
    "ConnectionConfigError",
    "Diff",
    "Family",
    "Fleet",
    "History",
    "JobTimeoutError",
    "JsAdminError",
    "LoadInfo",
    "Loaded",
    "ManageResult",
    "PurgeResult",
    "ReadOnlyError",
    "RedisServerNotFound",
    "Snapshot",
    "UndoResult",
    "UnknownFamilyError",
    "UnknownFilterError",
    "WriteValidationError",
    "__version__",
    "connect",
    "demo",
    "diff",
    "family",
    "fleet",
    "history",
    "load_inventory",
    "open_snapshot",
]
