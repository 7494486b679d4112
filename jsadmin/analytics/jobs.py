"""One row per job: every copy of a job in Redis folded into one row per guid, and one identity per jumpscript.

A JumpScale job leaves copies in up to five families at once (spec §4.1, §7): the command queue
(``command_queues``, SCHEDULED), the in-flight hash ``jobs:<gid>`` (``jobs``), the worker queue
(``worker_queues``, STARTED), the worker copy ``workers:jobs:<id>`` (``worker_jobs``) and the result
``queues:jobqueue:<guid>`` (``job_results``). Counting rows counts copies; :func:`one_row_per_job`
counts jobs.

Which copy tells a job's state is decided by one ranking, :func:`copy_rank`, used by this view,
:func:`~jsadmin.analytics.latency.finished_jobs`, the recorder and :func:`~jsadmin.analytics.history.load_history`:
final states (OK, ERROR, TIMEOUT, NOWORK, or any other string a worker stored) beat in-flight ones
(STARTED beats SCHEDULED); among final copies one with ``timeStop`` beats one without and OK/ERROR
beat TIMEOUT beat NOWORK; among equals the newest timestamp wins, then the most authoritative family.

A jumpscript is named as JumpScale keys it (``workers:jumpscripts:name``, spec §3.3):
``<organization>__<name>``, i.e. ``<category>__<cmd>`` of a job; see :func:`jumpscript_ids`.

>>> jobs = one_row_per_job(admin.load_all())                  # doctest: +SKIP
>>> jobs[["guid", "state", "seen_in", "copies", "jumpscript"]].head()   # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from ..catalog import FAMILIES, job_families
from ..domain import (
    BLANK_CMD,
    HAS_STOP,
    MISSING_CMD,
    NO_ORGANIZATION,
    TOP_RANK,
    copy_rank_of,
    jumpscript_id,
)
from ._common import canonical_state, epoch_seconds, jumpscript_ids
from .info import Analysed, JobsInfo, mirrored

__all__ = [
    "BLANK_CMD",
    "COPY_FAMILIES",
    "MISSING_CMD",
    "NO_ORGANIZATION",
    "TOP_RANK",
    "best_first",
    "copies_of",
    "copy_rank",
    "job_origin",
    "jumpscript_id",
    "jumpscript_ids",
    "newest_time",
    "one_row_per_job",
    "one_row_per_job_with_info",
    "union_copies",
]

COPY_FAMILIES = job_families("authority")
"""Families that hold a copy of a job, most authoritative first (breaks ties between equal copies)."""

LIFECYCLE_ORDER = job_families("stage")
"""The same families in the order a job passes through them (the order of ``seen_in``)."""

_FAMILY_AUTHORITY = {name: FAMILIES[name].job.authority for name in COPY_FAMILIES}  # type: ignore[union-attr]
_FILL_COLUMNS = ("id", "gid", "nid", "role", "category", "cmd", "queue", "timeCreate", "timeStart")
"""Columns a winning copy lacks (e.g. ``nid`` of a role job still in the command queue) are taken
from the next-best copy that has them; ``state`` and ``timeStop`` always come from the winner."""


def copy_rank(state: pd.Series, time_stop: pd.Series | None = None) -> np.ndarray:
    """How far along each copy of a job is (int64 per row): :func:`jsadmin.domain.copy_rank_of`
    over a column, one call per distinct state.

    ``tier * 100 + has timeStop * 10 + state rank``: tier 2 for final states (OK, ERROR, TIMEOUT,
    NOWORK, any other non-blank string a worker stored), 1 for STARTED, 0 for SCHEDULED or no
    state; state rank OK/ERROR 3, TIMEOUT 2, NOWORK 1. :data:`TOP_RANK` is the highest.

    >>> copy_rank(pd.Series(["SCHEDULED", "STARTED", "TIMEOUT", "OK"])).tolist()
    [0, 100, 202, 203]
    """
    if isinstance(state.dtype, pd.CategoricalDtype):
        codes = state.cat.codes.to_numpy()
        values = [str(c) for c in state.cat.categories]
    else:
        codes, uniques = pd.factorize(state.astype("string").to_numpy(dtype=object, na_value=None))
        values = list(uniques)
    ranks = np.array([copy_rank_of(v) for v in values] + [copy_rank_of(None)], dtype="int64")
    rank = ranks[np.where(codes < 0, len(ranks) - 1, codes)]
    if time_stop is not None:
        rank = rank + (~np.isnan(epoch_seconds(time_stop))).astype("int64") * HAS_STOP
    return rank.astype("int64")


def newest_time(df: pd.DataFrame, columns: tuple[str, ...] = ("timeCreate", "timeStart", "timeStop", "captured")) -> np.ndarray:
    """The newest of a copy's timestamps as float epoch seconds (``NaN`` when it has none)."""
    out = np.full(len(df), np.nan)
    for name in columns:
        if name in df.columns:
            out = np.fmax(out, epoch_seconds(df[name]))
    return out


def best_first(df: pd.DataFrame, family: str = "family") -> np.ndarray:
    """Positions of ``df``'s rows, best copy first: :func:`copy_rank`, then newest timestamp, then
    the family's authority (``job_results`` > ``jobs`` > ``worker_jobs`` > ``worker_queues`` > ``command_queues``).

    >>> df = pd.DataFrame({"state": ["SCHEDULED", "OK"], "family": ["command_queues", "job_results"]})
    >>> best_first(df).tolist()
    [1, 0]
    """
    rank = copy_rank(df["state"], df["timeStop"] if "timeStop" in df.columns else None) if "state" in df.columns else np.zeros(len(df), dtype="int64")
    newest = np.nan_to_num(newest_time(df), nan=-np.inf)
    if family in df.columns:
        fam = df[family].astype("string").map(_FAMILY_AUTHORITY).fillna(0).to_numpy(dtype="int64")
    else:
        fam = np.zeros(len(df), dtype="int64")
    return np.lexsort((-fam, -newest, -rank))


def _text(series: pd.Series | None, n: int) -> pd.Series:
    if series is None:
        return pd.Series(pd.NA, index=range(n), dtype="string")
    return series.astype("string")


def job_origin(df: pd.DataFrame) -> pd.Series:
    """``ac`` (scheduled by the agentcontroller), ``local`` (a node-local periodic job or ``execFunction``:
    ``internal`` true or a 40-hex Tiger guid, spec §4.4-4.5) or ``legacy-local`` (JS6 shape)."""
    n = len(df)
    cat = _text(df["category"] if "category" in df.columns else None, n).reset_index(drop=True)
    cmd = _text(df["cmd"] if "cmd" in df.columns else None, n).reset_index(drop=True)
    legacy = ((cat == "jumpscript") & cmd.str.contains("/", regex=False)).fillna(False).to_numpy(dtype=bool)
    local = np.zeros(n, dtype=bool)
    if "internal" in df.columns:
        local |= df["internal"].astype("boolean").fillna(False).to_numpy(dtype=bool)
    if "guid" in df.columns:
        local |= (df["guid"].astype("string").str.len() == 40).fillna(False).to_numpy(dtype=bool)
    out = np.where(legacy, "legacy-local", np.where(local, "local", "ac"))
    return pd.Series(pd.Categorical(out, categories=["ac", "local", "legacy-local"]), index=df.index)


def union_copies(frames: Mapping[str, pd.DataFrame], families: tuple[str, ...] = COPY_FAMILIES) -> pd.DataFrame:
    """Every copy of every job, stacked: the family columns plus ``family`` (the family of the copy,
    kept when the frame already has one, e.g. a recorded history) and ``row`` (its label in that frame).

    >>> union_copies({"jobs": admin.load("jobs")})          # doctest: +SKIP
    """
    if not isinstance(frames, Mapping):
        raise TypeError("expected a dict of family name -> DataFrame (e.g. admin.load_all())")
    parts = []
    for name in families:
        df = frames.get(name)
        if not isinstance(df, pd.DataFrame) or df.empty:
            continue
        part = df.reset_index(drop=True)
        if "family" not in part.columns:
            part.insert(0, "family", name)
        part.insert(1, "row", df.index.to_numpy())
        parts.append(part)
    if not parts:
        return pd.DataFrame({"family": pd.Series([], dtype="string"), "row": pd.Series([], dtype=object),
                             "guid": pd.Series([], dtype="string"),
                             "state": pd.Series(canonical_state(pd.Series([], dtype="string")))})
    out = parts[0] if len(parts) == 1 else pd.concat(parts, ignore_index=True, sort=False)
    out["family"] = out["family"].astype("string")
    if "state" in out.columns:
        out["state"] = canonical_state(out["state"])
    if "guid" not in out.columns:
        out["guid"] = pd.Series(pd.NA, index=out.index, dtype="string")
    return out


def _seen_in(families: pd.Series, key: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Per job key: ``seen_in`` (``command_queues+jobs+worker_queues``, ``×n`` for repeats) and ``copies``."""
    kcode, kuniq = pd.factorize(key.to_numpy())
    fcode, funiq = pd.factorize(families.astype(str).to_numpy())
    counts = np.zeros((len(kuniq), len(funiq)), dtype="int64")
    np.add.at(counts, (kcode, fcode), 1)
    order = [f for f in LIFECYCLE_ORDER if f in set(funiq)] + sorted(set(funiq) - set(LIFECYCLE_ORDER))
    seen = np.full(len(kuniq), "", dtype=object)
    for name in order:
        n = counts[:, list(funiq).index(name)]
        label = np.where(n > 1, np.char.add(f"{name}×", n.astype(str)), name).astype(object)
        part = np.where(n > 0, label, "")
        sep = np.where((seen != "") & (n > 0), "+", "")
        seen = seen + sep + part
    return (pd.Series(seen, index=kuniq, dtype="string"),
            pd.Series(counts.sum(axis=1), index=kuniq, dtype="int64"))


def one_row_per_job_with_info(
    frames: Mapping[str, pd.DataFrame], *, families: tuple[str, ...] = COPY_FAMILIES
) -> Analysed[JobsInfo]:
    """Fold every copy of a job into one row per guid, with where it was seen and its latest
    state, and a :class:`JobsInfo`: ``copies`` (rows read), ``jobs`` (rows out), ``duplicates``
    (copies folded away), ``no_guid`` (copies without a guid).

    ``frames``: family name -> frame (``admin.load_all()``, or a subset); a recorded history
    (``{"jobs": ...}`` with a ``family`` column) works too. Columns, first:

    * ``guid``, ``state`` (the latest state: the best copy by :func:`copy_rank`), ``family`` (the
      family of that copy) and ``row`` (its label in that family's frame);
    * ``seen_in``: the families holding a copy, in lifecycle order, e.g.
      ``command_queues+jobs+worker_queues`` (``worker_jobs×2`` when one family holds two copies);
      ``copies``: how many copies in all;
    * ``jumpscript`` (``<organization>__<name>``, :func:`jumpscript_ids`), ``origin``
      (``ac``/``local``/``legacy-local``, :func:`job_origin`), ``last_seen`` (newest timestamp of any copy);
    * then the winning copy's own columns (``id``, ``gid``, ``nid``, ``cmd``, ``timeCreate``, ``args``, ...).
      Identity and start columns it lacks are filled from the next-best copy (e.g. the ``nid`` a role
      job got at pickup); ``timeStop`` and ``result`` are only ever the winner's.

    Copies without a guid cannot be matched: each stays its own row.

    >>> jobs, info = one_row_per_job_with_info(admin.load_all())       # doctest: +SKIP
    >>> info.copies - info.jobs == info.duplicates                      # doctest: +SKIP
    True
    """
    copies = union_copies(frames, families)
    n = len(copies)
    if n == 0:
        out = copies.assign(seen_in=pd.Series([], dtype="string"), copies=pd.Series([], dtype="int64"),
                            jumpscript=pd.Series([], dtype="string"))
        out.attrs = {}
        return Analysed(out, JobsInfo(copies=0, jobs=0, duplicates=0, no_guid=0))
    order = best_first(copies)
    ranked = copies.iloc[order]
    guid = ranked["guid"].astype("string")
    no_guid = guid.isna() | (guid.str.len() == 0)
    key = guid.where(~no_guid, "\x00row:" + pd.Series(np.arange(n)[order].astype(str), index=ranked.index))
    seen, count = _seen_in(ranked["family"], key)
    first = ~key.duplicated(keep="first").to_numpy()
    winners = ranked.loc[first]
    wkey = key[first]
    fill = [c for c in _FILL_COLUMNS if c in ranked.columns]
    if fill and len(winners) < n and winners[fill].isna().to_numpy().any():
        best = ranked[fill].groupby(key.to_numpy(), sort=False).first()
        aligned = best.loc[wkey.to_numpy()]
        aligned.index = winners.index
        winners = winners.copy()
        for col in fill:
            missing = winners[col].isna().to_numpy()
            if missing.any():
                winners.loc[missing, col] = aligned.loc[missing, col]
    last = pd.Series(newest_time(ranked), index=ranked.index).groupby(key.to_numpy(), sort=False).max()
    out = winners.reset_index(drop=True)
    out.insert(out.columns.get_loc("family") + 1, "seen_in", seen.loc[wkey.to_numpy()].to_numpy())
    out.insert(out.columns.get_loc("seen_in") + 1, "copies", count.loc[wkey.to_numpy()].to_numpy())
    ident = jumpscript_ids(out).to_numpy()
    out = out.drop(columns="jumpscript", errors="ignore")
    out.insert(out.columns.get_loc("copies") + 1, "jumpscript", ident)
    out.insert(out.columns.get_loc("jumpscript") + 1, "origin", job_origin(out))
    out.insert(out.columns.get_loc("origin") + 1, "last_seen",
               pd.to_datetime(last.loc[wkey.to_numpy()].to_numpy(), unit="s", utc=True))
    lead = ["guid", "state", "family", "row", "seen_in", "copies", "jumpscript", "origin", "last_seen"]
    out = out[[*lead, *[c for c in out.columns if c not in lead]]]
    out["seen_in"] = out["seen_in"].astype("string")
    out["jumpscript"] = out["jumpscript"].astype("string")
    if "state" in out.columns:
        out["state"] = canonical_state(out["state"])
    out.attrs = {}
    return Analysed(out, JobsInfo(copies=n, jobs=len(out), duplicates=n - len(out), no_guid=int(no_guid.sum())))


one_row_per_job = mirrored(one_row_per_job_with_info, """The frame of
    :func:`one_row_per_job_with_info` (its :class:`JobsInfo` mirrored in ``attrs``: ``copies``,
    ``jobs``, ``duplicates``, ``no_guid``, for one release).

    >>> jobs = one_row_per_job(admin.load_all())                       # doctest: +SKIP
    >>> jobs.groupby("state", observed=True).size()                     # jobs, not copies   # doctest: +SKIP
    """)


def copies_of(copies: pd.DataFrame, guid: str) -> pd.DataFrame:
    """The copies of one job in a :func:`union_copies` frame, best first (the first is the state's source).

    >>> copies_of(union_copies(admin.load_all()), guid)[["family", "state", "key"]]   # doctest: +SKIP
    """
    hit = copies.loc[(copies["guid"].astype("string") == guid).fillna(False).to_numpy()]
    return hit.iloc[best_first(hit)]
