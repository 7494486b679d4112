"""Column conversion of odd decoded values: reported, never wrapped or silently missing."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

import pandas as pd
import pytest

from jsadmin.frames import build_frame, to_arrow_text, to_boolean, to_datetime, to_float64, to_int64

pytestmark = pytest.mark.version_independent  # building frames from cells in memory: no server


def test_int64_reports_what_it_cannot_hold() -> None:
    col = [1, None, 2**63 - 1, -(2**63), 2**63, -(2**63) - 1, math.nan, math.inf, 1.5, 1e17, 2.0**53 - 1, "12", "x", True]
    arr, bad = to_int64(col)
    assert arr[0] == 1 and pd.isna(arr[1]) and arr[2] == 2**63 - 1 and arr[3] == -(2**63)
    assert arr[10] == 2**53 - 1 and arr[11] == 12 and arr[13] == 1
    reasons = dict(bad)
    assert set(reasons) == {4, 5, 6, 7, 8, 9, 12}
    assert "Int64 range" in reasons[4] and "Int64 range" in reasons[5]
    assert "NaN" in reasons[6] and "out of range" in reasons[7] and "not an integer" in reasons[8]
    assert "exact integer" in reasons[9]
    assert all(pd.isna(arr[i]) for i in reasons)


def test_datetime_converts_milliseconds_and_reports_the_impossible() -> None:
    col = [1539600000, 1539600000123, 1539600000.5, 0, -1, None, 4e10, 1e20, math.inf, math.nan, "1539600000"]
    times, bad = to_datetime(col)
    assert times[0] == times[1].floor("s") == pd.Timestamp("2018-10-15 10:40:00", tz="UTC")
    assert times[1] == pd.Timestamp("2018-10-15 10:40:00.123", tz="UTC")
    assert times[10] == times[0]
    assert all(pd.isna(times[i]) for i in (3, 4, 5, 6, 7, 8, 9))
    assert sorted(i for i, _ in bad) == [6, 7, 8, 9]  # 0, -1 and None mean "unset"


def test_float64_and_text_survive_huge_ints_and_surrogates() -> None:
    arr, bad = to_float64([1.5, 10**400, None])
    assert arr[0] == 1.5 and pd.isna(arr[1]) and [i for i, _ in bad] == [1]
    assert to_arrow_text(["ok", "x\ud800", 10**30]).to_pylist() == ["ok", "x\\ud800", str(10**30)]


@pytest.mark.parametrize("dtype", ["Int64", "Float64", "datetime", "boolean", "string", "category", "object"])
def test_build_frame_never_raises_on_odd_cells(dtype: str) -> None:
    odd = [{"a": 1}, [1, 2], 10**30, math.nan, math.inf, "x\ud800", b"\xff", None, True, -0.0]
    df, bad = build_frame({"c": odd}, {"c": dtype})
    assert len(df) == len(odd)
    assert all(0 <= i < len(odd) for i, _, _ in bad)


@pytest.mark.parametrize("depth", [2, 33, 100])
@pytest.mark.parametrize("dtype", ["Int64", "Float64", "datetime", "boolean", "string", "category", "object"])
def test_build_frame_never_raises_on_a_lone_deep_list(dtype: str, depth: int) -> None:
    """A column whose only cells are nested lists (numpy sees one array of depth + 1 dimensions;
    pandas' boolean inference stops at 32 with a RuntimeError)."""
    deep = json.loads("[" * depth + "1" + "]" * depth)
    df, bad = build_frame({"c": [deep]}, {"c": dtype})
    assert len(df) == 1
    if dtype in ("Int64", "Float64", "datetime", "boolean"):
        assert [i for i, _, _ in bad] == [0] and pd.isna(df["c"][0])


@pytest.mark.parametrize(
    ("convert", "dtype", "col"),
    [
        (to_boolean, "boolean", [True, False, True]),
        (to_boolean, "boolean", [True, None, False]),
        (to_boolean, "boolean", [None, None]),
        (to_int64, "Int64", [1, -(2**63), 2**63 - 1]),
        (to_int64, "Int64", [1, None, 3]),
        (to_float64, "Float64", [600, 1.5, 0]),
        (to_float64, "Float64", [600, None, 2.5]),
    ],
)
def test_typed_columns_of_plain_json_values_equal_pandas_own_conversion(
    convert: Callable[[list[Any]], tuple[Any, list[tuple[int, str]]]], dtype: str, col: list[Any]
) -> None:
    """The direct numpy paths for columns holding only JSON numbers/booleans (and missing cells)."""
    arr, bad = convert(col)
    assert bad == []
    pd.testing.assert_extension_array_equal(arr, pd.array(col, dtype=dtype))


def test_an_int_column_with_a_value_outside_int64_is_reported_not_wrapped() -> None:
    arr, bad = to_int64([1, 2**63, 3])
    assert arr.tolist() == [1, pd.NA, 3]
    assert bad == [(1, "integer 9223372036854775808 is outside the Int64 range")]
