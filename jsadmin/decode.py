"""Decoding of JumpScale 7 values: one lenient JSON parser and the bare-text coercions of redis-py 2.x.

Three JSON dialects coexist (spec §8.1): compact ujson (``\\/`` escapes, ``\\uXXXX``), pretty
stdlib json (trailing spaces, raw UTF-8, ``NaN``) and Lua cjson. :func:`loads` reads all of them.
Bare values were written through redis-py 2.x coercion (§8.2): ``"True"``/``"False"``, ``"None"``,
float ``repr`` text.

>>> loads(b'{"path":"\\\\/opt\\\\/x","t":NaN}')["path"]
'/opt/x'
>>> parse_bool(b"False"), parse_int(b"42"), parse_epoch(b"0")
(False, 42, None)
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from typing import Any

import orjson

RAW_LIMIT = 200
"""Bytes of a bad value kept in a :class:`Problem` report."""
MAX_DEPTH = 100
"""JSON nested deeper than this is reported, not decoded: deeper values crash ``repr``, ``copy``,
Parquet and JSON writers further on (Python's recursion limit), and no JumpScale writer nests
more than a few levels."""


class DecodeError(ValueError):
    """A value that does not decode, or decodes to the wrong shape."""


@dataclass(frozen=True)
class Problem:
    """One value jsadmin could not decode; it is reported, never dropped silently."""

    family: str
    key: str
    field: str | None
    error: str
    raw: bytes

    @classmethod
    def of(cls, family: str, key: bytes | str, field: Any, error: str, raw: bytes | None) -> Problem:
        k = key.decode("utf-8", "backslashreplace") if isinstance(key, bytes) else str(key)
        if isinstance(field, bytes):
            field = field.decode("utf-8", "backslashreplace")
        elif field is not None:
            field = str(field)
        data = raw if isinstance(raw, bytes) else (b"" if raw is None else str(raw).encode())
        return cls(family, k, field, error, data[:RAW_LIMIT])

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def loads(raw: bytes | str) -> Any:
    """Parse JSON in any of JumpScale's dialects (``NaN``/``Infinity`` and trailing spaces included).

    Raises :class:`DecodeError` with a short reason, also for values nested deeper than
    :data:`MAX_DEPTH` and for text holding lone UTF-16 surrogates (not representable as UTF-8).
    """
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        pass
    else:
        _check_depth(value, raw)
        return value
    try:  # stdlib accepts NaN / Infinity (written by Python's json) and big numbers (1e400 -> inf)
        value = json.loads(raw)
    except RecursionError:
        raise DecodeError(f"JSON nested deeper than {MAX_DEPTH} levels") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise DecodeError(f"invalid JSON: {exc}") from None
    _check_tree(value)
    return value


def nesting_depth(value: Any, stop: int = MAX_DEPTH) -> int:
    """Levels of dicts/lists in a decoded JSON value (``1`` for ``{}``); stops counting past ``stop``.

    >>> nesting_depth({"a": [1, {"b": []}]})
    4
    """
    depth = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        v, d = stack.pop()
        children = v.values() if isinstance(v, dict) else v
        if d > depth:
            depth = d
            if depth > stop:
                return depth
        stack.extend((c, d + 1) for c in children if isinstance(c, dict | list))
    return depth


def _check_depth(value: Any, raw: bytes | str) -> None:
    """Raise :class:`DecodeError` when ``value`` nests deeper than :data:`MAX_DEPTH`.

    Counting brackets in the raw text is a C-speed pre-check: fewer than ``MAX_DEPTH`` of them
    cannot nest that deep, so the walk runs only for the rare value with many brackets.
    """
    if not isinstance(value, dict | list):
        return
    if isinstance(raw, str):
        brackets = raw.count("[") + raw.count("{")
    else:
        brackets = raw.count(b"[") + raw.count(b"{")
    if brackets > MAX_DEPTH and nesting_depth(value) > MAX_DEPTH:
        raise DecodeError(f"JSON nested deeper than {MAX_DEPTH} levels")


def _check_tree(value: Any) -> None:
    """Depth and text checks for values the stdlib parser accepted (orjson refuses them itself)."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        v, d = stack.pop()
        if isinstance(v, str):
            _check_text(v)
        elif isinstance(v, dict | list):
            if d >= MAX_DEPTH:
                raise DecodeError(f"JSON nested deeper than {MAX_DEPTH} levels")
            if isinstance(v, dict):
                for k in v:
                    _check_text(k)
                stack.extend((c, d + 1) for c in v.values())
            else:
                stack.extend((c, d + 1) for c in v)


def _check_text(s: str) -> None:
    if not s.isascii():
        try:
            s.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise DecodeError(f"text with a lone surrogate {s[exc.start]!r} (not valid UTF-8)") from None


def loads_object(raw: bytes | str) -> dict[str, Any]:
    """:func:`loads` that insists on a JSON object."""
    value = loads(raw)
    if not isinstance(value, dict):
        raise DecodeError(f"expected a JSON object, got {type(value).__name__}")
    return value


def loads_many(values: list[bytes], lenient: list[int] | None = None) -> list[Any]:
    """Parse many JSON values; a bad one becomes a :class:`DecodeError` instance in its slot.

    ``lenient`` (when given) gets the index of each value orjson refused that the lenient
    parser decoded (``NaN``, ``1e400``, ...): only those may hold non-finite floats.

    >>> slow = []; loads_many([b"1", b"NaN", b"{"], slow)[:1], slow
    ([1], [1])
    """
    fast = orjson.loads
    try:  # the common case: every value is plain JSON, parsed in one C-speed loop
        out: list[Any] = [fast(raw) for raw in values]
    except orjson.JSONDecodeError:
        out = _loads_each(values, lenient)
    shortest_deep = 2 * MAX_DEPTH  # nesting deeper than MAX_DEPTH takes more bracket bytes than this
    # a value nesting deeper than MAX_DEPTH has more than 2 * MAX_DEPTH brackets (open and close):
    # one translate per value screens them; the few it finds are walked
    for i in [i for i, raw in enumerate(values)
              if len(raw) > shortest_deep and len(raw.translate(None, _NOT_BRACKETS)) > shortest_deep]:
        if not isinstance(out[i], DecodeError):
            try:
                _check_depth(out[i], values[i])
            except DecodeError as exc:
                out[i] = exc
    return out


_NOT_BRACKETS = bytes(c for c in range(256) if c not in b"[]{}")


def _loads_each(values: list[bytes], lenient: list[int] | None) -> list[Any]:
    """:func:`loads_many` value by value, for a batch holding a value orjson refuses."""
    out: list[Any] = []
    append = out.append
    fast = orjson.loads
    for raw in values:
        try:
            append(fast(raw))
        except orjson.JSONDecodeError:
            try:
                append(loads(raw))
            except DecodeError as exc:
                append(exc)
            else:
                if lenient is not None:
                    lenient.append(len(out) - 1)
    return out


def text(raw: bytes | str | None) -> str | None:
    """UTF-8 text of a bare value (invalid bytes raise :class:`DecodeError`)."""
    if raw is None:
        return None
    if isinstance(raw, str):
        return raw
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DecodeError(f"not UTF-8 text: {exc.reason} at byte {exc.start}") from None


_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off", ""}


def parse_bool(raw: Any) -> bool | None:
    """``True``/``False`` from JSON booleans, 0/1 and the texts ``"True"``, ``"False"``, ``"1"``, ``"0"``.

    ``None``/``"None"`` give ``None``; anything else raises :class:`DecodeError`.
    """
    if raw is None or isinstance(raw, bool):
        return raw
    if isinstance(raw, int | float) and raw in (0, 1):
        return bool(raw)
    s = text(raw) if isinstance(raw, bytes) else raw
    if isinstance(s, str):
        low = s.strip().lower()
        if low in _TRUE:
            return True
        if low in _FALSE:
            return False
        if low in ("none", "null"):
            return None
    raise DecodeError(f"not a boolean: {raw!r:.60}")


def parse_number(raw: Any) -> float | int | None:
    """An int or float from a JSON number or decimal text; ``None``/``"None"``/``""`` give ``None``."""
    if raw is None or isinstance(raw, bool):
        return None if raw is None else int(raw)
    if isinstance(raw, int | float):
        return raw
    s = text(raw) if isinstance(raw, bytes) else raw
    if isinstance(s, str):
        s = s.strip()
        if s in ("", "None", "null"):
            return None
        try:
            return int(s)
        except ValueError:
            try:
                return float(s)
            except ValueError:
                pass
    raise DecodeError(f"not a number: {raw!r:.60}")


def parse_int(raw: Any) -> int | None:
    """An integer from a JSON number or decimal text (floats with a fraction raise)."""
    n = parse_number(raw)
    if n is None or isinstance(n, int):
        return n
    if math.isfinite(n) and n == int(n):
        return int(n)
    raise DecodeError(f"not an integer: {raw!r:.60}")


def parse_epoch(raw: Any) -> float | None:
    """Epoch seconds (int or float, text or JSON); ``0``, negatives and ``None`` mean missing.

    ``NaN``/``Infinity`` raise :class:`DecodeError`; milliseconds and out-of-range values are
    handled when the column is built (:func:`jsadmin.frames.to_datetime`).
    """
    n = parse_number(raw)
    if n is None:
        return None
    if not math.isfinite(n):
        raise DecodeError(f"not a finite epoch: {raw!r:.60}")
    if n <= 0:
        return None
    try:
        return float(n)
    except OverflowError:
        raise DecodeError(f"epoch out of range: {raw!r:.60}") from None
