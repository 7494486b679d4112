"""The served dashboard: the control panel plus a header, refreshing itself every few seconds.

``jsadmin dashboard`` serves a notebook whose only cell is ``dashboard_from_env()``: the grid URL,
the write switch and the interval come from the environment (``JSADMIN_URL``,
``JSADMIN_DASHBOARD_WRITES``, ``JSADMIN_DASHBOARD_REFRESH``), never from a command line.

Read-only unless writes were allowed: the ``Admin`` is opened with ``readonly=True`` and every
write control is disabled, saying how to enable it. With writes allowed, each write is still
previewed (dry run) and applied only on *Confirm*.

>>> from jsadmin.display.panels.dashboard import Dashboard
>>> Dashboard(jsadmin.connect(url, readonly=True), refresh=5)      # doctest: +SKIP
"""

from __future__ import annotations

import os
import threading
from html import escape
from typing import Any

import pandas as pd

from ...admin import connect
from ...dashboard import ENV_REFRESH, ENV_URL, ENV_WRITES
from . import ControlPanel

DASHBOARD_READONLY = (
    "Read-only dashboard: write controls are disabled. Start it with `jsadmin dashboard --allow-writes` "
    "to enable them (each write is then previewed and needs Confirm)."
)


class Dashboard(ControlPanel):
    """The control panel with a header and live data: the health board and the job browser
    re-read Redis every ``refresh`` seconds.

    The job browser keeps its filters and page; it pauses while rows are selected or an action
    is previewed, so a refresh never changes what *Confirm* would apply.
    """

    title = "jsadmin dashboard"

    def __init__(self, admin: Any, *, refresh: float = 5.0, allow_writes: bool = False,
                 start: bool = True) -> None:
        self.refresh_every = max(0.5, float(refresh))
        self.cycles = 0
        self._halt = threading.Event()
        self._jobs_thread: threading.Thread | None = None
        super().__init__(admin, readonly=not allow_writes, health_interval=self.refresh_every)
        for panel in (self, *self.panels()):
            panel.explain_readonly(DASHBOARD_READONLY)
        if self.w is not None:  # one note at the top of the page is enough
            for panel in self.panels():
                panel.readonly_note.value = ""
        self._header()
        if start and self.w is not None:
            self.start()

    def _build(self, w: Any) -> Any:
        box = super()._build(w)
        self.header = w.HTML()
        box.children = (self.header, *box.children)
        return box

    def _header(self) -> None:
        if self.w is None:
            return
        mode = "read-only" if self.readonly else "writes allowed (previewed, confirmed)"
        at = pd.Timestamp.now(tz="UTC").strftime("%H:%M:%S UTC")
        self.header.value = (
            f"<div class='jsadmin-dashboard-header'><b>jsadmin dashboard</b> · <code>{_safe(self.admin)}</code> · "
            f"{mode} · refreshes every {self.refresh_every:g} s · jobs refreshed {at} (#{self.cycles})</div>"
        )

    # -- self refresh -------------------------------------------------------------------------
    def start(self) -> None:
        """Start refreshing: the health board's own loop, and a loop reloading the job browser."""
        self.health.start(self.refresh_every)
        if self._jobs_thread is None or not self._jobs_thread.is_alive():
            self._halt.clear()
            self._jobs_thread = threading.Thread(target=self._jobs_loop, name="jsadmin-dashboard", daemon=True)
            self._jobs_thread.start()

    def stop(self) -> None:
        """Stop both loops."""
        self._halt.set()
        self.health.stop()
        if self._jobs_thread is not None:
            self._jobs_thread.join(timeout=30)
        self._jobs_thread = None

    def refresh_jobs(self) -> bool:
        """Reload the job browser (same filters and page) unless rows are selected or a preview is
        pending; returns whether it reloaded."""
        browser = self.jobs
        with browser._lock:
            if browser.pending is not None or (browser.w is not None and browser.rows.value):
                return False
            page = browser.page
            browser.reload()
            if page:
                browser.go(page)
        self.cycles += 1
        self._header()
        return True

    def _jobs_loop(self) -> None:
        while not self._halt.wait(self.refresh_every):
            try:
                self.refresh_jobs()
            except Exception as exc:  # keep refreshing; say what failed
                self.jobs.say(f"refresh failed: {type(exc).__name__}: {exc}", "error")


def _safe(admin: Any) -> str:
    """The admin's URL as shown (``Admin.url`` is already without its password)."""
    return escape(str(getattr(admin, "url", "?")))


def dashboard_from_env(environ: Any = None) -> Dashboard:
    """The dashboard the ``jsadmin dashboard`` notebook displays, configured by the environment.

    >>> os.environ["JSADMIN_URL"] = "redis://10.0.0.1:9999/0"; dashboard_from_env()   # doctest: +SKIP
    """
    env = os.environ if environ is None else environ
    url = env.get(ENV_URL)
    if not url:
        raise RuntimeError(f"{ENV_URL} is not set: start the dashboard with `jsadmin dashboard --url ...`")
    allow = env.get(ENV_WRITES, "0") == "1"
    refresh = float(env.get(ENV_REFRESH, "5") or 5)
    admin = connect(url, readonly=not allow)
    return Dashboard(admin, refresh=refresh, allow_writes=allow)


__all__ = ["DASHBOARD_READONLY", "Dashboard", "dashboard_from_env"]
