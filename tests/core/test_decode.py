"""The lenient parser and bare-value coercions (spec §8.1, §8.2)."""

from __future__ import annotations

import math

import pytest

from jsadmin.decode import (
    DecodeError,
    Problem,
    loads,
    loads_many,
    parse_bool,
    parse_epoch,
    parse_int,
    parse_number,
)


def test_three_json_dialects() -> None:
    ujson = b'{"path":"\\/opt\\/jumpscale7","name":"caf\\u00e9","t":1539600000.1234560013}'
    assert loads(ujson) == {"path": "/opt/jumpscale7", "name": "café", "t": 1539600000.1234560013}
    pretty = '{\n  "args": {}, \n  "name": "café", \n  "nid": 5\n}'.encode()
    assert loads(pretty) == {"args": {}, "name": "café", "nid": 5}
    cjson = b'{"epoch":1539600000,"lasttime":1.5396000001235e+09,"tags":{}}'
    assert loads(cjson)["lasttime"] == pytest.approx(1539600000.1235)
    nan = loads(b'{"v": NaN, "w": Infinity}')
    assert math.isnan(nan["v"]) and math.isinf(nan["w"])


def test_bad_json_is_a_decode_error() -> None:
    for raw in (b"{not json", b"\xff\xfe", b""):
        with pytest.raises(DecodeError):
            loads(raw)
    out = loads_many([b"1", b"{x", b'"s"'])
    assert out[0] == 1 and isinstance(out[1], DecodeError) and out[2] == "s"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(b"True", True), (b"False", False), (b"1", True), (b"0", False), (True, True), (0, False), (b"None", None), (None, None)],
)
def test_bools(raw: object, expected: bool | None) -> None:
    assert parse_bool(raw) is expected


def test_bad_bool() -> None:
    with pytest.raises(DecodeError):
        parse_bool(b"maybe")


def test_numbers_and_epochs() -> None:
    assert parse_int(b"42") == 42 and parse_int("7") == 7 and parse_int(b"None") is None
    assert parse_number(b"1539600123.456789") == 1539600123.456789
    assert parse_epoch(b"0") is None and parse_epoch(0) is None and parse_epoch(b"1442930000.12") == 1442930000.12
    with pytest.raises(DecodeError):
        parse_int(b"12abc")
    with pytest.raises(DecodeError):
        parse_int(1.5)


def test_problem_keeps_raw_cut() -> None:
    p = Problem.of("jobs", b"jobs:1", b"guid", "invalid JSON", b"x" * 1000)
    assert p.key == "jobs:1" and p.field == "guid" and len(p.raw) == 200
