"""The demo grid's byte forms (spec §8.1, §8.2): :mod:`jsadmin.codecs` at ujson 1.35's float precision.

The demo seed and the live grid store exactly what a real grid stores:

* :func:`ujson_dumps`: ujson 1.35, compact (AC jobs, worker-side jobs, jumpscripts, logs, ECO stubs);
* :func:`ujson_or_json`: the same, or the standard library's ``json`` text where ujson would refuse
  a ``NaN`` (a deployment without ujson, spec §8.9; the live grid, so such a job still completes);
* :func:`pretty_dumps`, :func:`cjson_dumps`, :func:`py2_text`: from :mod:`jsadmin.codecs`.

>>> ujson_dumps({"path": "/opt/js", "msg": "caf\\u00e9", "t": 1539600000.123456})
b'{"path":"\\\\/opt\\\\/js","msg":"caf\\\\u00e9","t":1539600000.1234560013}'
>>> ujson_or_json({"t": float("nan")})
b'{"t": NaN}'
"""

from __future__ import annotations

from typing import Any

from .. import codecs
from ..codecs import cjson_dumps, pretty_dumps, py2_text

__all__ = ["cjson_dumps", "pretty_dumps", "py2_text", "ujson_dumps", "ujson_or_json"]


def ujson_dumps(obj: Any) -> bytes:
    """Serialize like ujson 1.35 ``ujson.dumps(obj)`` under Python 2 (spec §8.1 form 1).

    >>> ujson_dumps({"a": [1, 2.5, None, True], 3: "x/y"})
    b'{"a":[1,2.5,null,true],"3":"x\\\\/y"}'
    >>> ujson_dumps(1539600003.5212841034)
    b'1539600003.5212841034'
    """
    return codecs.ujson_dumps(obj, double_precision=codecs.UJSON_135).encode("ascii")


def ujson_or_json(obj: Any) -> bytes:
    """:func:`ujson_dumps`, or stdlib ``json`` text when ujson would refuse a NaN/Infinity."""
    return codecs.ujson_dumps(obj, double_precision=codecs.UJSON_135, allow_nan=True).encode("ascii")
