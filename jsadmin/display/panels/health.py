"""Grid health board: current problems first, then queues, heartbeats, stale workers, stuck
jobs, recent errors, a latency plot, and the leftovers (legacy families, entries older than
``leftover_after``) in their own section with their count and age.

Each refresh is read-only and bounded (one ``SCAN`` pass, ``HSCAN``, and per-key type, TTL, values
and short lists from a read-only script per 200 keys, see :mod:`jsadmin.keyinfo`; queues read with a
per-key limit) and shows what it cost: commands sent and milliseconds. About 20 commands on the
demo grid, growing by batches of keys, not by keys or jobs.

>>> from jsadmin.display import HealthBoard
>>> board = HealthBoard(admin, interval=5); board.start(); board   # doctest: +SKIP
"""

from __future__ import annotations

import io
import threading
from collections.abc import Mapping
from types import ModuleType
from typing import Any

import pandas as pd

from ...analytics import errors as an_errors
from ...analytics import latency as an_latency
from ...analytics import liveness as an_live
from ...analytics import queues as an_queues
from ...analytics._common import DEFAULT_LEFTOVER_AFTER, human_duration
from ...catalog import queue_families
from ...extras import require
from ...keyinfo import family_keyspace
from ...loadinfo import LoadInfo
from ...scan import scan_keys
from ..cost import CommandCounter
from ..html import frame_html, message_html
from ._base import Panel

FAMILIES = (
    "worker_heartbeat", "worker_watchdog", "worker_registry", "jobs", "worker_jobs", "job_results",
    "ecos", "healthcheck_status", "healthcheck_lastcheck", "health_status",
)
"""Families read on each refresh (whole hashes, bounded HSCAN)."""
QUEUE_FAMILIES = tuple(queue_families())
"""Read with a per-key ``limit`` of the oldest entries (``keep="oldest"``: the head, where jobs wait
longest, so stuck jobs and the oldest-entry age are seen) so a backed-up queue stays cheap."""
QUEUE_LIMIT = 200


def collect(admin: Any, *, stale_after: float = 120.0, now: pd.Timestamp | None = None,
            queue_limit: int = QUEUE_LIMIT, leftover_after: Any = DEFAULT_LEFTOVER_AFTER,
            batched: bool = True) -> dict[str, pd.DataFrame]:
    """One read-only snapshot of everything the board shows, as frames.

    With ``batched`` (the default, on an ``Admin``) one ``SCAN`` pass lists the keys of every
    family and queue, and per-key reads go through :func:`jsadmin.keyinfo.key_info` (one read-only
    script call per 200 keys): the cost grows by batches, not by keys (about 20 commands on the
    demo grid). ``batched=False`` is the per-key path (each family scans, then pipelined
    ``TYPE``/``PTTL``/``GET``/``LLEN`` per key), kept for comparison.

    Keys: ``queues`` (depth and oldest-entry age), ``heartbeats``, ``stale_workers``,
    ``stuck_jobs``, ``errors`` (recent ECOs and failed jobs), ``health`` (all of it, current
    problems first), ``leftovers`` (the leftover rows of ``health`` counted per kind and reason,
    see :func:`jsadmin.analytics.leftovers`), ``finished`` (finished jobs for the latency plot).
    Ages are ``Timedelta``; rows carry ``signal`` (``current``/``leftover``) and ``why``.

    >>> collect(admin)["heartbeats"]        # doctest: +SKIP
    """
    now = now if now is not None else pd.Timestamp.now(tz="UTC")
    raw = getattr(admin, "_raw", None) if batched else None
    infos: dict[str, LoadInfo] = {}  # which queues the capped loads cut short
    if raw is not None:
        found = list(scan_keys(raw))
        keys = family_keyspace(raw, FAMILIES + QUEUE_FAMILIES, keys=found)
        frames = {name: admin.load(name, keys=keys[name], batched=True) for name in FAMILIES}
        for name in QUEUE_FAMILIES:
            frames[name], infos[name] = admin.load_with_info(
                name, keys=keys[name], limit=queue_limit, keep="oldest", batched=True)
        queue_keys = sorted(k for k in (key.decode("utf-8", "backslashreplace") for key in found)
                            if an_queues.classify_queue(k) is not None)
        queues = an_queues.queue_depths(admin, now=now, keys=queue_keys)
    else:
        frames = {name: admin.load(name) for name in FAMILIES}
        for name in QUEUE_FAMILIES:
            frames[name], infos[name] = admin.load_with_info(name, limit=queue_limit, keep="oldest")
        queues = an_queues.queue_depths(admin, now=now)
    old = leftover_after
    out: dict[str, pd.DataFrame] = {
        "queues": queues,
        "heartbeats": an_live.heartbeat_ages(frames, now=now, stale_after=stale_after, leftover_after=old),
        "stale_workers": an_live.stale_workers(frames, now=now, stale_after=stale_after, leftover_after=old),
        "stuck_jobs": an_live.stuck_jobs(frames, now=now, leftover_after=old),
        "errors": an_errors.error_summary(frames, now=now, leftover_after=old),
        "health": an_live.grid_health(
            frames, now=now, stale_after=stale_after, leftover_after=old, client=getattr(admin, "redis", None),
            infos=infos,
        ),
    }
    out["leftovers"] = an_live.leftovers(out["health"])
    try:
        out["finished"] = an_latency.finished_jobs(frames)
    except Exception:  # latency is optional decoration; never fail a refresh on it
        out["finished"] = pd.DataFrame()
    return out


def latency_png(finished: pd.DataFrame) -> bytes | None:
    """PNG of run-time percentiles over time from finished jobs (None when nothing to draw)."""
    if finished is None or finished.empty or "timeStop" not in finished.columns:
        return None
    matplotlib = require("matplotlib", extra="display", feature="the health board's latency plot")
    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    plots: ModuleType | None
    try:
        from .. import plots
    except ImportError:
        plots = None
    fig, ax = plt.subplots(figsize=(8, 3.4), dpi=90)
    try:
        drawn = False
        if plots is not None and hasattr(plots, "plot_latency_distribution"):
            try:
                plots.plot_latency_distribution(finished, by="cmd", metric="run_time", kind="ecdf", ax=ax)
                drawn = True
            except Exception:
                drawn = False
        if not drawn:
            lat = an_latency.job_latency(finished)
            if lat.empty:
                return None
            for cmd, part in lat.groupby("cmd", observed=True):
                values = part["run_time"].dropna().sort_values()
                if len(values):
                    ax.step(values, (pd.Series(range(1, len(values) + 1)) / len(values)).to_numpy(),
                            where="post", label=str(cmd))
            ax.set_xlabel("run time (s)")
            ax.set_ylabel("fraction of jobs")
            ax.legend(fontsize=7, loc="lower right")
        ax.set_title("Run time of finished jobs still in Redis", fontsize=9)
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png", bbox_inches="tight")
        return buf.getvalue()
    finally:
        plt.close(fig)


def human_age(seconds: object) -> str:
    """``42.0`` -> ``"42 s"``, ``7300`` or ``Timedelta("2h")`` -> ``"2.0 h"``, ``4e8`` -> ``"12.7 y"``.

    >>> human_age(7300), human_age(None)
    ('2.0 h', '')
    """
    return human_duration(seconds)


AGE_COLUMNS = ("age", "oldest_age", "timeout", "newest", "oldest")


def _rounded(df: pd.DataFrame) -> pd.DataFrame:
    """Display form: ages human readable, guids shortened, other floats to one decimal."""
    df = df.copy()
    for col in df.columns:
        if col in AGE_COLUMNS or pd.api.types.is_timedelta64_dtype(df[col].dtype):
            df[col] = df[col].map(human_age)
        elif col == "guid":
            df[col] = df[col].astype("string").str.slice(0, 12)
        elif pd.api.types.is_float_dtype(df[col]):
            df[col] = df[col].round(1)
    return df


def _current(df: pd.DataFrame) -> pd.DataFrame:
    """The current rows of a frame with a ``signal`` column (all rows without one)."""
    if df.empty or "signal" not in df.columns:
        return df
    return df[df["signal"].astype(str) == "current"]


SECTIONS = ("health", "queues", "heartbeats", "stale_workers", "stuck_jobs", "errors", "leftovers")
TITLES = {"health": "Current problems (worst first)", "queues": "Queues", "heartbeats": "Heartbeats",
          "stale_workers": "Stale workers", "stuck_jobs": "Stuck jobs", "errors": "Recent errors",
          "leftovers": "Leftovers (not current problems)"}


def board_views(data: Mapping[str, pd.DataFrame]) -> dict[str, tuple[pd.DataFrame, list[str]]]:
    """What each section of the board shows: ``{section: (rows, columns)}``, current problems
    only except in ``leftovers`` (one row per kind and reason, with count and age)."""
    health = data["health"]
    errors = _current(data["errors"])
    workers = data["stale_workers"]
    return {
        "health": (_current(health[health["status"].astype(str) != "ok"]) if not health.empty else health,
                   ["component", "kind", "status", "age", "detail"]),
        "queues": (data["queues"].sort_values("length", ascending=False), ["key", "length", "oldest_age"]),
        "heartbeats": (_current(data["heartbeats"]).sort_values("age", ascending=False),
                       ["queue", "worker", "beat", "age", "status"]),
        "stale_workers": (_current(workers[workers["stale"].fillna(True)]) if not workers.empty else workers,
                          ["queue", "worker", "age"]),
        "stuck_jobs": (_current(data["stuck_jobs"]), ["guid", "cmd", "state", "nid", "age", "timeout", "family"]),
        "errors": (errors.sort_values("last_seen", ascending=False) if "last_seen" in errors else errors,
                   ["category", "jumpscript", "nid", "occurrences", "last_seen", "message"]),
        "leftovers": (data.get("leftovers", pd.DataFrame()), ["kind", "count", "newest", "oldest", "why"]),
    }


class HealthBoard(Panel):
    """Queue depths and oldest ages, heartbeat ages, stale workers, stuck jobs, recent errors and
    a latency plot, refreshed on demand or every ``interval`` seconds (*Start*/*Stop*).

    After each refresh: ``data`` (the frames of :func:`collect`), ``cost``
    (:class:`~jsadmin.display.cost.CommandCounter`: ``commands``, ``ms``, ``writes`` — always
    empty), ``refreshes`` (count).
    """

    title = "Grid health"

    def __init__(self, admin: Any, *, readonly: bool | None = None, interval: float = 5.0,
                 stale_after: float = 120.0, plot: bool = True, autorefresh: bool = True,
                 leftover_after: Any = DEFAULT_LEFTOVER_AFTER) -> None:
        self.stale_after = stale_after
        self.leftover_after = leftover_after
        self.plot_enabled = plot
        self.data: dict[str, pd.DataFrame] = {}
        self.cost: CommandCounter | None = None
        self.refreshes = 0
        self.last_error: BaseException | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._initial_interval = interval
        super().__init__(admin, readonly=readonly)
        if autorefresh:
            self.refresh()

    def _build(self, w: Any) -> Any:
        self.interval = w.BoundedFloatText(value=self._initial_interval, min=0.5, max=3600, step=0.5,
                                           description="every (s)", layout=w.Layout(width="170px"))
        self.stale = w.BoundedFloatText(value=self.stale_after, min=1, max=86400, description="stale after",
                                        layout=w.Layout(width="190px"))
        self.auto = w.ToggleButton(value=False, description="Auto refresh", icon="play",
                                   tooltip="Start/stop refreshing every N seconds")
        self.refresh_button = self.button("Refresh now", icon="refresh")
        self.refresh_button.on_click(self.guarded(lambda _b: self.refresh()))
        self.auto.observe(lambda c: self.start() if c["new"] else self.stop(), names="value")
        self.cost_label = w.HTML()
        self.sections = {name: w.HTML() for name in SECTIONS}
        self.titles = {name: w.HTML(f"<b>{TITLES[name]}</b>") for name in SECTIONS}
        self.plot = w.Image(format="png", layout=w.Layout(max_width="900px"))
        boxes = [w.VBox([self.titles[n], self.sections[n]],
                        layout=w.Layout(width="49%", overflow="auto", margin="0 1% 0 0"))
                 for n in SECTIONS[1:-1]]
        wide = {n: w.VBox([self.titles[n], self.sections[n]], layout=w.Layout(width="99%", overflow="auto"))
                for n in (SECTIONS[0], SECTIONS[-1])}
        grid = w.VBox([wide["health"], *[w.HBox(boxes[i:i + 2]) for i in range(0, len(boxes), 2)],
                       wide["leftovers"]])
        return w.VBox([
            w.HTML(f"<b>{self.title}</b> <span style='color:#57606a'>(read-only)</span>"),
            w.HBox([self.refresh_button, self.auto, self.interval, self.stale]),
            self.cost_label, grid, self.plot, self.status,
        ])

    def refresh(self) -> dict[str, pd.DataFrame]:
        """Read once (read-only), update every section; returns the frames."""
        stale_after = float(self.stale.value) if self.w is not None else self.stale_after
        with CommandCounter(self.admin.redis) as cost:
            data = collect(self.admin, stale_after=stale_after, leftover_after=self.leftover_after)
        self.data, self.cost = data, cost
        self.refreshes += 1
        if self.w is not None:
            self._render(data, cost)
        return data

    def _render(self, data: Mapping[str, pd.DataFrame], cost: CommandCounter) -> None:
        views = board_views(data)
        for name, (df, cols) in views.items():
            df = _rounded(df)
            body = frame_html(df, columns=cols, max_rows=10, cls=f"jsadmin-{name}")
            if df.empty:
                body = message_html("none", kind="ok")
            elif len(df) > 10:
                body += message_html(f"… {len(df) - 10} more", kind="info")
            self.sections[name].value = body
        left = data.get("leftovers", pd.DataFrame())
        n_left = int(left["count"].sum()) if "count" in left else 0
        oldest = human_age(left["oldest"].max()) if n_left else ""
        self.titles["leftovers"].value = (
            f"<b>{TITLES['leftovers']}: {n_left}</b>" + (f" <span style='color:#57606a'>up to {oldest} old; "
            "legacy families and entries older than leftover_after</span>" if n_left else ""))
        n_cur = len(views["health"][0])
        self.titles["health"].value = f"<b>{TITLES['health']}: {n_cur}</b>"
        at = pd.Timestamp.now(tz="UTC").strftime("%H:%M:%S UTC")
        self.cost_label.value = message_html(f"refresh #{self.refreshes} at {at}: {cost.summary()}",
                                             kind="info")
        if self.plot_enabled:
            png = latency_png(data.get("finished", pd.DataFrame()))
            if png:
                self.plot.value = png
                self.plot.layout.display = "block"
            else:
                self.plot.layout.display = "none"

    # -- auto refresh -------------------------------------------------------------------------
    def start(self, interval: float | None = None) -> None:
        """Refresh every ``interval`` seconds in a background thread until :meth:`stop`."""
        if interval is not None and self.w is not None:
            self.interval.value = interval
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="jsadmin-health", daemon=True)
        self._thread.start()
        if self.w is not None and not self.auto.value:
            self.auto.value = True
        if self.w is not None:
            self.auto.icon, self.auto.description = "stop", "Stop"

    def stop(self) -> None:
        """Stop auto refresh (returns when the thread has finished)."""
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=30)
        self._thread = None
        if self.w is not None:
            if self.auto.value:
                self.auto.value = False
            self.auto.icon, self.auto.description = "play", "Auto refresh"

    @property
    def running(self) -> bool:
        """True while auto refresh runs."""
        return self._thread is not None and self._thread.is_alive()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.refresh()
                self.last_error = None
            except Exception as exc:
                self.last_error = exc
                self.say(f"refresh failed: {type(exc).__name__}: {exc}", "error")
            interval = float(self.interval.value) if self.w is not None else 5.0
            self._stop.wait(max(0.5, interval))

    def facts(self) -> Mapping[str, object]:
        out: dict[str, object] = {"url": getattr(self.admin, "url", "?")}
        for name in ("queues", "heartbeats", "stuck_jobs", "errors"):
            if name in self.data:
                out[name] = len(_current(self.data[name]))
        if "leftovers" in self.data and "count" in self.data["leftovers"]:
            out["leftovers"] = int(self.data["leftovers"]["count"].sum())
        return out
