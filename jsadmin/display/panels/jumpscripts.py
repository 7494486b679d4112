"""Jumpscript registry: list and inspect registered jumpscripts, register or replace one.

Registering is two steps: *Validate & preview* (``register_jumpscript(..., dry_run=True)``,
nothing written), then *Confirm*, which registers exactly what was previewed. Changing any
field after the preview discards it.

>>> from jsadmin.display import JumpscriptRegistry
>>> reg = JumpscriptRegistry(admin)          # doctest: +SKIP
>>> reg.inspect("jumpscale", "echo")         # doctest: +SKIP
>>> reg.preview(); reg.confirm()             # doctest: +SKIP
"""

from __future__ import annotations

import ast
import copy
from collections.abc import Mapping
from typing import Any

import pandas as pd

from ...extras import require
from ..html import frame_html, message_html, render_plan_html, render_records_html
from ._base import Panel

LIST_COLUMNS = ("organization", "name", "category", "queue", "roles", "timeout", "period", "id")
META_FIELDS = ("organization", "name", "category", "descr", "author", "version", "queue", "roles",
               "async", "period", "order", "log", "enable", "startatboot", "timeout", "gid", "id", "path")

TEMPLATE = '''descr = """What this jumpscript does"""
organization = "demo"
name = "hello"
category = "demo"


def action(msg="hello"):
    return msg
'''


def highlight_python(source: str) -> str:
    """Pygments HTML for Python source (inline styles, so it survives Voila and static HTML).

    >>> "<pre" in highlight_python("x = 1")
    True
    """
    require("pygments", extra="display", feature="highlighted jumpscript source")
    from pygments import highlight
    from pygments.formatters import HtmlFormatter
    from pygments.lexers import PythonLexer

    formatter = HtmlFormatter(noclasses=True, nowrap=False, style="default")
    return highlight(source, PythonLexer(), formatter)


def check_source(source: str) -> list[str]:
    """Problems that would make the registration fail (empty list: fine).

    >>> check_source("def action():\\n    return 1\\n")
    []
    >>> check_source("x = (")[0].startswith("syntax error")
    True
    """
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        return [f"syntax error line {exc.lineno}: {exc.msg}"]
    if not any(isinstance(node, ast.FunctionDef) and node.name == "action" for node in tree.body):
        return ["the source must define a top-level function `action(...)`"]
    return []


class JumpscriptRegistry(Panel):
    """List ``workers:jumpscripts:name``, show one with highlighted source, register/replace one.

    Register fields: ``organization``, ``name``, ``descr``, ``category``, ``queue``, ``roles``
    (comma separated), ``source``, ``replace``. *Validate & preview* runs
    ``register_jumpscript(..., dry_run=True)`` and keeps its parameters in ``pending``;
    *Confirm* registers exactly those (any field changed since discards the preview).
    """

    title = "Jumpscript registry"

    def __init__(self, admin: Any, *, readonly: bool | None = None) -> None:
        self.scripts = pd.DataFrame()
        self.last_registered: dict[str, Any] | None = None
        super().__init__(admin, readonly=readonly)
        if self.w is not None:
            self.reload()

    def _build(self, w: Any) -> Any:
        self.listing = w.HTML()
        self.select = w.Select(options=[], rows=8, description="inspect", layout=w.Layout(width="420px"))
        self.select.observe(lambda _c: self._on_select(), names="value")
        self.reload_button = self.button("Reload", icon="refresh")
        self.reload_button.on_click(self.guarded(lambda _b: self.reload()))
        self.inspector = w.HTML()

        self.organization = w.Text(description="organization", value="demo")
        self.name = w.Text(description="name", value="hello")
        self.descr = w.Text(description="descr", value="What this jumpscript does")
        self.category = w.Text(description="category", value="demo")
        self.queue = w.Text(description="queue", value="", placeholder="default")
        self.roles = w.Text(description="roles", value="", placeholder="comma separated")
        self.gid = w.Text(description="gid", value="", placeholder="the node's grid id (blank: from the grid)")
        self.source = w.Textarea(description="source", value=TEMPLATE,
                                 layout=w.Layout(width="620px", height="180px"))
        self.replace = w.Checkbox(description="replace an existing one", value=False, indent=False)
        for control in (self.organization, self.name, self.descr, self.category, self.queue, self.roles,
                        self.gid, self.source, self.select):
            control.style.description_width = "90px"
        self.preview_button = self.button("Validate & preview", style="primary", icon="eye",
                                          tooltip="Check the source and show the exact write (dry run)")
        self.preview_box = w.HTML()
        self._confirm_buttons(self.preview_box, "upload", "Register exactly the previewed jumpscript")
        self.preview_button.on_click(self.guarded(lambda _b: self.preview()))
        self.invalidate_on_change(self.organization, self.name, self.descr, self.category, self.queue,
                                  self.roles, self.gid, self.source, self.replace)
        form = w.VBox([
            w.HTML("<b>Register or replace</b>"),
            w.HBox([self.organization, self.name]), w.HBox([self.descr, self.category]),
            w.HBox([self.queue, self.roles]), self.gid, self.source, self.replace,
            w.HBox([self.preview_button, self.confirm_button, self.discard_button]), self.preview_box,
        ])
        return w.VBox([w.HTML(f"<b>{self.title}</b>"), self.readonly_note, w.HBox([self.select, self.reload_button]),
                       self.listing, self.inspector, form, self.status])

    def reload(self) -> None:
        """Re-read ``workers:jumpscripts:name`` (read-only)."""
        self.scripts = self.admin.load("jumpscripts_by_name")
        cols = [c for c in LIST_COLUMNS if c in self.scripts.columns]
        shown = self.scripts.sort_values(["organization", "name"]) if not self.scripts.empty else self.scripts
        self.listing.value = frame_html(shown, columns=cols, max_rows=100, cls="jsadmin-jumpscripts")
        options = [(f"{r['organization']}/{r['name']}", (r["organization"], r["name"]))
                   for r in shown.to_dict("records")
                   if isinstance(r.get("organization"), str) and isinstance(r.get("name"), str)]
        self.select.options = options
        self.say(f"{len(self.scripts)} jumpscripts registered", "info")

    def _on_select(self) -> None:
        if self.select.value:
            self.inspect(*self.select.value)

    def inspect(self, organization: str, name: str) -> str:
        """Show metadata and highlighted source of one jumpscript; returns the HTML."""
        hit = self.scripts[(self.scripts["organization"] == organization) & (self.scripts["name"] == name)]
        if hit.empty:
            raise ValueError(f"no jumpscript {organization}__{name} in workers:jumpscripts:name")
        row = hit.iloc[0].to_dict()
        meta = {k: row.get(k) for k in META_FIELDS if k in row}
        source = row.get("code") if isinstance(row.get("code"), str) else ""
        html = (render_records_html(f"{organization}__{name}", meta, cls="jsadmin-jumpscript")
                + '<div class="jsadmin-source" style="max-height:320px;overflow:auto;font-size:12px">'
                + highlight_python(source) + "</div>")
        self.inspector.value = html
        return html

    def load_into_form(self, organization: str, name: str) -> None:
        """Copy a registered jumpscript into the register form (to edit and replace it)."""
        hit = self.scripts[(self.scripts["organization"] == organization) & (self.scripts["name"] == name)]
        if hit.empty:
            raise ValueError(f"no jumpscript {organization}__{name}")
        row = hit.iloc[0].to_dict()
        self.organization.value, self.name.value = organization, name
        for field in ("descr", "category", "queue"):
            value = row.get(field)
            getattr(self, field).value = value if isinstance(value, str) else ""
        roles = row.get("roles")
        self.roles.value = ",".join(r for r in roles if r) if isinstance(roles, list) else ""
        self.source.value = row.get("code") or ""
        self.replace.value = True

    def params(self) -> dict[str, Any]:
        """Arguments for ``admin.register_jumpscript`` from the form (``ValueError`` if invalid)."""
        problems = check_source(self.source.value)
        for field in ("organization", "name", "descr"):
            if not getattr(self, field).value.strip():
                problems.append(f"{field} is required")
        if problems:
            raise ValueError("; ".join(problems))
        roles = tuple(r.strip() for r in self.roles.value.split(",") if r.strip())
        gid_text = self.gid.value.strip()
        if gid_text and not gid_text.isdigit():
            raise ValueError(f"gid must be the node's grid id (a whole number), got {gid_text!r}")
        return {
            "gid": int(gid_text) if gid_text else None,
            "organization": self.organization.value.strip(), "name": self.name.value.strip(),
            "source": self.source.value, "descr": self.descr.value.strip(),
            "category": self.category.value.strip() or "unknown", "queue": self.queue.value.strip(),
            "roles": roles, "replace": bool(self.replace.value),
        }

    def preview(self) -> Any:
        """Validate and dry-run the registration: show (and return) the plan and arm *Confirm*.

        Writes nothing; the parameters are kept in ``pending`` for *Confirm*.
        """
        self.discard("")
        try:
            params = self.params()
        except ValueError as exc:
            self.preview_box.value = message_html(str(exc), kind="error")
            raise
        plan = self.admin.register_jumpscript(dry_run=True, **params)
        self._arm({"params": copy.deepcopy(params), "plan": plan}, render_plan_html(plan))
        return plan

    def confirm(self) -> dict[str, Any]:
        """Register (or, with *replace*, replace) exactly the previewed jumpscript, then reload.

        Refuses (writing nothing) without a preview or when the form no longer matches it; the
        preview is used up either way.
        """
        pending = self._use_pending("Validate & preview", self.params, lambda p: p["params"])
        params = pending["params"]
        stored = self.admin.register_jumpscript(**params)
        self.last_registered = stored
        self.reload()
        self.say(f"registered {params['organization']}/{params['name']} (id {stored.get('id')})", "ok")
        return stored

    def facts(self) -> Mapping[str, object]:
        return {"url": getattr(self.admin, "url", "?"), "registered jumpscripts": len(self.scripts)}
