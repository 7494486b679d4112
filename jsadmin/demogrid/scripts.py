"""The demo jumpscripts as processmanager jumpscript dicts (spec §5.4, normal form).

The sources live in ``jsadmin/demogrid/jumpscripts/<organization>/<name>.py``. They are parsed with
:mod:`ast` (never executed) to read the module-level metadata, exactly the attributes the real
``JumpscriptFactory`` reads with ``getattr(module, ...)``; an attribute a source leaves out takes
the processmanager's default (:data:`jsadmin.domain.Jumpscript.DEFAULTS`), as in JumpScale.
:func:`jumpscript_from_source` is the one parser of the demo grid: the live grid's own
jumpscripts (:mod:`jsadmin.demogrid._grid_scripts`) go through it too.

>>> scripts = load_demo_jumpscripts()
>>> echo = next(s for s in scripts if s["name"] == "echo")
>>> echo["organization"], echo["queue"], echo["async"], echo["id"]
('jumpscale', 'default', True, None)
>>> echo["path"]
'/opt/jumpscale7/apps/processmanager/jumpscripts/jumpscale/echo.py'
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

from ..domain import Jumpscript

__all__ = [
    "JUMPSCRIPT_KEYS", "PM_JUMPSCRIPTS_DIR", "demo_jumpscripts_dir", "jumpscript_from_source",
    "load_demo_jumpscripts", "parse_jumpscript", "py3_source",
]

PM_JUMPSCRIPTS_DIR = "/opt/jumpscale7/apps/processmanager/jumpscripts"
"""Where a processmanager extracts the jumpscripts it downloads from the AC (§6.9)."""

JUMPSCRIPT_KEYS = Jumpscript.KEYS
"""The 20 keys of the normal form, in the order the demo serializes them."""


def demo_jumpscripts_dir() -> Path:
    """Directory holding the demo jumpscript sources (package data).

    >>> (demo_jumpscripts_dir() / "jumpscale" / "echo.py").is_file()
    True
    """
    return Path(__file__).with_name("jumpscripts")


_PY2_ASYNC = re.compile(r"^async(\s*=)", re.MULTILINE)


def py3_source(source: str) -> str:
    r"""A JumpScale 7 (Python 2) source made parseable by Python 3: ``async = x`` becomes
    ``globals()["async"] = x`` (``async`` is a keyword in Python 3), the same attribute.

    >>> py3_source("async = True\n")
    'globals()["async"] = True\n'
    """
    return _PY2_ASYNC.sub(r'globals()["async"]\1', source)


def _module_assignments(tree: ast.Module, path: str) -> dict[str, Any]:
    """Literal module-level assignments: ``x = <literal>`` and ``globals()["async"] = <literal>``."""
    found: dict[str, Any] = {}
    for node in tree.body:
        if not isinstance(node, ast.Assign) or len(node.targets) != 1:
            continue
        target = node.targets[0]
        if isinstance(target, ast.Name):
            name = target.id
        elif (
            isinstance(target, ast.Subscript)
            and isinstance(target.value, ast.Call)
            and isinstance(target.value.func, ast.Name)
            and target.value.func.id == "globals"
            and isinstance(target.slice, ast.Constant)
            and isinstance(target.slice.value, str)
        ):
            name = target.slice.value  # `async` is a keyword in Python 3 (JumpScale 7 was Python 2)
        else:
            continue
        try:
            found[name] = ast.literal_eval(node.value)
        except ValueError:
            if name in Jumpscript.DEFAULTS or name in ("descr", "name"):
                raise ValueError(f"{path}: {name!r} must be a literal") from None
    return found


def jumpscript_from_source(
    source: str, *, name: str, gid: int = 1, path: str | None = None, where: str | None = None
) -> dict[str, Any]:
    r"""The 20-key PM jumpscript dict of one source (Python 2 or 3 form), without executing it.

    ``name`` is the file's stem (a module ``name`` overrides it); ``path`` is where the PM
    would have extracted it (default ``<PM dir>/<organization>/<name>.py``); ``where`` names the
    source in errors.

    >>> d = jumpscript_from_source('descr = "x"\nasync = True\nqueue = "io"\ndef action():\n    pass\n', name="probe")
    >>> d["async"], d["queue"], d["path"]
    (True, 'io', '/opt/jumpscale7/apps/processmanager/jumpscripts/unknown/probe.py')
    """
    where = where or name
    tree = ast.parse(py3_source(source), filename=where)
    attrs = _module_assignments(tree, where)
    if "descr" not in attrs:
        raise ValueError(f"{where}: a jumpscript needs a module-level 'descr'")
    if not any(isinstance(n, ast.FunctionDef) and n.name == "action" for n in tree.body):
        raise ValueError(f"{where}: a jumpscript needs a module-level 'def action(...)'")
    known = Jumpscript.attributes(attrs)
    name = attrs.get("name", name)
    organization = known.get("organization", Jumpscript.DEFAULTS["organization"])
    return Jumpscript.pm(
        name=name, descr=attrs["descr"], source=source,
        path=path or f"{PM_JUMPSCRIPTS_DIR}/{organization}/{name}.py", gid=attrs.get("gid", gid), **known,
    )


def parse_jumpscript(path: Path, *, organization_dir: str | None = None, gid: int = 1) -> dict[str, Any]:
    """Build the 20-key PM jumpscript dict of one source file without executing it.

    ``organization_dir`` only serves the ``path`` field (where the PM would have extracted it).

    >>> d = parse_jumpscript(demo_jumpscripts_dir() / "system" / "cleanupredisac.py")
    >>> d["period"], d["roles"], d["category"]
    (300, ['master'], 'redis.cleanup')
    """
    org_dir = organization_dir or path.parent.name
    return jumpscript_from_source(
        path.read_text(encoding="utf-8"), name=path.stem.lower(), gid=gid,
        path=f"{PM_JUMPSCRIPTS_DIR}/{org_dir}/{path.name}", where=str(path),
    )


def load_demo_jumpscripts(*, gid: int = 1) -> list[dict[str, Any]]:
    """All demo jumpscripts as PM jumpscript dicts (20 keys, ``id`` None, full ``source``), sorted.

    Sorted by ``(organization, name)``; ``gid`` fills the ``gid`` key.

    >>> [f"{s['organization']}__{s['name']}" for s in load_demo_jumpscripts()][:2]
    ['backup__backup_dirs', 'demo__flaky']
    """
    root = demo_jumpscripts_dir()
    scripts = [
        parse_jumpscript(path, gid=gid)
        for path in sorted(root.glob("*/*.py"))
        if not path.parent.name.startswith("_") and not path.name.startswith("_")
    ]
    scripts.sort(key=lambda s: (s["organization"], s["name"]))
    return scripts
