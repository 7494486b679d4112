"""ipywidgets control panels; each is one object you display.

>>> from jsadmin.display.panels import control_panel
>>> control_panel(admin)          # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

from ._base import READONLY_REASON, Panel
from .enqueue import EnqueueForm
from .health import HealthBoard
from .jobs import JobBrowser
from .jumpscripts import JumpscriptRegistry


class ControlPanel(Panel):
    """All four panels in tabs: jobs, enqueue, jumpscripts, health (``.jobs``, ``.enqueue``, ...)."""

    title = "jsadmin control panel"

    def __init__(self, admin: Any, *, readonly: bool | None = None, health_interval: float = 5.0) -> None:
        ro = bool(getattr(admin, "readonly", False)) if readonly is None else readonly
        self.jobs = JobBrowser(admin, readonly=ro)
        self.enqueue = EnqueueForm(admin, readonly=ro)
        self.jumpscripts = JumpscriptRegistry(admin, readonly=ro)
        self.health = HealthBoard(admin, readonly=ro, interval=health_interval)
        super().__init__(admin, readonly=ro)

    def _build(self, w: Any) -> Any:
        tabs = w.Tab(children=[p.widget for p in self.panels()])
        for i, title in enumerate(("Jobs", "Enqueue", "Jumpscripts", "Health")):
            tabs.set_title(i, title)
        self.tabs = tabs
        return w.VBox([self.readonly_note, tabs])

    def panels(self) -> list[Panel]:
        """The four panels, in tab order."""
        return [self.jobs, self.enqueue, self.jumpscripts, self.health]

    def facts(self) -> dict[str, object]:
        out: dict[str, object] = {}
        for panel in self.panels():
            out.update(panel.facts())
        return out


def control_panel(admin: Any, *, readonly: bool | None = None) -> ControlPanel:
    """Every panel in one tabbed widget.

    >>> control_panel(jsadmin.connect(readonly=True))   # doctest: +SKIP
    """
    return ControlPanel(admin, readonly=readonly)


__all__ = [
    "READONLY_REASON",
    "ControlPanel",
    "EnqueueForm",
    "HealthBoard",
    "JobBrowser",
    "JumpscriptRegistry",
    "Panel",
    "control_panel",
]
