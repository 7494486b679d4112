"""The demo jumpscripts as processmanager jumpscript dicts (spec §5.4, normal form).

The sources live in ``jsadmin/demogrid/jumpscripts/<organization>/<name>.py``. They are parsed with
:mod:`ast` (never executed) to read the module-level metadata, exactly the attributes the real
``JumpscriptFactory`` reads with ``getattr(module, ...)``.

>>> scripts = load_demo_jumpscripts()
>>> echo = next(s for s in scripts if s["name"] == "echo")
>>> echo["organization"], echo["queue"], echo["async"], echo["id"]
('jumpscale', 'default', True, None)
>>> echo["path"]
'/opt/jumpscale7/apps/processmanager/jumpscripts/jumpscale/echo.py'
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

from ..domain import Jumpscript

__all__ = ["JUMPSCRIPT_KEYS", "PM_JUMPSCRIPTS_DIR", "demo_jumpscripts_dir", "load_demo_jumpscripts", "parse_jumpscript"]

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


def _module_assignments(tree: ast.Module, path: Path) -> dict[str, Any]:
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


def parse_jumpscript(path: Path, *, organization_dir: str | None = None, gid: int = 1) -> dict[str, Any]:
    """Build the 20-key PM jumpscript dict of one source file without executing it.

    ``organization_dir`` only serves the ``path`` field (where the PM would have extracted it).

    >>> d = parse_jumpscript(demo_jumpscripts_dir() / "system" / "cleanupredisac.py")
    >>> d["period"], d["roles"], d["category"]
    (300, ['master'], 'redis.cleanup')
    """
    source = path.read_text(encoding="utf-8")
    tree = ast.parse(source, filename=str(path))
    attrs = _module_assignments(tree, path)
    if "descr" not in attrs:
        raise ValueError(f"{path}: a jumpscript needs a module-level 'descr'")
    if not any(isinstance(n, ast.FunctionDef) and n.name == "action" for n in tree.body):
        raise ValueError(f"{path}: a jumpscript needs a module-level 'def action(...)'")
    org_dir = organization_dir or path.parent.name
    return Jumpscript.pm(
        name=attrs.get("name", path.stem.lower()), descr=attrs["descr"], source=source,
        path=f"{PM_JUMPSCRIPTS_DIR}/{org_dir}/{path.name}", gid=gid, **Jumpscript.attributes(attrs),
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
