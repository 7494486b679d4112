"""Frame libraries a load can return: pandas (the reader's own frames) or polars (the optional extra).

The reader decodes every value once, into a typed pandas frame. ``backend="polars"`` hands that
frame's columns to polars without decoding anything again: Arrow-backed text, nullable integers,
floats and booleans move over as Arrow buffers; datetimes keep nanoseconds and UTC; categories
become a ``pl.Enum`` of the same categories (unobserved states included, in order); ``object``
columns (``args``, ``result``, ``roles``, ``_meta``, ...) keep their decoded Python values as
``pl.Object``. Polars frames carry no ``attrs``: read problems from ``admin.problems()``.

>>> check_backend("pandas")
'pandas'
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from .extras import require

BACKENDS = ("pandas", "polars")
"""Frame libraries ``load(..., backend=...)`` returns."""

FEATURE = 'load(..., backend="polars")'


def check_backend(backend: str) -> str:
    """``backend`` if it is one of :data:`BACKENDS` and its library imports, before anything is read.

    An unknown name raises ``ValueError`` listing the choices; ``"polars"`` without polars raises
    :class:`jsadmin.extras.MissingExtraError` naming the ``polars`` extra.

    >>> check_backend("arrow")
    Traceback (most recent call last):
    ...
    ValueError: unknown backend 'arrow'; choose one of: 'pandas', 'polars'
    """
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; choose one of: {', '.join(map(repr, BACKENDS))}")
    if backend == "polars":
        require("polars", extra="polars", feature=FEATURE)
    return backend


def to_polars(df: pd.DataFrame) -> Any:
    """The same frame as a polars ``DataFrame``, column by column, nothing decoded again.

    Raises :class:`jsadmin.extras.MissingExtraError` (``pip install "jsadmin[polars]"``) without polars.

    >>> to_polars(pd.DataFrame({"id": pd.array([1, None], dtype="Int64")}))["id"].to_list()
    [1, None]
    """
    pl = require("polars", extra="polars", feature=FEATURE)
    columns: list[Any] = []
    for name in df.columns:
        col = df[name]
        label = str(name)
        dtype = col.dtype
        if pd.api.types.is_object_dtype(dtype):
            columns.append(pl.Series(label, col.tolist(), dtype=pl.Object))
        elif isinstance(dtype, pd.CategoricalDtype):
            cats = [str(c) for c in dtype.categories]
            columns.append(pl.from_pandas(col).alias(label).cast(pl.String).cast(pl.Enum(cats)))
        elif isinstance(dtype, pd.DatetimeTZDtype):
            series = pl.from_pandas(col).alias(label)
            columns.append(series.cast(pl.Datetime(dtype.unit, str(dtype.tz))))
        else:
            columns.append(pl.from_pandas(col).alias(label))
    return pl.DataFrame(columns, height=len(df)) if columns else pl.DataFrame(height=len(df))


def as_backend(df: pd.DataFrame, backend: str) -> Any:
    """``df`` as a frame of ``backend`` (``"pandas"``: ``df`` itself).

    >>> as_backend(pd.DataFrame({"a": [1]}), "pandas").shape
    (1, 1)
    """
    if check_backend(backend) == "polars":
        return to_polars(df)
    return df


__all__ = ["BACKENDS", "as_backend", "check_backend", "to_polars"]
