"""Small helpers shared by the analytics modules (no Redis, no plotting)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import pandas as pd

JOB_FAMILIES = ("job_results", "jobs", "worker_jobs")
"""Families whose copies of a job can be final (spec §4.7), most authoritative first."""

FINAL_STATES = ("OK", "ERROR", "TIMEOUT")
"""States of a job that ran (or was given up on) and will not change any more."""

UNFINISHED_STATES = ("SCHEDULED", "STARTED")

TIME_COLUMNS = ("timeCreate", "timeStart", "timeStop")


def utc_now() -> pd.Timestamp:
    """The current time as a timezone-aware UTC timestamp."""
    return pd.Timestamp.now(tz="UTC")


def as_utc(value: object | None) -> pd.Timestamp:
    """``None`` -> now; epoch seconds, strings and datetimes -> a UTC :class:`pandas.Timestamp`.

    >>> as_utc(0)
    Timestamp('1970-01-01 00:00:00+0000', tz='UTC')
    """
    if value is None:
        return utc_now()
    if isinstance(value, int | float):
        return pd.Timestamp(float(value), unit="s", tz="UTC")
    ts = pd.Timestamp(value)
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def require_columns(df: pd.DataFrame, columns: Iterable[str], what: str) -> None:
    """Raise a clear ``KeyError`` naming the missing columns."""
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"{what} expects a pandas DataFrame, got {type(df).__name__}")
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise KeyError(f"{what} needs column(s) {missing}; the frame has {list(df.columns)[:20]}")


def utc_column(series: pd.Series) -> pd.Series:
    """Coerce a timestamp column to ``datetime64[ns, UTC]`` (naive values are taken as UTC)."""
    if isinstance(series.dtype, pd.DatetimeTZDtype):
        return series.dt.tz_convert("UTC")
    out = pd.to_datetime(series, utc=True, errors="coerce")
    return out


def seconds(delta: pd.Series) -> pd.Series:
    """Timedelta series -> float seconds (``NaN`` where missing)."""
    return delta.dt.total_seconds().astype("float64")


def frame_or_empty(frames: Mapping[str, pd.DataFrame], name: str) -> pd.DataFrame:
    """``frames[name]`` or an empty frame when the family is absent."""
    df = frames.get(name)
    return df if isinstance(df, pd.DataFrame) else pd.DataFrame()


def add_jumpscript(df: pd.DataFrame) -> pd.Series:
    """``<category>/<cmd>``: the jumpscript a job ran (organization/name)."""
    cat = df["category"].astype("string").fillna("") if "category" in df else ""
    cmd = df["cmd"].astype("string").fillna("")
    return (cat + "/" + cmd).astype("string")
