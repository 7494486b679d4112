"""JSON byte forms used by the live grid (spec §8.1), on top of :mod:`jsadmin.demogrid.encoding`.

``ujson_dumps`` is the agentcontroller's compact ujson. ujson refuses ``NaN``; a deployment without
ujson falls back to the standard library's ``json`` (spec §8.9), which writes ``NaN``. The grid does
the same so a job whose args hold a NaN (the demo seed has one) still completes.

>>> ujson_dumps({"path": "/tmp", "t": 1539600000.123456})
b'{"path":"\\\\/tmp","t":1539600000.1234560013}'
>>> ujson_dumps({"t": float("nan")})
b'{"t": NaN}'
"""

from __future__ import annotations

import json
from typing import Any

from .encoding import pretty_dumps
from .encoding import ujson_dumps as _strict_ujson

__all__ = ["pretty_dumps", "ujson_dumps"]


def ujson_dumps(obj: Any) -> bytes:
    """Compact ujson bytes; stdlib ``json`` text when ujson would refuse a NaN/Infinity."""
    try:
        return _strict_ujson(obj)
    except ValueError:
        return json.dumps(obj).encode()
