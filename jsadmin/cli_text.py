"""Wording for the ``jsadmin`` command line: errors phrased as flags, terminal tables.

Pure text helpers (no click state, no Redis), so :mod:`jsadmin.cli` stays about commands.

>>> as_flags("pass replace=True to overwrite it", {"replace": "--replace"})
'pass --replace to overwrite it'
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import pandas as pd


def as_flags(message: str, flags: Mapping[str, str]) -> str:
    """A Python-keyword error message phrased with the command's flags.

    ``flags`` maps keyword names to flags (``{"nid": "--nid", "timeout": "--job-timeout"}``):
    ``name=True`` becomes ``--name``, ``name=value`` becomes ``--name value``, and a message
    that starts with a keyword name (``"category 'a b' contains ..."``) starts with its flag.

    >>> as_flags("give exactly one of nid= (node queue) or role= (role queue); got nid=None, role=None",
    ...          {"nid": "--nid", "role": "--role"})
    'give exactly one of --nid (node queue) or --role (role queue); got --nid None, --role None'
    >>> as_flags("timeout must be >= 0, got -1", {"timeout": "--job-timeout"})
    '--job-timeout must be >= 0, got -1'
    """
    if not flags:
        return message
    names = "|".join(sorted(map(re.escape, flags), key=len, reverse=True))
    message = re.sub(rf"\b({names})=True\b", lambda m: flags[m[1]], message)
    message = re.sub(rf"(?<![\w.-])({names})=(?=[\s<'\"\w(-]|$)",
                     lambda m: flags[m[1]] + ("" if m.end() == len(message) or message[m.end()] in " (" else " "),
                     message)
    first = re.match(rf"({names})\b(?![=(])", message)
    if first:
        message = flags[first[1]] + message[first.end():]
    return message


def indented_table(df: pd.DataFrame, *, top: int | None = None, width: int = 60) -> str:
    """``df`` as text indented by two spaces, at most ``top`` rows (then "... N more"), "(none)" when empty.

    >>> print(indented_table(pd.DataFrame({"a": [1, 2, 3]}), top=2))
       a
       1
       2
      ... 1 more
    """
    if not len(df):
        return "  (none)"
    shown = df.head(top) if top else df
    text = shown.to_string(index=False, max_rows=60, max_colwidth=width)
    lines = ["  " + line for line in text.splitlines()]
    if len(shown) < len(df):
        lines.append(f"  ... {len(df) - len(shown)} more")
    return "\n".join(lines)


def terminal_table(df: pd.DataFrame, *, width: int, rows: int, columns: list[str] | None = None,
                   colwidth: int = 36) -> str:
    """``df`` as an aligned text table that fits ``width`` characters: the first ``rows`` rows,
    the given ``columns`` (else every column that holds a value, as many as fit), cells cut at
    ``colwidth``; a last line says what was left out.

    >>> print(terminal_table(pd.DataFrame({"a": [1, 2], "b": ["x", None]}), width=80, rows=1))
     a b
     1 x
    (1 of 2 rows; --rows N for more)
    """
    shown = df.head(rows)
    cols = columns if columns is not None else [c for c in df.columns if df[c].notna().any()] or list(df.columns)
    cells = {c: [_cell(v, colwidth) for v in shown[c].tolist()] for c in cols}
    kept: list[str] = []
    used = 0
    for c in cols:
        w = max([len(str(c)), *map(len, cells[c])]) + 1
        if kept and used + w > width and columns is None:
            break
        kept.append(c)
        used += w
    widths = {c: max([len(str(c)), *map(len, cells[c])]) for c in kept}
    numeric = {c: pd.api.types.is_numeric_dtype(df[c].dtype) for c in kept}

    def line(values: dict[str, str]) -> str:
        parts = [values[c].rjust(widths[c]) if numeric[c] else values[c].ljust(widths[c]) for c in kept]
        return (" " + " ".join(parts)).rstrip()

    out = [line({c: str(c) for c in kept})]
    out += [line({c: cells[c][i] for c in kept}) for i in range(len(shown))]
    notes = []
    if len(shown) < len(df):
        notes.append(f"{len(shown)} of {len(df)} rows; --rows N for more")
    if len(kept) < len(cols):
        notes.append(f"{len(cols) - len(kept)} more columns: --columns A,B or --format csv")
    if not len(df):
        notes.append("no rows")
    if notes:
        out.append("(" + "; ".join(notes) + ")")
    return "\n".join(out)


def _cell(value: object, limit: int) -> str:
    if value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, pd.Timestamp):
        text = value.strftime("%Y-%m-%d %H:%M:%S")
    elif isinstance(value, pd.Timedelta):
        text = str(value).replace("0 days ", "")
    else:
        text = str(value)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
