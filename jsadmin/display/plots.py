"""Matplotlib plots of the analytics frames (latency, throughput, heatmaps, queues, heartbeats).

Every function takes a frame (live ``Admin`` frames or recorded history) and an optional ``ax``
and returns the Axes it drew on (or a Figure for the two-panel :func:`plot_queue_depth` without
``ax``), like ``DataFrame.plot``. Axes are labelled with units; time axes are UTC; a log scale is
used where the data spans two decades or more. Nothing in the data layers imports this module.
Works with the Agg backend (no display needed). Needs the ``display`` extra (matplotlib); without
it, importing this module raises :class:`jsadmin.extras.MissingExtraError` naming the extra.

>>> from jsadmin.display import plots
>>> ax = plots.plot_latency_distribution(jobs, by="cmd", kind="ecdf")   # doctest: +SKIP
>>> ax.figure.savefig("latency.png")                                   # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise
from typing import Any, cast

import numpy as np
import pandas as pd

from ..analytics._common import as_seconds
from ..analytics.info import Analysed, HealthInfo, mirrored_stale_after
from ..analytics.jobs import jumpscript_ids
from ..analytics.latency import METRICS, job_latency, latency_series, latency_summary, seconds_of
from ..analytics.liveness import DEFAULT_STALE_AFTER
from ..extras import missing

try:
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt
    from matplotlib.axes import Axes
    from matplotlib.colors import ListedColormap, LogNorm, Normalize
    from matplotlib.figure import Figure
    from matplotlib.patches import Polygon
    from matplotlib.typing import ColorType
except ImportError as exc:  # without the [display] extra
    raise missing("matplotlib", extra="display", feature="jsadmin.display.plots") from exc

PERCENTILES = ("p50", "p90", "p99")
_PCT_STYLE = {"p50": ("-", "#222222"), "p90": ("--", "#555555"), "p99": (":", "#000000")}
_STATUS_COLORS = {"ok": "#1a9850", "warn": "#fdae61", "stale": "#d73027", "error": "#7f0000"}
_METRIC_LABEL = {"queue_wait": "queue wait", "run_time": "run time", "end_to_end": "end-to-end time"}
DECADES = 30.0
"""max/min ratio of the positive values (1.5 decades) from which an axis goes logarithmic."""
MAX_POINTS = 400
"""Queue samples per line above which :func:`plot_queue_depth` draws per-bucket maxima."""
LOG_FLOOR = 1e-3
"""Smallest duration (s) shown on a log axis; below it (incl. clamped 0 s runs) goes in the first bin."""


def _tab10() -> Sequence[ColorType]:
    """The ten colours of matplotlib's ``tab10`` (a ListedColormap: RGB tuples)."""
    cmap = cast(ListedColormap, plt.get_cmap("tab10"))
    return cast("Sequence[ColorType]", cmap.colors)


def _axes(ax: Axes | None, figsize: tuple[float, float] = (8.0, 4.5)) -> Axes:
    if ax is not None:
        if not isinstance(ax, Axes):
            raise TypeError(f"ax must be a matplotlib Axes, got {type(ax).__name__}")
        return ax
    _, new = plt.subplots(figsize=figsize, layout="constrained")
    return new


def spans_decades(values: Sequence[float] | np.ndarray | pd.Series) -> bool:
    """True when the positive finite values span at least 1.5 decades (max/min >= 30).

    >>> spans_decades([0.01, 0.5, 3.0]), spans_decades([1, 2, 3])
    (True, False)
    """
    arr = np.asarray(values, dtype="float64")
    arr = arr[np.isfinite(arr) & (arr > 0)]
    return bool(arr.size >= 2 and arr.max() / arr.min() >= DECADES)


def fmt_seconds(value: float) -> str:
    """Short human text of a duration in seconds.

    >>> fmt_seconds(0.0123), fmt_seconds(2.5), fmt_seconds(754), fmt_seconds(4e8)
    ('12.3 ms', '2.50 s', '12.6 min', '12.7 y')
    """
    if value is None or not np.isfinite(value):
        return "n/a"
    if value < 1:
        return f"{value * 1000:.3g} ms"
    if value < 120:
        return f"{value:.3g} s" if value >= 10 else f"{value:.2f} s"
    if value < 7200:
        return f"{value / 60:.3g} min"
    if value < 172_800:
        return f"{value / 3600:.3g} h"
    if value < 63_072_000:
        return f"{value / 86_400:.3g} d"
    return f"{value / 31_557_600:.3g} y"


DURATION_UNITS = (("s", 1.0), ("min", 60.0), ("h", 3600.0), ("d", 86_400.0), ("y", 31_557_600.0))
_UNIT_WORD = {"s": "seconds", "min": "minutes", "h": "hours", "d": "days", "y": "years"}


def duration_unit(seconds: Sequence[float] | np.ndarray | pd.Series | float) -> tuple[str, float]:
    """The unit an axis of these durations reads best in: ``(name, seconds per unit)``.

    The largest finite value decides: below 2 min seconds, below 2 h minutes, below 2 days
    hours, below 2 years days, else years.

    >>> duration_unit([3, 45]), duration_unit([30, 7300]), duration_unit(4e8)
    (('s', 1.0), ('h', 3600.0), ('y', 31557600.0))
    """
    arr = np.atleast_1d(np.asarray(seconds, dtype="float64"))
    arr = np.abs(arr[np.isfinite(arr)])
    top = float(arr.max()) if arr.size else 0.0
    for (name, size), (_, nxt) in pairwise(DURATION_UNITS):
        if top < 2 * nxt:
            return name, size
    return DURATION_UNITS[-1]


def _check_metric(metric: str) -> None:
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {METRICS}, got {metric!r}")


def _top_groups(values: pd.DataFrame, by: str, top: int) -> list:
    counts = values.groupby(by, dropna=False, observed=True).size().sort_values(ascending=False)
    return list(counts.index[:top])


def _time_axis(ax: Axes) -> None:
    locator = mdates.AutoDateLocator()
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    ax.set_xlabel("time (UTC)")


def _naive_utc(index: pd.Index | pd.Series) -> np.ndarray:
    """UTC datetimes as naive numpy datetimes (what matplotlib's date axis expects)."""
    values = pd.DatetimeIndex(index)
    if values.tz is not None:
        values = values.tz_convert("UTC").tz_localize(None)
    return values.to_numpy()


def plot_latency_distribution(
    jobs: pd.DataFrame,
    by: str | None = "cmd",
    metric: str = "run_time",
    kind: str = "hist",
    ax: Axes | None = None,
    *,
    top: int = 8,
    bins: int = 50,
) -> Axes:
    """Distribution of a latency metric (histogram or ECDF), one curve per group, with the
    overall p50/p90/p99 drawn as vertical lines (``line.get_gid()`` is ``"p50"`` …).

    ``by``: a job column, or ``"cmd"``/``"jumpscript"`` for the jumpscript identity
    ``<organization>__<name>`` (the ``top`` largest groups are drawn; ``None``: one curve). The x axis is logarithmic when the values span two decades; there, zero durations
    (clamped sub-second runs) are drawn in the first bin.

    >>> plot_latency_distribution(jobs, by="nid", metric="queue_wait", kind="ecdf")   # doctest: +SKIP
    """
    _check_metric(metric)
    if kind not in ("hist", "ecdf"):
        raise ValueError(f"kind must be 'hist' or 'ecdf', got {kind!r}")
    lat = job_latency(jobs)
    if by in ("cmd", "jumpscript"):
        by = "jumpscript"
        if "jumpscript" not in lat.columns:
            lat = lat.assign(jumpscript=jumpscript_ids(lat))
    if by is not None and by not in lat.columns:
        raise KeyError(f"cannot group by {by!r}: not a column of the job frame")
    values = lat.loc[lat[metric].notna()]
    ax = _axes(ax)
    label = _METRIC_LABEL[metric]
    ax.set_xlabel(f"{label} (s)")
    if values.empty:
        ax.set_title(f"{label}: no jobs with the needed timestamps")
        ax.set_ylabel("jobs")
        return ax
    data = values[metric].to_numpy(dtype="float64")
    log = spans_decades(np.clip(data, LOG_FLOOR, None))
    hi = float(data.max())
    if log:
        lo = max(float(data[data > 0].min()) if (data > 0).any() else LOG_FLOOR, LOG_FLOOR)
        edges = np.geomspace(lo, hi * 1.0001, bins + 1)
        ax.set_xscale("log")
    else:
        lo = float(data.min())
        edges = np.linspace(lo, hi if hi > lo else lo + 1e-9, bins + 1)
    groups = [None] if by is None else _top_groups(values, by, top)
    colors = _tab10()
    for i, group in enumerate(groups):
        if group is None:
            sample = data
            name = "all jobs"
        else:
            mask = values[by].isna() if pd.isna(group) else values[by] == group
            sample = values.loc[mask.fillna(False).to_numpy(), metric].to_numpy(dtype="float64")
            name = str(group)
        if log:
            sample = np.clip(sample, lo, None)
        color = colors[i % len(colors)]
        if kind == "hist":
            ax.hist(sample, bins=edges, histtype="step", linewidth=1.6, color=color,  # type: ignore[arg-type]
                    label=f"{name} (n={len(sample):,})")  # (the stubs take no ndarray as bins)
        else:
            xs = np.sort(sample)
            ys = np.arange(1, len(xs) + 1) / len(xs)
            ax.step(xs, ys, where="post", linewidth=1.6, color=color, label=f"{name} (n={len(xs):,})")
    below = int((data < lo).sum()) if log else 0
    overall = latency_summary(jobs, by=None, metric=metric).iloc[0]
    for name in PERCENTILES:
        style, color = _PCT_STYLE[name]
        value = float(seconds_of(pd.Series([overall[name]]))[0])
        line = ax.axvline(value, linestyle=style, color=color, linewidth=1.4,
                          label=f"{name} = {fmt_seconds(value)}")
        line.set_gid(name)
    ax.set_ylabel("jobs" if kind == "hist" else "fraction of jobs ≤ x")
    if kind == "ecdf":
        ax.set_ylim(0, 1.02)
    shown = "" if by is None or len(groups) >= values[by].nunique(dropna=False) else f", top {len(groups)}"
    ax.set_title(f"{label.capitalize()} distribution ({len(values):,} jobs{shown})")
    if below:
        ax.set_xlabel(f"{label} (s)\n{below:,} jobs below {fmt_seconds(lo)} (incl. 0 s: workers store "
                      "timeStop in whole seconds) are in the first bin", fontsize="small")
    if kind == "hist":
        heights = np.concatenate([cast(Polygon, p).get_xy()[:, 1] for p in ax.patches] or [np.zeros(1)])
        if spans_decades(heights):
            ax.set_yscale("log")
            ax.set_ylabel("jobs (log scale)")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(title=by, fontsize="small", title_fontsize="small", loc="upper left",
              bbox_to_anchor=(1.01, 1.0), framealpha=0.85)
    return ax


def plot_percentiles_over_time(
    jobs: pd.DataFrame,
    freq: str = "5min",
    by: str | None = None,
    ax: Axes | None = None,
    *,
    metric: str = "run_time",
    top: int = 6,
) -> Axes:
    """p50/p90/p99 of ``metric`` per ``freq`` bucket over time (lines with gid ``"p50"`` …).

    With ``by``, one p90 line per group (``top`` largest groups; gid ``"p90:<group>"``).
    The y axis is logarithmic when the values span two decades.

    >>> plot_percentiles_over_time(history["jobs"], freq="10min")       # doctest: +SKIP
    """
    _check_metric(metric)
    ax = _axes(ax)
    label = _METRIC_LABEL[metric]
    legend_outside = False
    if by is None:
        series = latency_series(jobs, freq=freq, metric=metric)
        when = _naive_utc(series.index)
        values = pd.Series(np.concatenate([seconds_of(series[name]) for name in PERCENTILES]))
        log = spans_decades(values)
        for name in PERCENTILES:
            style, color = _PCT_STYLE[name]
            ys = seconds_of(series[name])
            off = log and not (ys[np.isfinite(ys)] > 0).any()
            (line,) = ax.plot(when, ys, linestyle=style, color=color, linewidth=1.5,
                              label=f"{name} (0 s: off the log axis)" if off else name,
                              marker="." if len(when) < 40 else None)
            line.set_gid(name)
        title = f"{label.capitalize()} percentiles per {freq}"
    else:
        series = latency_series(jobs, freq=freq, by=by, metric=metric)
        by = "jumpscript" if by in ("cmd", "jumpscript") else by
        frame = series.reset_index()
        groups = (
            frame.groupby(by, dropna=False, observed=True)["measured"].sum().sort_values(ascending=False)
        )
        colors = _tab10()
        for i, group in enumerate(groups.index[:top]):
            sub = frame[frame[by] == group].sort_values("time")
            (line,) = ax.plot(_naive_utc(sub["time"]), seconds_of(sub["p90"]),
                              color=colors[i % len(colors)], linewidth=1.4, label=f"{by}={group}")
            line.set_gid(f"p90:{group}")
        values = pd.Series(seconds_of(frame["p90"]))
        title = f"{label.capitalize()} p90 per {freq} by {by}"
        legend_outside = True
    if spans_decades(values):
        ax.set_yscale("log")
    ax.set_ylabel(f"{label} (s)")
    ax.set_title(title)
    _time_axis(ax)
    ax.grid(True, alpha=0.3)
    if ax.lines and legend_outside:
        ax.legend(title=by, fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0))
    elif ax.lines:
        ax.legend(fontsize="small", loc="best", framealpha=0.85)
    return ax


def plot_throughput(jobs: pd.DataFrame, freq: str = "1min", ax: Axes | None = None) -> Axes:
    """Finished jobs per second per ``freq`` bucket (filled, gid ``"throughput"``) with the error
    rate in % on a twin axis (gid ``"error_rate"``). Returns the throughput Axes.

    >>> ax = plot_throughput(history["jobs"], freq="5min"); twin = ax.figure.axes[-1]   # doctest: +SKIP
    """
    ax = _axes(ax)
    series = latency_series(jobs, freq=freq)
    when = _naive_utc(series.index)
    rate = series["throughput"].to_numpy(dtype="float64")
    ax.fill_between(when, rate, step="post", alpha=0.25, color="#2c7bb6")
    (line,) = ax.step(when, rate, where="post", color="#2c7bb6", linewidth=1.3, label="jobs/s")
    line.set_gid("throughput")
    ax.set_ylabel("finished jobs per second")
    ax.set_ylim(bottom=0)
    twin = ax.twinx()
    errors = (series["error_rate"] * 100).to_numpy(dtype="float64")
    (err,) = twin.plot(when, errors, color="#d7191c", linewidth=1.2, label="error rate")
    err.set_gid("error_rate")
    twin.set_ylabel("error rate (%)", color="#d7191c")
    twin.tick_params(axis="y", colors="#d7191c")
    top = np.nanmax(errors) if np.isfinite(errors).any() else 0
    twin.set_ylim(0, max(5.0, top * 1.1))
    ax.set_title(f"Throughput and error rate per {freq}")
    _time_axis(ax)
    ax.grid(True, alpha=0.3)
    ax.legend(handles=[line, err], fontsize="small", loc="upper left", framealpha=0.85)
    return ax


def heatmap_frame(
    jobs: pd.DataFrame, value: str = "p90", metric: str = "run_time", *, top: int | None = 20
) -> pd.DataFrame:
    """The node x jumpscript pivot :func:`plot_heatmap` draws (rows ``nid``, columns ``jumpscript``;
    durations in float seconds).

    ``top`` keeps the jumpscripts with the most jobs (``None``: all); nodes and jumpscripts
    without any value are dropped.
    """
    summary = latency_summary(jobs, by=["nid", "jumpscript"], metric=metric)
    if value not in summary.columns:
        raise ValueError(f"value must be one of {list(summary.columns)}, got {value!r}")
    column = summary[value]
    if pd.api.types.is_timedelta64_dtype(column.dtype):
        column = column.dt.total_seconds()
    pivot = column.unstack("jumpscript")
    if top is not None:
        volume = summary["jobs"].groupby(level="jumpscript").sum().sort_values(ascending=False, kind="stable")
        pivot = pivot[[c for c in pivot.columns if c in set(volume.index[:top])]]
    pivot = pivot.dropna(how="all").dropna(axis=1, how="all")
    return pivot.sort_index().sort_index(axis=1)


def plot_heatmap(
    jobs: pd.DataFrame,
    value: str = "p90",
    ax: Axes | None = None,
    *,
    metric: str = "run_time",
    annotate: bool | None = None,
    top: int | None = 20,
) -> Axes:
    """Node x jumpscript heatmap of a latency statistic (``p50``/``p90``/``p99``/``mean``, seconds,
    log colour scale when it spans two decades) or of ``error_rate``/``timeout_rate`` (%).

    Columns are jumpscripts (``<organization>__<name>``). The image data is :func:`heatmap_frame` (NaN cells — no jobs — are blank; the ``top``
    busiest jumpscripts are shown).

    >>> plot_heatmap(history["jobs"], value="error_rate")                # doctest: +SKIP
    """
    pivot = heatmap_frame(jobs, value=value, metric=metric, top=top)
    rate = value.endswith("_rate")
    data = pivot.to_numpy(dtype="float64")
    n_rows, n_cols = data.shape
    ax = _axes(ax, figsize=(min(16.0, max(6.0, 1.5 + 0.9 * n_cols)), min(12.0, max(3.5, 1.4 + 0.45 * n_rows))))
    finite = data[np.isfinite(data)]
    peak = float(finite.max()) if finite.size else 0.0
    if rate:
        norm: Normalize = Normalize(vmin=0.0, vmax=max(peak, 1e-9))
    elif spans_decades(finite):
        norm = LogNorm(vmin=float(finite[finite > 0].min()), vmax=peak, clip=True)
    else:
        norm = Normalize(vmin=0.0, vmax=peak if peak > 0 else 1.0)
    cmap = plt.get_cmap("Reds" if rate else "viridis").with_extremes(bad="#eeeeee")
    image = ax.imshow(np.ma.masked_invalid(data), cmap=cmap, norm=norm, aspect="auto",
                      interpolation="nearest")
    ax.set_xticks(range(n_cols), [str(c) for c in pivot.columns], rotation=35, ha="right")
    ax.set_yticks(range(n_rows), [f"nid {i}" for i in pivot.index])
    ax.set_xlabel("jumpscript (organization__name)")
    ax.set_ylabel("node")
    if rate:
        what = value.replace("_", " ") + " (%)"
    elif value in ("p50", "p90", "p99", "mean", "max"):
        what = f"{_METRIC_LABEL[metric]} {value} (s)"
    else:
        what = value
    bar = ax.figure.colorbar(image, ax=ax)
    bar.set_label(what)
    if rate:
        bar.ax.yaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v * 100:.3g}"))
    if annotate is None:
        annotate = n_rows * n_cols <= 120
    if annotate:
        for (i, j), v in np.ndenumerate(data):
            if not np.isfinite(v):
                continue
            if rate:
                text = f"{v * 100:.2g}%"
            elif value in ("jobs", "measured", "errors", "timeouts"):
                text = f"{int(v)}"
            else:
                text = fmt_seconds(v)
            level = float(norm(max(v, norm.vmin or 0.0)))
            dark_cell = level > 0.6 if rate else level < 0.6
            ax.text(j, i, text, ha="center", va="center", fontsize=7,
                    color="white" if dark_cell else "black")
    ax.set_title(f"{what[0].upper()}{what[1:]} by node and jumpscript")
    return ax


def plot_queue_depth(
    history_queues: pd.DataFrame, ax: Axes | None = None, *, top: int = 8
) -> Figure | Axes:
    """Queue length and oldest-entry age over time from recorded queue samples.

    Without ``ax``: a Figure with two panels (length, oldest-entry age) sharing the time axis;
    ages (seconds or ``Timedelta``) are drawn in s, min, h or d, whichever fits (:func:`duration_unit`).
    With ``ax``: lengths on ``ax`` and ages dashed on a twin axis; returns ``ax``. Lines carry
    gid ``"length:<key>"`` / ``"age:<key>"``; the ``top`` queues with the largest backlog are drawn.

    >>> plot_queue_depth(jsadmin.history("rec/")["queues"])              # doctest: +SKIP
    """
    need = {"time", "key", "length", "oldest_age"}
    missing = need - set(history_queues.columns)
    if missing:
        raise KeyError(
            f"plot_queue_depth needs recorded queue samples with {sorted(need)} "
            f"(jsadmin.history(dir)['queues']); missing {sorted(missing)}"
        )
    df = history_queues.sort_values("time")
    ranking = df.groupby("key")["length"].max().sort_values(ascending=False)
    keys = list(ranking.index[:top])
    df = df[df["key"].isin(keys)]
    step = None
    per_key = df.groupby("key").size().max() if len(df) else 0
    if per_key > MAX_POINTS:
        span = df["time"].max() - df["time"].min()
        wanted = span / (MAX_POINTS // 2)
        nice = [pd.Timedelta(x) for x in ("10s", "30s", "1min", "2min", "5min", "10min", "30min", "1h", "3h", "1D")]
        step = next((n for n in nice if n >= wanted), nice[-1])
        df = (
            df.assign(time=df["time"].dt.floor(step))
            .groupby(["key", "time"], as_index=False)[["length", "oldest_age"]]
            .max()
        )
    if ax is None:
        fig, (ax_len, ax_age) = plt.subplots(2, 1, sharex=True, figsize=(9, 6), layout="constrained")
        result: Figure | Axes = fig
    else:
        ax_len = _axes(ax)
        ax_age = ax_len.twinx()
        result = ax_len
    df = df.assign(oldest_age=as_seconds(df["oldest_age"]))
    log = spans_decades(df.loc[df["key"].isin(keys), "oldest_age"])
    # a log axis stays in seconds with ticks labelled as durations; a linear one uses a fitting unit
    unit, per = ("s", 1.0) if log else duration_unit(df["oldest_age"])
    colors = _tab10()
    for i, key in enumerate(keys):
        sub = df[df["key"] == key]
        when = _naive_utc(sub["time"])
        color = colors[i % len(colors)]
        (line,) = ax_len.step(when, sub["length"].to_numpy(dtype="float64"), where="post",
                              color=color, linewidth=1.4, label=str(key))
        line.set_gid(f"length:{key}")
        (age,) = ax_age.plot(when, sub["oldest_age"].to_numpy(dtype="float64") / per, color=color,
                             linewidth=1.2, linestyle="--" if ax is not None else "-", label=str(key))
        age.set_gid(f"age:{key}")
    ax_len.set_ylabel("queued entries" + (f" (max per {fmt_seconds(step.total_seconds())})" if step is not None else ""))
    ax_len.set_ylim(bottom=0)
    bucket = " (max per bucket)" if step is not None else ""
    ax_age.set_ylabel(("oldest entry age (log scale)" if log else f"oldest entry age ({unit})") + bucket)
    if log:
        ax_age.set_yscale("log")
        _duration_ticks(ax_age.yaxis, ax_age.get_ylim())
    ax_len.set_title(f"Queue depth and oldest-entry age ({len(keys)} of {len(ranking)} queues)")
    for a in (ax_len, ax_age) if ax is None else (ax_len,):
        a.grid(True, alpha=0.3)
    _time_axis(ax_age if ax is None else ax_len)
    if ax is None:
        ax_len.xaxis.label.set_visible(False)
    ax_len.legend(fontsize="x-small", loc="upper left", ncol=2, framealpha=0.85)
    return result


def _heartbeat_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """Normalise grid_health / heartbeat_ages / recorded heartbeats to ``label, age, status, leftover, why``
    (``age`` in float seconds)."""
    if {"component", "kind", "age"} <= set(frame.columns):
        rows = frame[frame["kind"].isin(["heartbeat", "watchdog"])]
        labels = rows["kind"].astype(str) + " " + rows["component"].astype(str)
        out = pd.DataFrame({"label": labels, "age": as_seconds(rows["age"]), "status": rows["status"].astype(str)})
        source = rows["kind"].astype(str)
    elif {"queue", "age"} <= set(frame.columns):
        rows = frame
        if "time" in rows.columns:  # recorded samples: the latest per queue/worker
            rows = rows.sort_values("time").groupby(["queue", "worker"], dropna=False).tail(1)
        worker = rows["worker"] if "worker" in rows.columns else pd.Series(pd.NA, index=rows.index)
        labels = worker.astype("string").fillna(rows["queue"].astype("string")).astype(str)
        source = rows["beat"].astype(str) if "beat" in rows.columns else pd.Series("heartbeat", index=rows.index)
        if "beat" in rows.columns:
            labels = source + " " + labels
        status = rows["status"].astype(str) if "status" in rows.columns else None
        out = pd.DataFrame({"label": labels, "age": as_seconds(rows["age"]), "status": status})
    else:
        raise KeyError(
            "plot_heartbeat_age needs a grid_health() frame (component, kind, age) or "
            "heartbeat ages (queue, age)"
        )
    if "signal" in rows.columns:
        out["leftover"] = (rows["signal"].astype(str) == "leftover").to_numpy()
        why = rows["why"].astype("string").fillna("") if "why" in rows.columns else ""
        out["why"] = why
    else:  # recorded samples: JS6 watchdog entries are leftovers by family
        out["leftover"] = (source == "watchdog").to_numpy()
        out["why"] = np.where(out["leftover"], "workers:watchdog (JumpScale 6)", "")
    return out.reset_index(drop=True)


def _duration_ticks(axis: Any, limits: tuple[float, float]) -> None:
    """Label a log axis of seconds at round durations (100 ms, 1 s, 1 min, 1 h, 1 d, 1 y...)."""
    lo, hi = limits
    ticks = [(t, text) for t, text in _DURATION_TICKS if lo <= t <= hi]
    if len(ticks) > 7:  # a wide axis: every other tick
        ticks = ticks[::2]
    if len(ticks) >= 2:
        axis.set_ticks([t for t, _ in ticks], [text for _, text in ticks])
        axis.set_minor_locator(plt.NullLocator())


_DURATION_TICKS = ((0.001, "1 ms"), (0.01, "10 ms"), (0.1, "100 ms"), (1.0, "1 s"), (10.0, "10 s"), (60.0, "1 min"), (600.0, "10 min"), (3600.0, "1 h"),
                   (6 * 3600.0, "6 h"), (86_400.0, "1 d"), (7 * 86_400.0, "7 d"), (30 * 86_400.0, "30 d"),
                   (31_557_600.0, "1 y"), (10 * 31_557_600.0, "10 y"))
"""Tick positions (seconds) of a log duration axis: 1 s, 10 s, 1 min, 10 min, 1 h, 6 h, 1 d, 7 d, 30 d, 1 y, 10 y."""


def _leftover_note(rows: pd.DataFrame) -> str:
    """``5 leftovers not drawn: 5 watchdog (12.5 y old)`` from the leftover heartbeat rows."""
    parts = []
    for kind, group in rows.groupby(rows["label"].str.split(" ").str[0], sort=True):
        ages = group["age"].dropna()
        lo, hi = (fmt_seconds(ages.min()), fmt_seconds(ages.max())) if len(ages) else ("", "")
        span = "no time" if not len(ages) else lo if lo == hi else f"{lo} to {hi}"
        parts.append(f"{len(group)} {kind} ({span} old)")
    return f"{len(rows)} leftover(s) not drawn: " + ", ".join(parts)


def plot_heartbeat_age(
    health_frame: pd.DataFrame | Analysed[HealthInfo],
    stale_after: float | pd.Timedelta | None = None,
    ax: Axes | None = None,
    *,
    leftovers: str = "summary",
) -> Axes:
    """Horizontal bars of heartbeat age per worker queue, oldest on top, coloured by status, with
    the stale threshold drawn (gid ``"stale_after"``); the axis reads in s, min, h or d as fits.

    Accepts ``grid_health()`` (heartbeat/watchdog rows), ``heartbeat_ages()`` or recorded
    heartbeats (latest sample each); ages may be seconds or ``Timedelta``. ``stale_after``
    defaults to the threshold of a ``grid_health_with_info()`` result (its
    :class:`~jsadmin.analytics.info.HealthInfo`), else to a plain ``grid_health()`` frame's
    deprecated ``attrs`` mirror (one release; pandas drops ``attrs`` on many operations, so pass
    the :class:`~jsadmin.analytics.info.Analysed` or ``stale_after``), else 120 s. Leftovers (JS6
    ``workers:watchdog`` entries, heartbeats older than ``leftover_after``) would dwarf the
    current workers: ``leftovers="summary"`` (default) leaves them out of the bars and writes
    their count and age under the title (text gid ``"leftovers"``); ``"show"`` draws them too,
    hatched grey below the current ones; ``"hide"`` drops them silently.

    >>> plot_heartbeat_age(admin.grid_health(), stale_after=60)        # doctest: +SKIP
    >>> plot_heartbeat_age(admin.grid_health_with_info(stale_after=60))   # doctest: +SKIP
    """
    if leftovers not in ("summary", "show", "hide"):
        raise ValueError(f"leftovers must be 'summary', 'show' or 'hide', got {leftovers!r}")
    if isinstance(health_frame, Analysed):
        if stale_after is None:
            stale_after = health_frame.info.stale_after
        health_frame = health_frame.frame
    rows = _heartbeat_rows(health_frame)
    if stale_after is None:
        stale_after = mirrored_stale_after(health_frame)
    if stale_after is None:
        stale_after = DEFAULT_STALE_AFTER
    stale_s = pd.Timedelta(stale_after).total_seconds() if isinstance(stale_after, pd.Timedelta) else float(stale_after)
    ages_all = rows["age"].astype("float64")
    if rows["status"].isna().all() or (rows["status"] == "None").all():
        rows["status"] = np.where(ages_all > stale_s, "stale", np.where(ages_all > stale_s / 2, "warn", "ok"))
    left = rows[rows["leftover"]]
    if leftovers != "show":
        rows = rows[~rows["leftover"]]
    # leftovers at the bottom, then current ones oldest on top
    order = np.lexsort((rows["age"].fillna(-1).to_numpy(), ~rows["leftover"].to_numpy()))
    rows = rows.iloc[order].reset_index(drop=True)
    ages = rows["age"].astype("float64")
    positive_s = ages[ages > 0]
    log = spans_decades(pd.concat([positive_s, pd.Series([stale_s])]))
    # a log axis is drawn in seconds with ticks labelled as durations; a linear one in a fitting unit
    unit, per = ("s", 1.0) if log else duration_unit(pd.concat([ages, pd.Series([stale_s])]))
    ax = _axes(ax, figsize=(8.0, max(2.5, 1.0 + 0.35 * len(rows))))
    colors = [_STATUS_COLORS.get(s, "#999999") if not lo else "#bbbbbb"
              for s, lo in zip(rows["status"], rows["leftover"], strict=True)]
    widths = ages.fillna(0).to_numpy() / per
    bars = ax.barh(range(len(rows)), widths, color=colors, edgecolor="#333333", linewidth=0.4)
    for bar, label, lo in zip(bars, rows["label"], rows["leftover"], strict=True):
        bar.set_gid(f"age:{label}")
        if lo:
            bar.set_hatch("//")
    ax.set_yticks(range(len(rows)), [lab + (" (leftover)" if lo else "") for lab, lo in
                                     zip(rows["label"], rows["leftover"], strict=True)], fontsize="small")
    positive = positive_s / per
    if log:
        ax.set_xscale("log")
        ax.set_xlim(left=max(positive.min() / 2, 0.1) if len(positive) else 0.1)
        _duration_ticks(ax.xaxis, ax.get_xlim())
    for i, age in enumerate(ages):
        text = "never" if pd.isna(age) else fmt_seconds(age)
        ax.annotate(text, (age / per if (pd.notna(age) and age > 0) else ax.get_xlim()[0], i),
                    xytext=(3, 0), textcoords="offset points", va="center", fontsize="x-small")
    line = ax.axvline(stale_s / per, color=_STATUS_COLORS["stale"], linestyle="--", linewidth=1.3,
                      label=f"stale after {fmt_seconds(stale_s)}")
    line.set_gid("stale_after")
    warn = ax.axvline(stale_s / 2 / per, color=_STATUS_COLORS["warn"], linestyle=":", linewidth=1.1,
                      label=f"warn after {fmt_seconds(stale_s / 2)}")
    warn.set_gid("warn_after")
    ax.set_xlabel("time since last heartbeat (log scale)" if log else f"{_UNIT_WORD[unit]} since last heartbeat")
    current = int((~rows["leftover"]).sum())
    ax.set_title(f"Heartbeat age ({current} current queues/workers)")
    if leftovers == "summary" and len(left):
        note = ax.text(0.5, 1.0, _leftover_note(left), transform=ax.transAxes, ha="center", va="bottom",
                       fontsize="x-small", color="#57606a")
        note.set_gid("leftovers")
        ax.set_title(ax.get_title(), pad=14)
    ax.grid(True, axis="x", alpha=0.3)
    ax.legend(fontsize="small", loc="lower right", framealpha=0.85)
    return ax
