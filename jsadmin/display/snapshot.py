"""Static HTML of a live ipywidgets tree: what a panel shows right now, for pages without widgets.

nbconvert (``jupyter nbconvert --to html --execute``) stores the widget state and prefers the
widget view, whose renderer loads from a CDN: offline, every panel cell is blank. So a panel
displays, right after its live view, an *offline snapshot* output: the tables, states, plots and
form values it shows, rendered to plain HTML. A style rule hides that snapshot wherever the live
widgets did render (JupyterLab, Notebook 7, Voila, nbconvert pages that could load the renderer).

Only duck typing on widget class names and attributes: importing this module imports no ipywidgets.

>>> from jsadmin.display.snapshot import widget_html
>>> widget_html(panel.widget)                        # doctest: +SKIP
'<div class="jsadmin-snap-box" ...'
"""

from __future__ import annotations

import base64
from html import escape
from typing import Any

HIDE_WHEN_LIVE = (
    "<style>"
    ".jp-OutputArea-child:has(.widget-box)+.jp-OutputArea-child:has(.jsadmin-offline),"
    ".output_area:has(.widget-box)+.output_area:has(.jsadmin-offline){display:none}"
    "</style>"
)
"""Hides the offline snapshot output when the output just before it holds rendered widgets
(``.widget-box``: every panel is a box; nbconvert's unrendered view holds only scripts)."""

_SKIP = frozenset({"Output", "Play", "Controller", "Valid"})
_SELECTS = frozenset({"SelectMultiple", "Select", "SelectionRangeSlider"})
_BUTTON_STYLE = ("display:inline-block;border:1px solid #d0d7de;border-radius:4px;padding:1px 8px;"
                 "margin:2px 4px 2px 0;font-size:12px;background:#f6f8fa;color:#24292f")


def _hidden(widget: Any) -> bool:
    layout = getattr(widget, "layout", None)
    return getattr(layout, "display", None) == "none" or getattr(layout, "visibility", None) == "hidden"


def _value_text(widget: Any) -> str:
    label = getattr(widget, "label", None)  # Dropdown / RadioButtons / ToggleButtons: the shown label
    value = label if isinstance(label, str) else getattr(widget, "value", "")
    text = "" if value is None else str(value)
    return text if len(text) <= 300 else text[:299] + "…"


def widget_html(widget: Any, *, depth: int = 0) -> str:
    """Static HTML for ``widget`` and its children, as they are now.

    Boxes keep their layout direction, tabs become titled sections, ``HTML`` widgets contribute
    their markup (already escaped by the panels), images are inlined as ``data:`` URIs, inputs
    show ``description: value``, buttons show their label (marked when disabled). Hidden widgets
    (``layout.display == "none"``) and the row selector (the table above it shows the same rows)
    are left out.
    """
    if widget is None or depth > 40 or _hidden(widget):
        return ""
    kind = type(widget).__name__
    if kind in _SKIP:
        return ""
    children = getattr(widget, "children", None)
    if children is not None and not isinstance(children, str):
        titles = list(getattr(widget, "titles", ()) or ())
        if titles:  # Tab, Accordion, Stack: every page, titled
            parts = []
            for i, child in enumerate(children):
                title = titles[i] if i < len(titles) and titles[i] else f"page {i + 1}"
                parts.append(f'<div class="jsadmin-snap-page"><div style="font-weight:600;border-bottom:2px solid '
                             f'#0969da;margin:8px 0 4px">{escape(str(title))}</div>'
                             f'{widget_html(child, depth=depth + 1)}</div>')
            return f'<div class="jsadmin-snap-tabs">{"".join(parts)}</div>'
        inner = "".join(widget_html(c, depth=depth + 1) for c in children)
        if kind == "HBox":
            return f'<div class="jsadmin-snap-box" style="display:flex;flex-wrap:wrap;gap:6px;align-items:flex-start">{inner}</div>'
        return f'<div class="jsadmin-snap-box">{inner}</div>' if inner else ""
    if kind in ("HTML", "HTMLMath"):
        return f"<div>{widget.value}</div>" if widget.value else ""
    if kind == "Label":
        return f"<div>{escape(str(widget.value))}</div>" if widget.value else ""
    if kind == "Image":
        image = bytes(widget.value or b"")
        if not image:
            return ""
        fmt = escape(str(getattr(widget, "format", "png")))
        data = base64.b64encode(image).decode("ascii")
        return f'<img alt="plot" style="max-width:900px" src="data:image/{fmt};base64,{data}"/>'
    if kind in ("Button", "ToggleButton"):
        off = " (disabled)" if getattr(widget, "disabled", False) else ""
        pressed = " ●" if kind == "ToggleButton" and getattr(widget, "value", False) else ""
        tip = escape(str(getattr(widget, "tooltip", "") or ""))
        return (f'<span class="jsadmin-snap-button" title="{tip}" style="{_BUTTON_STYLE}'
                f'{";opacity:0.55" if off else ""}">{escape(str(widget.description))}{pressed}{off}</span>')
    if kind in _SELECTS:
        return ""
    if hasattr(widget, "value"):
        desc = escape(str(getattr(widget, "description", "") or ""))
        shown = escape(_value_text(widget))
        if kind == "Textarea":
            body = f'<pre style="margin:0;font-size:11px;white-space:pre-wrap">{shown}</pre>'
        else:
            body = f"<code>{shown}</code>" if shown else '<span style="color:#8c959f">(empty)</span>'
        sep = ": " if desc else ""
        return f'<div class="jsadmin-snap-field" style="font-size:12px">{desc}{sep}{body}</div>'
    return ""
