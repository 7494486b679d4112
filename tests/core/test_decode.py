"""The lenient parser and bare-value coercions (spec §8.1, §8.2)."""

from __future__ import annotations

import math

import pytest

from jsadmin.decode import (
    MAX_DEPTH,
    DecodeError,
    Problem,
    loads,
    loads_many,
    nesting_depth,
    parse_bool,
    parse_epoch,
    parse_int,
    parse_number,
)

pytestmark = pytest.mark.version_independent  # decoding bytes already in memory: no server


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


@pytest.mark.parametrize("nan_too", [False, True], ids=["orjson", "stdlib fallback"])
def test_nesting_is_capped_at_the_decoder(nan_too: bool) -> None:
    """3,000 levels raised RecursionError (stdlib) before; 101 levels would crash repr/Parquet later."""
    extra = b',"t":NaN' if nan_too else b""
    for depth in (MAX_DEPTH + 1, 1025, 3000):
        raw = b'{"a":' + b"[" * depth + b"]" * depth + extra + b"}"
        with pytest.raises(DecodeError, match=f"nested deeper than {MAX_DEPTH}"):
            loads(raw)
        assert isinstance(loads_many([raw])[0], DecodeError)
    ok = b"[" * (MAX_DEPTH - 1) + b"]" * (MAX_DEPTH - 1)
    assert nesting_depth(loads(b'{"a":' + ok + extra + b"}")) == MAX_DEPTH


def test_lone_surrogates_and_non_utf8_are_decode_errors() -> None:
    with pytest.raises(DecodeError, match="surrogate"):
        loads(b'{"cmd":"x\\ud800","t":NaN}')  # orjson refuses it; the stdlib would accept it
    with pytest.raises(DecodeError, match="surrogate"):
        loads(b'["\\udfff"]')
    with pytest.raises(DecodeError):
        loads(b'{"cmd":"\xff"}')
    assert loads(b'{"cmd":"\\ud83d\\ude00"}') == {"cmd": "\U0001f600"}  # a valid pair is fine


def test_epochs_that_are_not_finite_raise() -> None:
    for raw in (b"1e400", b"nan", b"-inf", float("nan")):
        with pytest.raises(DecodeError, match="finite"):
            parse_epoch(raw)
    assert parse_epoch(b"-5") is None  # negatives still mean "unset"
    with pytest.raises(DecodeError):
        parse_int(b"1e400")
