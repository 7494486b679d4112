"""jsadmin: the Jupyter-friendly admin SDK for the Redis state of JumpScale 7 grids.

>>> import jsadmin
>>> admin = jsadmin.connect()            # $JSADMIN_URL, else the embedded demo grid  # doctest: +SKIP
>>> admin.load("jobs").head()            # doctest: +SKIP
"""

from __future__ import annotations

from ._version import __version__
from .admin import Admin, connect, demo
from .catalog import FAMILIES, Family, family
from .errors import (
    ConnectionConfigError,
    JobTimeoutError,
    JsAdminError,
    ReadOnlyError,
    RedisServerNotFound,
    UnknownFamilyError,
    WriteValidationError,
)

__all__ = [
    "FAMILIES",
    "Admin",
    "ConnectionConfigError",
    "Family",
    "JobTimeoutError",
    "JsAdminError",
    "ReadOnlyError",
    "RedisServerNotFound",
    "UnknownFamilyError",
    "WriteValidationError",
    "__version__",
    "connect",
    "demo",
    "family",
]
