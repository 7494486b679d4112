"""Notebook display: ipywidgets control panels, static HTML reprs and (``plots``) matplotlib plots.

Names are imported lazily, so ``import jsadmin.display`` imports neither ipywidgets nor
matplotlib. Both come with the ``display`` extra (``pip install "jsadmin[display]"``): without
it panels render as static HTML that names the extra, and ``jsadmin.display.plots`` raises
:class:`jsadmin.extras.MissingExtraError`. The HTML reprs need no extra.

>>> from jsadmin.display import JobBrowser, EnqueueForm, JumpscriptRegistry, HealthBoard, control_panel
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "ControlPanel": "jsadmin.display.panels",
    "EnqueueForm": "jsadmin.display.panels",
    "HealthBoard": "jsadmin.display.panels",
    "JobBrowser": "jsadmin.display.panels",
    "JumpscriptRegistry": "jsadmin.display.panels",
    "control_panel": "jsadmin.display.panels",
    "render_admin_html": "jsadmin.display.html",
    "render_panel_html": "jsadmin.display.html",
    "render_plan_html": "jsadmin.display.html",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'jsadmin.display' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
