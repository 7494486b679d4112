"""Golden byte tests of the demo serializers (spec §4.3, §8.1, §8.2), plus Lua cjson checked on a real Redis."""

from __future__ import annotations

import json

import pytest
import redis

from jsadmin.demogrid.encoding import cjson_dumps, pretty_dumps, py2_text, ujson_dumps

# §4.3: the command-queue entry, field order as printed in the spec.
SPEC_QUEUE_ENTRY = {
    "id": 1234,
    "sessionid": "1_5_0_0b5c9a1e-3d0f-4b8e-9a51-2f7c6d1e8a90",
    "gid": 1,
    "nid": 5,
    "cmd": "echo",
    "wait": True,
    "category": "jumpscale",
    "roles": [],
    "args": {"msg": "hi"},
    "queue": "",
    "timeout": 600,
    "result": None,
    "parent": None,
    "resultcode": None,
    "state": "SCHEDULED",
    "timeCreate": 1539600000,
    "timeStart": 0,
    "timeStop": 0,
    "log": True,
    "errorreport": False,
    "tags": None,
    "guid": "9f1c2a7b3e4d4f0a8b6c5d4e3f2a1b0c",
    "_ckey": "",
    "_meta": ["system", "job", 1],
    "jscriptid": None,
}
SPEC_QUEUE_ENTRY_BYTES = (
    b'{"id":1234,"sessionid":"1_5_0_0b5c9a1e-3d0f-4b8e-9a51-2f7c6d1e8a90","gid":1,"nid":5,"cmd":"echo","wait":true,'
    b'"category":"jumpscale","roles":[],"args":{"msg":"hi"},"queue":"","timeout":600,"result":null,"parent":null,'
    b'"resultcode":null,"state":"SCHEDULED","timeCreate":1539600000,"timeStart":0,"timeStop":0,"log":true,'
    b'"errorreport":false,"tags":null,"guid":"9f1c2a7b3e4d4f0a8b6c5d4e3f2a1b0c","_ckey":"","_meta":["system","job",1],'
    b'"jscriptid":null}'
)


def test_ujson_spec_queue_entry_is_byte_identical() -> None:
    assert ujson_dumps(SPEC_QUEUE_ENTRY) == SPEC_QUEUE_ENTRY_BYTES


def test_ujson_spec_result_additions() -> None:
    final = dict(SPEC_QUEUE_ENTRY, state="OK", result="hi", resultcode=0)
    final.update(timeStart=1539600003.5212841034, timeStop=1539600004, achost="10.0.0.1", internal=False)
    out = ujson_dumps(final)
    for part in (
        b'"state":"OK"',
        b'"result":"hi"',
        b'"resultcode":0',
        b'"timeStart":1539600003.5212841034',
        b'"timeStop":1539600004',
        b'"achost":"10.0.0.1","internal":false}',
    ):
        assert part in out


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1539600000.123456, b"1539600000.1234560013"),  # §8.1: the binary artifact is printed
        (1539600003.5212841034, b"1539600003.5212841034"),
        (60.0, b"60.0"),
        (0.5, b"0.5"),
        (-2.25, b"-2.25"),
        (0.1, b"0.1"),
        (1e-11, b"0.0"),  # below the 10-digit precision
        (0.99999999999, b"1.0"),  # rounding rolls over into the whole part
        (1e17, b"1.000000000000000e+17"),  # above ujson's threshold: %.15e
    ],
)
def test_ujson_float_forms(value: float, expected: bytes) -> None:
    assert ujson_dumps(value) == expected


def test_ujson_escapes_slash_and_non_ascii() -> None:
    assert ujson_dumps({"p": "/opt/jumpscale7", "m": "café ☃ 😀"}) == (
        b'{"p":"\\/opt\\/jumpscale7","m":"caf\\u00e9 \\u2603 \\ud83d\\ude00"}'
    )
    assert ujson_dumps("line1\nline2\t\x01\"q\"\\") == b'"line1\\nline2\\t\\u0001\\"q\\"\\\\"'


def test_ujson_int_keys_become_strings_and_order_is_kept() -> None:
    assert ujson_dumps({5: "a", "b": {1: [True, False, None]}}) == b'{"5":"a","b":{"1":[true,false,null]}}'


def test_ujson_refuses_nan_like_ujson() -> None:
    with pytest.raises(ValueError, match="Nan"):
        ujson_dumps({"x": float("nan")})
    with pytest.raises(TypeError):
        ujson_dumps({"x": object()})


def test_pretty_has_trailing_spaces_sorted_keys_and_raw_utf8() -> None:
    out = pretty_dumps({"state": "STARTED", "args": {"msg": "héllo/x"}, "id": 7, "roles": []})
    assert out == (
        b'{\n  "args": {\n    "msg": "h\xc3\xa9llo/x"\n  }, \n  "id": 7, \n  "roles": [], \n'
        b'  "state": "STARTED"\n}'
    )
    assert b", \n" in out  # the Python 2 item separator leaves a space before each newline


def test_pretty_allows_nan_like_stdlib_json() -> None:
    assert pretty_dumps({"x": float("nan"), "y": float("inf")}) == b'{\n  "x": NaN, \n  "y": Infinity\n}'


def test_cjson_golden() -> None:
    assert cjson_dumps({"epoch": 1539600000.123456, "data": [], "path": "/x", "m": "é"}) == (
        b'{"epoch":1539600000.1235,"data":{},"path":"\\/x","m":"\xc3\xa9"}'
    )
    assert cjson_dumps([]) == b"{}"
    assert cjson_dumps([], empty_list_as_object=False) == b"[]"
    assert cjson_dumps([1, 1.0, 1e20]) == b"[1,1,1e+20]"


@pytest.mark.parametrize(
    "doc",
    [
        {"a": []},
        [1539600000.123456, 0.1, 1e20, 123456789012345678, -3.5, 1.0],
        ["a/b\u00e9\u0001\u007f\"\\\n\t"],
        {"x": [1, [], {"y": None}], "z": True},
    ],
)
def test_cjson_matches_lua_cjson_in_real_redis(r: redis.Redis, doc: object) -> None:
    """Round-trip through Redis' own Lua cjson (single-key objects: Lua key order is not ours)."""
    lua = r.eval("return cjson.encode(cjson.decode(ARGV[1]))", 0, json.dumps(doc))
    if isinstance(doc, dict) and len(doc) > 1:
        assert json.loads(lua) == json.loads(cjson_dumps(doc))
    else:
        assert lua == cjson_dumps(doc)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, b"None"),
        (True, b"True"),
        (False, b"False"),
        (0, b"0"),
        (1539600000, b"1539600000"),
        (1539600123.456789, b"1539600123.456789"),
        (1442930000.12, b"1442930000.12"),
        ("é", b"\xc3\xa9"),
        (b"raw", b"raw"),
    ],
)
def test_py2_text(value: object, expected: bytes) -> None:
    assert py2_text(value) == expected


def test_py2_text_is_what_redis_stores(r: redis.Redis) -> None:
    r.execute_command("HMSET", "h", py2_text(None), py2_text(True), "t", py2_text(0.25))
    assert r.hgetall("h") == {b"None": b"True", b"t": b"0.25"}
