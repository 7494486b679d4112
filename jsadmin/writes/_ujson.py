"""Compact JSON the way a real JumpScale agentcontroller writes it (ujson 1.x, spec §8.1).

No spaces, ``/`` escaped as ``\\/``, non-ASCII as ``\\uXXXX``, key order = dict order, int dict
keys as strings. One deliberate difference from ujson 1.35: floats keep full precision
(shortest round-trip form) instead of ujson's 10 fractional digits, so a value such as
``0.1234567890123`` survives byte-exactly. Every real reader (ujson or json) parses both.

orjson does the work when its output is already what we want (ASCII, no ``null`` that could
stand for a NaN it silently accepted); anything else goes through the standard library
encoder, which also raises for NaN/Infinity and values JSON cannot hold.

>>> ujson_dumps({"path": "/opt/x", "name": "café", "n": [1, 0.5]})
'{"path":"\\\\/opt\\\\/x","name":"caf\\\\u00e9","n":[1,0.5]}'
"""

from __future__ import annotations

import json
from typing import Any

import orjson

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


def ujson_dumps(obj: Any) -> str:
    """Serialise ``obj`` as compact ujson-style text (ASCII only, ``/`` escaped).

    Raises ``TypeError`` for values JSON cannot hold and ``ValueError`` for NaN/Infinity.

    >>> ujson_dumps({"a": "x/y", "f": 0.1234567890123})
    '{"a":"x\\\\/y","f":0.1234567890123}'
    """
    fast = ujson_fast(obj)
    return fast if fast is not None else _ENCODER.encode(obj).replace("/", "\\/")
