"""JSON byte forms used by the live grid (spec §8.1).

Uses :mod:`jsadmin.demo.encoding` (the shared, golden-tested serializers) when it is
importable and falls back to the private implementations below otherwise.

>>> ujson_dumps({"path": "/tmp", "t": 1539600000.123456})
b'{"path":"\\\\/tmp","t":1539600000.1234560013}'
"""

from __future__ import annotations

import json
import math
from typing import Any

__all__ = ["SHARED_ENCODING", "pretty_dumps", "ujson_dumps"]


def _float_text(value: float) -> str:
    """ujson 1.35: up to 10 fractional digits (binary artifacts included), trailing zeros cut."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value.is_integer() and abs(value) < 1e16:
        return f"{value:.1f}"
    text = f"{value:.10f}".rstrip("0")
    return text + "0" if text.endswith(".") else text


def _str_text(value: str) -> str:
    return json.dumps(value, ensure_ascii=True).replace("/", "\\/")


def _compact(obj: Any, out: list[str]) -> None:
    if obj is None:
        out.append("null")
    elif obj is True:
        out.append("true")
    elif obj is False:
        out.append("false")
    elif isinstance(obj, str):
        out.append(_str_text(obj))
    elif isinstance(obj, int):
        out.append(str(int(obj)))
    elif isinstance(obj, float):
        out.append(_float_text(obj))
    elif isinstance(obj, dict):
        out.append("{")
        for i, (k, v) in enumerate(obj.items()):
            if i:
                out.append(",")
            out.append(_str_text(k if isinstance(k, str) else str(k)))
            out.append(":")
            _compact(v, out)
        out.append("}")
    elif isinstance(obj, (list, tuple)):
        out.append("[")
        for i, v in enumerate(obj):
            if i:
                out.append(",")
            _compact(v, out)
        out.append("]")
    elif isinstance(obj, bytes):
        out.append(_str_text(obj.decode("utf-8", "ignore")))
    else:
        out.append(_str_text(str(obj)))


def _ujson_dumps_fallback(obj: Any) -> bytes:
    out: list[str] = []
    _compact(obj, out)
    return "".join(out).encode("ascii")


def _pretty_dumps_fallback(obj: Any) -> bytes:
    text = json.dumps(obj, indent=2, sort_keys=True, separators=(", ", ": "), ensure_ascii=False)
    return text.encode("utf-8", "ignore")


try:  # the shared serializers, once the seed engineer's module is in the tree
    from .encoding import pretty_dumps as _shared_pretty
    from .encoding import ujson_dumps as _shared_ujson
except ImportError:  # pragma: no cover - depends on the tree state
    SHARED_ENCODING = False
    ujson_dumps = _ujson_dumps_fallback
    pretty_dumps = _pretty_dumps_fallback
else:  # pragma: no cover - depends on the tree state
    SHARED_ENCODING = True
    ujson_dumps = _shared_ujson
    pretty_dumps = _shared_pretty
