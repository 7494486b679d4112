"""Static HTML reprs: ``Admin``, write plans, panels (the fallback when widgets cannot render).

Every renderer returns one well-formed ``<div>`` (escaped text, closed tags), so it can be
embedded anywhere and parsed back with ``xml.etree``. Nothing here claims to be live: static
output says when it was taken.

>>> from jsadmin.display.html import render_admin_html
>>> render_admin_html(admin)[:29]              # doctest: +SKIP
'<div class="jsadmin jsadmin-a'
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable, Mapping, Sequence
from html import escape
from typing import Any

import pandas as pd

STYLE = (
    "font-family:var(--jp-ui-font-family,system-ui,sans-serif);font-size:13px;"
    "border:1px solid #d0d7de;border-radius:6px;padding:8px 12px;margin:4px 0;max-width:100%"
)
TABLE_STYLE = "border-collapse:collapse;font-size:12px"
CELL_STYLE = "border-bottom:1px solid #eaeef2;padding:2px 8px;text-align:left;vertical-align:top"


def _text(value: object, limit: int = 200) -> str:
    if value is None or value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, float) and pd.isna(value):
        return ""
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    text = str(value)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return escape(text)


STATE_COLORS = {
    "OK": "#1a7f37",
    "ERROR": "#cf222e",
    "TIMEOUT": "#cf222e",
    "SCHEDULED": "#0969da",
    "STARTED": "#9a6700",
    "NOWORK": "#8250df",
}
"""Job states (spec §4.6): OK green, ERROR/TIMEOUT red, SCHEDULED blue, STARTED amber, NOWORK purple."""
STATUS_COLORS = {"ok": "#1a7f37", "warn": "#9a6700", "stale": "#bc4c00", "error": "#cf222e"}
"""Health statuses of the board (``grid_health``): ok green, warn amber, stale orange, error red."""
OTHER_STATE_COLOR = "#57606a"
"""Any other state (unknown strings a worker copied): grey, so it never passes for OK."""
STATE_COLUMNS = ("state", "status")
"""Columns :func:`table_html` renders as coloured state badges."""


def state_color(value: object) -> str:
    """The badge colour of a job state or health status.

    >>> state_color("OK"), state_color("TIMEOUT"), state_color("stale"), state_color("WEIRD")
    ('#1a7f37', '#cf222e', '#bc4c00', '#57606a')
    """
    text = "" if value is None else str(value)
    return STATE_COLORS.get(text) or STATUS_COLORS.get(text) or OTHER_STATE_COLOR


def state_html(value: object) -> str:
    """A coloured badge for a state/status (empty for a missing value); ``data-state`` holds the text.

    >>> state_html("ERROR")[:45]
    '<span class="jsadmin-state" data-state="ERROR'
    """
    text = _text(value, 40)
    if not text:
        return ""
    return (
        f'<span class="jsadmin-state" data-state="{text}" style="background:{state_color(value)};'
        f'color:white;border-radius:3px;padding:0 5px;font-size:11px;font-weight:600">{text}</span>'
    )


def table_html(
    rows: Iterable[Sequence[object]],
    header: Sequence[str],
    *,
    cls: str = "jsadmin-table",
    limit: int = 200,
    badges: Sequence[str] = STATE_COLUMNS,
) -> str:
    """A small escaped ``<table>`` with a header row; columns named in ``badges`` are coloured.

    >>> "&lt;b&gt;" in table_html([[1, "<b>"]], ["n", "tag"])
    True
    """
    head = "".join(f'<th style="{CELL_STYLE}">{escape(str(h))}</th>' for h in header)
    coloured = [str(h) in badges for h in header]
    body = "".join(
        "<tr>" + "".join(
            f'<td style="{CELL_STYLE}">{state_html(v) if i < len(coloured) and coloured[i] else _text(v, limit)}</td>'
            for i, v in enumerate(row)
        ) + "</tr>"
        for row in rows
    )
    return (
        f'<table class="{escape(cls)}" style="{TABLE_STYLE}"><thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table>"
    )


def frame_html(df: pd.DataFrame, *, columns: Sequence[str] | None = None, max_rows: int = 50,
               cls: str = "jsadmin-table", badges: Sequence[str] = STATE_COLUMNS) -> str:
    """Render at most ``max_rows`` rows of ``df`` (never more) as an escaped table (``badges``: as
    :func:`table_html`)."""
    cols = [c for c in (columns or list(df.columns)) if c in df.columns]
    shown = df.head(max_rows)
    rows = shown[cols].itertuples(index=False, name=None) if cols else []
    return table_html(rows, cols, cls=cls, badges=badges)


def _box(cls: str, title: str, body: str, *, note: str = "") -> str:
    foot = f'<div class="jsadmin-note" style="color:#57606a;font-size:11px">{escape(note)}</div>' if note else ""
    return (
        f'<div class="jsadmin {escape(cls)}" style="{STYLE}">'
        f'<div class="jsadmin-title" style="font-weight:600">{escape(title)}</div>{body}{foot}</div>'
    )


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def _badge(text: str, color: str) -> str:
    return (
        f'<span class="jsadmin-badge" style="background:{color};color:white;border-radius:3px;'
        f'padding:0 5px;margin-left:6px;font-size:11px">{escape(text)}</span>'
    )


def render_admin_html(admin: Any) -> str:
    """HTML for an ``Admin``: url, embedded or not, read-only, per-family key/entry counts.

    Counting reads Redis (bounded SCANs through ``admin.families()``); if that fails the
    error is shown instead of counts.

    >>> from IPython.display import HTML; HTML(render_admin_html(jsadmin.connect()))  # doctest: +SKIP
    """
    url = getattr(admin, "url", "?")
    embedded = getattr(admin, "embedded", None) is not None
    readonly = bool(getattr(admin, "readonly", False))
    badges = _badge("embedded demo" if embedded else "remote", "#0969da" if embedded else "#57606a")
    badges += _badge("read-only", "#9a6700") if readonly else _badge("read-write", "#1a7f37")
    head = (
        f'<div class="jsadmin-url"><code>{escape(str(url))}</code>{badges}</div>'
    )
    try:
        fams = admin.families()
    except Exception as exc:  # a repr must never raise
        body = f'<div class="jsadmin-error" style="color:#cf222e">families unavailable: {_text(exc)}</div>'
        return _box("jsadmin-admin", "jsadmin Admin", head + body, note=f"as of {_now()}")
    present = fams
    if "keys" in fams.columns:
        present = fams[pd.to_numeric(fams["keys"], errors="coerce").fillna(0) > 0]
    cols = [c for c in ("family", "redis_type", "status", "keys", "entries") if c in fams.columns]
    summary = (
        f'<div class="jsadmin-summary">{len(present)} of {len(fams)} key families present</div>'
    )
    body = head + summary + frame_html(present, columns=cols, max_rows=100, cls="jsadmin-families", badges=())
    return _box("jsadmin-admin", "jsadmin Admin", body, note=f"counts as of {_now()} (static)")


def render_plan_html(plan: Any, *, max_commands: int = 50) -> str:
    """HTML for a ``WritePlan`` (dry run): the exact commands that would run, nothing written.

    Accepts any object with ``.commands`` (sequence of tuples); uses ``.to_frame()`` when present.
    """
    commands = list(getattr(plan, "commands", []) or [])
    title = f"Write plan: {len(commands)} command{'s' if len(commands) != 1 else ''} (dry run, nothing written)"
    helper = getattr(plan, "helper", None) or getattr(plan, "name", None)
    rows = []
    for i, cmd in enumerate(commands[:max_commands]):
        parts = list(cmd) if isinstance(cmd, (list, tuple)) else [cmd]
        name = _text(parts[0]) if parts else ""
        args = " ".join(_text(p, 120) for p in parts[1:])
        rows.append(f'<tr><td style="{CELL_STYLE}">{i + 1}</td><td style="{CELL_STYLE}"><b>{name}</b></td>'
                    f'<td style="{CELL_STYLE}"><code>{args}</code></td></tr>')
    more = ""
    if len(commands) > max_commands:
        more = f'<div class="jsadmin-more">… {len(commands) - max_commands} more commands</div>'
    table = (
        f'<table class="jsadmin-plan-commands" style="{TABLE_STYLE}"><thead><tr>'
        f'<th style="{CELL_STYLE}">#</th><th style="{CELL_STYLE}">command</th><th style="{CELL_STYLE}">arguments</th>'
        f"</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )
    sub = f'<div class="jsadmin-helper">{_text(helper)}</div>' if helper else ""
    return _box("jsadmin-plan", title, sub + table + more)


def render_records_html(title: str, records: Mapping[str, object], *, cls: str = "jsadmin-record") -> str:
    """Key/value table (for job details, jumpscript metadata)."""
    return _box(cls, title, table_html(((k, v) for k, v in records.items()), ["field", "value"], limit=400))


def render_panel_html(title: str, facts: Mapping[str, object], *, reason: str = "") -> str:
    """Static snapshot of a control panel, used when ipywidgets cannot render.

    It lists the facts as of now and says plainly that it will not update.
    """
    note = f"Static snapshot taken {_now()}; it will not update."
    if reason:
        note += f" {reason}"
    return _box("jsadmin-panel jsadmin-static", title,
                table_html(((k, v) for k, v in facts.items()), ["", ""], cls="jsadmin-facts"), note=note)


def render_snapshot_html(title: str, body: str, *, readonly: bool = False) -> str:
    """A panel's offline snapshot: ``body`` (static HTML of its widgets) in a box saying when it was taken.

    >>> "will not update" in render_snapshot_html("Job browser", "<p>rows</p>")
    True
    """
    badge = _badge("read-only", "#9a6700") if readonly else ""
    note = f"Static snapshot taken {_now()}; it will not update (open the notebook live for controls)."
    shown = "" if f"<b>{escape(title)}</b>" in body else title  # the panel's own heading is enough
    return _box("jsadmin-snapshot", shown, f"<div>{badge}</div>{body}" if badge else body, note=note)


def message_html(text: str, *, kind: str = "info") -> str:
    """A one-line status message; ``kind`` is ``info``, ``ok``, ``warn`` or ``error``."""
    color = {"info": "#57606a", "ok": "#1a7f37", "warn": "#9a6700", "error": "#cf222e"}.get(kind, "#57606a")
    return f'<div class="jsadmin-msg jsadmin-{escape(kind)}" style="color:{color}">{escape(text)}</div>'
