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

from typing import TYPE_CHECKING, Any, Literal, overload

import pandas as pd

from .extras import require
from .loadinfo import Loaded, with_attrs

if TYPE_CHECKING:
    import polars as pl

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


class LoadsFamilies:
    """``load(name, *, backend=..., **filters)`` typed per backend, for every source (``Admin``,
    ``Fleet``, ``Snapshot``): each reads a family in :meth:`load_with_info` (the pandas frame and
    its typed :class:`~jsadmin.loadinfo.LoadInfo`), and :func:`as_backend` hands the frame to the
    library asked for.

    >>> from jsadmin.loadinfo import LoadInfo, problems_frame
    >>> class Empty(LoadsFamilies):
    ...     def load_with_info(self, name, **filters):
    ...         return Loaded(pd.DataFrame({"family": [name]}), LoadInfo(name, problems_frame([])))
    >>> Empty().load("jobs")["family"].tolist()
    ['jobs']
    """

    @overload
    def load(self, name: str, *, backend: Literal["pandas"] = ..., **filters: Any) -> pd.DataFrame: ...
    @overload
    def load(self, name: str, *, backend: Literal["polars"], **filters: Any) -> pl.DataFrame: ...
    @overload
    def load(self, name: str, *, backend: str, **filters: Any) -> pd.DataFrame | pl.DataFrame: ...

    def load(self, name: str, *, backend: str = "pandas", **filters: Any) -> pd.DataFrame | pl.DataFrame:
        """One family as a typed frame: the source's :meth:`load_with_info` (its filters, notes and
        problems), in the library ``backend`` names (``"pandas"``, or ``"polars"`` with the
        ``polars`` extra: the same columns, nothing decoded twice). The typed metadata is
        :meth:`load_with_info`'s; a pandas frame also mirrors it in ``attrs`` for one release
        (deprecated), polars frames carry none. The backend is checked before anything is read.

        >>> admin.load("jobs", gid=1, state="OK")                 # doctest: +SKIP
        >>> admin.load("jobs", backend="polars").group_by("state").len()   # doctest: +SKIP
        """
        check_backend(backend)
        result: pd.DataFrame | pl.DataFrame = as_backend(with_attrs(self.load_with_info(name, **filters)), backend)
        return result

    @overload
    def load_all(self, *, backend: Literal["pandas"] = ..., **options: Any) -> dict[str, pd.DataFrame]: ...
    @overload
    def load_all(self, *, backend: Literal["polars"], **options: Any) -> dict[str, pl.DataFrame]: ...
    @overload
    def load_all(self, *, backend: str, **options: Any) -> dict[str, pd.DataFrame] | dict[str, pl.DataFrame]: ...

    def load_all(self, *, backend: str = "pandas", **options: Any) -> dict[str, pd.DataFrame] | dict[str, pl.DataFrame]:
        """Every family: ``{family: frame}`` from the source's :meth:`load_all_with_info` (``options``
        as it takes them), in the library ``backend`` names (as in :meth:`load`).

        >>> frames = admin.load_all(); frames["jobs"].shape    # doctest: +SKIP
        """
        check_backend(backend)
        out: dict[str, Any] = {name: as_backend(with_attrs(x), backend)
                               for name, x in self.load_all_with_info(**options).items()}
        return out

    def load_with_info(self, name: str, **filters: Any) -> Loaded:
        """One family (pandas) and its typed :class:`~jsadmin.loadinfo.LoadInfo`."""
        raise NotImplementedError(f"{type(self).__name__} reads no family")

    def load_all_with_info(self, **options: Any) -> dict[str, Loaded]:
        """Every family as :meth:`load_with_info` returns it: ``{family: Loaded(frame, info)}``."""
        raise NotImplementedError(f"{type(self).__name__} reads no family")
