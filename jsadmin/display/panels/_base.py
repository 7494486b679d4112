"""What every control panel shares: the widget tree, read-only handling, status line, reprs.

A panel is one object you display. With ipywidgets it renders as live widgets (and carries a
static HTML fallback in its mime bundle for frontends without widget support); without
ipywidgets (the ``display`` extra) it renders only the static snapshot, which says it will not
update and names the extra to install.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable, Mapping
from types import ModuleType
from typing import Any

from ...errors import WriteOutcomeUnknown
from ...extras import install_hint
from ..html import message_html, render_panel_html, render_snapshot_html
from ..snapshot import HIDE_WHEN_LIVE, widget_html

_display: Callable[..., Any] | None
try:
    from IPython.display import display as _display
except ImportError:  # pragma: no cover - IPython comes with ipywidgets and Jupyter
    _display = None


def load_widgets() -> ModuleType | None:
    """The ``ipywidgets`` module, or None when it is not installed."""
    try:
        return importlib.import_module("ipywidgets")
    except ImportError:
        return None


READONLY_REASON = "Read-only connection (jsadmin.connect(..., readonly=True)): write controls are disabled."
STALE_PREVIEW = "the form changed after the preview: preview discarded, nothing written (press Preview again)"
AWAITING_CONFIRM = "preview only: nothing written yet. Press Confirm to write exactly this, Discard to drop it"


def error_text(exc: BaseException) -> str:
    """How a panel reports a failed action: the exception's type and message, plus the write id
    (and how to resolve it) when the outcome is unknown (``WriteOutcomeUnknown``); a refused or
    not-applied write already says that nothing was written.

    >>> error_text(ValueError("bad nid"))
    'ValueError: bad nid'
    """
    text = f"{type(exc).__name__}: {exc}"
    write_id = getattr(exc, "write_id", None) if isinstance(exc, WriteOutcomeUnknown) else None
    if write_id:
        text += f" [write id {write_id}: admin.write_status({str(write_id)!r}) tells whether it landed]"
    return text


class Panel:
    """Base class: subclasses build ``self.widget`` in :meth:`_build` (given the ipywidgets module) and
    list write controls in ``_write_controls``.

    ``readonly`` defaults to ``admin.readonly``; a read-only panel disables its write controls and
    shows why.
    """

    title = "jsadmin panel"
    pending: dict[str, Any] | None = None
    """The previewed write that Confirm applies (panels with a Confirm button)."""
    confirm_button: Any = None
    discard_button: Any = None
    _preview_out: Any = None

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
            self.widget = self._build(self.w)
            self.widget.add_class("jsadmin-panel")
            self.widget.add_class(f"jsadmin-{type(self).__name__.lower()}")
            self._apply_readonly()

    # -- to override --------------------------------------------------------------------------
    def _build(self, w: Any) -> Any:  # pragma: no cover - abstract
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

    def explain_readonly(self, reason: str) -> None:
        """Replace the read-only note (and the disabled controls' tooltips) with ``reason``.

        >>> panel.explain_readonly("Read-only dashboard: start it with --allow-writes")   # doctest: +SKIP
        """
        if not self.readonly or self.w is None:
            return
        self.readonly_note.value = message_html(reason, kind="warn")
        for control in self._write_controls:
            if hasattr(control, "tooltip"):
                control.tooltip = reason

    def say(self, text: str, kind: str = "info") -> None:
        """Show a status message under the panel."""
        if self.status is not None:
            self.status.value = message_html(text, kind=kind)

    def guarded(self, action: Callable[..., object]) -> Callable[..., None]:
        """Wrap a button callback: errors become a status message instead of a lost traceback.

        A failed write (any :class:`~jsadmin.errors.JsAdminError`, e.g. ``WriteNotApplied`` or
        ``WriteOutcomeUnknown``) shows its message as is: it says what landed.
        """

        def run(*args: Any) -> None:
            try:
                with self._lock:
                    action(*args)
            except Exception as exc:
                self.say(error_text(exc), "error")

        return run

    # -- preview, then Confirm ----------------------------------------------------------------
    def discard(self, reason: str = "discarded: nothing written") -> None:
        """Drop the previewed write without writing: empty the preview, disable Confirm/Discard; say
        ``reason`` unless empty."""
        self.pending = None
        self._preview_out.value = ""
        self.confirm_button.disabled = True
        self.discard_button.disabled = True
        if reason:
            self.say(reason, "warn" if "changed" in reason else "info")

    def confirm(self) -> Any:  # pragma: no cover - abstract
        """Apply exactly the pending preview (panels with a Confirm button override)."""
        raise NotImplementedError

    def _confirm_buttons(self, preview: Any, icon: str, tooltip: str = "") -> None:
        """Add the Confirm (``icon``, ``tooltip``) and Discard buttons of a write previewed in ``preview``,
        disabled until a preview, wired to :meth:`confirm` and :meth:`discard`."""
        self._preview_out = preview
        self.confirm_button = self.button("Confirm", style="danger", write=True, icon=icon, tooltip=tooltip)
        self.discard_button = self.button("Discard", tooltip="Drop the preview; nothing is written")
        self.confirm_button.disabled = self.discard_button.disabled = True
        self.confirm_button.on_click(self.guarded(lambda _b: self.confirm()))
        self.discard_button.on_click(self.guarded(lambda _b: self.discard()))

    def _arm(self, pending: dict[str, Any], html: str) -> None:
        """Keep ``pending`` for Confirm, show its plan ``html`` in the preview, enable Confirm and Discard."""
        self.pending = pending
        self._preview_out.value = html
        self.confirm_button.disabled = self.readonly
        self.discard_button.disabled = False
        self.say(f"{AWAITING_CONFIRM}; changing the form discards this preview", "warn")

    def _use_pending(self, press: str, form: Callable[[], object], previewed: Callable[[dict[str, Any]], object],
                     ) -> dict[str, Any]:
        """Use up the pending preview and return it; refuse (nothing written) when read-only, with no
        preview, or when ``form()`` (the form's values now) differs from ``previewed(pending)``."""
        if self.readonly:
            raise PermissionError("read-only panel: writes are disabled")
        pending = self.pending
        if pending is None:
            raise RuntimeError(f"nothing to confirm: press {press} first (nothing written)")
        self.discard("")
        try:
            current = form()
        except ValueError:
            current = None
        if current != previewed(pending):
            raise RuntimeError(f"the form changed after the preview: nothing written (press {press} again)")
        return pending

    def invalidate_on_change(self, *controls: Any) -> None:
        """Discard the pending preview as soon as any of ``controls`` changes value.

        Confirm then has nothing to apply: what is written is always what was previewed.
        """
        for control in controls:
            control.observe(self._form_changed, names="value")

    def _form_changed(self, _change: object = None) -> None:
        if getattr(self, "pending", None) is not None:
            self.discard(STALE_PREVIEW)

    def button(self, description: str, *, style: str = "", write: bool = False, icon: str = "",
               tooltip: str = "") -> Any:
        """A Button (registered as a write control when ``write``)."""
        assert self.w is not None  # called from _build, which runs only with ipywidgets
        b = self.w.Button(description=description, button_style=style, icon=icon, tooltip=tooltip,
                          layout=self.w.Layout(width="auto"))
        return self._writer(b) if write else b

    # -- display ------------------------------------------------------------------------------
    def snapshot_html(self) -> str:
        """Static HTML of what the panel shows now: its tables (states coloured), values and plots.

        Without ipywidgets, the panel's facts (counts) instead.

        >>> "Static snapshot" in JobBrowser(admin).snapshot_html()   # doctest: +SKIP
        True
        """
        if self.widget is None:
            reason = f"Install ipywidgets for live controls: {install_hint('display')}."
            return render_panel_html(self.title, self.facts(), reason=reason)
        with self._lock:
            body = widget_html(self.widget)
        return render_snapshot_html(self.title, body, readonly=self.readonly)

    def _repr_html_(self) -> str:
        return self.snapshot_html()

    def _ipython_display_(self) -> None:
        """Two outputs: the live widget view, then an offline snapshot (``text/html``) that a
        style rule hides wherever the widgets rendered. nbconvert prefers the widget view of an
        executed notebook, which is blank offline; the snapshot output keeps the page meaningful.
        """
        if _display is None:  # pragma: no cover
            return
        if self.widget is None:
            _display({"text/plain": repr(self), "text/html": self.snapshot_html()}, raw=True)
            return
        bundle = self._repr_mimebundle_()
        bundle.pop("text/html", None)  # the snapshot follows as its own output
        _display(bundle, raw=True)
        offline = f'<div class="jsadmin-offline">{HIDE_WHEN_LIVE}{self.snapshot_html()}</div>'
        _display({"text/html": offline}, raw=True)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        bundle: dict[str, Any] = {"text/plain": repr(self), "text/html": self._repr_html_()}
        if self.widget is not None:
            widget_bundle = self.widget._repr_mimebundle_(include=include, exclude=exclude) or {}
            bundle.update({k: v for k, v in widget_bundle.items() if k != "text/plain"})
        return bundle

    def __repr__(self) -> str:
        mode = "read-only" if self.readonly else "read-write"
        return f"<{type(self).__name__} {getattr(self.admin, 'url', '?')} {mode}>"
