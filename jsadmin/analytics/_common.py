"""Small helpers shared by the analytics modules (no Redis, no plotting)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from ..catalog import FAMILIES, job_families
from ..domain import BLANK_CMD, MISSING_CMD, NO_ORGANIZATION, JobState

JOB_FAMILIES = job_families("authority", final=True)
"""Families whose copies of a job can be final (spec §4.7), most authoritative first."""

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


def frame_or_empty(frames: Mapping[str, pd.DataFrame], name: str) -> pd.DataFrame:
    """``frames[name]`` or an empty frame when the family is absent."""
    df = frames.get(name)
    return df if isinstance(df, pd.DataFrame) else pd.DataFrame()


def _text(series: pd.Series | None, n: int) -> pd.Series:
    if series is None:
        return pd.Series(pd.NA, index=range(n), dtype="string")
    return series.astype("string")


def jumpscript_ids(df: pd.DataFrame) -> pd.Series:
    """One identity per jumpscript: ``<organization>__<name>`` (``<category>__<cmd>``), as JumpScale keys
    ``workers:jumpscripts:name``: :func:`jsadmin.domain.jumpscript_id` over a frame (legacy local jobs
    fold into the same id; ``(blank cmd)``, ``(no cmd)`` and ``(no organization)`` label missing parts).

    >>> df = pd.DataFrame({"category": ["backup", "jumpscript", "", None], "cmd": ["backup_dirs", "backup/backup_dirs", "x", ""]})
    >>> jumpscript_ids(df).tolist()
    ['backup__backup_dirs', 'backup__backup_dirs', '(no organization)__x', '(blank cmd)']
    """
    n = len(df)
    cat = _text(df["category"] if "category" in df.columns else None, n).reset_index(drop=True)
    cmd = _text(df["cmd"] if "cmd" in df.columns else None, n).reset_index(drop=True)
    legacy = ((cat == "jumpscript") & cmd.str.contains("/", regex=False)).fillna(False)
    if legacy.any():
        parts = cmd[legacy].str.split("/", n=1)
        cat = cat.copy()
        cmd = cmd.copy()
        cat[legacy] = parts.str[0]
        cmd[legacy] = parts.str[1]
    cat_blank = cat.fillna("").str.strip() == ""
    cmd_missing = cmd.isna()
    cmd_blank = ~cmd_missing & (cmd.fillna("").str.strip() == "")
    name = cmd.where(~cmd_missing, MISSING_CMD).where(~cmd_blank, BLANK_CMD)
    org = cat.where(~cat_blank, NO_ORGANIZATION)
    out = (org + "__" + name).astype("string")
    unnamed = (cmd_missing | cmd_blank) & cat_blank
    out = out.where(~unnamed, name)
    out.index = df.index
    return out


def fold_legacy_category(df: pd.DataFrame) -> pd.DataFrame:
    """Legacy local jobs (``category "jumpscript"``, ``cmd "<org>/<name>"``, spec §4.5) under their
    organization, like current jobs (what grouping latency by ``category`` uses).

    >>> fold_legacy_category(pd.DataFrame({"category": ["jumpscript"], "cmd": ["backup/x"]}))["category"].tolist()
    ['backup']
    """
    cat = df["category"].astype("string")
    cmd = df["cmd"].astype("string") if "cmd" in df.columns else pd.Series(pd.NA, index=df.index, dtype="string")
    legacy = ((cat == "jumpscript") & cmd.str.contains("/", regex=False)).fillna(False)
    if not legacy.any():
        return df
    cat = cat.copy()
    cat[legacy] = cmd[legacy].str.split("/", n=1).str[0]
    return df.assign(category=cat)


def state_map(state: pd.Series, mapping: Mapping[str, float], default: float = 0) -> np.ndarray:
    """Map job states to numbers, fast on categorical states (one lookup per category).

    >>> state_map(pd.Series(["OK", "TIMEOUT", None], dtype="category"), {"OK": 3, "TIMEOUT": 2}).tolist()
    [3.0, 2.0, 0.0]
    """
    if isinstance(state.dtype, pd.CategoricalDtype):
        cats = np.array([mapping.get(str(c), default) for c in state.cat.categories] + [default], dtype="float64")
        codes = state.cat.codes.to_numpy()
        return cats[np.where(codes < 0, len(cats) - 1, codes)]
    text = state.astype("string")
    return text.map(lambda s: mapping.get(s, default) if isinstance(s, str) else default, na_action=None).to_numpy(
        dtype="float64", na_value=default
    )


def state_in(state: pd.Series, states: Iterable[str]) -> np.ndarray:
    """Boolean numpy mask: the job's state is one of ``states`` (missing state: False)."""
    return state_map(state, dict.fromkeys(states, 1.0), 0.0) > 0


def epoch_seconds(series: pd.Series) -> np.ndarray:
    """A timestamp column as float epoch seconds (``NaN`` for ``NaT``), without copies when typed."""
    col = series if isinstance(series.dtype, pd.DatetimeTZDtype) else utc_column(series)
    i8 = col.array.asi8
    per_second = {"s": 1, "ms": 10**3, "us": 10**6, "ns": 10**9}[col.dt.unit]
    out = i8.astype("float64") / per_second
    out[i8 == np.iinfo("int64").min] = np.nan
    return out


NAT = np.iinfo("int64").min
"""The ``int64`` of ``NaT`` in :func:`epoch_nanoseconds`."""
NS_PER_SECOND = 1e9


def epoch_nanoseconds(series: pd.Series) -> np.ndarray:
    """A timestamp column as ``int64`` epoch nanoseconds (:data:`NAT` for ``NaT``), whatever its unit.

    >>> epoch_nanoseconds(pd.Series(pd.to_datetime(["1970-01-01 00:00:01", None], utc=True)).astype("datetime64[s, UTC]")).tolist()
    [1000000000, -9223372036854775808]
    """
    col = series if isinstance(series.dtype, pd.DatetimeTZDtype) else utc_column(series)
    i8 = col.array.asi8
    scale = {"s": 10**9, "ms": 10**6, "us": 10**3, "ns": 1}[col.dt.unit]
    return i8 if scale == 1 else np.where(i8 == NAT, NAT, i8 * scale)


def ns_to_seconds(ns: np.ndarray) -> np.ndarray:
    """Nanoseconds (``int64``, or ``float64`` holding whole nanoseconds; ``NaN`` stays ``NaN``) as
    float seconds: the one conversion every latency engine uses, so all round alike.

    A duration is subtracted in exact integer nanoseconds and converted once: differences of
    float epoch seconds (about 2.4e-7 s apart at today's epoch) and polars' division by a scalar
    (a multiplication by the reciprocal) moved values across a half-millisecond.

    >>> ns_to_seconds(np.array([1_000_500_000])).tolist()
    [1.0005]
    """
    return np.asarray(ns).astype("float64") / NS_PER_SECOND


def time_buckets(series: pd.Series, step_ns: int) -> np.ndarray:
    """The start of each timestamp's bucket of ``step_ns`` nanoseconds, as ``int64`` epoch
    nanoseconds (:data:`NAT` for ``NaT``): exact integer arithmetic (floor), which every engine
    of ``latency_series`` uses, so a job on a bucket's edge lands in the same bucket everywhere.

    >>> time_buckets(pd.Series(pd.to_datetime([119_999_999_999, None], utc=True)), 60 * 10**9).tolist()
    [60000000000, -9223372036854775808]
    """
    ns = epoch_nanoseconds(series)
    return np.where(ns == NAT, NAT, ns // step_ns * step_ns)


def seconds_between(later: np.ndarray, earlier: np.ndarray) -> np.ndarray:
    """``later - earlier`` (epoch nanoseconds, :func:`epoch_nanoseconds`) as float seconds from the
    exact integer difference; ``NaN`` where either is :data:`NAT`.

    >>> seconds_between(np.array([3_000_000_001, NAT]), np.array([1, 0])).tolist()
    [3.0, nan]
    """
    missing = (later == NAT) | (earlier == NAT)
    out = ns_to_seconds(np.where(missing, 0, later) - np.where(missing, 0, earlier))
    out[missing] = np.nan
    return out


STATE_CATEGORIES = JobState.ALL


def canonical_state(state: pd.Series) -> pd.Categorical:
    """Job states as a categorical with the six spec states first (cheap on categorical input)."""
    if isinstance(state.dtype, pd.CategoricalDtype):
        cats = [str(c) for c in state.cat.categories]
        extra = sorted(set(cats) - set(STATE_CATEGORIES))
        wanted = [*STATE_CATEGORIES, *extra]
        if cats == wanted:
            return state.array
        if set(cats) <= set(wanted) and all(isinstance(c, str) for c in state.cat.categories):
            return state.cat.set_categories(wanted).array
    text = state.astype("string")
    extra = sorted(set(text.dropna().unique()) - set(STATE_CATEGORIES))
    return pd.Categorical(text, categories=[*STATE_CATEGORIES, *extra])


# --- current signal vs leftovers, and units ----------------------------------------------------

DEFAULT_LEFTOVER_AFTER = pd.Timedelta("7D")
"""Entries untouched for longer than this are leftovers, not current problems (``leftover_after=``)."""

SIGNAL_DTYPE = pd.CategoricalDtype(["current", "leftover"], ordered=True)
"""``signal`` column of the health frames: ``current`` problems sort before ``leftover`` ones."""


def as_timedelta(value: object, what: str = "duration") -> pd.Timedelta:
    """Seconds (int/float), ``"7D"``-style text or a timedelta as a :class:`pandas.Timedelta`.

    >>> as_timedelta(90), as_timedelta("7D")
    (Timedelta('0 days 00:01:30'), Timedelta('7 days 00:00:00'))
    """
    if isinstance(value, bool) or value is None:
        raise TypeError(f"{what} must be seconds or a Timedelta, got {value!r}")
    try:
        out = pd.Timedelta(seconds=float(value)) if isinstance(value, int | float) else pd.Timedelta(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{what} must be seconds or a Timedelta such as '7D', got {value!r}") from exc
    if pd.isna(out):
        raise ValueError(f"{what} must be seconds or a Timedelta such as '7D', got {value!r}")
    return out


def as_seconds(values: pd.Series) -> pd.Series:
    """Ages/durations as float seconds, whether the column holds floats or ``Timedelta``."""
    if pd.api.types.is_timedelta64_dtype(values.dtype):
        return values.dt.total_seconds().astype("float64")
    return pd.to_numeric(values, errors="coerce").astype("float64")


def age_column(at: pd.Timestamp, when: pd.Series) -> pd.Series:
    """``at - when`` as ``timedelta64[ns]`` rounded to milliseconds (``NaT`` where unknown)."""
    out = (at - utc_column(when)).astype("timedelta64[ns]")
    return out.dt.round("ms")


def family_leftover(name: str) -> str | None:
    """Why a whole family is a leftover (its catalog status is not ``current``), else ``None``.

    >>> family_leftover("worker_watchdog"), family_leftover("jobs")
    ('workers:watchdog is read-only (no writer in JumpScale 7)', None)
    """
    fam = FAMILIES.get(name)
    if fam is None or fam.status == "current":
        return None
    where = fam.patterns[0] if fam.patterns else name
    return f"{where} is {fam.status} (no writer in JumpScale 7)"


def leftover_reason(age: pd.Series, leftover_after: pd.Timedelta, family: str | None = None) -> pd.Series:
    """Per row: why it is a leftover (legacy family, or ``age`` past ``leftover_after``), else ``""``."""
    fam_why = family_leftover(family) if family else None
    if fam_why:
        return pd.Series(fam_why, index=age.index, dtype="string")
    old = (age > leftover_after).fillna(False).to_numpy(dtype=bool)
    text = f"untouched for more than {human_duration(leftover_after)} (leftover_after)"
    return pd.Series(np.where(old, text, ""), index=age.index, dtype="string")


def signal_of(why: pd.Series) -> pd.Categorical:
    """``current``/``leftover`` from a ``why`` column (leftover when it has a reason)."""
    left = why.fillna("").astype(str).str.len().to_numpy() > 0
    return pd.Categorical(np.where(left, "leftover", "current"), dtype=SIGNAL_DTYPE)


def human_duration(value: object) -> str:
    """A duration people read: ``42 s``, ``3.5 min``, ``2.0 h``, ``4.2 d``, ``12.5 y`` (``""`` if unknown).

    Accepts seconds or a ``Timedelta``.

    >>> human_duration(7300), human_duration(pd.Timedelta("7D")), human_duration(None)
    ('2.0 h', '7.0 d', '')
    """
    if isinstance(value, pd.Timedelta | np.timedelta64):
        value = pd.Timedelta(value).total_seconds()
    try:
        sec = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return ""
    if pd.isna(sec):
        return ""
    if abs(sec) < 10:
        return f"{sec:.1f} s" if sec != int(sec) else f"{sec:.0f} s"
    for limit, unit, div in ((120, "s", 1), (7200, "min", 60), (172800, "h", 3600), (63072000, "d", 86400)):
        if abs(sec) < limit:
            return f"{sec / div:.0f} {unit}" if unit == "s" else f"{sec / div:.1f} {unit}"
    return f"{sec / 31557600:.1f} y"
