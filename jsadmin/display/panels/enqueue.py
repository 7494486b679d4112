"""Enqueue form: pick a registered jumpscript, a node or role, edit args, preview, confirm, watch.

Nothing is written until you press *Preview* (a dry run: ``enqueue_job(..., dry_run=True)``)
and then *Confirm*, which enqueues exactly the previewed job. Changing any field after the
preview discards it.

>>> from jsadmin.display import EnqueueForm
>>> form = EnqueueForm(admin)                          # doctest: +SKIP
>>> form.args.value = '{"msg": "hi"}'; form.preview()  # doctest: +SKIP
>>> form.confirm()                                     # doctest: +SKIP
"""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Mapping
from typing import Any

import pandas as pd

from ..html import message_html, render_plan_html, render_records_html
from ._base import Panel


def parse_args(text: str) -> dict[str, Any]:
    """Parse the args box: a JSON object (empty means ``{}``), else ``ValueError`` saying where.

    >>> parse_args('{"msg": "hi"}')
    {'msg': 'hi'}
    """
    text = text.strip()
    if not text:
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"args: invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from exc
    if not isinstance(value, dict):
        raise ValueError(f"args must be a JSON object like {{\"msg\": \"hi\"}}, got {type(value).__name__}")
    return value


def jumpscript_options(frame: pd.DataFrame) -> list[tuple[str, tuple[str, str]]]:
    """Dropdown options ``("<organization>__<name>", (org, name))`` from a ``jumpscripts_by_name`` frame, sorted."""
    if frame.empty:
        return []
    out = set()
    for row in frame.to_dict("records"):
        org, name = row.get("organization"), row.get("name")
        if isinstance(org, str) and isinstance(name, str):
            out.add((f"{org}__{name}", (org, name)))
    return sorted(out)


class EnqueueForm(Panel):
    """Enqueue one job for a registered jumpscript and watch its result.

    Controls: ``jumpscript`` (from the ``jumpscripts_by_name`` frame), ``gid``, ``target_kind``
    (node/role), ``target``, ``args`` (JSON, validated as you type), ``queue``, ``timeout``, ``wait``.
    *Preview* shows the exact write (``enqueue_job(..., dry_run=True)``) and keeps its parameters
    in ``pending``; *Confirm* writes exactly those (any field changed since discards the
    preview) and, with ``wait``, a background thread calls ``wait_job`` and fills ``result``.
    After confirm: ``last_job`` (the job as written), ``last_result`` (the final job, when
    waited), ``waiter`` (the thread).
    """

    title = "Enqueue a job"

    def __init__(self, admin: Any, *, readonly: bool | None = None, gid: int = 1) -> None:
        self.default_gid = gid
        self.scripts = pd.DataFrame()
        self.last_job: dict[str, Any] | None = None
        self.last_result: dict[str, Any] | None = None
        self.last_error: BaseException | None = None
        self.waiter: threading.Thread | None = None
        super().__init__(admin, readonly=readonly)
        if self.w is not None:
            self.refresh_scripts()

    def _build(self, w: Any) -> Any:
        self.jumpscript = w.Dropdown(options=[], description="jumpscript", layout=w.Layout(width="360px"))
        self.reload_button = self.button("", icon="refresh", tooltip="Reload the jumpscript list")
        self.gid = w.IntText(value=self.default_gid, description="gid", layout=w.Layout(width="140px"))
        self.target_kind = w.ToggleButtons(options=["node", "role"], value="node", tooltips=["by node id", "by role"],
                                           style={"button_width": "60px"}, layout=w.Layout(width="auto"))
        self.target = w.Text(value="1", description="nid/role", layout=w.Layout(width="200px"))
        self.args = w.Textarea(value="{}", description="args", layout=w.Layout(width="460px", height="90px"))
        self.args_check = w.HTML()
        self.queue = w.Text(value="", description="queue", placeholder="default", layout=w.Layout(width="200px"))
        self.timeout = w.IntText(value=600, description="timeout s", layout=w.Layout(width="160px"))
        self.wait = w.Checkbox(value=True, description="wait for the result", indent=False)
        self.preview_button = self.button("Preview", style="primary", icon="eye",
                                          tooltip="Show the exact write (dry run); nothing is written")
        self.plan = w.HTML()
        self._confirm_buttons(self.plan, "check", "Enqueue exactly the previewed job")
        self.result = w.HTML()
        for control in (self.jumpscript, self.reload_button, self.gid, self.target, self.args,
                        self.queue, self.timeout):
            if hasattr(control, "style") and hasattr(control.style, "description_width"):
                control.style.description_width = "70px"
        self.args.observe(lambda _c: self.validate(), names="value")
        self.jumpscript.observe(lambda _c: self._on_script(), names="value")
        self.reload_button.on_click(self.guarded(lambda _b: self.refresh_scripts()))
        self.preview_button.on_click(self.guarded(lambda _b: self.preview()))
        self.invalidate_on_change(self.jumpscript, self.gid, self.target_kind, self.target, self.args,
                                  self.queue, self.timeout, self.wait)
        return w.VBox([
            w.HTML(f"<b>{self.title}</b>"), self.readonly_note,
            w.HBox([self.jumpscript, self.reload_button]),
            w.HBox([self.gid, w.Label("target", layout=w.Layout(margin="0 6px 0 16px")), self.target_kind,
                    self.target], layout=w.Layout(align_items="center")),
            w.HBox([self.args, self.args_check]),
            w.HBox([self.queue, self.timeout, self.wait]),
            w.HBox([self.preview_button, self.confirm_button, self.discard_button]),
            self.plan, self.result, self.status,
        ])

    # -- data ---------------------------------------------------------------------------------
    def refresh_scripts(self) -> None:
        """Reload the jumpscript list from ``workers:jumpscripts:name`` (read-only)."""
        self.scripts = self.admin.load("jumpscripts_by_name")
        options = jumpscript_options(self.scripts)
        current = self.jumpscript.value
        self.jumpscript.options = options
        values = [v for _label, v in options]
        if current in values:
            self.jumpscript.value = current
        elif values:
            self.jumpscript.value = values[0]
        self.say(f"{len(options)} registered jumpscripts", "info")

    def choose(self, organization: str, name: str) -> None:
        """Select a jumpscript by organization and name (clear error if not registered)."""
        wanted = (organization, name)
        if wanted not in [v for _l, v in self.jumpscript.options]:
            raise ValueError(f"jumpscript {organization}__{name} is not registered on {self.admin.url}")
        self.jumpscript.value = wanted

    def _on_script(self) -> None:
        value = self.jumpscript.value
        if not value or self.scripts.empty:
            return
        org, name = value
        hit = self.scripts[(self.scripts["organization"] == org) & (self.scripts["name"] == name)]
        if hit.empty:
            return
        row = hit.iloc[0]
        queue = row.get("queue")
        self.queue.value = queue if isinstance(queue, str) else ""
        timeout = row.get("timeout")
        if timeout is not None and not pd.isna(timeout):
            self.timeout.value = int(float(timeout))

    def validate(self) -> dict[str, Any] | None:
        """Check the args box; shows the error next to it and returns the args or None."""
        try:
            args = parse_args(self.args.value)
        except ValueError as exc:
            self.args_check.value = message_html(str(exc), kind="error")
            self.preview_button.disabled = True
            return None
        self.args_check.value = message_html("valid JSON", kind="ok")
        self.preview_button.disabled = False
        return args

    def params(self) -> dict[str, Any]:
        """Keyword arguments for ``admin.enqueue_job`` built from the form (``ValueError`` if invalid)."""
        if not self.jumpscript.value:
            raise ValueError("choose a jumpscript first (none registered?)")
        args = self.validate()
        if args is None:
            raise ValueError("fix the args JSON first")
        org, name = self.jumpscript.value
        target = self.target.value.strip()
        if not target:
            raise ValueError("give a node id or a role")
        params: dict[str, Any] = {
            "category": org, "cmd": name, "args": args, "queue": self.queue.value.strip(),
            "timeout": int(self.timeout.value), "wait": bool(self.wait.value),
        }
        if self.target_kind.value == "node":
            try:
                params["nid"] = int(target)
            except ValueError as exc:
                raise ValueError(f"node id must be an integer, got {target!r}") from exc
        else:
            params["role"] = target
        return params

    def preview(self) -> Any:
        """Dry-run the job the form describes: show (and return) its ``WritePlan`` and arm *Confirm*.

        Writes nothing. The parameters are kept in ``pending``; *Confirm* enqueues exactly them.
        """
        self.discard("")
        gid, params = int(self.gid.value), self.params()
        plan = self.admin.enqueue_job(gid, dry_run=True, **params)
        self._arm({"gid": gid, "params": copy.deepcopy(params), "plan": plan}, render_plan_html(plan))
        return plan

    def confirm(self) -> dict[str, Any]:
        """Enqueue exactly the previewed job; with ``wait`` start a thread that waits for its result.

        Refuses (writing nothing) when there is no preview, or when the form no longer matches it.
        The preview is used up either way: a second click cannot write a second job.
        """
        pending = self._use_pending("Preview", lambda: (int(self.gid.value), self.params()),
                                    lambda p: (p["gid"], p["params"]))
        params = pending["params"]
        job = self.admin.enqueue_job(pending["gid"], **params)
        self.last_job, self.last_result, self.last_error = job, None, None
        guid = job.get("guid", "?")
        self.result.value = render_records_html(
            "Submitted", {"guid": guid, "id": job.get("id"), "state": job.get("state"),
                          "queue key": _queue_of(job)}, cls="jsadmin-submitted")
        self.say(f"job {guid} enqueued" + (", waiting for its result…" if params["wait"] else ""), "ok")
        if params["wait"]:
            self.waiter = threading.Thread(target=self._wait, args=(guid, float(params["timeout"])),
                                           name=f"jsadmin-wait-{guid[:8]}", daemon=True)
            self.waiter.start()
        return job

    def _wait(self, guid: str, timeout: float) -> None:
        try:
            final = self.admin.wait_job(guid, timeout)
        except Exception as exc:
            self.last_error = exc
            self.say(f"no result for {guid}: {exc}", "error")
            return
        self.last_result = final
        self.result.value = result_html(final)
        state = final.get("state")
        self.say(f"job {guid} finished: {state}", "ok" if state == "OK" else "error")

    def facts(self) -> Mapping[str, object]:
        return {"url": getattr(self.admin, "url", "?"), "registered jumpscripts": len(self.scripts)}


def _queue_of(job: Mapping[str, Any]) -> str:
    roles = job.get("roles") or []
    target = roles[0] if roles and roles[0] else job.get("nid")
    return f"gid {job.get('gid')} → {target}"


def _when(epoch: object) -> str:
    """Epoch seconds or a UTC Timestamp (what ``wait_job`` returns) as ISO UTC (``0``/missing -> ``""``)."""
    if isinstance(epoch, pd.Timestamp):
        return epoch.isoformat(timespec="milliseconds")
    if epoch is pd.NaT:
        return ""
    try:
        value = float(epoch)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return ""
    return pd.Timestamp(value, unit="s", tz="UTC").isoformat(timespec="milliseconds") if value > 0 else ""


def result_html(job: Mapping[str, Any]) -> str:
    """The final job as the form shows it: state, result, timings."""
    result = job.get("result")
    shown = json.dumps(result, indent=1, default=str) if not isinstance(result, str) else result
    record = {
        "guid": job.get("guid"), "state": job.get("state"), "resultcode": job.get("resultcode"),
        "result": shown, "nid": job.get("nid"), "timeCreate": _when(job.get("timeCreate")),
        "timeStart": _when(job.get("timeStart")), "timeStop": _when(job.get("timeStop")),
    }
    return render_records_html("Result", record, cls="jsadmin-result")
