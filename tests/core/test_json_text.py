"""``load(..., json_text=True)``: a job family's ``args``/``result`` as JSON text, decoding to the same values.

Every byte form and malformed value of every job family is loaded both ways; the frames must be
equal column for column (``args``/``result`` compared after :func:`~jsadmin.frames.json_values`)
and the problem reports identical. A property test does the same for generated ``args`` values
(NaN/Infinity, integers beyond 64 bits, deep nesting, lone surrogates, non-ASCII text).
"""

from __future__ import annotations

import json
import math
from typing import Any

import pandas as pd
import pytest
import redis
from byteforms import BYTEFORMS, MALFORMED, write
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import jsadmin
from jsadmin.catalog import FAMILIES
from jsadmin.frames import JSON_TEXT_COLUMNS, json_values, to_int64, to_json_text
from jsadmin.frames import _as_int as per_cell_int

JOB_FAMILIES = sorted(name for name, fam in FAMILIES.items() if fam.decoder == "job")


@pytest.fixture()
def admin(redis_url: str) -> jsadmin.Admin:
    a = jsadmin.connect(redis_url)
    yield a
    a.close()


def _shown(values: Any) -> list[str]:
    """Values as text that tells NaN, 1 and 1.0, and dict order apart (NaN != NaN)."""
    return [repr(v) for v in values]


def assert_same_load(admin: jsadmin.Admin, name: str, **filters: Any) -> pd.DataFrame:
    """Load ``name`` both ways and check the frames and problem reports match; return the text frame."""
    objects = admin.load(name, **filters)
    text = admin.load(name, json_text=True, **filters)
    pd.testing.assert_frame_equal(objects.drop(columns=list(JSON_TEXT_COLUMNS)),
                                  text.drop(columns=list(JSON_TEXT_COLUMNS)))
    for column in JSON_TEXT_COLUMNS:
        assert str(text[column].dtype) == "string"
        held = objects[column]
        if held.dtype != object:  # pandas stores a column of only text as str: missing is NaN there
            held = held.astype(object).where(held.notna(), None)
        assert _shown(json_values(text[column])) == _shown(held.tolist()), column
    pd.testing.assert_frame_equal(objects.attrs["problems"], text.attrs["problems"])
    return text


def test_every_job_byte_form_and_malformed_value_loads_the_same(r: redis.Redis, admin: jsadmin.Admin) -> None:
    for name in JOB_FAMILIES:
        write(r, BYTEFORMS[name])
    write(r, [m for m in MALFORMED if m.family in JOB_FAMILIES])
    loaded = 0
    for name in JOB_FAMILIES:
        text = assert_same_load(admin, name)
        loaded += len(text)
    assert loaded > 20  # the forms really were read
    nan_job = admin.load("jobs", json_text=True).set_index("field").loc["fa11bac4a7c44d3e9f1a2b3c4d5e6f70"]
    assert nan_job["args"] == '{"duration":NaN,"path":"/tmp"}'  # the lenient parser's values keep NaN
    assert math.isnan(json_values([nan_job["args"]])[0]["duration"])


def test_expand_decodes_the_text(r: redis.Redis, admin: jsadmin.Admin) -> None:
    write(r, BYTEFORMS["jobs"])
    objects = admin.load("jobs", expand="args")
    text = admin.load("jobs", expand="args", json_text=True)
    wide = [c for c in objects.columns if c.startswith("args.")]
    assert wide and [c for c in text.columns if c.startswith("args.")] == wide
    pd.testing.assert_frame_equal(objects[wide], text[wide])


def test_other_families_ignore_it_and_bad_values_are_refused(r: redis.Redis, admin: jsadmin.Admin) -> None:
    write(r, BYTEFORMS["logs"])
    pd.testing.assert_frame_equal(admin.load("logs", json_text=True), admin.load("logs"))
    with pytest.raises(ValueError, match="json_text must be True or False"):
        admin.load("jobs", json_text="yes")


JSON_LEAF = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=8),
    st.sampled_from(["\ud800", "é/\\\"\n", "\x00"]),
)
ARGS = st.recursive(JSON_LEAF, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
                    max_leaves=12)


def _job_bytes(i: int, args: Any, deep: int) -> bytes:
    value: Any = args
    for _ in range(deep):
        value = [value]
    job = {"id": i, "gid": 1, "guid": f"{i:032x}", "state": "OK", "args": value, "result": {"out": args}}
    try:
        return json.dumps(job, allow_nan=True, ensure_ascii=i % 2 == 0).encode("utf-8", "surrogatepass")
    except ValueError:  # a structure json refuses
        return b'{"id":' + str(i).encode() + b',"args":}'


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(ARGS, st.sampled_from([0, 0, 0, 99, 150])), min_size=1, max_size=6))
def test_generated_args_load_the_same(r: redis.Redis, admin: jsadmin.Admin, jobs: list[tuple[Any, int]]) -> None:
    r.flushall()
    for i, (args, deep) in enumerate(jobs, start=1):
        r.hset("jobs:1", f"{i:032x}", _job_bytes(i, args, deep))
    text = assert_same_load(admin, "jobs")
    reported = set(text.attrs["problems"]["field"])
    assert len(text) + len(reported - set(text["field"])) == len(jobs)  # nothing lost


@pytest.mark.version_independent  # text of values in memory: no server
def test_json_text_of_lenient_values_round_trips() -> None:
    values = [{"a": float("nan"), "b": [float("inf"), 2**70]}, None, {"c": "é"}]
    text = to_json_text(values, lenient=[0])
    assert text.to_pylist()[1:] == [None, '{"c":"é"}']
    back = json_values(text.to_pylist())
    assert math.isnan(back[0]["a"]) and back[0]["b"] == [float("inf"), 2**70] and back[1] is None


@pytest.mark.version_independent  # to_int64 on generated text in memory: no server
@given(st.lists(st.sampled_from(["1", " 2", "x", "5.0", "NaN", "1e30", "-7", "", "None", str(2**63)]) | st.none(),
                min_size=100, max_size=400))
def test_int64_of_repeated_text_equals_the_per_cell_path(col: list[str | None]) -> None:
    arr, bad = to_int64(col)
    expected = [per_cell_int(v) for v in col]
    assert [None if v is pd.NA else v for v in arr.tolist()] == [n for n, _ in expected]
    assert bad == [(i, why) for i, (_, why) in enumerate(expected) if why]
