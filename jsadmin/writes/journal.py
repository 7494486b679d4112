"""The local journal of writes: one bounded, private JSON-lines file per target grid.

Where: ``~/.jsadmin/journal/<host>_<port>_<db>.jsonl`` (the name comes from the secret-free
target URL), in a directory kept at mode 0700, files created 0600. ``$JSADMIN_JOURNAL`` or an
explicit path overrides it: a file, or a path with a suffix (``.jsonl``), is one file shared
by every target; any other path is a directory holding one file per target.

What: each line is one event of an entry, keyed by the entry ``id``. A simple write is one
line (``append``). A destructive write journals its **intent** first (``begin``, then
``chunk`` lines holding the exact values a chunk will remove, each written before its script is
sent), then one ``outcome`` line per chunk and an ``end`` line. :meth:`Journal.entries` folds the
lines of an entry back into one dict, so an entry whose process died mid-way still shows every
chunk it sent with its write id (``Admin.write_status`` tells whether it landed).

Bounds: the current file rotates at ``max_bytes`` (``<name>.1.jsonl`` ... ``<name>.<keep>.jsonl``
are kept, the oldest is dropped with its side files), so the lines never exceed about
``(keep + 1) * max_bytes`` (20 MiB). Side files are capped at ``side_max_bytes`` (1 GiB): the
oldest entries' side files go first, never those of the entry being written. Bulky fields of a line (removed values,
long command lists) over ``INLINE_LIMIT`` go to a gzip side file in ``<name>.side/``, referenced
from the line, so reading the journal never parses large payloads.

>>> j = Journal("/tmp/jsadmin-doctest-journal.jsonl")            # doctest: +SKIP
>>> j.append(helper="purge_queue", url="redis://h:9999/0", commands=[])  # doctest: +SKIP
"""

from __future__ import annotations

import base64
import contextlib
import gc
import gzip
import json
import os
import re
import stat
import uuid
from collections.abc import Iterator, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pandas as pd

ENV_JOURNAL = "JSADMIN_JOURNAL"
DEFAULT_DIR = Path("~/.jsadmin/journal")
"""Default directory: one journal file per target grid."""
LEGACY_JOURNAL = Path("~/.jsadmin/journal.jsonl")
"""The single global file of jsadmin <= 0.x; made private (0600) when found, never grown."""
MAX_BYTES = 4 * 1024 * 1024
"""Bytes at which the current journal file rotates."""
SIDE_MAX_BYTES = 1024 * 1024 * 1024
"""Most bytes of side files kept per journal; beyond it the oldest entries' side files are
deleted (never those of the entry being written, so a write's intent is always whole)."""
KEEP = 4
"""Rotated files kept per journal (older ones are deleted with their side files)."""
INLINE_LIMIT = 16 * 1024
"""A line whose bulky fields (``removed``, ``commands``) encode larger than this moves them to a side file."""
BULKY = ("removed", "commands")
DIR_MODE = 0o700
FILE_MODE = 0o600

try:  # POSIX advisory lock so concurrent processes never interleave lines or rotations
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]


def target_name(url: str | None) -> str:
    """File stem of a target: ``redis://user:***@10.0.0.1:9999/2`` -> ``10.0.0.1_9999_2``.

    >>> target_name("redis://10.0.0.1:9999/2"), target_name("unix:///run/redis.sock?db=1")
    ('10.0.0.1_9999_2', 'unix_run_redis.sock_1')
    """
    if not url:
        return "default"
    m = re.match(r"^(?:(rediss?)|unix)://(?:[^@/]*@)?([^?]*)(?:\?db=(\d+))?$", url)
    if m and m.group(1):
        hostport, _, db = m.group(2).partition("/")
        host, _, port = hostport.rpartition(":") if ":" in hostport else (hostport, "", "")
        stem = f"{host.strip('[]')}_{port or 'default'}_{db or 0}"
    elif m:
        stem = f"unix_{m.group(2).strip('/')}_{m.group(3) or 0}"
    else:
        stem = url
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", stem).strip("._") or "default"
    return stem[:120]


def journal_path(path: str | os.PathLike[str] | None = None, url: str | None = None) -> Path:
    """Resolve the journal file of a target: explicit ``path``, else ``$JSADMIN_JOURNAL``, else
    ``~/.jsadmin/journal/<target>.jsonl``. A chosen path that is a file, or has a suffix
    (``.jsonl``), is used as is for every target; any other chosen path is a directory of
    per-target files."""
    chosen = path or os.environ.get(ENV_JOURNAL)
    if not chosen:
        return DEFAULT_DIR.expanduser() / f"{target_name(url)}.jsonl"
    p = Path(chosen).expanduser()
    if p.is_file() or (p.suffix and not p.is_dir()):
        return p
    return p / f"{target_name(url)}.jsonl"


def encode_value(value: bytes | str) -> dict[str, str]:
    """``{"text": ...}`` for UTF-8 values, ``{"b64": ...}`` for anything else (exact bytes)."""
    if isinstance(value, str):
        return {"text": value}
    try:
        return {"text": value.decode("utf-8")}
    except UnicodeDecodeError:
        return {"b64": base64.b64encode(value).decode("ascii")}


def decode_value(value: dict[str, str]) -> bytes:
    """Inverse of :func:`encode_value`: the exact bytes."""
    if "b64" in value:
        return base64.b64decode(value["b64"])
    return value["text"].encode("utf-8")


def _arg(value: Any) -> Any:
    if isinstance(value, bytes):
        return encode_value(value)
    if isinstance(value, (str, int, float)) or value is None:
        return value
    return str(value)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


def _private_dir(path: Path, *, fix: bool) -> None:
    """Create ``path`` (and missing parents) at 0700; ``fix`` also tightens an existing one."""
    missing = []
    p = path
    while not p.exists():
        missing.append(p)
        p = p.parent
    for d in reversed(missing):
        with contextlib.suppress(FileExistsError):
            d.mkdir(mode=DIR_MODE)
        os.chmod(d, DIR_MODE)
    if fix and not missing and stat.S_IMODE(path.stat().st_mode) != DIR_MODE:
        os.chmod(path, DIR_MODE)


def _write_private(path: Path, data: bytes, *, append: bool) -> None:
    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if append else os.O_TRUNC)
    fd = os.open(path, flags, FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)  # an existing file made by an older version may be 0644
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
    finally:
        os.close(fd)


class Journal:
    """Append-only, rotated JSON-lines journal of writes (one per target grid).

    >>> Journal("/tmp/jsadmin-journals", url="redis://10.0.0.1:9999/0").path.name
    '10.0.0.1_9999_0.jsonl'
    """

    def __init__(
        self, path: str | os.PathLike[str] | None = None, *, url: str | None = None,
        max_bytes: int | None = None, keep: int | None = None, side_max_bytes: int | None = None,
    ) -> None:
        self.path = journal_path(path, url)
        self.max_bytes = MAX_BYTES if max_bytes is None else max_bytes
        self.keep = KEEP if keep is None else keep
        self.side_max_bytes = SIDE_MAX_BYTES if side_max_bytes is None else side_max_bytes
        self._fix_dir = not (path or os.environ.get(ENV_JOURNAL))  # only the dedicated default dir is re-moded

    # -- files -----------------------------------------------------------------------
    @property
    def side_dir(self) -> Path:
        """Directory of the gzip side files of this journal."""
        return self.path.with_name(self.path.stem + ".side")

    def files(self) -> list[Path]:
        """The journal's files, oldest first (rotated ones, then the current one)."""
        rotated = [self._rotated(i) for i in range(self.keep, 0, -1)]
        return [p for p in [*rotated, self.path] if p.exists()]

    def _rotated(self, i: int) -> Path:
        return self.path.with_name(f"{self.path.stem}.{i}{self.path.suffix}")

    @contextlib.contextmanager
    def _locked(self) -> Iterator[int]:
        """Hold the journal's lock file (which also stores the current file's weight); yields its fd."""
        _private_dir(self.path.parent, fix=self._fix_dir)
        legacy = LEGACY_JOURNAL.expanduser()
        if self._fix_dir and legacy.is_file() and stat.S_IMODE(legacy.stat().st_mode) != FILE_MODE:
            os.chmod(legacy, FILE_MODE)  # it holds job arguments verbatim
        lock = self.path.with_name(self.path.name + ".lock")
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, FILE_MODE)
        try:
            if fcntl is not None:
                fcntl.flock(fd, fcntl.LOCK_EX)
            yield fd
        finally:
            os.close(fd)  # closing releases the lock

    def _rotate(self) -> int:
        """Shift the files; the oldest is dropped with its side files. Returns side bytes freed."""
        freed = 0
        oldest = self._rotated(self.keep)
        if oldest.exists():
            for line in self._lines(oldest):
                if name := line.get("side"):
                    freed += self._unlink_side(name)
            oldest.unlink()
        for i in range(self.keep - 1, 0, -1):
            if self._rotated(i).exists():
                self._rotated(i).rename(self._rotated(i + 1))
        if self.keep > 0:
            self.path.rename(self._rotated(1))
        else:
            self.path.unlink()
        return freed

    def _unlink_side(self, name: str) -> int:
        path = self.side_dir / Path(name).name
        try:
            size = path.stat().st_size
            path.unlink()
        except FileNotFoundError:
            return 0
        return size

    def _evict_sides(self, keep_prefix: str) -> int:
        """Delete the oldest side files (never those of entry ``keep_prefix``) until the side
        files fit in ``side_max_bytes``; returns the new total."""
        files = []
        for p in self.side_dir.iterdir():
            with contextlib.suppress(FileNotFoundError):
                files.append((p.stat().st_mtime_ns, p.name, p.stat().st_size))
        total = sum(f[2] for f in files)
        for _, name, _size in sorted(files):
            if total <= self.side_max_bytes:
                break
            if not name.startswith(keep_prefix):
                total -= self._unlink_side(name)
        return total

    @staticmethod
    def _counters(fd: int, path: Path) -> tuple[int, int]:
        """(line bytes of the current file, bytes of all side files), kept in the lock file; an
        older journal without them counts the file's size and no side files."""
        try:
            line_bytes, side_bytes = (int(x) for x in os.pread(fd, 41, 0).split())
            return line_bytes, side_bytes
        except ValueError:
            return (path.stat().st_size if path.exists() else 0), 0

    @staticmethod
    def _set_counters(fd: int, line_bytes: int, side_bytes: int) -> None:
        os.pwrite(fd, b"%020d %020d" % (line_bytes, side_bytes), 0)  # fixed width: no truncate needed

    def _write(self, line: dict[str, Any]) -> dict[str, Any]:
        bulky = {k: line[k] for k in BULKY if line.get(k)}
        text = json.dumps(bulky, separators=(",", ":"), default=str) if bulky else ""
        with self._locked() as fd:
            side = b""
            if len(text) > INLINE_LIMIT:
                side = gzip.compress(text.encode("utf-8"), 3)
                line = {k: v for k, v in line.items() if k not in bulky}
                line["side"] = f"{line['id']}-{line.get('event', 'entry')}-{line.get('n', 0)}.json.gz"
                line.update({f"{k}_count": len(v) for k, v in bulky.items()})
            data = (json.dumps(line, separators=(",", ":"), default=str) + "\n").encode("utf-8")
            line_bytes, side_bytes = self._counters(fd, self.path)
            if line_bytes and self.path.exists() and line_bytes + len(data) > self.max_bytes:
                side_bytes -= self._rotate()
                line_bytes = 0
            if side:
                _private_dir(self.side_dir, fix=True)
                _write_private(self.side_dir / line["side"], side, append=False)
                side_bytes += len(side)
                if side_bytes > self.side_max_bytes:
                    side_bytes = self._evict_sides(str(line["id"]))
            _write_private(self.path, data, append=True)
            self._set_counters(fd, line_bytes + len(data), max(side_bytes, 0))
        return line

    def load_side(self, line: dict[str, Any]) -> dict[str, Any]:
        """The bulky fields a line moved to its side file (``{}`` when it has none or it is gone)."""
        name = line.get("side")
        if not name:
            return {}
        try:
            return json.loads(gzip.decompress((self.side_dir / Path(name).name).read_bytes()))
        except (OSError, ValueError, EOFError):
            return {}

    # -- writing ---------------------------------------------------------------------
    def append(
        self,
        *,
        helper: str,
        url: str,
        commands: Sequence[Sequence[Any]],
        removed: Sequence[dict[str, Any]] = (),
        result: Any = None,
        undo_of: str | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        """Write one complete entry (a single-step write) and return it with its new ``id``."""
        entry = {
            "id": uuid.uuid4().hex,
            "time": _now(),
            "event": "entry",
            "helper": helper,
            "url": url,
            "commands": [[_arg(a) for a in cmd] for cmd in commands],
            "removed": list(removed),
            "result": result,
            "undo_of": undo_of,
            **extra,
        }
        self._write(dict(entry))
        return entry

    def begin(self, *, helper: str, url: str, commands: Sequence[Sequence[Any]] = (),
              entry_id: str | None = None, **extra: Any) -> str:
        """Start a multi-step entry (its intent); returns the entry id. Follow with :meth:`chunk`,
        :meth:`outcome` and :meth:`end`."""
        eid = entry_id or uuid.uuid4().hex
        self._write({"id": eid, "time": _now(), "event": "begin", "helper": helper, "url": url,
                     "commands": [[_arg(a) for a in cmd] for cmd in commands], **extra})
        return eid

    def chunk(self, entry_id: str, n: int, *, write_id: str, removed: Sequence[dict[str, Any]] = (),
              commands: Sequence[Sequence[Any]] = (), **extra: Any) -> None:
        """Record, before it is sent, chunk ``n`` of an entry: its write id and the exact values it
        may remove."""
        self._write({"id": entry_id, "time": _now(), "event": "chunk", "n": n, "write_id": write_id,
                     "removed": list(removed), "commands": [[_arg(a) for a in cmd] for cmd in commands],
                     **extra})

    def outcome(self, entry_id: str, n: int, *, status: str, result: Any = None, **extra: Any) -> None:
        """Record what chunk ``n`` did: ``status`` is ``applied``, ``not_applied`` or ``unknown``."""
        self._write({"id": entry_id, "time": _now(), "event": "outcome", "n": n, "status": status,
                     "result": result, **extra})

    def end(self, entry_id: str, *, status: str, result: Any = None, **extra: Any) -> None:
        """Close an entry: ``status`` is ``done``, ``partial`` or ``failed``."""
        self._write({"id": entry_id, "time": _now(), "event": "end", "status": status, "result": result, **extra})

    # -- reading ---------------------------------------------------------------------
    @staticmethod
    def _lines(path: Path, needle: str | None = None) -> Iterator[dict[str, Any]]:
        if not path.exists():
            return
        with contextlib.suppress(FileNotFoundError), open(path, encoding="utf-8") as fh:
            for text in fh:
                if needle is not None and needle not in text:
                    continue
                with contextlib.suppress(ValueError):
                    line = json.loads(text)
                    if isinstance(line, dict):
                        yield line

    def lines(self, needle: str | None = None) -> Iterator[dict[str, Any]]:
        """Every line of every file, oldest first (only lines containing ``needle`` if given)."""
        for path in self.files():
            yield from self._lines(path, needle)

    @staticmethod
    def _fold(entries: dict[str, dict[str, Any]], line: dict[str, Any]) -> None:
        eid = line.get("id")
        if not isinstance(eid, str):
            return
        event = line.get("event", "entry")
        e = entries.get(eid)
        if e is None and event == "entry":  # the common case: a single-line entry, used as is
            line.pop("event", None)
            line.update(status="done", chunks={})
            entries[eid] = line
            return
        if e is None:
            e = entries[eid] = {"id": eid, "time": line.get("time"), "helper": None, "url": None,
                                "commands": [], "removed": [], "result": None, "undo_of": None,
                                "status": "intent", "chunks": {}}
        if event in ("entry", "begin"):
            for k, val in line.items():
                if k not in ("event", "side", "chunks", "status"):
                    e[k] = val
            e["status"] = "done" if event == "entry" else "intent"
            if line.get("side"):
                e["side"] = line["side"]
            e.setdefault("commands", [])
            e.setdefault("removed", [])
        elif event == "chunk":
            c = e["chunks"].setdefault(int(line.get("n", 0)), {})
            c.update({k: v for k, v in line.items() if k not in ("id", "event")})
            c.setdefault("status", "sent")
            c["count"] = len(line.get("removed") or ()) or int(line.get("removed_count", 0))
        elif event == "outcome":
            c = e["chunks"].setdefault(int(line.get("n", 0)), {})
            c.update({"status": line.get("status"), "result": line.get("result"),
                      **{k: v for k, v in line.items() if k not in ("id", "event", "n", "time", "status", "result")}})
        elif event == "end":
            e["status"] = line.get("status", "done")
            e["result"] = line.get("result")
            e["end_time"] = line.get("time")

    def entries(self) -> Iterator[dict[str, Any]]:
        """Every entry folded from its lines, oldest first (lines that do not parse are skipped).

        Chunk values held in side files are not loaded (see :meth:`chunk_values`)."""
        folded: dict[str, dict[str, Any]] = {}
        paused = gc.isenabled()
        gc.disable()  # tens of thousands of small dicts: generational GC passes would dominate
        try:
            for line in self.lines():
                self._fold(folded, line)
        finally:
            if paused:
                gc.enable()
        yield from folded.values()

    def find(self, entry_id: str) -> dict[str, Any] | None:
        """The folded entry with this id, or None (reads only the lines that mention the id)."""
        folded: dict[str, dict[str, Any]] = {}
        for line in self.lines(f'"{entry_id}"'):
            if line.get("id") == entry_id:
                self._fold(folded, line)
        return folded.get(entry_id)

    def chunk_values(self, chunk: dict[str, Any]) -> list[dict[str, Any]]:
        """The removed-value records of one chunk of a folded entry (inline or from its side file)."""
        if chunk.get("removed"):
            return list(chunk["removed"])
        return list(self.load_side(chunk).get("removed") or [])

    def removed_records(self, entry: dict[str, Any]) -> list[dict[str, Any]]:
        """The removed-value records of a single-step entry (inline or from its side file)."""
        if entry.get("removed"):
            return list(entry["removed"])
        return list(self.load_side(entry).get("removed") or [])

    def undone_by(self, entry_id: str) -> dict[str, Any] | None:
        """The undo entry that reverted ``entry_id`` (status ``done``), or None."""
        undo_ids = {line["id"] for line in self.lines(f'"{entry_id}"')
                    if line.get("undo_of") == entry_id and isinstance(line.get("id"), str)}
        for uid in sorted(undo_ids):
            undo = self.find(uid)
            if undo is not None and undo.get("status") == "done":
                return undo
        return None

    def to_frame(self) -> pd.DataFrame:
        """One row per entry: ``id``, ``time`` (UTC), ``helper``, ``url``, ``status`` (``done``,
        ``intent`` = started and never closed, ``partial``, ``failed``), ``commands`` (count),
        ``removed`` (values removed), ``undo_of``, ``undone`` (bool), ``result`` (object),
        ``entry`` (the folded dict).
        """
        paused = gc.isenabled()
        gc.disable()
        try:
            return self._frame([e for e in self.entries() if e.get("helper")])
        finally:
            if paused:
                gc.enable()

    @staticmethod
    def _frame(entries: list[dict[str, Any]]) -> pd.DataFrame:
        undone = {e["undo_of"] for e in entries if e.get("undo_of") and e.get("status") == "done"}
        rows = [
            {
                "id": e.get("id"),
                "time": e.get("time"),
                "helper": e.get("helper"),
                "url": e.get("url"),
                "status": e.get("status"),
                "commands": len(e.get("commands") or ()) + int(e.get("commands_count", 0))
                + sum(len(c.get("commands") or ()) + int(c.get("commands_count", 0)) for c in e["chunks"].values()),
                "removed": removed_count(e),
                "undo_of": e.get("undo_of"),
                "undone": e.get("id") in undone,
                "result": e.get("result"),
                "entry": e,
            }
            for e in entries
        ]
        cols = ["id", "time", "helper", "url", "status", "commands", "removed", "undo_of", "undone", "result", "entry"]
        frame = pd.DataFrame(rows, columns=cols)
        frame["time"] = pd.to_datetime(frame["time"], utc=True, format="ISO8601").astype("datetime64[ns, UTC]")
        return frame.astype(
            {
                "id": "string",
                "helper": "string",
                "url": "string",
                "status": "string",
                "commands": "Int64",
                "removed": "Int64",
                "undo_of": "string",
                "undone": "boolean",
            }
        )


def removed_count(entry: dict[str, Any]) -> int:
    """Values a folded entry really removed (applied chunks only; ``removed`` of each outcome)."""
    if not entry.get("chunks"):
        return len(entry.get("removed") or ()) or int(entry.get("removed_count", 0))
    total = 0
    for c in entry["chunks"].values():
        if c.get("status") == "applied":
            res = c.get("removed_n")
            total += int(res) if res is not None else int(c.get("count", 0))
    return total
