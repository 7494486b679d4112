"""Job browser: one row per job in Redis (its copies folded), filter, page, inspect one, act on a selection.

>>> from jsadmin.display import JobBrowser
>>> jb = JobBrowser(admin)           # doctest: +SKIP
>>> jb.state.value = "ERROR"; jb     # doctest: +SKIP
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from html import escape
from typing import Any

import pandas as pd

from ...catalog import queue_families
from ...domain import JobState
from ..html import frame_html, message_html, render_plan_html, render_records_html
from ..jobquery import (
    JOB_FAMILIES,
    PAGE_SIZE,
    JobQuery,
    copies_of_job,
    filter_jobs,
    job_eco,
    job_record,
    job_rows,
    job_timings,
    page_count,
    page_of,
    row_label,
    states_in,
    union_jobs,
)
from ._base import Panel

ANY = "any"
TABLE_COLUMNS = ("state", "jumpscript", "id", "gid", "nid", "role", "seen_in", "copies", "timeCreate",
                 "timeStop", "guid")
COPY_COLUMNS = ("family", "state", "key", "field", "position", "nid", "timeStart", "timeStop")
VIEW_COLUMNS = ("family", "seen_in", "copies", "jumpscript", "origin", "last_seen")
"""Columns the one-row-per-job view adds; the detail shows them above the job JSON, not in it."""
QUEUE_FAMILIES = tuple(queue_families())
"""Families whose copies *Cancel* removes (the queued copies of the selected jobs)."""


class JobBrowser(Panel):
    """Browse the jobs in Redis, one row per job, one page at a time.

    A job's copies in ``command_queues``, ``jobs``, ``worker_queues``, ``worker_jobs`` and
    ``job_results`` are folded into one row (:func:`~jsadmin.display.jobquery.job_rows`): its latest
    state (coloured), its jumpscript ``<organization>__<name>``, ``seen_in`` and ``copies``; the
    detail of a selected job lists every copy. "N matching" counts jobs.

    Filters: seen in family, state, gid, nid, role, jumpscript / ``category/cmd`` substring,
    ``timeCreate`` range (ISO or ``-15min``), text inside args/result. Actions on selected jobs
    (cancel: their queued copies; requeue, clone-and-edit: their latest copy) show the dry-run
    :class:`WritePlan` first and write only on *Confirm*; changing the selection or the clone
    fields after the preview discards it.

    Attributes for scripting and tests: ``frames`` (loaded family frames), ``copies`` (every copy),
    ``jobs`` (one row per job), ``matches`` (filtered), ``page_frame`` (the page shown), ``rows``
    (SelectMultiple), ``pending``.
    """

    title = "Job browser"

    def __init__(self, admin: Any, *, readonly: bool | None = None, page_size: int = PAGE_SIZE,
                 families: tuple[str, ...] = JOB_FAMILIES, autoload: bool = True) -> None:
        self.page_size = page_size
        self.families = families
        self.frames: dict[str, pd.DataFrame] = {}
        self.copies = union_jobs({})
        self.jobs = job_rows({})
        self.matches = self.jobs
        self.page_frame = self.jobs
        self.page = 0
        self._ecos: pd.DataFrame | None = None
        super().__init__(admin, readonly=readonly)
        if autoload:
            self.reload()

    # -- widgets ------------------------------------------------------------------------------
    def _build(self, w: Any) -> Any:
        small = w.Layout(width="150px")
        self.family = w.Dropdown(options=[ANY, *self.families], value=ANY, description="seen in",
                                 layout=w.Layout(width="230px"))
        self.state = w.Dropdown(options=[ANY, *states_in(self.jobs)], value=ANY, description="state",
                                layout=w.Layout(width="200px"))
        self.gid = w.Text(description="gid", placeholder="any", continuous_update=False, layout=small)
        self.nid = w.Text(description="nid", placeholder="any", continuous_update=False, layout=small)
        self.role = w.Text(description="role", placeholder="any", continuous_update=False, layout=small)
        self.cmd = w.Text(description="cmd", placeholder="category/cmd", continuous_update=False,
                          layout=w.Layout(width="230px"))
        self.since = w.Text(description="from", placeholder="-1h or ISO", continuous_update=False,
                            layout=w.Layout(width="200px"))
        self.until = w.Text(description="to", placeholder="ISO", continuous_update=False,
                            layout=w.Layout(width="200px"))
        self.search = w.Text(description="search", placeholder="text in args/result",
                             continuous_update=False, layout=w.Layout(width="300px"))
        for control in (self.family, self.state, self.gid, self.nid, self.role, self.cmd, self.since,
                        self.until, self.search):
            control.style.description_width = "48px"
            control.observe(lambda _change: self._on_filter(), names="value")
        self.reload_button = self.button("Reload from Redis", icon="refresh")
        self.reload_button.on_click(self.guarded(lambda _b: self.reload()))
        self.prev_button = self.button("◀ Prev")
        self.next_button = self.button("Next ▶")
        self.prev_button.on_click(self.guarded(lambda _b: self.go(self.page - 1)))
        self.next_button.on_click(self.guarded(lambda _b: self.go(self.page + 1)))
        self.page_label = w.HTML()
        self.table = w.HTML()
        self.rows = w.SelectMultiple(options=[], rows=8, description="select",
                                     layout=w.Layout(width="100%"))
        self.rows.style.description_width = "48px"
        self.rows.observe(lambda _change: self._on_select(), names="value")
        self.detail = w.HTML()

        self.cancel_button = self.button("Cancel…", style="warning", write=True, icon="ban",
                                         tooltip="Remove the selected queued jobs (preview first)")
        self.requeue_button = self.button("Requeue…", style="info", write=True, icon="repeat",
                                          tooltip="Clone the selected jobs as new SCHEDULED jobs (preview first)")
        self.clone_button = self.button("Clone & edit…", write=True, icon="pencil",
                                        tooltip="Requeue the selected jobs with edited args / target (preview first)")
        self.clone_args = w.Textarea(description="args", placeholder='{"msg": "hi"}',
                                     layout=w.Layout(width="420px", height="80px"))
        self.clone_nid = w.Text(description="nid", placeholder="keep", layout=small)
        self.clone_role = w.Text(description="role", placeholder="keep", layout=small)
        self.clone_preview_button = self.button("Preview clone", write=True, icon="eye")
        self.clone_preview_button.on_click(self.guarded(lambda _b: self.preview_action("clone")))
        self.clone_box = w.HBox([self.clone_args, w.VBox([self.clone_nid, self.clone_role,
                                                          self.clone_preview_button])],
                                layout=w.Layout(display="none"))
        self.preview = w.HTML()
        self._confirm_buttons(self.preview, "check")
        self.invalidate_on_change(self.rows, self.clone_args, self.clone_nid, self.clone_role)
        self.cancel_button.on_click(self.guarded(lambda _b: self.preview_action("cancel")))
        self.requeue_button.on_click(self.guarded(lambda _b: self.preview_action("requeue")))
        self.clone_button.on_click(self.guarded(self._on_clone))

        filters = w.VBox([
            w.HBox([self.family, self.state, self.gid, self.nid, self.role]),
            w.HBox([self.cmd, self.since, self.until, self.search, self.reload_button]),
        ])
        pager = w.HBox([self.prev_button, self.next_button, self.page_label])
        actions = w.VBox([
            w.HBox([self.cancel_button, self.requeue_button, self.clone_button]),
            self.clone_box,
            self.preview,
            w.HBox([self.confirm_button, self.discard_button]),
        ])
        title = w.HTML(f"<b>{self.title}</b>")
        return w.VBox([title, self.readonly_note, filters, pager, self.table, self.rows, self.detail,
                       actions, self.status], layout=w.Layout(width="100%"))

    # -- data ---------------------------------------------------------------------------------
    def reload(self) -> None:
        """Read every job family from Redis again (read-only) and re-apply the filters."""
        frames: dict[str, pd.DataFrame] = {}
        failed = []
        for name in self.families:
            try:
                frames[name] = self.admin.load(name)
            except Exception as exc:
                failed.append(f"{name}: {exc}")
        self.frames = frames
        self.copies = union_jobs(frames)
        self.jobs = job_rows(frames)
        self._ecos = None
        if self.w is not None:
            current = self.state.value
            options = [ANY, *states_in(self.jobs)]
            self.state.options = options
            self.state.value = current if current in options else ANY
        self.apply()
        if failed:
            self.say("could not load " + "; ".join(failed), "error")
        else:
            self.say(f"loaded {len(self.jobs):,} jobs ({len(self.copies):,} copies) from {len(frames)} families", "ok")

    def query(self) -> JobQuery:
        """The :class:`JobQuery` the filter widgets describe."""
        fam = self.family.value
        state = self.state.value
        return JobQuery(
            states=() if state == ANY else (state,),
            gid=self.gid.value, nid=self.nid.value, role=self.role.value, cmd=self.cmd.value,
            since=self.since.value, until=self.until.value, text=self.search.value,
            families=() if fam == ANY else (fam,),
        )

    def _on_filter(self) -> None:
        try:
            self.apply()
        except ValueError as exc:
            self.say(str(exc), "error")

    def apply(self) -> None:
        """Filter the loaded jobs with the current widgets and show page 1."""
        self.matches = filter_jobs(self.jobs, self.query()) if self.w is not None else self.jobs
        self.go(0)

    def go(self, page: int) -> None:
        """Show page ``page`` (0-based, clamped): only that page is rendered."""
        pages = page_count(len(self.matches), self.page_size)
        self.page = min(max(0, page), pages - 1)
        self.page_frame = page_of(self.matches, page=self.page, size=self.page_size)
        if self.w is None:
            return
        self.page_label.value = (
            f"page {self.page + 1} of {pages} · {len(self.matches):,} matching of {len(self.jobs):,} jobs"
            f" ({len(self.copies):,} copies)"
        )
        self.prev_button.disabled = self.page == 0
        self.next_button.disabled = self.page >= pages - 1
        self.table.value = frame_html(self.page_frame, columns=TABLE_COLUMNS, max_rows=self.page_size,
                                      cls="jsadmin-jobs")
        self.rows.options = [(row_label(r), i) for i, r in zip(self.page_frame.index,
                                                                self.page_frame.to_dict("records"), strict=True)]
        self.rows.value = ()
        self.detail.value = ""

    # -- selection ----------------------------------------------------------------------------
    def selected(self) -> pd.DataFrame:
        """Selected jobs (rows of ``jobs``; ``family`` and ``row`` map back to the copy shown)."""
        idx = list(self.rows.value) if self.w is not None else []
        return self.jobs.loc[idx] if idx else self.jobs.iloc[0:0]

    def select(self, guids: list[str] | None = None, *, positions: list[int] | None = None) -> None:
        """Select rows of the current page by guid or by position on the page."""
        if positions is not None:
            self.rows.value = tuple(self.page_frame.index[p] for p in positions)
        elif guids is not None:
            hit = self.page_frame[self.page_frame["guid"].isin(guids)]
            self.rows.value = tuple(hit.index)

    def _selection_by_family(self, kind: str = "requeue") -> dict[str, pd.DataFrame]:
        """The copies an action works on, per family: for ``cancel`` the queued copies of each
        selected job (its latest copy when none is queued, so the plan says why nothing is removed);
        for requeue/clone the latest copy only, so a job is never requeued once per copy."""
        picked: list[tuple[str, Any]] = []
        for job in self.selected().to_dict("records"):
            chosen = [(str(job["family"]), job["row"])]
            if kind == "cancel":
                copies = copies_of_job(self.copies, job)
                queued = copies[copies["family"].isin(QUEUE_FAMILIES).fillna(False).to_numpy()]
                if not queued.empty:
                    chosen = list(zip(queued["family"].astype(str), queued["row"], strict=True))
            picked.extend(chosen)
        out: dict[str, pd.DataFrame] = {}
        for family in dict.fromkeys(f for f, _ in picked):
            rows = list(dict.fromkeys(r for f, r in picked if f == family))
            out[family] = self.frames[family].loc[rows]
        return out

    def _on_select(self) -> None:
        sel = self.selected()
        if sel.empty:
            self.detail.value = ""
            return
        row = sel.iloc[0].to_dict()
        self.detail.value = self.detail_html(row) + (
            message_html(f"{len(sel)} rows selected", kind="info") if len(sel) > 1 else ""
        )
        if self.clone_box.layout.display != "none" and self.pending is None:
            self._fill_clone(row)

    def _ecos_frame(self) -> pd.DataFrame | None:
        if self._ecos is None:
            try:
                self._ecos = self.admin.load("ecos")
            except Exception:
                self._ecos = pd.DataFrame()
        return self._ecos

    def detail_html(self, row: Mapping[str, Any]) -> str:
        """Full job JSON, its timings and its ECO (if it failed)."""
        record = job_record(row)
        record = {k: v for k, v in record.items()
                  if not (k.startswith("args.") and v is None) and k not in VIEW_COLUMNS}
        timings = {k: ("n/a (timestamp missing: not started or not finished)" if v is None else f"{v:.3f} s")
                   for k, v in job_timings(row).items()}
        copies = copies_of_job(self.copies, row)
        n = len(copies)
        seen = (f"{row.get('jumpscript', '')} ({row.get('origin', '?')} job) · "
                f"seen in {row.get('seen_in') or row.get('family')}: {n} cop{'y' if n == 1 else 'ies'}, "
                f"state from {row.get('family')}")
        parts = [
            render_records_html("Timings", timings, cls="jsadmin-timings"),
            '<div class="jsadmin jsadmin-copies"><b>Copies</b> <span style="color:#57606a;font-size:11px">'
            + escape(seen) + "</span>"
            + frame_html(copies, columns=COPY_COLUMNS, max_rows=20, cls="jsadmin-copies-table") + "</div>",
            '<div class="jsadmin jsadmin-json"><b>Job JSON</b><pre style="max-height:260px;overflow:auto;'
            'font-family:var(--jp-code-font-family,monospace);font-size:11px;line-height:1.35;background:#f6f8fa;padding:6px;white-space:pre">'
            + escape(json.dumps(record, indent=2, default=str, ensure_ascii=False)) + "</pre></div>",
        ]
        eco = job_eco(row, self._ecos_frame() if row.get("state") in JobState.FAILED else None)
        if eco:
            shown: dict[str, object] = {k: eco.get(k) for k in ("category", "errormessage", "level", "type", "state",
                                             "occurrences", "backtrace", "guid") if k in eco}
            parts.append(render_records_html("ECO (error condition)", shown, cls="jsadmin-eco"))
        return "".join(parts)

    # -- actions ------------------------------------------------------------------------------
    def _on_clone(self, _b: Any = None) -> None:
        sel = self.selected()
        if sel.empty:
            self.say("select a job to clone first", "warn")
            return
        self.clone_box.layout.display = "flex"
        self._fill_clone(sel.iloc[0].to_dict())
        self.say("edit args / target, then press Preview clone", "info")

    def _fill_clone(self, row: Mapping[str, Any]) -> None:
        args = row.get("args")
        self.clone_args.value = json.dumps(args if isinstance(args, dict) else {}, indent=1)

    def _clone_params(self) -> dict[str, Any]:
        text = self.clone_args.value.strip() or "{}"
        try:
            args = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"args are not valid JSON: {exc}") from exc
        if not isinstance(args, dict):
            raise ValueError("args must be a JSON object")
        params: dict[str, Any] = {"args": args}
        if self.clone_nid.value.strip():
            params["nid"] = int(self.clone_nid.value.strip())
        if self.clone_role.value.strip():
            params["role"] = self.clone_role.value.strip()
        return params

    def preview_action(self, kind: str) -> None:
        """Dry-run ``cancel``, ``requeue`` or ``clone`` on the selection and show the plan."""
        if self.readonly:
            raise PermissionError("read-only panel: writes are disabled")
        by_family = self._selection_by_family(kind)
        if not by_family:
            self.say("select one or more rows first", "warn")
            return
        params = self._clone_params() if kind == "clone" else {}
        method = {"cancel": self.admin.cancel_jobs, "requeue": self.admin.requeue_jobs,
                  "clone": self.admin.requeue_jobs}[kind]
        extra = {"states": None} if kind == "clone" else {}  # clone-and-edit accepts any state
        plans = [(fam, method(sel, dry_run=True, **params, **extra)) for fam, sel in by_family.items()]
        self.pending = {"kind": kind, "selection": by_family, "params": params, "plans": plans}
        self.preview.value = "".join(render_plan_html(plan) for _fam, plan in plans)
        self.confirm_button.disabled = False
        self.discard_button.disabled = False
        n = sum(len(s) for s in by_family.values())
        jobs = len(self.selected())
        self.say(f"preview of {kind} on {jobs} job(s) ({n} copies): nothing written yet, press Confirm to apply",
                 "warn")

    def confirm(self) -> list[Any]:
        """Apply the previewed action (exactly the previewed selection), then reload."""
        if self.pending is None:
            raise RuntimeError("nothing to confirm: preview an action first")
        pending, self.pending = self.pending, None
        method = {"cancel": self.admin.cancel_jobs, "requeue": self.admin.requeue_jobs,
                  "clone": self.admin.requeue_jobs}[pending["kind"]]
        extra = {"states": None} if pending["kind"] == "clone" else {}
        results = [method(sel, **pending["params"], **extra) for sel in pending["selection"].values()]
        self.discard("")
        self.reload()
        self.say(f"{pending['kind']} applied to {sum(len(s) for s in pending['selection'].values())} copies", "ok")
        return results

    def facts(self) -> Mapping[str, object]:
        by_state = self.jobs["state"].astype("string").value_counts().to_dict() if "state" in self.jobs else {}
        return {"url": getattr(self.admin, "url", "?"), "jobs": len(self.jobs), "copies": len(self.copies),
                **{f"state {k}": v for k, v in by_state.items()}}

