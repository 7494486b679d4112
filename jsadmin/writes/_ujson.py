"""Compact JSON the way a real JumpScale agentcontroller writes it (ujson 1.x, spec §8.1).

No spaces, ``/`` escaped as ``\\/``, non-ASCII as ``\\uXXXX``, key order = dict order, int dict
keys as strings. One deliberate difference from ujson 1.35: floats are written with Python's
shortest round-trip ``repr`` (full precision) instead of ujson's 10 fractional digits, so a
value such as ``0.1234567890123`` survives byte-exactly. Every real reader (ujson or json) parses
both forms.

>>> ujson_dumps({"path": "/opt/x", "name": "café", "n": [1, 0.5]})
'{"path":"\\\\/opt\\\\/x","name":"caf\\\\u00e9","n":[1,0.5]}'
"""

from __future__ import annotations

import json
from typing import Any

_ENCODER = json.JSONEncoder(ensure_ascii=True, separators=(",", ":"), allow_nan=False)


def ujson_dumps(obj: Any) -> str:
    """Serialise ``obj`` as compact ujson-style text (ASCII only, ``/`` escaped).

    Raises ``TypeError`` for values JSON cannot hold and ``ValueError`` for NaN/Infinity.

    >>> ujson_dumps({"a": "x/y"})
    '{"a":"x\\\\/y"}'
    """
    # A "/" can only occur inside JSON strings, so a plain replace is an exact escape.
    return _ENCODER.encode(obj).replace("/", "\\/")
