"""The JSON byte forms of JumpScale 7, once (spec §8.1, §8.2): every writer of jsadmin, the demo seed
and the live demo grid serialise through here.

* :func:`ujson_dumps`: the agentcontroller's and workers' compact ujson (jobs, jumpscripts, logs,
  ECO stubs), at full float precision (jsadmin's writes) or ujson 1.35's 10 digits (the demo grid);
* :func:`pretty_dumps`: Python 2 ``json`` pretty form (worker-queue items);
* :func:`cjson_dumps`: Lua cjson (full ECOs in ``eco:objects``);
* :func:`py2_text`: bare values coerced to text by redis-py 2.x (``True``, ``None``, float ``repr``).

>>> ujson_dumps({"path": "/opt/js", "msg": "caf\\u00e9", "t": 1539600000.123456}, double_precision=UJSON_135)
'{"path":"\\\\/opt\\\\/js","msg":"caf\\\\u00e9","t":1539600000.1234560013}'
>>> py2_text(None), py2_text(True), py2_text(0.5)
(b'None', b'True', b'0.5')
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson

__all__ = ["UJSON_135", "cjson_dumps", "pretty_dumps", "py2_text", "ujson_dumps", "ujson_fast"]

UJSON_135 = 10
"""``double_precision`` of ujson 1.35, the version JumpScale 7 ran."""

_ENCODER = json.JSONEncoder(ensure_ascii=True, separators=(",", ":"), allow_nan=False)
# Types orjson would serialise but the standard encoder refuses go to the strict path.
_OPTS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_SUBCLASS


def ujson_fast(obj: Any) -> str | None:
    """The orjson path alone: the text, or None when the strict encoder must decide."""
    try:
        out = orjson.dumps(obj, option=_OPTS)
    except TypeError:  # orjson.JSONEncodeError: big ints, int keys, passthrough types, ...
        return None
    if out.isascii() and b"null" not in out:
        # A "/" can only occur inside JSON strings, so a plain replace is an exact escape.
        return out.replace(b"/", b"\\/").decode("ascii")
    return None


_UJSON_THRES_MAX = 1e16 - 1


def _ujson_float(value: float, precision: int = UJSON_135) -> str:
    """Port of ujson 1.35 ``Buffer_AppendDoubleUnchecked`` (``double_precision=10`` by default)."""
    if math.isnan(value) or math.isinf(value):
        raise ValueError(f"ujson cannot encode {value!r} (Invalid {'Nan' if math.isnan(value) else 'Inf'} value)")
    neg = value < 0
    if neg:
        value = -value
    if value > _UJSON_THRES_MAX:
        return format(-value if neg else value, ".15e")
    whole = int(value)
    pow10 = 10.0**precision
    tmp = (value - float(whole)) * pow10
    frac = int(tmp)
    diff = tmp - frac
    if diff > 0.5:
        frac += 1
        if frac >= pow10:
            frac = 0
            whole += 1
    elif diff == 0.5 and (frac == 0 or frac & 1):
        frac += 1
    if frac:
        digits = str(frac).rjust(precision, "0").rstrip("0")
        text = f"{whole}.{digits}"
    else:
        text = f"{whole}.0"
    return "-" + text if neg else text


def _ujson_str(value: str) -> str:
    # stdlib json with ensure_ascii escapes exactly like ujson 1.35 (same short escapes, lower-case
    # \u00xx for control characters, \uXXXX with surrogate pairs); ujson also escapes "/".
    return json.dumps(value).replace("/", "\\/")


def _ujson_key(key: Any, precision: int) -> str:
    if isinstance(key, str):
        return key
    if isinstance(key, bool) or key is None:
        raise TypeError(f"ujson_dumps: unsupported dict key {key!r}")
    if isinstance(key, int):
        return str(key)
    if isinstance(key, float):
        return _ujson_float(key, precision)
    if isinstance(key, bytes):
        return key.decode("utf-8")
    raise TypeError(f"ujson_dumps: unsupported dict key {key!r}")


@dataclass(frozen=True)
class _Dialect:
    """How one JSON dialect writes what differs: string literals, numbers, dict keys, empty lists."""

    name: str
    text: Callable[[str], str]
    scalar: Callable[[Any], str | None]
    """Numbers (and bytes where the dialect takes them) as text; ``None``: not serializable."""
    key: Callable[[Any], str]
    empty_list: str = "[]"


def _walk(obj: Any, out: list[str], d: _Dialect) -> None:
    if obj is None:
        out.append("null")
    elif obj is True:
        out.append("true")
    elif obj is False:
        out.append("false")
    elif isinstance(obj, str):
        out.append(d.text(obj))
    elif isinstance(obj, Mapping):
        out.append("{")
        for index, (key, value) in enumerate(obj.items()):
            out.append("," + d.text(d.key(key)) + ":" if index else d.text(d.key(key)) + ":")
            _walk(value, out, d)
        out.append("}")
    elif isinstance(obj, (list, tuple)):
        if not obj:
            out.append(d.empty_list)
            return
        out.append("[")
        for index, value in enumerate(obj):
            if index:
                out.append(",")
            _walk(value, out, d)
        out.append("]")
    else:
        text = d.scalar(obj)
        if text is None:
            raise TypeError(f"{d.name}: {type(obj).__name__} is not JSON serializable")
        out.append(text)


def _ujson_scalar(precision: int) -> Callable[[Any], str | None]:
    def scalar(obj: Any) -> str | None:
        if isinstance(obj, int):
            return str(int(obj))
        if isinstance(obj, float):
            return _ujson_float(obj, precision)
        if isinstance(obj, bytes):
            return _ujson_str(obj.decode("utf-8"))
        return None

    return scalar


@functools.cache
def _ujson_dialect(precision: int) -> _Dialect:
    return _Dialect("ujson_dumps", _ujson_str, _ujson_scalar(precision), lambda key: _ujson_key(key, precision))


def ujson_dumps(obj: Any, *, double_precision: int | None = None, allow_nan: bool = False) -> str:
    """Compact JSON as JumpScale's ujson writes it (spec §8.1 form 1): no spaces, ``/`` escaped as
    ``\\/``, non-ASCII as ``\\uXXXX``, key order = dict order, int dict keys as strings.

    ``double_precision``: ``None`` (jsadmin's writes) keeps floats at full precision (shortest
    round trip), so ``0.1234567890123`` survives byte-exactly; :data:`UJSON_135` (the demo grid)
    prints them as ujson 1.35 does, 10 fractional digits with their binary tail. ``NaN``/``Infinity``
    raise :class:`ValueError`, as in ujson, unless ``allow_nan``: then the text is the standard
    library's ``json`` (``NaN``), as on a deployment without ujson (spec §8.9). Values JSON cannot
    hold raise :class:`TypeError`.

    >>> ujson_dumps({"a": "x/y", "f": 0.1234567890123})
    '{"a":"x\\\\/y","f":0.1234567890123}'
    >>> ujson_dumps({"t": 1539600000.123456, 3: None}, double_precision=UJSON_135)
    '{"t":1539600000.1234560013,"3":null}'
    >>> ujson_dumps({"t": float("nan")}, allow_nan=True)
    '{"t": NaN}'
    """
    try:
        if double_precision is None:
            fast = ujson_fast(obj)
            return fast if fast is not None else _ENCODER.encode(obj).replace("/", "\\/")
        out: list[str] = []
        _walk(obj, out, _ujson_dialect(double_precision))
        return "".join(out)
    except ValueError:
        if not allow_nan:
            raise
        return json.dumps(obj)


def pretty_dumps(obj: Any) -> bytes:
    """Serialize like the Python 2 model's pretty JSON of worker-queue items (spec §8.1 form 2).

    ``indent=2``, ``sort_keys=True``, item separator ``", "`` (so every line that ends after a comma
    has a trailing space), raw UTF-8, ``NaN``/``Infinity`` allowed.

    >>> pretty_dumps({"b": [1], "a": "é"})
    b'{\\n  "a": "\\xc3\\xa9", \\n  "b": [\\n    1\\n  ]\\n}'
    """
    text = json.dumps(obj, indent=2, sort_keys=True, separators=(", ", ": "), ensure_ascii=False)
    return text.encode("utf-8")


_CJSON_ESCAPES = {i: f"\\u{i:04x}" for i in range(0x20)}
_CJSON_ESCAPES.update({0x08: "\\b", 0x09: "\\t", 0x0A: "\\n", 0x0C: "\\f", 0x0D: "\\r"})
_CJSON_ESCAPES.update({ord('"'): '\\"', ord("\\"): "\\\\", ord("/"): "\\/", 0x7F: "\\u007f"})


def _cjson_number(value: float) -> str:
    if math.isnan(value) or math.isinf(value):
        raise ValueError(f"cjson cannot encode {value!r} (Cannot serialise number: must not be NaN or Inf)")
    return format(value, ".14g")


def _cjson_text(value: str) -> str:
    return '"' + value.translate(_CJSON_ESCAPES) + '"'


def _cjson_scalar(obj: Any) -> str | None:
    return _cjson_number(float(obj)) if isinstance(obj, (int, float)) else None


def _cjson_key(key: Any) -> str:
    if isinstance(key, (int, float)) and not isinstance(key, bool):
        return _cjson_number(float(key))
    if not isinstance(key, str):
        raise TypeError(f"cjson_dumps: unsupported dict key {key!r}")
    return key


_CJSON = _Dialect("cjson_dumps", _cjson_text, _cjson_scalar, _cjson_key, empty_list="{}")
_CJSON_LISTS = _Dialect("cjson_dumps", _cjson_text, _cjson_scalar, _cjson_key)


def cjson_dumps(obj: Any, *, empty_list_as_object: bool = True) -> bytes:
    """Serialize like Lua cjson inside Redis (``eco.lua``; spec §8.1 form 3).

    Compact, ``/`` escaped, raw UTF-8, numbers as ``%.14g`` (float epochs lose precision), and an
    empty list comes back as ``{}`` because a decoded-then-encoded empty Lua table is an object.

    >>> cjson_dumps({"t": 1539600000.123456, "data": [], "path": "/x"})
    b'{"t":1539600000.1235,"data":{},"path":"\\\\/x"}'
    """
    out: list[str] = []
    _walk(obj, out, _CJSON if empty_list_as_object else _CJSON_LISTS)
    return "".join(out).encode("utf-8")


def py2_text(value: Any) -> bytes:
    """Coerce a bare value to bytes the way redis-py 2.10 ``Encoder.encode`` does (spec §8.2).

    ints -> decimal, floats -> ``repr``, ``True``/``False`` -> ``b"True"``/``b"False"``,
    ``None`` -> ``b"None"``, text -> UTF-8, bytes unchanged, anything else -> its ``str``.

    >>> py2_text(1539600123.456789), py2_text(False), py2_text(42)
    (b'1539600123.456789', b'False', b'42')
    """
    if isinstance(value, bytes):
        return value
    if isinstance(value, float):
        return repr(value).encode("ascii")
    if isinstance(value, int):  # bool included: str(True) == "True"
        return str(value).encode("ascii")
    return str(value).encode("utf-8")
