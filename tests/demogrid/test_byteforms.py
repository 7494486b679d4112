"""Self-checks of the hand-written fixtures in ``tests/byteforms.py``.

Each ``expect`` is checked against its payload with a small reference decoder (stdlib json, which
accepts ``\\/``, trailing whitespace and NaN/Infinity), all good forms are shown to coexist in one
Redis, every malformed value is shown not to decode, and the demo serializers are cross-checked
against the literal bytes.
"""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
import redis
from byteforms import BYTEFORMS, MALFORMED, ByteForm, all_forms, write

from jsadmin.demogrid.encoding import cjson_dumps, pretty_dumps, ujson_dumps
from jsadmin.demogrid.seed import FAMILIES

JSON_OBJECT_FAMILIES = {
    "jobs", "command_queues", "job_results", "worker_queues", "worker_jobs", "jumpscripts_by_id",
    "jumpscripts_by_name", "worker_sessions", "ecos", "logs",
}
COUNTER_FAMILIES = {"eco_incr", "logs_incr", "worker_heartbeat", "worker_joblastid", "worker_jumpscriptlastid"}


def reference_decode(raw: bytes) -> Any:
    """Decode one stored value: text bools, ints, floats, JSON, else text."""
    text = raw.decode("utf-8")
    if text in ("True", "False"):
        return text == "True"
    for convert in (int, float):
        try:
            return convert(text)
        except ValueError:
            pass
    try:
        return json.loads(text)
    except ValueError:
        return text


def same(actual: Any, expected: Any) -> bool:
    if isinstance(expected, float) and math.isnan(expected):
        return isinstance(actual, float) and math.isnan(actual)
    if isinstance(expected, dict):
        return isinstance(actual, dict) and actual.keys() == expected.keys() and all(same(actual[k], v) for k, v in expected.items())
    if isinstance(expected, list):
        return isinstance(actual, list) and len(actual) == len(expected) and all(same(a, e) for a, e in zip(actual, expected))
    return (bool(actual == expected) and type(actual) is type(expected)) or (
        isinstance(expected, bool) and actual in (0, 1) and bool(actual) == expected
    )


def values_of(form: ByteForm) -> dict[str, bytes]:
    if form.rtype == "hash":
        return {k.decode(): v for k, v in form.payload.items()}  # type: ignore[union-attr]
    if form.rtype == "list":
        return {str(i): v for i, v in enumerate(form.payload)}  # type: ignore[arg-type]
    if form.rtype == "set":
        return {m.decode(): b"True" for m in form.payload}  # type: ignore[union-attr]
    return {"": form.payload}  # type: ignore[dict-item]


FORM_IDS = [f"{f.family}:{f.name}" for f in all_forms()]


def test_every_family_has_forms() -> None:
    assert set(BYTEFORMS) == set(FAMILIES)
    assert all(BYTEFORMS[f] for f in FAMILIES)
    for family, forms in BYTEFORMS.items():
        assert all(form.family == family and form.expect for form in forms)
    assert {f.family for f in MALFORMED} <= set(FAMILIES)


@pytest.mark.parametrize("form", all_forms(), ids=FORM_IDS)
def test_expectations_match_payload(form: ByteForm) -> None:
    values = values_of(form)
    for locator, expected in form.expect.items():
        decoded = reference_decode(values[locator])
        if form.family in JSON_OBJECT_FAMILIES:
            assert isinstance(expected, dict) and isinstance(decoded, dict), (locator, decoded)
        if isinstance(expected, dict):  # a subset of the decoded object's top-level items
            assert isinstance(decoded, dict), (locator, decoded)
            for key, value in expected.items():
                assert same(decoded[key], value), (locator, key, decoded[key], value)
        else:
            assert same(decoded, expected), (locator, decoded, expected)


def test_good_forms_coexist_and_malformed_never_overwrite(r: redis.Redis) -> None:
    write(r, all_forms())
    write(r, MALFORMED)
    for form in all_forms():
        if form.rtype == "hash":
            for field, value in form.payload.items():  # type: ignore[union-attr]
                assert r.hget(form.key, field) == value, (form.name, field)
        elif form.rtype == "list":
            assert r.lrange(form.key, 0, len(form.payload) - 1) == form.payload, form.name  # type: ignore[arg-type]
        elif form.rtype == "set":
            assert all(r.sismember(form.key, m) for m in form.payload)  # type: ignore[union-attr]
        else:
            assert r.get(form.key) == form.payload, form.name
    good_strings = {f.key for f in all_forms() if f.rtype == "string"}
    good_fields = {(f.key, k) for f in all_forms() if f.rtype == "hash" for k in f.payload}  # type: ignore[union-attr]
    for bad in MALFORMED:
        assert bad.key not in good_strings
        if bad.rtype == "hash":
            assert not any((bad.key, k) in good_fields for k in bad.payload)  # type: ignore[union-attr]
    # no two good string/list forms share a key
    single = [f.key for f in all_forms() if f.rtype in ("string", "list")]
    assert len(single) == len(set(single))


@pytest.mark.parametrize("bad", MALFORMED, ids=[f"{b.family}:{b.name}" for b in MALFORMED])
def test_malformed_values_do_not_decode(bad: ByteForm) -> None:
    for raw in values_of(bad).values():
        try:
            decoded = reference_decode(raw)
        except UnicodeDecodeError:
            continue  # binary garbage
        if bad.family in JSON_OBJECT_FAMILIES:
            assert not isinstance(decoded, dict) or ("guid" not in decoded and bad.family == "jobs")
        elif bad.family == "applications":
            assert not isinstance(decoded, list)
        elif bad.family in COUNTER_FAMILIES:
            assert not isinstance(decoded, int)
        elif bad.family == "healthcheck_status":
            assert decoded not in (True, False, 0, 1)
        elif bad.family == "worker_returns":
            assert not isinstance(decoded, (int, float))
        else:
            pytest.fail(f"no rule for {bad.family}")


def test_literal_bytes_match_the_demo_serializers() -> None:
    import byteforms as bf

    for raw in (bf.JOB_SCHEDULED, bf.JOB_OK, bf.JOB_ROLE, bf.JOB_NOWORK, bf.JOB_LEGACY_2015, bf.JOB_INTERNAL_ERROR,
                bf.JOB_LOCAL, bf.JOB_PM_INPROCESS, bf.JOB_LOCAL_LEGACY, bf.JOB_WAIT_TIMEOUT, bf.JUMPSCRIPT_HEAD,
                bf.JUMPSCRIPT_OSIS_ID, bf.JUMPSCRIPT_EXEC_FUNCTION, bf.ECO_STUB, bf.LOG_RECORD, bf.LOG_RECORD_PROCESSED):
        assert ujson_dumps(json.loads(raw)) == raw
    for raw in (bf.JOB_PRETTY, bf.JOB_PRETTY_IO, bf.JOB_PRETTY_NAN):
        assert pretty_dumps(json.loads(raw)) == raw
    assert cjson_dumps(json.loads(bf.ECO_CJSON)) == bf.ECO_CJSON
    assert json.dumps(json.loads(bf.JOB_STDLIB_FALLBACK)).encode() == bf.JOB_STDLIB_FALLBACK  # AC without ujson
