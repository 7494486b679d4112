"""What every control panel shares: the widget tree, read-only handling, status line, reprs.

A panel is one object you display. With ipywidgets it renders as live widgets (and carries a
static HTML fallback in its mime bundle for frontends without widget support); without
ipywidgets it renders only the static snapshot, which says it will not update.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable, Mapping
from types import ModuleType
from typing import Any

from ..html import message_html, render_panel_html


def load_widgets() -> ModuleType | None:
    """The ``ipywidgets`` module, or None when it is not installed."""
    try:
        return importlib.import_module("ipywidgets")
    except ImportError:
        return None


READONLY_REASON = "Read-only connection (jsadmin.connect(..., readonly=True)): write controls are disabled."


class Panel:
    """Base class: subclasses build ``self.widget`` in :meth:`_build` and list write controls in ``_write_controls``.

    ``readonly`` defaults to ``admin.readonly``; a read-only panel disables its write controls and
    shows why.
    """

    title = "jsadmin panel"

    def __init__(self, admin: Any, *, readonly: bool | None = None) -> None:
        self.admin = admin
        self.readonly = bool(getattr(admin, "readonly", False)) if readonly is None else bool(readonly)
        self.w = load_widgets()
        self.widget: Any = None
        self._write_controls: list[Any] = []
        self._lock = threading.RLock()
        self.status: Any = None
        self.readonly_note: Any = None
        if self.w is not None:
            self.status = self.w.HTML(value="", layout=self.w.Layout(min_height="20px"))
            self.readonly_note = self.w.HTML(
                value=message_html(READONLY_REASON, kind="warn") if self.readonly else "",
            )
            self.widget = self._build()
            self.widget.add_class("jsadmin-panel")
            self.widget.add_class(f"jsadmin-{type(self).__name__.lower()}")
            self._apply_readonly()

    # -- to override --------------------------------------------------------------------------
    def _build(self) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def facts(self) -> Mapping[str, object]:
        """Numbers for the static snapshot (override)."""
        return {"url": getattr(self.admin, "url", "?"), "readonly": self.readonly}

    # -- helpers ------------------------------------------------------------------------------
    def _writer(self, control: Any) -> Any:
        """Register a write control (disabled when read-only) and return it."""
        self._write_controls.append(control)
        return control

    def _apply_readonly(self) -> None:
        if not self.readonly:
            return
        for control in self._write_controls:
            control.disabled = True
            if hasattr(control, "tooltip"):
                control.tooltip = READONLY_REASON

    def say(self, text: str, kind: str = "info") -> None:
        """Show a status message under the panel."""
        if self.status is not None:
            self.status.value = message_html(text, kind=kind)

    def guarded(self, action: Callable[..., None]) -> Callable[..., None]:
        """Wrap a button callback: errors become a status message instead of a lost traceback."""

        def run(*args: Any) -> None:
            try:
                with self._lock:
                    action(*args)
            except Exception as exc:
                self.say(f"{type(exc).__name__}: {exc}", "error")

        return run

    def button(self, description: str, *, style: str = "", write: bool = False, icon: str = "",
               tooltip: str = "") -> Any:
        """A Button (registered as a write control when ``write``)."""
        b = self.w.Button(description=description, button_style=style, icon=icon, tooltip=tooltip,
                          layout=self.w.Layout(width="auto"))
        return self._writer(b) if write else b

    # -- display ------------------------------------------------------------------------------
    def _repr_html_(self) -> str:
        reason = "" if self.w is not None else "Install ipywidgets for live controls."
        return render_panel_html(self.title, self.facts(), reason=reason)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        bundle: dict[str, Any] = {"text/plain": repr(self), "text/html": self._repr_html_()}
        if self.widget is not None:
            widget_bundle = self.widget._repr_mimebundle_(include=include, exclude=exclude) or {}
            bundle.update({k: v for k, v in widget_bundle.items() if k != "text/plain"})
        return bundle

    def __repr__(self) -> str:
        mode = "read-only" if self.readonly else "read-write"
        return f"<{type(self).__name__} {getattr(self.admin, 'url', '?')} {mode}>"
