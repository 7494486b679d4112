"""Argument checks shared by the write helpers: each raises WriteValidationError, never writes."""

from __future__ import annotations

import math
import numbers
import re
import unicodedata
from collections.abc import Mapping
from typing import Any

from ..errors import ReadOnlyError, WriteValidationError

_WRITE_ID = re.compile(r"[A-Za-z0-9_:.\-]{1,200}")


def is_missing(value: Any) -> bool:
    """None, NaN, ``pd.NA`` or ``NaT`` (what a DataFrame cell holds when empty)."""
    if value is None:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    name = type(value).__name__
    return name in ("NAType", "NaTType")


def int_like(name: str, value: Any, *, minimum: int = 0) -> int:
    """An int, a numpy integer, an integral float or a decimal string -> int."""
    if isinstance(value, bool) or is_missing(value):
        raise WriteValidationError(f"{name} must be an integer, got {value!r}")
    if isinstance(value, numbers.Integral):
        out = int(value)
    elif isinstance(value, numbers.Real) and float(value).is_integer():
        out = int(float(value))
    elif isinstance(value, (str, bytes)):
        text = value.decode() if isinstance(value, bytes) else value
        if not text.strip().isdigit():
            raise WriteValidationError(f"{name} must be an integer, got {value!r}")
        out = int(text)
    else:
        raise WriteValidationError(f"{name} must be an integer, got {value!r}")
    if out < minimum:
        raise WriteValidationError(f"{name} must be >= {minimum}, got {out}")
    return out


def text(name: str, value: Any, *, empty: bool = False) -> str:
    """A str (non-empty unless ``empty``)."""
    if not isinstance(value, str):
        raise WriteValidationError(f"{name} must be a string, got {value!r}")
    if not empty and not value.strip():
        raise WriteValidationError(f"{name} must not be empty")
    return value


MAX_NAME = 200
"""Longest name, role, organization, category, cmd or queue accepted (characters)."""
_GLOB = frozenset("*?[]")
_CONTROL = frozenset(("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"))


def _describe(ch: str) -> str:
    name = unicodedata.name(ch, "")
    return f"{ch!r} (U+{ord(ch):04X}{' ' + name if name else ''})"


def key_part(name: str, value: Any, *, colon: bool = False, empty: bool = False) -> str:
    """A name that becomes part of a Redis key, a hash field or a worker's file name.

    Refused: whitespace, control characters and NUL, ``/`` ``\\`` and ``..`` (a path on the
    node), glob characters ``* ? [ ]`` (they would match other keys in a SCAN pattern), ``:``
    unless ``colon`` (it separates key parts), and more than :data:`MAX_NAME` characters.

    >>> key_part("role", "node")
    'node'
    >>> key_part("role", "a\\nb")
    Traceback (most recent call last):
    ...
    jsadmin.errors.WriteValidationError: role 'a\\nb' contains '\\n' (U+000A); whitespace and control characters would form a different or unreadable key
    """
    value = text(name, value, empty=empty)
    if len(value) > MAX_NAME:
        raise WriteValidationError(f"{name} is {len(value)} characters long; at most {MAX_NAME} are accepted")
    shown = value if len(value) <= 60 else value[:57] + "..."
    for ch in value:
        if ch.isspace() or unicodedata.category(ch) in _CONTROL:
            raise WriteValidationError(
                f"{name} {shown!r} contains {_describe(ch)}; whitespace and control characters "
                "would form a different or unreadable key"
            )
        if ch in _GLOB:
            raise WriteValidationError(f"{name} {shown!r} contains the glob character {ch!r}, which would "
                                       "match other keys in a SCAN pattern")
    if "/" in value or "\\" in value or ".." in value:
        raise WriteValidationError(f"{name} {shown!r} contains '/', '\\' or '..': it would name another path "
                                   "on the node (workers write <organization>_<name>.py files)")
    if not colon and ":" in value:
        raise WriteValidationError(f"{name} must be a plain {name} name without ':' (it separates the parts "
                                   f"of a key), got {shown!r}")
    return value


def flag(name: str, value: Any) -> bool:
    """A bool (numpy bools accepted), nothing else."""
    if type(value).__name__ in ("bool", "bool_"):
        return bool(value)
    raise WriteValidationError(f"{name} must be True or False, got {value!r}")


def number_or_none(name: str, value: Any) -> int | float | None:
    """None, or a finite non-negative int/float (ints stay ints)."""
    if is_missing(value):
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise WriteValidationError(f"{name} must be a number or None, got {value!r}")
    if isinstance(value, numbers.Integral):
        if value < 0:
            raise WriteValidationError(f"{name} must be >= 0, got {value!r}")
        return int(value)
    out = float(value)
    if not math.isfinite(out) or out < 0:
        raise WriteValidationError(f"{name} must be a finite number >= 0, got {value!r}")
    return out


def mapping(name: str, value: Any) -> dict[str, Any]:
    """A dict (None -> {})."""
    if is_missing(value):
        return {}
    if not isinstance(value, Mapping):
        raise WriteValidationError(f"{name} must be a dict of keyword arguments, got {type(value).__name__}")
    return dict(value)


def require_writable(admin: Any, helper: str) -> None:
    """Raise ReadOnlyError when ``admin.readonly`` is true (first check of every helper)."""
    if getattr(admin, "readonly", False):
        url = getattr(admin, "url", "?")
        raise ReadOnlyError(
            f"{helper}() refused: this Admin on {url} was opened read-only "
            "(jsadmin.connect(..., readonly=True)), so it never writes to Redis. "
            "Open another one with readonly=False to write."
        )


def write_id(value: Any) -> str:
    """A write id: 1..200 characters of ``[A-Za-z0-9_:.-]`` (uuid4 hex, or ``undo:<id>:<n>``)."""
    if not isinstance(value, str) or not _WRITE_ID.fullmatch(value):
        raise WriteValidationError(f"write_id must be 1..200 characters of A-Za-z0-9_:.-, got {value!r}")
    return value
