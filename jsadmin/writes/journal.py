"""The local journal of applied writes: one JSON object per line.

Default path ``~/.jsadmin/journal.jsonl``; the ``JSADMIN_JOURNAL`` environment variable or an
explicit path overrides it. Entries hold the time, helper, target URL (never secrets), the
commands sent and, for destructive helpers, every removed value (text, or base64 when not
UTF-8) so that :func:`jsadmin.writes.manage.undo` can put them back.

>>> j = Journal("/tmp/jsadmin-doctest-journal.jsonl")            # doctest: +SKIP
>>> j.append(helper="purge_queue", url="redis://h:9999/0", commands=[])  # doctest: +SKIP
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import uuid
from collections.abc import Iterator, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pandas as pd

ENV_JOURNAL = "JSADMIN_JOURNAL"
DEFAULT_JOURNAL = Path("~/.jsadmin/journal.jsonl")

try:  # POSIX advisory lock so concurrent processes never interleave lines
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]


def journal_path(path: str | os.PathLike[str] | None = None) -> Path:
    """Resolve the journal file: explicit ``path``, else ``$JSADMIN_JOURNAL``, else the default."""
    chosen = path or os.environ.get(ENV_JOURNAL) or DEFAULT_JOURNAL
    return Path(chosen).expanduser()


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


class Journal:
    """Append-only JSON-lines file of applied writes."""

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = journal_path(path)

    def append(
        self,
        *,
        helper: str,
        url: str,
        commands: Sequence[Sequence[Any]],
        removed: Sequence[dict[str, Any]] = (),
        result: Any = None,
        undo_of: str | None = None,
    ) -> dict[str, Any]:
        """Write one entry and return it (with its new ``id``)."""
        entry = {
            "id": uuid.uuid4().hex,
            "time": datetime.now(timezone.utc).isoformat(timespec="microseconds"),
            "helper": helper,
            "url": url,
            "commands": [[_arg(a) for a in cmd] for cmd in commands],
            "removed": list(removed),
            "result": result,
            "undo_of": undo_of,
        }
        line = json.dumps(entry, separators=(",", ":"), default=str) + "\n"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a", encoding="utf-8") as fh:
            if fcntl is not None:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
            try:
                fh.write(line)
                fh.flush()
            finally:
                if fcntl is not None:
                    fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
        return entry

    def entries(self) -> Iterator[dict[str, Any]]:
        """Every entry, oldest first (lines that do not parse are skipped)."""
        if not self.path.exists():
            return
        with open(self.path, encoding="utf-8") as fh:
            for line in fh:
                with contextlib.suppress(ValueError):
                    yield json.loads(line)

    def find(self, entry_id: str) -> dict[str, Any] | None:
        """The entry with this id, or None."""
        return next((e for e in self.entries() if e.get("id") == entry_id), None)

    def undone_by(self, entry_id: str) -> dict[str, Any] | None:
        """The undo entry that already reverted ``entry_id``, or None."""
        return next((e for e in self.entries() if e.get("undo_of") == entry_id), None)

    def to_frame(self) -> pd.DataFrame:
        """One row per entry: ``id``, ``time`` (UTC), ``helper``, ``url``, ``commands`` (count),
        ``removed`` (count), ``undo_of``, ``undone`` (bool), ``result`` (object), ``entry`` (the dict).
        """
        entries = list(self.entries())
        undone = {e["undo_of"] for e in entries if e.get("undo_of")}
        rows = [
            {
                "id": e.get("id"),
                "time": e.get("time"),
                "helper": e.get("helper"),
                "url": e.get("url"),
                "commands": len(e.get("commands") or ()),
                "removed": len(e.get("removed") or ()),
                "undo_of": e.get("undo_of"),
                "undone": e.get("id") in undone,
                "result": e.get("result"),
                "entry": e,
            }
            for e in entries
        ]
        cols = ["id", "time", "helper", "url", "commands", "removed", "undo_of", "undone", "result", "entry"]
        frame = pd.DataFrame(rows, columns=cols)
        frame["time"] = pd.to_datetime(frame["time"], utc=True, format="ISO8601").astype("datetime64[ns, UTC]")
        return frame.astype(
            {
                "id": "string",
                "helper": "string",
                "url": "string",
                "commands": "Int64",
                "removed": "Int64",
                "undo_of": "string",
                "undone": "boolean",
            }
        )
