"""Typed DataFrames from decoded records.

Columns are built directly from lists (no ``json_normalize``), converted by the dtype names the
catalog uses:

======================  ==================================================================
``Int64``               nullable integers; ints and numeric text (``"5"``) accepted
``Float64``             nullable floats
``string``              text; non-text values are stringified (``1`` -> ``"1"``)
``boolean``             JSON bools and ``"True"``/``"False"``/``"1"``/``"0"``
``category``            categorical text (states)
``datetime``            epoch seconds -> ``datetime64[ns, UTC]``; ``0``/missing -> ``NaT``
``object``              decoded JSON kept as is (dicts, lists)
======================  ==================================================================

>>> build_frame({"gid": [1, "2", None]}, {"gid": "Int64"})[0]["gid"].tolist()
[1, 2, <NA>]
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from operator import itemgetter
from typing import Any

import numpy as np
import orjson
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .decode import DecodeError, loads, parse_bool, parse_number
from .domain import JobState

Column = list[Any]
Bad = list[tuple[int, str]]
"""(row index, reason) of values that did not convert."""

JOB_STATES = JobState.ALL

JOB_COLUMNS: dict[str, str] = {
    "gid": "Int64",
    "nid": "Int64",
    "id": "Int64",
    "guid": "string",
    "category": "string",
    "cmd": "string",
    "jumpscript": "string",
    "roles": "object",
    "role": "string",
    "queue": "string",
    "state": "category",
    "timeCreate": "datetime",
    "timeStart": "datetime",
    "timeStop": "datetime",
    "timeout": "Float64",
    "wait": "boolean",
    "log": "boolean",
    "errorreport": "boolean",
    "internal": "boolean",
    "sessionid": "string",
    "jscriptid": "string",
    "resultcode": "string",
    "achost": "string",
    "args": "object",
    "result": "object",
    "parent": "object",
    "tags": "object",
    "_ckey": "string",
    "_meta": "object",
}
"""Every job field of spec §4.2 (+ ``jumpscript`` and ``role``, derived), in display order."""

JOB_DERIVED = ("jumpscript", "role")
"""Job columns computed by the reader, not read from the job JSON."""

JOB_FIELDS = tuple(c for c in JOB_COLUMNS if c not in JOB_DERIVED)


def extract(records: Sequence[dict[str, Any]], fields: Sequence[str]) -> dict[str, Column]:
    """Transpose dicts into one list per field (missing keys -> ``None``), at C speed when uniform.

    Fields present in the first record are fetched with one ``itemgetter`` per record; records
    missing one of them take a slower per-field path; other fields are gathered with ``dict.get``.
    """
    if not records:
        return {f: [] for f in fields}
    first = records[0]
    common = [f for f in fields if f in first]
    out: dict[str, Column] = {}
    if len(common) > 1:
        getter = itemgetter(*common)
        try:
            rows = list(map(getter, records))
        except KeyError:
            rows = []
            append = rows.append
            for rec in records:
                try:
                    append(getter(rec))
                except KeyError:
                    append(tuple(rec.get(f) for f in common))
        out = dict(zip(common, map(list, zip(*rows))))
    elif common:
        out[common[0]] = [r.get(common[0]) for r in records]
    for f in fields:
        if f not in out:
            out[f] = [r.get(f) for r in records]
    return {f: out[f] for f in fields}


def _floats(col: Column) -> tuple[np.ndarray, Bad]:
    """Float array (NaN for missing) from numbers and numeric text."""
    try:
        arr = np.array(col, dtype="float64")
        if arr.ndim == 1:
            return arr, []
    except (TypeError, ValueError, OverflowError):
        pass
    bad: Bad = []
    out = np.empty(len(col), dtype="float64")
    for i, v in enumerate(col):
        try:
            n = parse_number(v)
            out[i] = math.nan if n is None else float(n)
        except (DecodeError, TypeError, ValueError, OverflowError):
            out[i] = math.nan
            bad.append((i, f"not a number: {_short(v)}"))
    return out, bad


INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
FLOAT_EXACT = 2.0**53
"""Floats this large no longer hold every integer: as an integer they may be silently off."""
_INT_TYPES = frozenset({int, type(None)})
_INT = frozenset({int})


def to_int64(col: Column) -> tuple[pd.api.extensions.ExtensionArray, Bad]:
    """Nullable integers; text such as ``"5"`` is accepted, other text is reported.

    Never silently wrong: ``NaN``/``Infinity``, fractions, integers outside Int64 (a gid of
    2**63) and integral floats beyond 2**53 (a JSON integer too long for 64 bits arrives as a
    float) are reported and left missing.
    """
    types = set(map(type, col))
    if types == _INT:  # no missing cell: the values straight into numpy (an int outside Int64 raises)
        try:
            return pd.arrays.IntegerArray(np.array(col, dtype="int64"), np.zeros(len(col), dtype=bool)), []
        except (TypeError, ValueError, OverflowError):
            pass  # reported below
    elif types <= _INT_TYPES:
        try:
            with np.errstate(invalid="ignore", over="ignore"):  # an int outside Int64 raises here
                return pd.array(col, dtype="Int64"), []
        except (TypeError, ValueError, OverflowError):
            pass  # an int outside Int64: reported below
    elif types <= _TEXT_TYPES and len(col) > 64:
        distinct = dict.fromkeys(col)
        if len(distinct) * 8 <= len(col):  # e.g. a key's gid, the same text on every row of the key
            return _int64_by_value(col, distinct)
    values = np.zeros(len(col), dtype="int64")
    mask = np.zeros(len(col), dtype=bool)
    bad: Bad = []
    for i, v in enumerate(col):
        n, why = _as_int(v)
        if n is None:
            mask[i] = True
            if why:
                bad.append((i, why))
        else:
            values[i] = n
    return pd.arrays.IntegerArray(values, mask), bad


_TEXT_TYPES = frozenset({str, type(None)})


def _int64_by_value(col: Column, distinct: dict[Any, None]) -> tuple[pd.api.extensions.ExtensionArray, Bad]:
    """:func:`to_int64` of a text column with few distinct values: each is parsed once.

    Same values, missing cells and reasons as the per-cell path (text keys never collide
    across types, so each cell maps to exactly the result its own parse would give).
    """
    parsed = {v: _as_int(v) for v in distinct}
    codes = dict(zip(parsed, range(len(parsed))))
    table = np.array([0 if n is None else n for n, _ in parsed.values()], dtype="int64")
    missing = np.array([n is None for n, _ in parsed.values()], dtype=bool)
    at = np.fromiter(map(codes.__getitem__, col), dtype="int64", count=len(col))
    bad: Bad = []
    if missing.any():
        reasons = [why for _, why in parsed.values()]
        bad = [(i, why) for i, why in enumerate(map(reasons.__getitem__, at.tolist())) if why]
    return pd.arrays.IntegerArray(table[at], missing[at]), bad


def _as_int(v: Any) -> tuple[int | None, str | None]:
    """``(integer, None)``, ``(None, None)`` for missing, or ``(None, reason)``."""
    if v is None:
        return None, None
    if isinstance(v, bool):
        return int(v), None
    if isinstance(v, int):
        n: Any = v
    else:
        try:
            n = parse_number(v)
        except (DecodeError, TypeError, ValueError, OverflowError):
            return None, f"not a number: {_short(v)}"
        if n is None:
            return None, None
        if isinstance(n, float):
            if math.isnan(n):
                return None, "NaN where an integer is expected"
            if math.isinf(n):
                return None, f"{_short(v)} where an integer is expected (out of range)"
            if n != math.floor(n):
                return None, f"not an integer: {_short(v)}"
            if abs(n) >= FLOAT_EXACT:  # e.g. a JSON int beyond 64 bits, parsed as a float
                return None, f"{_short(v)} is too large to be an exact integer"
            n = int(n)
    if not INT64_MIN <= n <= INT64_MAX:
        return None, f"integer {_short(v)} is outside the Int64 range"
    return n, None


def _short(v: Any, limit: int = 60) -> str:
    """A short ``repr`` that never walks a huge value (and never recurses)."""
    if isinstance(v, bytes | str):
        return repr(v[:limit]) + ("..." if len(v) > limit else "")
    if isinstance(v, int) and not isinstance(v, bool) and v.bit_length() > 200:
        return f"<integer of {v.bit_length()} bits>"
    if isinstance(v, dict | list):
        return f"<JSON {'object' if isinstance(v, dict) else 'list'} of {len(v)} items>"
    return f"{v!r:.{limit}}"


_NUMBER_TYPES = frozenset({int, float, type(None)})


def to_float64(col: Column) -> tuple[pd.api.extensions.ExtensionArray, Bad]:
    """Nullable floats (``NaN`` in the source stays ``NaN``, missing is ``<NA>``)."""
    types = set(map(type, col))
    if types <= _NUMBER_TYPES:
        try:
            arr = np.array(col, dtype="float64")
        except OverflowError:  # an int beyond float range: reported by the slow path
            pass
        else:
            if type(None) in types:
                missing = np.equal(np.fromiter(col, dtype=object, count=len(col)), None)  # type: ignore[call-overload]  # numpy stubs: no None operand
            else:
                missing = np.zeros(len(col), dtype=bool)
            return pd.arrays.FloatingArray(arr, missing), []
    arr, bad = _floats(col)
    missing = np.equal(np.fromiter(col, dtype=object, count=len(col)), None)  # type: ignore[call-overload]  # numpy stubs: no None operand
    for i, _ in bad:
        missing[i] = True  # reported, and missing rather than NaN
    return pd.arrays.FloatingArray(arr, missing), bad


EPOCH_MAX_SECONDS = 9_223_372_036.0
"""The last second ``datetime64[ns]`` can hold (2262-04-11)."""
EPOCH_MS_MIN, EPOCH_MS_MAX = 1e11, EPOCH_MAX_SECONDS * 1000
"""Epochs in this range are milliseconds (1e11 s would be the year 5138; 1e11 ms is 1973)."""


def to_datetime(col: Column) -> tuple[pd.DatetimeIndex, Bad]:
    """UTC datetimes from epoch seconds; ``0``, negatives and missing values are ``NaT``.

    JumpScale writes seconds. A value that only makes sense as milliseconds (1e11 to 9.2e12,
    i.e. 1973 to 2262) is converted from milliseconds; ``NaN``, ``Infinity`` and values beyond
    the year 2262 in either unit are reported and left ``NaT``.
    """
    arr, bad = _floats(col)
    with np.errstate(invalid="ignore"):
        ms = (arr >= EPOCH_MS_MIN) & (arr <= EPOCH_MS_MAX)
        arr = np.where(ms, arr / 1000.0, arr)
        out_of_range = ~np.isnan(arr) & ((arr > EPOCH_MAX_SECONDS) | np.isneginf(arr))
        nan = np.isnan(arr)
        missing = ~(arr > 0) | out_of_range
    if out_of_range.any() or nan.any():
        bad_rows = {i for i, _ in bad}
        for i in np.flatnonzero(out_of_range | nan):
            v = col[int(i)]
            if int(i) in bad_rows or v is None:
                continue
            if nan[i]:
                bad.append((int(i), f"epoch {_short(v)} is not a number"))
            elif np.isinf(arr[i]):
                bad.append((int(i), f"epoch {_short(v)} is not finite"))
            else:
                bad.append((int(i), f"epoch {_short(v)} is beyond the year 2262 (in seconds and in milliseconds)"))
    with np.errstate(over="ignore", invalid="ignore"):  # out-of-range values are masked (and reported above)
        ns = np.where(missing, 0, np.round(arr * 1e6)).astype("int64") * 1000
    values = ns.view("M8[ns]").copy()
    values[missing] = np.datetime64("NaT")
    return pd.DatetimeIndex(values).tz_localize("UTC"), bad


_BOOL_TYPES = frozenset({bool, type(None)})


def to_boolean(col: Column) -> tuple[pd.api.extensions.ExtensionArray, Bad]:
    """Nullable booleans from JSON bools and the texts of spec §8.2."""
    types = set(map(type, col))
    if types <= _BOOL_TYPES and types:  # JSON booleans (and missing cells): no per-cell coercion needed
        cells = np.fromiter(col, dtype=object, count=len(col))
        missing = np.equal(cells, None) if type(None) in types else np.zeros(len(col), dtype=bool)  # type: ignore[call-overload]  # numpy stubs: no None operand
        return pd.arrays.BooleanArray(np.equal(cells, True), missing), []
    try:
        return pd.array(col, dtype="boolean"), []
    except (TypeError, ValueError, IndexError, RuntimeError):
        pass  # IndexError: a lone JSON list cell makes a 2-D array; RuntimeError: one over 32 deep
    bad: Bad = []
    out: list[bool | None] = []
    for i, v in enumerate(col):
        try:
            out.append(parse_bool(v))
        except DecodeError as exc:
            out.append(None)
            bad.append((i, str(exc)))
    return pd.array(out, dtype="boolean"), bad


ARROW_POOL = pa.system_memory_pool()
"""Where the Arrow columns of a load are allocated: the C allocator, which hands the per-batch
buffers of a load back as they are freed (Arrow's default mimalloc pool kept about 40 MiB of them
at 200,000 jobs, a quarter of the frame). Only jsadmin's own arrays use it; the default pool is untouched."""


def text_array(values: Sequence[bytes | None]) -> pd.api.extensions.ExtensionArray:
    """A ``string`` array straight from raw bytes (keys, hash fields): no Python ``str`` per row.

    Invalid UTF-8 is kept visible with backslash escapes.
    """
    try:
        arr = pa.array(values, type=pa.large_string(), memory_pool=ARROW_POOL)
    except (pa.ArrowException, TypeError):
        arr = pa.array(
            [v.decode("utf-8", "backslashreplace") if isinstance(v, bytes) else v for v in values],
            type=pa.large_string(), memory_pool=ARROW_POOL,
        )
    return pd.arrays.ArrowStringArray(arr)


def _as_text(v: Any) -> Any:
    if v is None or isinstance(v, str):
        return v
    if isinstance(v, bytes):
        return v.decode("utf-8", "backslashreplace")
    if isinstance(v, float) and math.isnan(v):
        return None
    if isinstance(v, bool):
        return "True" if v else "False"
    try:
        return str(v)
    except ValueError:  # an int too long to print (sys.get_int_max_str_digits)
        return f"<{type(v).__name__} too large to print>"


def _utf8_safe(v: Any) -> Any:
    """Text Arrow can hold: lone surrogates are shown as backslash escapes."""
    if isinstance(v, str) and not v.isascii():
        return v.encode("utf-8", "backslashreplace").decode("utf-8")
    return v


def to_arrow_text(col: Column) -> pa.Array:
    """An Arrow ``large_string`` array; numbers are stringified (``jscriptid`` 5 -> ``"5"``)."""
    try:
        return pa.array(col, type=pa.large_string(), memory_pool=ARROW_POOL)
    except (pa.ArrowException, TypeError, ValueError):
        pass
    try:  # e.g. resultcode / jscriptid held as JSON integers: let Arrow print them
        arr = pa.array(col, memory_pool=ARROW_POOL)
        if pa.types.is_integer(arr.type):
            return arr.cast(pa.large_string(), memory_pool=ARROW_POOL)
    except (pa.ArrowException, TypeError, ValueError, OverflowError):
        pass
    texts = [_as_text(v) for v in col]
    try:
        return pa.array(texts, type=pa.large_string(), memory_pool=ARROW_POOL)
    except (pa.ArrowException, TypeError, ValueError):
        return pa.array([_utf8_safe(v) for v in texts], type=pa.large_string(), memory_pool=ARROW_POOL)


JSON_TEXT_COLUMNS = ("args", "result")
"""Job columns that ``load(..., json_text=True)`` keeps as compact JSON text (see :func:`json_values`)."""


def to_json_text(col: Column, lenient: Iterable[int] = ()) -> pa.Array:
    """Decoded JSON values as compact JSON text (``None`` stays missing), one Arrow ``large_string``.

    Values orjson decoded are written back with orjson, which gives the same value when read
    again; the rows in ``lenient`` (decoded by the lenient parser: ``NaN``, ``1e400``, integers
    beyond 64 bits) are written with ``json``, which keeps ``NaN``/``Infinity`` as such.

    >>> to_json_text([{"a": 1}, None, [1.5]]).to_pylist()
    ['{"a":1}', None, '[1.5]']
    """
    dumps = orjson.dumps
    slow = set(lenient)
    if slow:
        texts = [None if v is None else _json_dumps(v) if i in slow else dumps(v) for i, v in enumerate(col)]
    else:
        texts = [None if v is None else dumps(v) for v in col]
    return pa.array(texts, type=pa.large_string(), memory_pool=ARROW_POOL)


def _json_dumps(v: Any) -> bytes:
    return json.dumps(v, allow_nan=True, ensure_ascii=False, separators=(",", ":")).encode()


def json_values(values: Iterable[Any]) -> pd.Series:
    """The decoded JSON of a column held as JSON text (``json_text=True``); other cells as they are.

    Decodes on demand with the lenient parser, so ``NaN`` written by Python comes back as ``nan``.

    >>> json_values(pd.Series(['{"msg":"hi"}', None]))[0]["msg"]
    'hi'
    """
    index = values.index if isinstance(values, pd.Series) else None
    name = values.name if isinstance(values, pd.Series) else None
    cells = values.tolist() if isinstance(values, pd.Series) else list(values)
    decoded = [loads(v) if isinstance(v, str) else None if v is pd.NA else v for v in cells]
    return pd.Series(np.fromiter(decoded, dtype=object, count=len(decoded)), index=index, name=name, dtype=object)


def to_string(col: Column) -> tuple[pd.api.extensions.ExtensionArray, Bad]:
    """Text; numbers are stringified (``jscriptid`` 5 -> ``"5"``)."""
    return pd.arrays.ArrowStringArray(to_arrow_text(col)), []


def to_category(col: Column, categories: Iterable[str] = ()) -> tuple[pd.Categorical, Bad]:
    """Categorical text; known ``categories`` come first, unknown values are added."""
    known = list(categories)
    try:
        text = pa.array(col, type=pa.large_string(), memory_pool=ARROW_POOL)  # chunked from an Arrow column
        whole = text.combine_chunks(memory_pool=ARROW_POOL) if isinstance(text, pa.ChunkedArray) else text
        encoded = pc.dictionary_encode(whole, memory_pool=ARROW_POOL)
        del whole
        present = encoded.dictionary.to_pylist()
        codes = encoded.indices.to_numpy(zero_copy_only=False)
    except (pa.ArrowException, TypeError, ValueError):
        values = [_as_text(v) for v in col]
        extra = sorted({v for v in values if v is not None} - set(known))
        return pd.Categorical(values, categories=known + extra), []
    cats = known + sorted(set(present) - set(known))
    position = {c: i for i, c in enumerate(cats)}
    remap = np.array([position[c] for c in present] + [-1], dtype="int64")
    codes = np.where(np.isnan(codes), -1, codes).astype("int64") if codes.dtype.kind == "f" else codes
    return pd.Categorical.from_codes(remap[codes], categories=cats), []


def to_object(col: Column) -> tuple[np.ndarray, Bad]:
    """Decoded JSON values as they are (one Python object per cell, lists never broadcast).

    A 1-D object array is already that, and is returned as it is (not copied).

    >>> to_object([{"a": 1}, [2], None])[0].tolist()
    [{'a': 1}, [2], None]
    """
    if isinstance(col, np.ndarray) and col.dtype == object and col.ndim == 1:
        return col, []
    return np.fromiter(col, dtype=object, count=len(col)), []


CONVERTERS: dict[str, Callable[[Column], tuple[Any, Bad]]] = {
    "Int64": to_int64,
    "Float64": to_float64,
    "datetime": to_datetime,
    "boolean": to_boolean,
    "string": to_string,
    "category": to_category,
    "object": to_object,
}

PANDAS_DTYPES = {
    "Int64": "Int64",
    "Float64": "Float64",
    "datetime": "datetime64[ns, UTC]",
    "boolean": "boolean",
    "string": "string",
    "category": "category",
    "object": "object",
}


def empty_frame(spec: dict[str, str]) -> pd.DataFrame:
    """A frame with no rows but every column of ``spec`` at its dtype."""
    return pd.DataFrame({c: pd.Series([], dtype=PANDAS_DTYPES[t]) for c, t in spec.items()})


_ODD_VALUE = (TypeError, ValueError, OverflowError, RecursionError, IndexError, pa.ArrowException)


def _converter(dtype: str, categories: Sequence[str]) -> Callable[[Column], tuple[Any, Bad]]:
    if dtype == "category":
        return lambda col: to_category(col, categories)
    return CONVERTERS[dtype]


def _cell_by_cell(convert: Callable[[Column], tuple[Any, Bad]], col: Column, dtype: str) -> tuple[Any, Bad]:
    """Convert a column whose batch conversion raised: each failing cell is reported and missing."""
    cells: Column = []
    bad: Bad = []
    for i, v in enumerate(col):
        try:
            convert([v])
            cells.append(v)
        except _ODD_VALUE as exc:
            cells.append(None)
            bad.append((i, f"cannot be stored as {dtype}: {type(exc).__name__}"))
    converted, more = convert(cells)
    return converted, bad + more


def convert_column(dtype: str, col: Column, categories: Sequence[str] = ()) -> tuple[Any, Bad]:
    """One column converted to ``dtype``; a batch with an odd cell is converted cell by cell.

    Returns the array and ``(row, reason)`` for each cell that did not convert (left missing).

    >>> convert_column("Int64", [1, "x", None])[1]
    [(1, "not a number: 'x'")]
    """
    convert = _converter(dtype, categories)
    try:
        return convert(col)
    except _ODD_VALUE:  # one odd cell: convert cell by cell, report the ones that fail
        return _cell_by_cell(convert, col, dtype)


def build_frame(
    columns: dict[str, Column],
    spec: dict[str, str],
    *,
    categories: Mapping[str, Sequence[str]] | None = None,
) -> tuple[pd.DataFrame, list[tuple[int, str, str]]]:
    """Convert raw column lists to a typed frame in ``spec`` order.

    Returns the frame and ``(row, column, reason)`` for every value that did not convert
    (those cells are missing in the frame, and the caller reports them).
    """
    n = len(next(iter(columns.values()))) if columns else 0
    if n == 0:
        return empty_frame(spec), []
    data: dict[str, Any] = {}
    bad_all: list[tuple[int, str, str]] = []
    for name, dtype in spec.items():
        col = columns.get(name)
        if col is None:
            col = [None] * n
        if dtype == "string" and isinstance(col, pd.arrays.ArrowStringArray):
            data[name] = col
            continue
        converted, bad = convert_column(dtype, col, (categories or {}).get(name, ()))
        data[name] = converted
        bad_all.extend((i, name, why) for i, why in bad)
    return pd.DataFrame(data, copy=False), bad_all


def share_strings(cells: Column) -> Column:
    """Make equal strings inside list cells one object (in place), e.g. ``_meta``, ``roles``.

    JSON decoding makes a new ``str`` for every ``"system"`` of every job's ``_meta``
    (``["system", "job", 1]``): about 110 bytes per row that the frame does not need. Strings are
    immutable, so sharing them changes no value; the lists themselves stay one per cell.

    >>> a, b = share_strings([["system", "job"], ["sys" + "tem".lower()]])
    >>> a[0] is b[0], a == ["system", "job"]
    (True, True)
    """
    memo: dict[str, str] = {}
    share = memo.setdefault
    for cell in cells:
        if type(cell) is list and cell:
            for i, v in enumerate(cell):
                if type(v) is str:
                    cell[i] = share(v, v)
    return cells


def first_role(roles: Column) -> Column:
    """The first non-null role of each ``roles`` list (``None`` when there is none)."""
    out: Column = []
    for rs in roles:
        role = None
        if isinstance(rs, list):
            for r in rs:
                if r is not None:
                    role = r if isinstance(r, str) else str(r)
                    break
        out.append(role)
    return out


def expand_column(df: pd.DataFrame, column: str, *, sep: str = ".") -> pd.DataFrame:
    """Add one column per key of the dicts in ``column`` (``args`` -> ``args.msg`` ...).

    >>> expand_column(pd.DataFrame({"args": [{"a": 1}, None]}), "args")["args.a"].tolist()
    [1.0, nan]
    """
    if column not in df.columns:
        raise KeyError(f"no column {column!r} to expand; columns: {', '.join(map(str, df.columns))}")
    values = df[column].tolist()
    if any(isinstance(v, str) for v in values):  # held as JSON text (json_text=True)
        values = json_values(values).tolist()
    keys: dict[str, None] = {}
    for v in values:
        if isinstance(v, dict):
            keys.update(dict.fromkeys(map(str, v)))
    if not keys:
        return df
    expanded = pd.DataFrame(
        {f"{column}{sep}{k}": [v.get(k) if isinstance(v, dict) else None for v in values] for k in keys},
        index=df.index,
    ).infer_objects()
    return pd.concat([df, expanded], axis=1)
