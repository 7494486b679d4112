"""What changed between two observations of a grid: snapshots, Admins or Fleets.

>>> d = jsadmin.diff(jsadmin.open_snapshot("snaps/09h"), admin)   # doctest: +SKIP
>>> d.summary()            # per family: before, after, added, removed, changed  # doctest: +SKIP
>>> d["jobs"]              # the rows, with change = added / removed / changed   # doctest: +SKIP
>>> d.finished_jobs        # in flight before, gone or final now                 # doctest: +SKIP
>>> d.stopped_workers      # heartbeat did not move                              # doctest: +SKIP
>>> d.leftovers            # legacy / decade-old entries, kept out of the above  # doctest: +SKIP

Rows are matched by a per-family identity: ``guid`` for job-bearing families, ``key`` +
``field`` for hashes, ``key`` for strings, and ``key`` + the row's content for lists and sets
(whose positions shift as they drain); ``source`` is part of the identity when both sides
have it. Columns that move by themselves (``ttl``, ``position``) do not count as changes.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson
import pandas as pd

from .analytics._common import DEFAULT_LEFTOVER_AFTER, as_timedelta, family_leftover, human_duration
from .catalog import FAMILIES, families_of, job_families
from .domain import JobState
from .errors import UnknownFamilyError
from .snapshot import Snapshot, open_snapshot
from .sources import SOURCE, Source

JOB_FAMILIES = job_families()
FINAL_STATES = JobState.FINAL
VOLATILE = frozenset({"ttl", "position"})
_CONTENT = "_content"
HEARTBEATS = tuple((name, FAMILIES[name].field_column or "field") for name in families_of("heartbeat"))
"""Heartbeat families and the column naming who beats."""


# --- normalising inputs ---------------------------------------------------------------------

Observation = Source | str | os.PathLike[str] | Mapping[str, pd.DataFrame]
"""What :func:`diff` compares: any :class:`~jsadmin.sources.Source` (an ``Admin``, a ``Fleet``, a
``Snapshot``), a snapshot's path, or ``{family: frame}``."""


@dataclass
class _Side:
    frames: dict[str, pd.DataFrame]
    at: pd.Timestamp
    label: str


def _side(obj: Observation) -> _Side:
    side = _observe(obj)
    # attrs holding DataFrames (problems) make pandas' concat/merge compare them: drop them
    side.frames = {name: _bare(frame) for name, frame in side.frames.items()}
    return side


def _bare(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy(deep=False)
    out.attrs = {}
    return out


def _observe(obj: Observation) -> _Side:
    if isinstance(obj, (str, os.PathLike)):
        obj = open_snapshot(obj)
    if isinstance(obj, Snapshot):
        return _Side(obj.load_all(), obj.created_at, repr(obj))
    if isinstance(obj, Mapping):
        return _Side(dict(obj), pd.Timestamp.now(tz="UTC"), "frames")
    if isinstance(obj, Source):
        at = pd.Timestamp.now(tz="UTC")
        return _Side(obj.load_all(), at, repr(obj))
    raise TypeError(f"diff() compares snapshots, Admins or Fleets, not {type(obj).__name__}")


def _norm(value: Any) -> Any:
    if isinstance(value, (dict, list, tuple, str, bytes, bool, int)):
        return value
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    if isinstance(value, (pd.Timestamp, dt.datetime)):
        return value.isoformat()
    return value


def _text(value: Any) -> str:
    value = _norm(value)
    try:
        return orjson.dumps(value, default=str, option=orjson.OPT_SORT_KEYS).decode()
    except (TypeError, orjson.JSONEncodeError):  # an int beyond 64 bits, a str with a lone surrogate
        return json.dumps(value, default=str, sort_keys=True)


def _row_texts(df: pd.DataFrame, columns: list[str]) -> list[str]:
    if not columns:
        return [""] * len(df)
    cols = [df[c].tolist() for c in columns]
    return ["\x1f".join(_text(v) for v in row) for row in zip(*cols, strict=True)]


def _identity(name: str, a: pd.DataFrame, b: pd.DataFrame) -> list[str]:
    both = [c for c in a.columns if c in b.columns]
    prefix = [SOURCE] if SOURCE in both else []
    fam = FAMILIES.get(name)
    wanted = fam.entry_identity if fam is not None else None
    if wanted and all(c in both for c in wanted):
        cols = [*prefix, *wanted]
    elif "key" in both and "field" in both:
        cols = [*prefix, "key", "field"]
    elif "key" in both and "member" in both:
        cols = [*prefix, "key", "member"]
    elif "key" in both and "position" not in both:
        cols = [*prefix, "key"]
    else:
        cols = [*prefix, *(["key"] if "key" in both else []), _CONTENT]
    if _CONTENT not in cols and (a.duplicated(cols).any() or b.duplicated(cols).any()):
        cols = [*prefix, *(["key"] if "key" in both else []), _CONTENT]
    return cols


def _keyed(df: pd.DataFrame, ident: list[str], compare: list[str]) -> pd.DataFrame:
    out = df.reset_index(drop=True).copy()
    if _CONTENT in ident:
        out[_CONTENT] = _row_texts(out, compare)
    # duplicates (identical list items, repeated guids) are told apart by their rank
    out["_occurrence"] = out.groupby(ident, dropna=False, observed=True).cumcount()
    out["_id"] = _row_texts(out, [*ident, "_occurrence"])
    return out


# --- per-family diff ------------------------------------------------------------------------


def diff_frames(name: str, a: pd.DataFrame, b: pd.DataFrame) -> pd.DataFrame:
    """Rows of family ``name`` that appeared, disappeared or changed between frames ``a`` and ``b``.

    Columns: ``change`` (added/removed/changed), ``changed`` (column names), ``before`` (old
    values of the changed columns), then the row (the new one, or the old one when removed).

    >>> a = pd.DataFrame({"key": ["x", "y"], "value": [1, 2]})
    >>> b = pd.DataFrame({"key": ["y", "z"], "value": [3, 4]})
    >>> diff_frames("strings", a, b)[["change", "key"]].values.tolist()
    [['added', 'z'], ['removed', 'x'], ['changed', 'y']]
    """
    ident = _identity(name, a, b)
    shared = [c for c in a.columns if c in b.columns]
    compare = [c for c in shared if c not in VOLATILE and c not in ident]
    ka, kb = _keyed(a, ident, compare), _keyed(b, ident, compare)
    ids_a, ids_b = set(ka["_id"]), set(kb["_id"])
    added = kb[~kb["_id"].isin(ids_a)]
    removed = ka[~ka["_id"].isin(ids_b)]
    common_b = kb[kb["_id"].isin(ids_a)].set_index("_id")
    common_a = ka[ka["_id"].isin(ids_b)].set_index("_id").reindex(common_b.index)
    changed_cols: list[list[str]] = []
    before: list[dict[str, Any]] = []
    keep: list[bool] = []
    if len(common_b) and compare and _CONTENT not in ident:
        ta = {c: [_text(v) for v in common_a[c].tolist()] for c in compare}
        tb = {c: [_text(v) for v in common_b[c].tolist()] for c in compare}
        olds = {c: common_a[c].tolist() for c in compare}
        for i in range(len(common_b)):
            cols = [c for c in compare if ta[c][i] != tb[c][i]]
            keep.append(bool(cols))
            if cols:
                changed_cols.append(cols)
                before.append({c: _norm(olds[c][i]) for c in cols})
    changed = common_b[keep] if keep else common_b.iloc[:0]
    changed = changed.reset_index(drop=True)
    parts = []
    row_cols: list[list[str]] | None  # per row: the columns that changed
    old: list[dict[str, Any]] | None
    for label, frame, row_cols, old in (
        ("added", added, None, None),
        ("removed", removed, None, None),
        ("changed", changed, changed_cols, before),
    ):
        part = frame.drop(columns=[c for c in ("_id", "_occurrence", _CONTENT) if c in frame.columns])
        part = part.reset_index(drop=True)
        part.attrs = {}
        part.insert(0, "change", label)
        part.insert(1, "changed", pd.Series(row_cols if row_cols is not None else [[]] * len(part), dtype=object))
        part.insert(2, "before", pd.Series(old if old is not None else [None] * len(part), dtype=object))
        parts.append(part)
    nonempty = [p for p in parts if len(p)] or parts[:1]
    out = pd.concat(nonempty, ignore_index=True, sort=False)
    out["change"] = pd.Categorical(out["change"], categories=["added", "removed", "changed"])
    out.attrs = {}
    return out


def diff_identity(name: str, a: pd.DataFrame, b: pd.DataFrame) -> list[str]:
    """The columns :func:`diff_frames` matches rows of family ``name`` by (``[]``: whole content).

    >>> diff_identity("strings", pd.DataFrame({"key": ["x"]}), pd.DataFrame({"key": ["y"]}))
    ['key']
    """
    return [c for c in _identity(name, a, b) if c != _CONTENT]


# --- headline sections ----------------------------------------------------------------------


def _jobs_view(frames: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """One row per job guid seen in any job-bearing family (final state wins over in-flight)."""
    cols = ["guid", "state", "gid", "nid", "category", "cmd", "queue", "timeCreate", "timeStart", "timeout"]
    parts = []
    for fam in JOB_FAMILIES:
        df = frames.get(fam)
        if df is None or "guid" not in df.columns or not len(df):
            continue
        part = pd.DataFrame({c: (df[c].astype(object) if c in df.columns else None) for c in cols})
        part["family"] = fam
        parts.append(part)
    if not parts:
        return pd.DataFrame(columns=[*cols, "families", "final"]).set_index("guid")
    jobs = pd.concat(parts, ignore_index=True)
    jobs = jobs[jobs["guid"].notna()]
    jobs["state"] = jobs["state"].astype(object).where(jobs["state"].notna(), None)
    jobs["final"] = jobs["state"].isin(FINAL_STATES)
    families = jobs.groupby("guid")["family"].agg(lambda s: sorted(set(s)))
    # final copies sort last; last() takes each column's last non-null value per guid
    jobs = jobs.sort_values("final", kind="stable").drop(columns=["family"])
    jobs = jobs.groupby("guid", sort=False).last()
    jobs["final"] = jobs["state"].isin(FINAL_STATES)
    jobs["families"] = families
    return jobs


def _queue_lengths(frames: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    parts = []
    for fam, df in frames.items():
        if "position" not in df.columns or "key" not in df.columns:
            continue
        keys = [c for c in (SOURCE, "key") if c in df.columns]
        counts = df.groupby(keys, observed=True, dropna=False).size().rename("length").reset_index()
        counts.insert(0, "family", fam)
        parts.append(counts)
    if not parts:
        return pd.DataFrame(columns=["family", "key", "length"])
    out = pd.concat(parts, ignore_index=True)
    for col in ("key", SOURCE):
        if col in out.columns:
            out[col] = out[col].astype(object)
    return out


@dataclass
class Diff:
    """Differences between two observations; build it with :func:`diff`.

    ``Diff[family]`` is that family's rows (``change`` first); :meth:`summary` counts them;
    the headline sections are :attr:`new_jobs`, :attr:`finished_jobs`, :attr:`stuck_jobs`,
    :attr:`grown_queues` and :attr:`stopped_workers`.
    """

    families: dict[str, pd.DataFrame]
    counts: pd.DataFrame
    new_jobs: pd.DataFrame
    finished_jobs: pd.DataFrame
    stuck_jobs: pd.DataFrame
    grown_queues: pd.DataFrame
    stopped_workers: pd.DataFrame
    before_at: pd.Timestamp
    after_at: pd.Timestamp
    labels: tuple[str, str] = field(default=("before", "after"))
    leftovers: pd.DataFrame = field(default_factory=pd.DataFrame)
    """Jobs still in flight and heartbeats that did not move, but that are leftovers (a legacy
    family such as ``workers:watchdog``, or older than ``leftover_after``): ``kind``, ``what``,
    ``family``, ``age``, ``why``. Kept out of :attr:`stuck_jobs` and :attr:`stopped_workers`."""
    identity: dict[str, list[str]] = field(default_factory=dict)
    """Per family, the columns its rows were matched by (``guid``, ``key`` + ``field``, ...; ``[]``
    when rows are matched by their whole content)."""

    def __getitem__(self, family: str) -> pd.DataFrame:
        if family not in self.families:
            raise UnknownFamilyError(f"no family {family!r} in this diff; families: {', '.join(self.families)}")
        return self.families[family]

    def __iter__(self) -> Iterator[str]:
        return iter(self.families)

    def summary(self, *, all_families: bool = True) -> pd.DataFrame:
        """Per family: ``before``, ``after`` (row counts), ``added``, ``removed``, ``changed``.

        >>> d.summary(all_families=False)   # only families that changed   # doctest: +SKIP
        """
        if all_families:
            return self.counts.copy()
        moved = self.counts[["added", "removed", "changed"]].sum(axis=1) > 0
        return self.counts[moved].reset_index(drop=True)

    def headlines(self) -> pd.DataFrame:
        """Counts of the headline sections, one row each."""
        names = ["new_jobs", "finished_jobs", "stuck_jobs", "grown_queues", "stopped_workers", "leftovers"]
        return pd.DataFrame({"section": names, "count": [len(getattr(self, n)) for n in names]})

    def __repr__(self) -> str:
        moved = self.summary(all_families=False)
        heads = ", ".join(f"{r.section}={r.count}" for r in self.headlines().itertuples())
        return (
            f"<Diff {self.before_at:%Y-%m-%d %H:%M:%S} -> {self.after_at:%Y-%m-%d %H:%M:%S} UTC: "
            f"{len(moved)} families changed; {heads}>"
        )

    def _repr_html_(self) -> str:
        span = (self.after_at - self.before_at).total_seconds()
        parts = [
            "<div class='jsadmin-diff'>",
            f"<h4>jsadmin diff: {html.escape(f'{self.before_at:%Y-%m-%d %H:%M:%S}')} &rarr; "
            f"{html.escape(f'{self.after_at:%Y-%m-%d %H:%M:%S}')} UTC ({span:.0f} s)</h4>",
            self.headlines().to_html(index=False, border=0),
        ]
        for name in ("finished_jobs", "stuck_jobs", "grown_queues", "stopped_workers", "leftovers"):
            frame = getattr(self, name)
            if len(frame):
                parts.append(f"<h5>{html.escape(name.replace('_', ' '))}</h5>")
                parts.append(frame.head(20).to_html(border=0))
        moved = self.summary(all_families=False)
        parts.append("<h5>families that changed</h5>")
        parts.append(moved.to_html(index=False, border=0) if len(moved) else "<p>none</p>")
        parts.append("</div>")
        return "\n".join(parts)


def diff(
    a: Observation, b: Observation, *, heartbeat_grace: float = 15.0, leftover_after: Any = DEFAULT_LEFTOVER_AFTER
) -> Diff:
    """Compare two observations (snapshots, snapshot paths, Admins or Fleets): ``a`` before ``b``.

    ``heartbeat_grace``: a worker whose heartbeat did not move only counts as stopped when its
    last heartbeat is older than this many seconds at the time of ``b`` (idle workers beat
    about every 10 s). A job is *stuck* only when it is in flight (SCHEDULED/STARTED) in both
    observations and already past its own ``timeout`` (600 s when unset) at the first one.
    Jobs and heartbeats older than ``leftover_after`` (seconds or a ``Timedelta``, default 7
    days) and heartbeats of legacy families (``workers:watchdog``) are leftovers: they go to
    :attr:`Diff.leftovers`, never to ``stuck_jobs``/``stopped_workers``.

    >>> d = jsadmin.diff("snaps/before", admin)   # doctest: +SKIP
    >>> d.summary()                               # doctest: +SKIP
    """
    sa, sb = _side(a), _side(b)
    names = list(sa.frames) + [n for n in sb.frames if n not in sa.frames]
    families: dict[str, pd.DataFrame] = {}
    identity: dict[str, list[str]] = {}
    rows = []
    for name in names:
        fa, fb = sa.frames.get(name), sb.frames.get(name)
        if fa is None:
            fa = fb.iloc[:0] if fb is not None else pd.DataFrame()
        if fb is None:
            fb = fa.iloc[:0]
        if SOURCE in fa.columns and SOURCE not in fb.columns:
            fa = fa.drop(columns=[SOURCE])
        if SOURCE in fb.columns and SOURCE not in fa.columns:
            fb = fb.drop(columns=[SOURCE])
        d = diff_frames(name, fa, fb)
        families[name] = d
        identity[name] = diff_identity(name, fa, fb)
        vc = d["change"].value_counts()
        rows.append(
            {
                "family": name,
                "before": len(fa),
                "after": len(fb),
                "added": int(vc.get("added", 0)),
                "removed": int(vc.get("removed", 0)),
                "changed": int(vc.get("changed", 0)),
            }
        )
    counts = pd.DataFrame(rows, columns=["family", "before", "after", "added", "removed", "changed"])
    ja, jb = _jobs_view(sa.frames), _jobs_view(sb.frames)
    new_jobs = jb[~jb.index.isin(ja.index)].drop(columns=["final"]).reset_index()
    inflight_a = ja[ja["state"].isin(JobState.IN_FLIGHT)]
    after_state = jb["state"].reindex(inflight_a.index)
    gone_or_final = after_state.isna() | after_state.isin(FINAL_STATES)
    finished = pd.DataFrame(
        {
            "state_before": inflight_a["state"],
            "state_after": after_state,
            "outcome": after_state.where(after_state.notna(), "gone"),
            "cmd": inflight_a["cmd"],
            "category": inflight_a["category"],
        }
    )[gone_or_final].reset_index()
    old = as_timedelta(leftover_after, "leftover_after")
    both_idx = inflight_a.index[after_state.isin(JobState.IN_FLIGHT).to_numpy()]
    # each observation judges the job by its own copy: past its timeout at a AND at b
    age_a, timeout_a = _age_and_timeout(ja.loc[both_idx], sa.at)
    age_b, timeout = _age_and_timeout(jb.loc[both_idx], sb.at)
    late = ((age_a > timeout_a) & (age_b > timeout)).fillna(False).to_numpy(dtype=bool)
    leftover = (age_b > old).fillna(False).to_numpy(dtype=bool)
    stuck_idx = both_idx[late & ~leftover]
    stuck = pd.DataFrame(
        {
            "state_before": ja.loc[stuck_idx, "state"],
            "state_after": jb.loc[stuck_idx, "state"],
            "cmd": jb.loc[stuck_idx, "cmd"],
            "category": jb.loc[stuck_idx, "category"],
            "timeCreate": jb.loc[stuck_idx, "timeCreate"],
            "age": age_b[late & ~leftover].astype("timedelta64[ns]").dt.round("s"),
            "timeout": timeout[late & ~leftover],
            "families": jb.loc[stuck_idx, "families"],
        },
        index=stuck_idx,
    ).rename_axis("guid").reset_index()
    old_jobs = pd.DataFrame(
        {
            "kind": "job",
            "what": both_idx[leftover].astype(str),
            "family": [", ".join(f) for f in jb.loc[both_idx[leftover], "families"]],
            "age": age_b[leftover].astype("timedelta64[ns]").to_numpy(),
            "why": f"in flight, untouched for more than {human_duration(old)} (leftover_after)",
        }
    )
    stopped, old_workers = _stopped(sa, sb, heartbeat_grace, old)
    leftovers = pd.concat([p for p in (old_jobs, old_workers) if len(p)] or [old_jobs], ignore_index=True)
    leftovers["age"] = pd.to_timedelta(leftovers["age"]).dt.round("s")
    return Diff(
        families=families,
        counts=counts,
        new_jobs=new_jobs,
        finished_jobs=finished,
        stuck_jobs=stuck,
        grown_queues=_grown(sa.frames, sb.frames),
        stopped_workers=stopped,
        before_at=sa.at,
        after_at=sb.at,
        labels=(sa.label, sb.label),
        leftovers=leftovers,
        identity=identity,
    )


DEFAULT_JOB_TIMEOUT = 600.0


def _age_and_timeout(jobs: pd.DataFrame, at: pd.Timestamp) -> tuple[pd.Series, pd.Series]:
    """Age at ``at`` (from ``timeCreate``, legacy ``timeStart``) and ``timeout`` (600 s when unset)."""
    created = pd.to_datetime(jobs["timeCreate"], utc=True, errors="coerce")
    created = created.fillna(pd.to_datetime(jobs["timeStart"], utc=True, errors="coerce"))
    timeout = pd.to_numeric(jobs["timeout"], errors="coerce").astype("float64")
    timeout = timeout.where(timeout > 0, DEFAULT_JOB_TIMEOUT).fillna(DEFAULT_JOB_TIMEOUT)
    return at - created, pd.to_timedelta(timeout, unit="s")


def _grown(a: Mapping[str, pd.DataFrame], b: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    la, lb = _queue_lengths(a), _queue_lengths(b)
    keys = [c for c in ("family", SOURCE, "key") if c in la.columns and c in lb.columns]
    merged = la.merge(lb, on=keys, how="outer", suffixes=("_before", "_after"))
    if SOURCE in merged.columns and SOURCE not in keys:
        merged = merged.drop(columns=[SOURCE])
    merged = merged[[*keys, "length_before", "length_after"]] if len(merged) else merged
    cols = [*keys, "before", "after", "growth"]
    if not len(merged):
        return pd.DataFrame(columns=cols)
    merged["before"] = merged["length_before"].fillna(0).astype(int)
    merged["after"] = merged["length_after"].fillna(0).astype(int)
    merged["growth"] = merged["after"] - merged["before"]
    out = merged[merged["growth"] > 0][cols]
    return out.sort_values("growth", ascending=False, kind="stable").reset_index(drop=True)


def _stopped(a: _Side, b: _Side, grace: float, leftover_after: pd.Timedelta) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Heartbeats that did not move: ``(stopped workers, leftovers)``."""
    parts, left = [], []
    for fam, who in HEARTBEATS:
        fa, fb = a.frames.get(fam), b.frames.get(fam)
        if fa is None or who not in fa.columns or "heartbeat" not in fa.columns or not len(fa):
            continue
        keys = [c for c in (SOURCE, who) if fb is not None and c in fa.columns and c in fb.columns] or [who]
        left_df = fa[[*keys, "heartbeat"]].copy()
        right = (
            fb[[*keys, "heartbeat"]].copy()
            if fb is not None and who in fb.columns and "heartbeat" in fb.columns
            else left_df.iloc[:0]
        )
        for df in (left_df, right):
            for k in keys:
                df[k] = df[k].astype(object)
        m = left_df.merge(right, on=keys, how="left", suffixes=("_before", "_after"))
        m = m.rename(columns={who: "worker"})
        m.insert(0, "family", fam)
        hb_after = m["heartbeat_after"]
        not_moved = hb_after.isna() | (hb_after <= m["heartbeat_before"]).fillna(True)
        age = b.at - hb_after.fillna(m["heartbeat_before"])
        m["age_after"] = age.dt.round("s")
        moved_not = m[not_moved & (age.dt.total_seconds().fillna(float("inf")) > grace)]
        fam_why = family_leftover(fam)
        old = (moved_not["age_after"] > leftover_after).fillna(False)
        is_left = old | bool(fam_why)
        parts.append(moved_not[~is_left])
        if is_left.any():
            sub = moved_not[is_left]
            why = fam_why or f"heartbeat older than {human_duration(leftover_after)} (leftover_after)"
            left.append(pd.DataFrame({"kind": "worker", "what": sub["worker"].astype(str), "family": fam,
                                      "age": sub["age_after"].to_numpy(), "why": why}))
    cols = ["family", "worker", "heartbeat_before", "heartbeat_after", "age_after"]
    lcols = ["kind", "what", "family", "age", "why"]
    stopped = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=cols)
    leftovers = pd.concat(left, ignore_index=True) if left else pd.DataFrame(columns=lcols)
    return stopped, leftovers


__all__ = ["Diff", "diff", "diff_frames"]
