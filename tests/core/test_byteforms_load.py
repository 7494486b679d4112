"""Every family loads from hand-written fixtures in each byte form of the spec (tests/byteforms.py),
and every malformed value is reported with its key, field and raw bytes while the rest loads."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
import pytest
import redis
from byteforms import BYTEFORMS, MALFORMED, ByteForm, all_forms, write

import jsadmin
from jsadmin.catalog import FAMILIES

# the column holding a bare value, per family (the catalog says where a single-value decoder puts it)
VALUE_COLUMN = {name: fam.scalar_column or "value" for name, fam in FAMILIES.items()}
VALUE_COLUMN.update({"applications": "pids"})


def _rows_of(df: pd.DataFrame, fam: str, form: ByteForm, locator: str) -> pd.DataFrame:
    rows = df[df["key"] == form.key]
    f = FAMILIES[fam]
    if form.rtype == "hash":
        return rows[rows[f.field_column or "field"] == locator]
    if form.rtype == "list":
        return rows[rows["position"] == int(locator)]
    if form.rtype == "set":
        return rows[rows["member"] == locator]
    return rows


def _same(actual: Any, expected: Any, dtype: Any) -> bool:
    if isinstance(dtype, pd.DatetimeTZDtype):
        if expected in (0, None):
            return pd.isna(actual)
        return abs((actual - pd.Timestamp(float(expected), unit="s", tz="UTC")).total_seconds()) < 1e-5
    if str(dtype) in ("Int64", "Float64") and isinstance(expected, str):
        return float(actual) == float(expected)  # numeric text becomes a number
    if str(dtype) == "boolean" and isinstance(expected, str):
        return bool(actual) == (expected in ("True", "1"))
    if expected is None:
        return actual is None or (not isinstance(actual, list | dict) and pd.isna(actual))
    if isinstance(expected, float) and math.isnan(expected):
        return isinstance(actual, float) and math.isnan(actual)
    if isinstance(expected, int | float) and not isinstance(expected, bool) and str(dtype) == "string":
        return actual == str(expected)
    if isinstance(expected, bool) and str(dtype) == "string":
        return actual == str(expected)
    return bool(actual == expected)


def _deep_equal(a: Any, b: Any) -> bool:
    """== that treats NaN as equal to NaN (JSON NaN/Infinity survive decoding)."""
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_deep_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_deep_equal(x, y) for x, y in zip(a, b))
    return bool(a == b) and type(a) is type(b)


GOOD = [(fam, form) for fam, forms in BYTEFORMS.items() for form in forms if fam != "healthcheck_monitoring"]


@pytest.mark.parametrize(("fam", "form"), GOOD, ids=[f"{f}:{x.name}" for f, x in GOOD])
def test_byte_form_decodes(fam: str, form: ByteForm, r: redis.Redis, redis_url: str) -> None:
    write(r, [form])
    admin = jsadmin.connect(redis_url)
    df, df_info = admin.load_with_info(fam)
    admin.close()
    assert df_info.problems.empty, df_info.problems.to_dict("records")
    n_values = len(form.payload) if isinstance(form.payload, dict | list | set) else 1
    assert (df["key"] == form.key).sum() == n_values
    for locator, expected in form.expect.items():
        rows = _rows_of(df, fam, form, locator)
        assert len(rows) == 1, (locator, df)
        row = rows.iloc[0]
        if isinstance(expected, dict):
            checked = 0
            for col, value in expected.items():
                if col in df.columns and col not in ("roles",) and not isinstance(value, dict | list):
                    assert _same(row[col], value, df[col].dtype), (col, row[col], value)
                    checked += 1
                elif col in df.columns and isinstance(value, dict | list):
                    assert _deep_equal(row[col], value), (col, row[col], value)
                    checked += 1
            assert checked > 0 or not expected, f"no expected column of {sorted(expected)} is a column"
        elif form.rtype == "set":
            assert expected is True  # a set member: present exactly once (checked above)
        else:
            col = VALUE_COLUMN[fam]
            assert _same(row[col], expected, df[col].dtype), (col, row[col], expected)


def test_monitoring_flattens_results_and_errors(r: redis.Redis, redis_url: str) -> None:
    write(r, BYTEFORMS["healthcheck_monitoring"])
    admin = jsadmin.connect(redis_url)
    df, df_info = admin.load_with_info("healthcheck_monitoring")
    admin.close()
    assert df_info.problems.empty and len(df) > 0
    assert set(df["section"].astype(str)) <= {"results", "errors"}
    assert df["nid"].notna().all() and df["lastcheck"].notna().all()
    assert (df["message"].notna() | df["state"].notna()).all()


def test_every_malformed_value_is_reported_and_the_rest_loads(r: redis.Redis, redis_url: str) -> None:
    write(r, all_forms())
    admin = jsadmin.connect(redis_url)
    clean = {name: len(df) for name, df in admin.load_all().items()}
    assert admin.problems().empty
    write(r, MALFORMED)
    frames = admin.load_all()
    problems = admin.problems()
    admin.close()
    expected = pd.Series([m.family for m in MALFORMED]).value_counts().to_dict()
    assert problems["family"].value_counts().to_dict() == expected
    for m in MALFORMED:
        mine = problems[(problems["family"] == m.family) & (problems["key"] == m.key)]
        assert len(mine) >= 1, m.name
        assert mine["error"].str.len().min() > 0
        if m.rtype == "hash":
            (field, raw), = m.payload.items()
            hit = mine[mine["field"] == field.decode()]
            assert len(hit) == 1, (m.name, mine)
            assert hit["raw"].item() in (raw[:200], b"")  # shape errors found after decoding carry no raw
    for name, n in clean.items():
        # rows of good values are all still there (a decodable-but-flawed job stays as a row)
        assert len(frames[name]) >= n, name
