"""Property-based fuzzing: malformed values in every family never crash a read, and are never lost.

Hypothesis generates odd values (broken JSON, NaN/Infinity/1e400, ints beyond Int64, millisecond
epochs, lone surrogates, non-UTF-8 bytes, nesting up to 3,000 levels, random bytes) for all 32
families. Each example writes one batch of them into a real Redis, then runs ``load_all``, every
analytics function and one recorder poll. The properties:

* nothing raises;
* every value written is accounted for: a row of its family (hash field, list position, set
  member or string key) or a row of ``problems()`` naming its key and field;
* job ids and creation times are never silently wrong: an id is the written integer or missing
  with a problem; ``timeCreate`` is the written epoch (seconds, or milliseconds converted) or
  missing, with a problem unless the value means "unset" (0, negative, null).

The totals are printed (run with ``-s``) so the README can quote them::

    pytest tests/core/test_fuzz_values.py -p no:cacheprovider -q -s
"""

from __future__ import annotations

import json
import math
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import redis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from redis_servers import ServerFactory, default_leg

import jsadmin
from jsadmin.analytics import error_summary, finished_jobs, grid_health, latency_summary
from jsadmin.analytics.recorder import Recorder
from jsadmin.catalog import FAMILIES
from jsadmin.cli import summarize
from jsadmin.embedded import EmbeddedRedis

FULL = default_leg()
"""The decoding under test is the same on every server: the full 1,000 values per family run once,
in the default leg; the other legs of the matrix run a 120-value sample on their server."""
VALUES_PER_FAMILY = 1000 if FULL else 120
PER_EXAMPLE = 3
"""Values per family in one example (hypothesis caps the data one example may draw)."""
EXAMPLES = 340 if FULL else 40
"""340 x 3 = 1,020 values per family (40 x 3 = 120 on the old-server legs)."""
EXAMPLES_PER_ROUND = 20
"""Examples written to Redis before one round of reads checks them all."""

# ------------------------------------------------------------------------------ where values go
# (family, Redis type, key or key prefix); strings under a prefix get one key per value
HASH_KEYS = {
    "jobs_last": "jobs:last", "jobs": "jobs:7", "worker_inqueuetest": "workers:inqueuetest",
    "jumpscripts_by_name": "workers:jumpscripts:name", "jumpscripts_by_id": "workers:jumpscripts:id",
    "jumpscript_hashes": "workers:jumpscripthashes", "worker_heartbeat": "workers:heartbeat",
    "worker_watchdog": "workers:watchdog", "worker_sessions": "workers:sessions", "applications": "application",
    "healthcheck_status": "healthcheck:status", "healthcheck_lastcheck": "healthcheck:lastcheck",
    "ecos": "eco:objects", "healthcheck_monitoring": "healthcheck:monitoring",
}
LIST_KEYS = {
    "command_queues": "queues:commands:queue:7:5", "job_results": "queues:jobqueue:fuzz",
    "alerts": "queues:alerts", "worker_queues": "queues:workers:work:fuzz", "worker_returns": "workers:return:77",
    "worker_actions": "workers:action:fuzz:w1", "logs": "queues:logs", "eco_queue": "queues:eco",
}
SET_KEYS = {"eco_secos": "eco:secos"}
STRING_PREFIXES = {
    "worker_jobs": "workers:jobs:", "worker_registry": "workers:worker:fuzz:w", "logs_incr": "logs:incr:7_",
    "eco_incr": "eco:incr:7_",
}
SINGLE_STRINGS = {
    "health_status": "health.status", "worker_joblastid": "workers:joblastid",
    "worker_jumpscriptlastid": "workers:jumpscriptlastid",
    "processmanager_startuptime": "processmanager:startuptime", "eco_htime": "eco:htime",
}
JOB_FAMILIES = {"jobs", "command_queues", "job_results", "worker_queues", "worker_jobs"}
OBJECT_FAMILIES = JOB_FAMILIES | {"jumpscripts_by_name", "jumpscripts_by_id", "worker_sessions", "ecos", "logs"}


def test_every_family_has_a_place() -> None:
    placed = [*HASH_KEYS, *LIST_KEYS, *SET_KEYS, *STRING_PREFIXES, *SINGLE_STRINGS]
    assert sorted(placed) == sorted(FAMILIES) and len(placed) == 32


# ------------------------------------------------------------------------------ odd values
@dataclass(frozen=True)
class Raw:
    """JSON text inserted verbatim (tokens json.dumps cannot write)."""

    text: bytes


def deep(depth: int, kind: str) -> Raw:
    if kind == "list":
        return Raw(b"[" * depth + b"1" + b"]" * depth)
    return Raw(b'{"a":' * depth + b"1" + b"}" * depth)


NUMBER_TOKENS = [
    Raw(t) for t in (
        b"1e400", b"-1e400", b"NaN", b"Infinity", b"-Infinity", b"1E+2", b"-0", b"1e-400", b"0.5",
        b"9223372036854775807", b"9223372036854775808", b"-9223372036854775809", b"18446744073709551616",
        b"1" * 30, b"1" * 400, b"1539600000", b"1539600000123", b"1539600000123456", b"1539600000123456789",
        b"-5", b"40000000000", b"9300000000", b"99999999999", b"100000000000", b"9300000000000",
    )
]
TEXT_TOKENS = [
    Raw(t) for t in (b'"\\ud800"', b'"x\\udfffy"', b'"\xff\xfe"', b'"\\u0000"', b'"caf\xc3\xa9"', b'""', b'"None"')
]
DEEP_TOKENS = [deep(d, k) for d in (50, 99, 100, 101, 300, 1025, 3000) for k in ("list", "dict")]

scalars = st.one_of(
    st.sampled_from([None, True, False, "", "x", "None", "12", "1.5", "\u00e9\U0001f600", "a\x00b", 0.1, -0.0]),
    st.integers(min_value=-(2**70), max_value=2**70), st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=8), st.sampled_from(NUMBER_TOKENS), st.sampled_from(TEXT_TOKENS),
)
CONTAINERS = [[], {}, [None], {"": None}, [[[]]], {"a": {"b": [1, "x", None]}}, [1, "2", 3.5, True], {"k": [{}]}]
json_values = st.one_of(
    scalars, st.sampled_from(DEEP_TOKENS), st.sampled_from(CONTAINERS),
    st.lists(scalars, max_size=3), st.dictionaries(st.text(max_size=4), scalars, max_size=2),
)


def dump(v: Any) -> bytes:
    """JSON text of ``v`` with :class:`Raw` tokens verbatim and floats as Python's json writes them."""
    if isinstance(v, Raw):
        return v.text
    if v is None:
        return b"null"
    if v is True:
        return b"true"
    if v is False:
        return b"false"
    if isinstance(v, int):
        return str(v).encode()
    if isinstance(v, float):
        if math.isnan(v):
            return b"NaN"
        if math.isinf(v):
            return b"Infinity" if v > 0 else b"-Infinity"
        return repr(v).encode()
    if isinstance(v, str):
        return b'"' + v.encode("utf-8", "surrogatepass").replace(b"\\", b"\\\\").replace(b'"', b'\\"') + b'"'
    if isinstance(v, list):
        return b"[" + b",".join(dump(x) for x in v) + b"]"
    return b"{" + b",".join(dump(str(k)) + b":" + dump(x) for k, x in v.items()) + b"}"


FIELD_NAMES = ("id", "gid", "nid", "timeCreate", "timeStart", "timeStop", "state", "cmd", "category",
               "roles", "args", "result", "timeout", "wait", "queue", "jscriptid", "resultcode", "epoch",
               "level", "occurrences", "lasttime", "funclinenr", "period", "order", "enable", "source",
               "name", "organization", "lastrun", "pid", "type", "message", "guid")


@st.composite
def objects(draw: Any) -> tuple[bytes, Any, Any]:
    """A JSON object with odd field values; returns (bytes, id token, timeCreate token)."""
    obj: dict[str, Any] = {}
    for _ in range(draw(st.integers(0, 3))):
        obj[draw(st.sampled_from(FIELD_NAMES))] = draw(json_values)
    ident = draw(st.one_of(st.integers(min_value=-(2**66), max_value=2**66), scalars))
    created = draw(st.one_of(st.sampled_from(NUMBER_TOKENS), st.floats(),
                             st.integers(min_value=-(2**64), max_value=2**64), st.none()))
    obj["id"], obj["timeCreate"] = ident, created
    return dump(obj), ident, created


bare_texts = st.one_of(
    st.sampled_from([t.text for t in NUMBER_TOKENS]),
    st.sampled_from([b"", b"None", b"True", b"False", b"maybe", b" 12 ", b"nan", b"inf", b"-inf", b"1" * 5000,
                     b"\xff\xfe", b"0x1F", b"1_000", b"[1,2]", b"[1,2", b'{"pid":1}', b"[1.5]", b"[true]"]),
    st.binary(max_size=20), st.integers().map(lambda n: str(n).encode()),
    st.floats().map(lambda f: repr(f).encode()), st.text(max_size=10).map(lambda s: s.encode()),
)


@st.composite
def values(draw: Any, family: str) -> tuple[bytes, Any, Any]:
    """One odd value for ``family``: (bytes, id token or None, timeCreate token or None)."""
    if family in OBJECT_FAMILIES or family == "healthcheck_monitoring":
        how = draw(st.sampled_from(["object", "object", "object", "truncated", "garbage", "other json", "deep"]))
        if how == "object":
            return draw(objects())
        if how == "truncated":
            raw = draw(objects())[0]
            return raw[: draw(st.integers(0, max(0, len(raw) - 1)))], None, None
        if how == "garbage":
            return draw(st.binary(max_size=30)), None, None
        if how == "deep":
            return dump(draw(st.sampled_from(DEEP_TOKENS))), None, None
        return dump(draw(json_values)), None, None
    if family == "applications":
        return draw(st.one_of(bare_texts, json_values.map(dump))), None, None
    return draw(bare_texts), None, None


# ------------------------------------------------------------------------------ the property
@pytest.fixture(scope="module")
def server(redis_factory: ServerFactory) -> Iterator[EmbeddedRedis]:
    s = redis_factory.start(tcp=False)
    yield s
    s.stop()


def _locators(df: pd.DataFrame, family: str) -> set[tuple[str, Any]]:
    """(key, locator) of every row of a family frame."""
    if df.empty:
        return set()
    if family in HASH_KEYS:
        col = FAMILIES[family].field_column or "field"
        if col not in df.columns:
            return set()
        return set(zip(df["key"].tolist(), df[col].tolist()))
    if family in LIST_KEYS:
        return set(zip(df["key"].tolist(), [None if pd.isna(p) else int(p) for p in df["position"].tolist()]))
    if family in SET_KEYS:
        return set(zip(df["key"].tolist(), df["member"].tolist()))
    return {(k, None) for k in df["key"].tolist()}


def _reported(problems: pd.DataFrame) -> dict[tuple[str, str, Any], list[str]]:
    """Problem errors by (family, key, field)."""
    out: dict[tuple[str, str, Any], list[str]] = {}
    for fam, key, field, error in zip(problems["family"], problems["key"], problems["field"], problems["error"]):
        out.setdefault((fam, key, None if field is None or field is pd.NA else str(field)), []).append(error)
    return out


def _row_index(df: pd.DataFrame, family: str) -> dict[tuple[str, Any], int]:
    """Row number of each (key, locator) of a job family frame."""
    if df.empty:
        return {}
    keys = df["key"].tolist()
    if family in HASH_KEYS:
        locs = df["field"].tolist()
    elif family in LIST_KEYS:
        locs = [int(p) for p in df["position"].tolist()]
    else:
        locs = [None] * len(df)
    return {(k, loc): i for i, (k, loc) in enumerate(zip(keys, locs))}


def _locator_text(family: str, loc: Any) -> Any:
    if family in SET_KEYS:
        return loc.decode("utf-8", "backslashreplace")
    return None if loc is None else str(loc)


def _expected_id(token: Any) -> int | str | None:
    """The id a correct reader gives, ``None`` for missing-without-problem, ``"bad"`` for reported."""
    if token is None:
        return None
    if isinstance(token, bool):
        return int(token)
    if isinstance(token, Raw):
        try:
            token = json.loads(token.text)  # the token as a JSON reader sees it (1e400 -> inf)
        except ValueError:
            return "bad"
        if token is None:
            return None
    if isinstance(token, str):
        text = token.strip()
        if text in ("", "None", "null"):
            return None
        try:
            token = int(text)
        except ValueError:
            try:
                token = float(text)
            except ValueError:
                return "bad"
    if isinstance(token, float):
        if not math.isfinite(token) or token != int(token) or abs(token) >= 2.0**53:
            return "bad"  # a float beyond 2**53 may not be the integer that was meant
        token = int(token)
    if isinstance(token, int):
        return token if -(2**63) <= token < 2**63 else "bad"
    return "bad"


def _expected_time(token: Any) -> pd.Timestamp | str | None:
    if token is None:
        return None
    if isinstance(token, Raw):
        f = float(token.text)  # NUMBER_TOKENS are all numbers
    elif isinstance(token, int):
        f = float(token)
    else:
        f = token
    if math.isnan(f) or math.isinf(f):
        return "bad"
    if f <= 0:
        return None
    if f <= 9_223_372_036:
        return pd.Timestamp(round(f * 1e6) * 1000, unit="ns", tz="UTC")
    if 1e11 <= f <= 9_223_372_036_000:
        return pd.Timestamp(round(f / 1000 * 1e6) * 1000, unit="ns", tz="UTC")
    return "bad"


def _check_round(
    admin: jsadmin.Admin, placed: list[tuple[str, str, Any, bytes, Any, Any]], counts: Counter[str],
    checked: Counter[str], rec_dir: Path,
) -> None:
    """Load everything written this round, account for every value, run every reader of frames."""
    frames = admin.load_all()
    reported = _reported(admin.problems())
    present = {fam: _locators(df, fam) for fam, df in frames.items()}
    rows = {fam: _row_index(frames[fam], fam) for fam in JOB_FAMILIES}
    for fam, key, loc, raw, ident, created in placed:
        df = frames[fam]
        found = (key, _locator_text(fam, loc) if fam in SET_KEYS else loc) in present[fam]
        errors = reported.get((fam, key, _locator_text(fam, loc)), [])
        flattened = fam == "healthcheck_monitoring" and loc in ("results", "errors", "lastcheck")
        assert flattened or found or errors, (fam, key, loc, raw[:80])
        counts[fam] += 1
        if fam in JOB_FAMILIES and ident is not None and found:
            row = df.iloc[rows[fam][(key, loc)]]
            want = _expected_id(ident)
            if want == "bad":
                assert pd.isna(row["id"]) and any("column id" in e for e in errors), (ident, row["id"], errors)
            elif want is None:
                assert pd.isna(row["id"]), (ident, row["id"])
            else:
                assert row["id"] == want, (ident, row["id"])
            when = _expected_time(created)
            if when == "bad":
                assert pd.isna(row["timeCreate"]) and any("column timeCreate" in e for e in errors), (created, errors)
            elif when is None:
                assert pd.isna(row["timeCreate"]), (created, row["timeCreate"])
            else:
                assert abs((row["timeCreate"] - when).total_seconds()) < 1e-3, (created, row["timeCreate"])
            checked[fam] += 1
    # every reader of loaded frames, and the ones that read Redis themselves
    grid_health(frames)
    error_summary(frames)
    jobs = finished_jobs(frames)
    latency_summary(jobs)
    latency_summary(jobs, by=["nid"], metric="queue_wait")
    admin.queue_depths()
    admin.families()
    Recorder(admin, rec_dir, interval=1).poll()
    summarize(admin)  # the CLI's summary


def test_fuzz_every_family_never_crashes_and_loses_nothing(server: EmbeddedRedis, tmp_path: Path) -> None:
    counts: Counter[str] = Counter()
    checked: Counter[str] = Counter()
    failures: list[str] = []
    started = time.perf_counter()
    client = redis.Redis.from_url(server.url, protocol=2)
    client.flushall()
    admin = jsadmin.connect(server.url, readonly=True)
    state: dict[str, Any] = {"n": 0, "placed": [], "next": Counter(), "members": set()}
    batches = st.fixed_dictionaries({fam: st.tuples(*[values(fam)] * PER_EXAMPLE) for fam in sorted(FAMILIES)})

    # Examples never fail inside hypothesis: a round reads what several examples wrote, so a failure
    # is recorded with its values and reported after the run (hypothesis would replay one example).
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              phases=[Phase.generate], suppress_health_check=list(HealthCheck))
    @given(batch=batches)
    def run(batch: dict[str, tuple[tuple[bytes, Any, Any], ...]]) -> None:
        state["n"] += 1
        placed: list[tuple[str, str, Any, bytes, Any, Any]] = state["placed"]
        try:
            for fam in SINGLE_STRINGS:  # one key, one value: load it at once
                key = SINGLE_STRINGS[fam]
                for raw, _, _ in batch[fam]:
                    client.set(key, raw)
                    df, df_info = admin.load_with_info(fam)
                    assert len(df) == 1 or (df_info.problems["key"] == key).any(), (fam, raw[:80])
                    counts[fam] += 1
                client.delete(key)
            pipe = client.pipeline(transaction=False)
            for fam, vals in batch.items():
                for raw, ident, created in vals:
                    i = state["next"][fam]
                    if fam in SINGLE_STRINGS:
                        continue
                    state["next"][fam] += 1
                    if fam in HASH_KEYS:
                        key, loc = HASH_KEYS[fam], f"f{i}"
                        if fam == "healthcheck_monitoring" and i < 3:
                            loc = ("results", "errors", "lastcheck")[i]
                        pipe.execute_command("HSET", key, loc, raw)
                    elif fam in LIST_KEYS:
                        key, loc = LIST_KEYS[fam], i
                        pipe.execute_command("RPUSH", key, raw)
                    elif fam in SET_KEYS:
                        if raw in state["members"]:  # a set holds a member once: make it another one
                            raw = raw + b"#%d" % i
                        key, loc = SET_KEYS[fam], raw
                        state["members"].add(raw)
                        pipe.execute_command("SADD", key, raw)
                    else:
                        key, loc = f"{STRING_PREFIXES[fam]}{i}", None
                        pipe.execute_command("SET", key, raw)
                    placed.append((fam, key, loc, raw, ident, created))
            pipe.execute()
            if state["n"] % EXAMPLES_PER_ROUND == 0 or state["n"] == EXAMPLES:
                _check_round(admin, placed, counts, checked, tmp_path / "rec")
        except Exception as exc:  # recorded, reported after the run with the values involved
            failures.append(f"{type(exc).__name__}: {str(exc)[:500]}")
        if state["n"] % EXAMPLES_PER_ROUND == 0 or state["n"] == EXAMPLES:
            placed.clear()
            state["next"].clear()
            state["members"].clear()
            client.flushall()

    run()
    admin.close()
    client.close()
    seconds = time.perf_counter() - started
    total = sum(counts.values())
    print(
        f"\nfuzz: {total} malformed values over {len(counts)} families "
        f"(min {min(counts.values(), default=0)} per family), {sum(checked.values())} job ids/times checked, "
        f"{len(failures)} failures, {seconds:.1f} s"
    )
    assert not failures, failures[:5]
    assert len(counts) == 32
    assert min(counts.values()) >= VALUES_PER_FAMILY, counts
