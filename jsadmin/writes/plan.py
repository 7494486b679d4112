"""Dry-run previews: :class:`WritePlan` lists the exact Redis commands a helper would send.

>>> plan: WritePlan[dict[str, Any]] = WritePlan("enqueue_job", "redis://127.0.0.1:9999/0")
>>> plan.add("HINCRBY", "jobs:last", "1", 1, note="allocates the job id")
>>> plan.commands
[('HINCRBY', 'jobs:last', '1', 1)]
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any, Generic, TypeAlias, TypeVar

import pandas as pd

EnqueuePreview: TypeAlias = "dict[str, Any] | list[dict[str, Any]]"
"""The ``result`` of an enqueue plan: the job's dict (``enqueue_job``) or one per job
(``enqueue_jobs``, ``requeue_jobs``), with placeholder ids."""

R = TypeVar("R")
"""What the helper would return: ``WritePlan[EnqueuePreview]`` for ``enqueue_job(s)`` and
``requeue_jobs``; ``WritePlan[dict[str, Any]]`` for ``register_jumpscript``, ``purge_queue`` and
``undo``; ``WritePlan[pd.DataFrame]`` for ``cancel_jobs``, ``delete_jobs`` and ``cleanup_leftovers``."""

_SHOW = 160  # characters of a value shown by __repr__ / _repr_html_


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="backslashreplace")
    return str(value)


def _short(value: Any, limit: int = _SHOW) -> str:
    text = _text(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass
class WritePlan(Generic[R]):
    """What a write helper would do, touching nothing.

    ``commands`` holds one tuple per Redis command, ``(COMMAND, key, *args)``, in the order
    the helper's Lua script would run them. Values not known before the write (an id that
    ``HINCRBY``/``INCR`` would allocate) appear as the text ``<next value of ...>``.
    ``result`` is what the helper would return (with the same placeholders), typed by ``R``
    (``None`` until the helper sets it).
    """

    helper: str
    url: str
    commands: list[tuple[Any, ...]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    result: R | None = None
    warnings: list[str] = field(default_factory=list)
    """Things the helper would leave alone (e.g. selected jobs no longer in Redis)."""

    def add(self, command: str, key: str, *args: Any, note: str = "") -> None:
        """Append one command (and an optional human note)."""
        self.commands.append((command, key, *args))
        self.notes.append(note)

    def to_frame(self) -> pd.DataFrame:
        """One row per command: ``step``, ``command``, ``key``, ``args`` (tuple), ``note``."""
        rows = [
            {"step": i, "command": c[0], "key": c[1], "args": tuple(c[2:]), "note": note}
            for i, (c, note) in enumerate(zip(self.commands, self.notes, strict=True), 1)
        ]
        frame = pd.DataFrame(rows, columns=["step", "command", "key", "args", "note"])
        return frame.astype({"step": "Int64", "command": "string", "key": "string", "note": "string"})

    def __len__(self) -> int:
        return len(self.commands)

    def __repr__(self) -> str:
        head = f"WritePlan({self.helper} on {self.url}: {len(self.commands)} command(s), dry run, nothing written)"
        lines = [head] + [f"  ! {w}" for w in self.warnings]
        for i, (c, note) in enumerate(zip(self.commands, self.notes, strict=True), 1):
            if i > 50:
                lines.append(f"  ... {len(self.commands) - 50} more")
                break
            args = " ".join(_short(a, 100) for a in c[1:])
            lines.append(f"  {i:>3}. {c[0]} {args}" + (f"   # {note}" if note else ""))
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        esc = html.escape
        rows = []
        for i, (c, note) in enumerate(zip(self.commands, self.notes, strict=True), 1):
            if i > 200:
                rows.append(f'<tr><td colspan="4">… {len(self.commands) - 200} more</td></tr>')
                break
            args = " ".join(esc(_short(a)) for a in c[2:])
            rows.append(
                f"<tr><td>{i}</td><td><code>{esc(_text(c[0]))}</code></td>"
                f"<td><code>{esc(_text(c[1]))}</code></td><td><code>{args}</code>"
                + (f"<br/><small>{esc(note)}</small>" if note else "")
                + "</td></tr>"
            )
        return (
            '<div class="jsadmin-writeplan">'
            f"<p><b>Dry run</b> of <code>{esc(self.helper)}</code> on <code>{esc(self.url)}</code>: "
            f"{len(self.commands)} command(s), nothing written.</p>"
            + "".join(f"<p><small>{esc(w)}</small></p>" for w in self.warnings)
            + "<table><thead><tr><th>#</th><th>command</th><th>key</th><th>arguments</th></tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table></div>"
        )
