"""Parquet snapshots of an Admin or a Fleet, and offline reading of them (no Redis needed).

Layout (one Hive-partitioned dataset per family)::

    <path>/manifest.json
    <path>/<family>/source=<name>/part-0.parquet      # every family, even empty ones
    <path>/_families/source=<name>/part-0.parquet     # Admin.families() of each source
    <path>/_problems/source=<name>/part-0.parquet     # undecodable values of each source

The ``source`` column lives in the directory names, not in the files (a family's own
``source`` column, if a registered family has one, is stored as ``source_code``). Columns holding dicts or
lists (``args``, ``result``, ``roles``, ...) are stored as JSON text and listed in the manifest,
which also records every dtype so :func:`open_snapshot` restores categoricals, nullable
integers and UTC datetimes exactly. Snapshots taken by earlier versions read back under today's
column names (:data:`jsadmin.catalog.RENAMED_COLUMNS`).

>>> admin.snapshot("snaps/before")                     # doctest: +SKIP
>>> snap = open_snapshot("snaps/before")               # doctest: +SKIP
>>> snap.load("jobs", gid=1)                           # doctest: +SKIP

Reading a family without jsadmin (JSON columns then stay text)::

    pandas.read_parquet("snaps/before/jobs")                        # source becomes a column
    pyarrow.dataset.dataset("snaps/before/jobs", partitioning="hive").to_table()
    dask.dataframe.read_parquet("snaps/before/jobs")                # the optional jsadmin[dask] extra
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pandas as pd

from ._version import __version__
from .backends import LoadsFamilies
from .catalog import FAMILIES, RENAMED_COLUMNS, check_filters
from .catalog import family as catalog_family
from .domain import jumpscript_ids, registered_ids
from .errors import JsAdminError, UnknownFamilyError
from .limits import Capped
from .loadinfo import Loaded, LoadInfo, ProblemFrame, problems_frame
from .parquet import ParquetSink, json_default, merge_schema, read_frame, write_frame
from .reader import BATCH_ROWS, select_rows, stream_family
from .sources import SOURCE, SOURCE_CODE, MultiSource, merge_loaded, merge_sources, source_name

FORMAT = "jsadmin-snapshot/1"
MANIFEST = "manifest.json"
PART = "part-0.parquet"
FAMILIES_DIR = "_families"
PROBLEMS_DIR = "_problems"

_SAFE_SOURCE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:@-]*$")


_RENAME = {SOURCE: SOURCE_CODE}
"""The partition column is ``source``: a family's own ``source`` (jumpscript code) moves aside."""


class SnapshotError(JsAdminError, ValueError):
    """A path that is not a jsadmin snapshot, or one that would be overwritten."""


# --- writing --------------------------------------------------------------------------------


def _check_source(name: str) -> str:
    if not _SAFE_SOURCE.match(name):
        raise SnapshotError(f"source name {name!r} cannot name a directory; use letters, digits, _ . : @ -")
    return name


@dataclass
class StagedSource:
    """One source written to its staging directory: per-family schema entries and row counts.

    It pickles (paths and small frames), so a fleet's worker process can stage its sources and
    send this back (:meth:`jsadmin.fleets.Fleet.stage_snapshot`).
    """

    directory: Path
    schemas: dict[str, dict[str, Any]] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)
    truncated: dict[str, dict[str, Any]] = field(default_factory=dict)
    families: pd.DataFrame | None = None
    problems_by_family: dict[str, pd.DataFrame | None] = field(default_factory=dict)
    """What each family's read found (``None``: nothing), as ``Admin.problems()`` keeps it."""

    @property
    def problems(self) -> pd.DataFrame | None:
        """Every family's problems in one frame (``None`` when there are none): the ``_problems`` dataset."""
        found = [_plain(p) for p in self.problems_by_family.values() if p is not None]
        return pd.concat(found, ignore_index=True) if found else None


def stage_source(admin: Any, parent: Path, limit: int | None, batch_rows: int) -> StagedSource:
    """Stream every family of one Admin to ``<staging>/<family>/part-0.parquet``, batch by batch.

    ``parent`` is the snapshot's temporary directory; :func:`snapshot` moves the staged files into
    their ``source=`` partitions.

    >>> stage_source(jsadmin.connect("redis://10.0.0.5"), Path("snaps/.tmp"), None, 50_000)   # doctest: +SKIP
    """
    staged = StagedSource(Path(tempfile.mkdtemp(prefix=".stage.", dir=parent)))
    raw, keyspace = getattr(admin, "_raw", None), getattr(admin, "_keyspace", None)
    if raw is None or keyspace is None:  # not a live Admin: its whole frames, written the same way
        for fam_name, (frame, info) in admin.load_all_with_info().items():
            sink = ParquetSink(staged.directory / fam_name / PART, rename=_RENAME)
            sink.write(frame)
            staged.schemas[fam_name], staged.rows[fam_name] = sink.close(), sink.rows
            staged.truncated[fam_name] = info.truncated
            staged.problems_by_family[fam_name] = info.problems if len(info.problems) else None
    else:
        found = keyspace()
        for fam in FAMILIES.values():
            typed = found.get(fam.name, {})
            sink = ParquetSink(staged.directory / fam.name / PART, fam.categories, rename=_RENAME)
            out = stream_family(raw, fam, sink.write, keys=list(typed), types=typed, limit=limit, batch_rows=batch_rows)
            staged.schemas[fam.name], staged.rows[fam.name] = sink.close(), sink.rows
            staged.truncated[fam.name] = {c.key: c.as_dict() for c in out.capped}
            frame = problems_frame(out.problems)
            if hasattr(admin, "_problems"):
                admin._problems[fam.name] = frame  # Admin.problems() reports what the snapshot saw
            staged.problems_by_family[fam.name] = frame if len(frame) else None
    staged.families = admin.families()
    return staged


def snapshot(
    source: Any,
    path: str | os.PathLike[str],
    *,
    name: str | None = None,
    overwrite: bool = False,
    limit: int | None = None,
    batch_rows: int = BATCH_ROWS,
) -> Path:
    """Write every family of an Admin or a Fleet to Parquet under ``path``; return the path.

    ``name`` names the single source of an Admin (default: ``host:port`` of its URL, ``unix``
    for a socket). ``path`` must not exist yet, unless ``overwrite=True`` and it holds a jsadmin
    snapshot and nothing else (see :func:`snapshot_contents`): then exactly that snapshot's files
    are replaced, and any other directory is refused untouched. The snapshot is written to a
    temporary sibling and renamed, so a crash leaves no half snapshot behind.

    Each family is streamed: read ``batch_rows`` rows at a time and appended to its Parquet file
    (one row group per batch), so a 2,000,000-entry ``queues:logs`` never sits in memory whole.
    ``limit`` (entries per key, newest first) defaults to ``None``: a snapshot holds every entry;
    a capped key is listed under ``truncated`` in the manifest and noted when the family is loaded.

    >>> snapshot(jsadmin.connect("redis://10.0.0.5"), "snaps/node5")   # doctest: +SKIP
    PosixPath('snaps/node5')
    """
    target = Path(path)
    if target.exists() or target.is_symlink():
        if not overwrite:
            raise SnapshotError(f"{target} already exists; choose a new path or pass overwrite=True")
        snapshot_contents(target)  # refuses anything but a jsadmin snapshot, before reading Redis
    if isinstance(source, Snapshot):
        raise SnapshotError("this is already a snapshot; copy its directory instead")
    is_admin = hasattr(source, "load_all") and hasattr(source, "families") and hasattr(source, "url")
    if not isinstance(source, MultiSource) and not is_admin:
        raise TypeError(f"snapshot() needs an Admin or a Fleet, not {type(source).__name__}")
    sources = dict(source.sources) if isinstance(source, MultiSource) else {name or source_name(source.url): source.url}
    for src in sources:
        _check_source(src)
    created = dt.datetime.now(dt.timezone.utc)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        status: list[dict[str, Any]] | None = None
        if isinstance(source, MultiSource):
            kind = "fleet"
            per_source = source.stage_snapshot(tmp, limit=limit, batch_rows=batch_rows)
            status = json.loads(source.status().to_json(orient="records"))
        else:
            kind = "admin"
            per_source = {next(iter(sources)): stage_source(source, tmp, limit, batch_rows)}
        schemas: dict[str, dict[str, Any]] = {}
        rows: dict[str, dict[str, int]] = {}
        truncated: dict[str, dict[str, dict[str, Any]]] = {}
        for src, staged in per_source.items():
            for fam, schema in staged.schemas.items():
                dest = tmp / fam / f"{SOURCE}={src}"
                dest.mkdir(parents=True, exist_ok=True)
                (staged.directory / fam / PART).rename(dest / PART)
                schemas[fam] = merge_schema(schemas.get(fam), schema)
                rows.setdefault(fam, {})[src] = staged.rows[fam]
                if staged.truncated.get(fam):
                    truncated.setdefault(fam, {})[src] = staged.truncated[fam]
            assert staged.families is not None
            write_frame(staged.families, tmp / FAMILIES_DIR / f"{SOURCE}={src}" / PART, rename=_RENAME)
            found = staged.problems
            if found is not None:
                schemas[PROBLEMS_DIR] = merge_schema(
                    schemas.get(PROBLEMS_DIR),
                    write_frame(found, tmp / PROBLEMS_DIR / f"{SOURCE}={src}" / PART, rename=_RENAME),
                )
        for leftover in tmp.glob(".stage.*"):  # sources that failed part-way, and emptied stages
            shutil.rmtree(leftover)
        family_order = [f for f in FAMILIES if f in schemas] + [
            f for f in schemas if f not in FAMILIES and f != PROBLEMS_DIR
        ]
        manifest = {
            "format": FORMAT,
            "kind": kind,
            "created_at": created.isoformat(),
            "jsadmin_version": __version__,
            "sources": [{"name": s, "url": u} for s, u in sources.items()],
            "answered": list(per_source),
            "status": status,
            "limit": limit,
            "families": {
                fam: {"rows": rows.get(fam, {}), **schemas[fam], **({"truncated": truncated[fam]} if fam in truncated else {})}
                for fam in family_order
            },
            "problems": schemas.get(PROBLEMS_DIR),
        }
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2, default=json_default), encoding="utf-8")
        if target.exists() or target.is_symlink():
            _replace(target, tmp)
        else:
            tmp.rename(target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target


_PART_FILE = re.compile(r"^part-\d+\.parquet$")


def snapshot_contents(path: str | os.PathLike[str]) -> list[Path]:
    """Every file and directory of the jsadmin snapshot at ``path``, deepest first.

    Raises :class:`SnapshotError` (and touches nothing) unless ``path`` is a real directory
    holding a jsadmin manifest and nothing but what that manifest lists: the family datasets
    (``<family>/source=<name>/part-<n>.parquet``), ``_families/`` and ``_problems/``. Symlinks
    are never followed. ``snapshot(..., overwrite=True)`` deletes exactly these paths.

    >>> snapshot_contents("snaps/before")[-1]   # doctest: +SKIP
    PosixPath('snaps/before')
    """
    root = Path(path)
    refuse = f"refusing to overwrite {root}"
    if root.is_symlink() or not root.is_dir():
        raise SnapshotError(f"{root} is not a directory holding a jsadmin snapshot; {refuse}")
    manifest_file = root / MANIFEST
    if manifest_file.is_symlink() or not manifest_file.is_file():
        raise SnapshotError(f"{root} exists and is not a jsadmin snapshot (no {MANIFEST}); {refuse}")
    try:
        manifest = json.loads(manifest_file.read_text(encoding="utf-8"))
    except (ValueError, OSError) as exc:
        raise SnapshotError(f"{manifest_file} is not a jsadmin snapshot manifest ({exc}); {refuse}") from None
    families = manifest.get("families") if isinstance(manifest, dict) else None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT or not isinstance(families, dict):
        raise SnapshotError(
            f"{manifest_file} is not a jsadmin snapshot manifest (no \"format\": {FORMAT!r}); {refuse}"
        )
    datasets = {str(f) for f in families} | {FAMILIES_DIR, PROBLEMS_DIR}
    found: list[Path] = []
    foreign: list[str] = []
    for entry in sorted(root.iterdir()):
        if entry.name == MANIFEST:
            continue
        if entry.name not in datasets or entry.is_symlink() or not entry.is_dir():
            foreign.append(entry.name)
            continue
        for part_dir in sorted(entry.iterdir()):
            if part_dir.is_symlink() or not part_dir.is_dir() or not part_dir.name.startswith(f"{SOURCE}="):
                foreign.append(f"{entry.name}/{part_dir.name}")
                continue
            for file in sorted(part_dir.iterdir()):
                if file.is_symlink() or not file.is_file() or not _PART_FILE.match(file.name):
                    foreign.append(f"{entry.name}/{part_dir.name}/{file.name}")
                else:
                    found.append(file)
            found.append(part_dir)
        found.append(entry)
    if foreign:
        shown = ", ".join(foreign[:5]) + (f" and {len(foreign) - 5} more" if len(foreign) > 5 else "")
        raise SnapshotError(
            f"{root} holds files that are not part of its jsadmin snapshot ({shown}); {refuse}: "
            "move them away or choose another path"
        )
    return [*found, manifest_file, root]


def _replace(target: Path, new: Path) -> None:
    """Swap the finished snapshot ``new`` in for the snapshot at ``target``, deleting only its files."""
    contents = snapshot_contents(target)  # again: a file may have appeared while Redis was read
    old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old.", dir=target.parent))
    old.rmdir()
    target.rename(old)
    new.rename(target)
    try:
        for item in contents:
            moved = old if item == target else old / item.relative_to(target)
            if moved.is_dir() and not moved.is_symlink():
                moved.rmdir()  # empty by now, unless a file appeared after the check: then it stays
            else:
                moved.unlink()
    except OSError as exc:
        raise SnapshotError(
            f"the new snapshot is at {target}, but the old one was moved to {old} and not deleted: "
            f"something was added to it while the snapshot was taken ({exc})"
        ) from None


def _plain(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy(deep=False)
    out.attrs = {}
    return out


class SnapshotMixin:
    """Adds :meth:`snapshot` to ``Admin`` (the lead's class inherits this mixin)."""

    def snapshot(self, path: str | os.PathLike[str], **options: Any) -> Path:
        """Write every family to Parquet under ``path`` (see :func:`jsadmin.snapshot.snapshot`).

        >>> admin.snapshot("snaps/before")   # doctest: +SKIP
        """
        return snapshot(self, path, **options)


# --- reading --------------------------------------------------------------------------------


class Snapshot(LoadsFamilies):
    """A snapshot on disk with the read API of ``Admin``/``Fleet``: families, load, load_all, problems.

    Frames of a Fleet snapshot start with a ``source`` column; frames of an Admin snapshot do
    not (exactly like the live objects).

    >>> snap = open_snapshot("snaps/before")   # doctest: +SKIP
    >>> snap.load("worker_heartbeat")          # doctest: +SKIP
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        manifest_file = self.path / MANIFEST
        if not manifest_file.is_file():
            raise SnapshotError(f"{self.path} is not a jsadmin snapshot (no {MANIFEST})")
        try:
            self.manifest: dict[str, Any] = json.loads(manifest_file.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise SnapshotError(f"{manifest_file} is not valid JSON: {exc}") from None
        if self.manifest.get("format") != FORMAT:
            raise SnapshotError(
                f"{self.path}: unsupported snapshot format {self.manifest.get('format')!r} (expected {FORMAT})"
            )
        self.kind: str = self.manifest["kind"]
        self.sources: dict[str, str] = {s["name"]: s["url"] for s in self.manifest["sources"]}
        self.answered: list[str] = list(self.manifest.get("answered", self.sources))
        self.created_at = pd.Timestamp(self.manifest["created_at"])
        self.url = f"snapshot:{self.path}"

    def __repr__(self) -> str:
        return (
            f"<Snapshot {self.path} {self.kind} of {len(self.sources)} source(s), "
            f"{len(self.manifest['families'])} families, {self.created_at:%Y-%m-%d %H:%M:%S} UTC>"
        )

    @property
    def family_names(self) -> list[str]:
        """Families stored in this snapshot, in catalog order."""
        return list(self.manifest["families"])

    def _read(self, directory: str, schema: Mapping[str, Any]) -> dict[str, pd.DataFrame]:
        out: dict[str, pd.DataFrame] = {}
        for src in self.answered:
            file = self.path / directory / f"{SOURCE}={src}" / PART
            if file.is_file():
                out[src] = read_frame(file, schema)
        return out

    def _finish(self, loaded: dict[str, Loaded], family: str, renamed: Mapping[str, str] | None = None) -> Loaded:
        """Merge per-source loads; an Admin snapshot's frame and problems lose the ``source`` column."""
        merged = merge_loaded(loaded, family=family, sources=self.sources)
        if self.kind != "admin":
            return merged
        frame = merged.frame.drop(columns=[SOURCE]).rename(columns=dict(renamed or {}))
        info = replace(
            merged.info,
            problems=ProblemFrame(merged.info.problems.drop(columns=[SOURCE])),
            capped=tuple(c._replace(source=None) for c in merged.info.capped),
        )
        return Loaded(frame, info)

    def _problems_by_source(self) -> dict[str, pd.DataFrame]:
        schema = self.manifest.get("problems")
        return self._read(PROBLEMS_DIR, schema) if schema else {}

    def families(self) -> pd.DataFrame:
        """``families()`` of each source as recorded when the snapshot was taken."""
        schema: dict[str, Any] = {"columns": [], "dtypes": {}, "json_columns": []}
        return self._merged(self._read(FAMILIES_DIR, schema))

    def _merged(self, per_source: dict[str, pd.DataFrame]) -> pd.DataFrame:
        merged = merge_sources(per_source, sources=self.sources)
        return merged.drop(columns=[SOURCE]) if self.kind == "admin" else merged

    def problems(self) -> pd.DataFrame:
        """Undecodable values recorded when the snapshot was taken (family, key, field, error, raw)."""
        frame = self._merged(self._problems_by_source())
        if not len(frame.columns.difference([SOURCE])):
            empty = pd.DataFrame({c: pd.Series([], dtype="string") for c in ("family", "key", "field", "error")})
            empty["raw"] = pd.Series([], dtype=object)
            if SOURCE in frame.columns:
                empty.insert(0, SOURCE, frame[SOURCE])
            return empty
        return frame

    def load_with_info(self, name: str, **filters: Any) -> Loaded:
        """One family, as ``Admin.load``/``Fleet.load`` returned it when the snapshot was taken, and
        its :class:`~jsadmin.loadinfo.LoadInfo` as recorded then (problems, capped keys; lists that
        moved are among the problems). ``load`` returns the frame alone (``backend="polars"`` as in
        ``Admin.load``).

        Filters: ``column=value`` or ``column=[values]`` on any column (``gid=1``,
        ``source="node5"``); ``expand="args"`` adds ``args.<k>`` columns like ``Admin.load``.

        >>> snap.load("jobs", gid=1, expand="args")   # doctest: +SKIP
        >>> logs, info = snap.load_with_info("logs")   # doctest: +SKIP
        """
        if name not in self.manifest["families"]:
            catalog_family(name)  # not a family at all: the error of Admin.load and Fleet.load
            raise UnknownFamilyError(
                f"family {name!r} is not in snapshot {self.path}; it has: {', '.join(self.family_names)}"
            )
        schema = self.manifest["families"][name]
        problems = self._problems_by_source()
        truncated = schema.get("truncated", {})
        per_source: dict[str, Loaded] = {}
        for src, frame in self._read(name, schema).items():
            prob = problems.get(src)
            mine = (ProblemFrame(prob[prob["family"] == name].reset_index(drop=True))
                    if prob is not None and "family" in prob.columns else problems_frame([]))
            capped = tuple(Capped(key, c["kept"], c["total"], c["keep"]) for key, c in truncated.get(src, {}).items())
            per_source[src] = Loaded(frame, LoadInfo(name, mine, capped))
        frame, info = self._finish(per_source, name, schema.get("renamed"))
        frame = _current_names(name, frame, self.kind == "admin")
        return Loaded(apply_filters(frame, name, **filters), info)

    def load_all_with_info(self, **options: Any) -> dict[str, Loaded]:
        """Every family: ``{family: Loaded(frame, info)}``; a snapshot takes no options."""
        if options:
            raise TypeError(f"Snapshot.load_all() takes no options, got {', '.join(sorted(options))}")
        return {fam: self.load_with_info(fam) for fam in self.family_names}


def _column(frame: pd.DataFrame, name: str) -> list[Any]:
    return frame[name].astype(object).where(frame[name].notna(), None).tolist() if name in frame else [None] * len(frame)


def _current_names(name: str, frame: pd.DataFrame, admin: bool) -> pd.DataFrame:
    """A family frame of a snapshot taken by an earlier version, under today's column names
    (:data:`~jsadmin.catalog.RENAMED_COLUMNS`), with the derived ``jumpscript`` column it lacked."""
    renames = {old: new for old, new in RENAMED_COLUMNS.get(name, {}).items()
               if old in frame.columns and new not in frame.columns and (old != SOURCE or admin)}
    if renames:
        attrs = dict(frame.attrs)
        frame = frame.rename(columns=renames)
        frame.attrs = attrs
    fam = FAMILIES.get(name)
    if fam is not None and "jumpscript" in fam.columns and "jumpscript" not in frame.columns:
        ident: list[str] | list[str | None]
        if fam.kind == "job":  # the reader's rules (jsadmin.domain), on the stored columns
            ident = jumpscript_ids(_column(frame, "category"), _column(frame, "cmd"))
        else:
            ident = registered_ids(_column(frame, "organization"), _column(frame, "name"))
        cols = list(fam.columns)
        before = cols[cols.index("jumpscript") - 1]
        at = frame.columns.get_loc(before) + 1 if before in frame.columns else len(frame.columns)
        frame.insert(at, "jumpscript", pd.array(ident, dtype="string"))
    return frame


def apply_filters(
    frame: pd.DataFrame, family: str | None = None, /, *, expand: str | list[str] | None = None, **filters: Any
) -> pd.DataFrame:
    """Equality filters on columns and ``expand`` of dict columns, for frames read offline.

    Unknown filters raise the :class:`~jsadmin.errors.UnknownFilterError` of ``Admin.load``
    (``family`` names the frame in that message).

    >>> apply_filters(pd.DataFrame({"gid": [1, 2]}), gid=2)["gid"].tolist()
    [2]
    """
    check_filters(family or "this frame", filters, [str(c) for c in frame.columns])
    return select_rows(frame, filters, expand=expand)


def open_snapshot(path: str | os.PathLike[str]) -> Snapshot:
    """Open a snapshot written by ``Admin.snapshot``/``Fleet.snapshot`` (no Redis needed).

    >>> snap = jsadmin.open_snapshot("snaps/before")   # doctest: +SKIP
    >>> snap.families()                                # doctest: +SKIP
    """
    return Snapshot(path)


__all__ = [
    "Snapshot",
    "SnapshotError",
    "SnapshotMixin",
    "apply_filters",
    "open_snapshot",
    "snapshot",
    "snapshot_contents",
]
