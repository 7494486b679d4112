"""The live grid's own jumpscripts (organization ``livegrid``) and their PM storage form.

Each source is a real JumpScale-style module (metadata assignments plus ``def action``) that
runs without JumpScale. :func:`jumpscript_dict` turns one into the 20-key dict the processmanager
stores (spec §5.4), reading the metadata with :mod:`ast` (no exec).

>>> sorted(s["name"] for s in grid_jumpscripts())[:3]
['backup', 'diskusage', 'echo']
"""

from __future__ import annotations

import ast
from typing import Any

from ..domain import Jumpscript

__all__ = ["ORGANIZATION", "PM_PATH", "grid_jumpscripts", "jumpscript_dict"]

ORGANIZATION = "livegrid"
PM_PATH = "/opt/jumpscale7/apps/processmanager/jumpscripts"

_HEADER = '''organization = "livegrid"
author = "jsadmin"
license = "Apache-2.0"
version = "1.0"
'''

SOURCES: dict[str, str] = {
    "echo": _HEADER + '''descr = """Return the message it was given (round-trip probe)."""
category = "demo.probe"
queue = "default"
async = True
roles = []
log = True


def action(msg="hello"):
    return msg
''',
    "ping": _HEADER + '''descr = """Answer pong inside the processmanager (non-async, no worker)."""
category = "demo.probe"
async = False
roles = []
timeout = 60


def action(msg="pong"):
    return {"reply": msg}
''',
    "fail": _HEADER + '''descr = """Always raise: exercises the worker error path and ECOs."""
category = "demo.errors"
queue = "default"
async = True
roles = []


def action(msg="deliberate failure"):
    raise RuntimeError(msg)
''',
    "flaky": _HEADER + '''descr = """Fail with probability p (real randomness, for error-rate charts)."""
category = "demo.errors"
queue = "process"
async = True
roles = []


def action(p=0.2):
    import random

    if random.random() < p:
        raise ValueError("flaky jumpscript failed (p=%s)" % p)
    return "survived"
''',
    "hang": _HEADER + '''descr = """Sleep for `duration` seconds; its own timeout is 1 s (exercises TIMEOUT)."""
category = "demo.timeouts"
queue = "default"
async = True
roles = []
timeout = 1


def action(duration=5.0):
    import time

    time.sleep(duration)
    return duration
''',
    "diskusage": _HEADER + '''descr = """Report disk usage of a path (io queue)."""
category = "system.disk"
queue = "io"
async = True
roles = ["node"]


def action(path="/"):
    import shutil

    usage = shutil.disk_usage(path)
    return {"path": path, "total": usage.total, "used": usage.used, "free": usage.free}
''',
    "vmstatus": _HEADER + '''descr = """List the (simulated) virtual machines of a hypervisor node."""
category = "cloud.hypervisor"
queue = "hypervisor"
async = True
roles = []


def action(count=3):
    return [{"name": "vm-%d" % i, "state": "RUNNING"} for i in range(int(count))]
''',
    "backup": _HEADER + '''descr = """Back up a (simulated) volume: long-tailed durations."""
category = "storage.backup"
queue = "process"
async = True
roles = []
timeout = 600


def action(volume="vol-1", size_mb=512):
    import hashlib

    digest = hashlib.sha1(("%s:%s" % (volume, size_mb)).encode()).hexdigest()
    j.logger.log("backup of %s done" % volume, level=5, category="storage.backup")
    return {"volume": volume, "size_mb": size_mb, "checksum": digest}
''',
    "tick": _HEADER + '''descr = """Periodic node self-check (node-local job every `period` seconds)."""
category = "monitor.selfcheck"
queue = "process"
async = True
period = 5
roles = []
log = False


def action():
    import os

    return {"load": os.getloadavg()[0]}
''',
}

def _module_constants(source: str) -> dict[str, Any]:
    # ``async = True`` is a Python 2 module attribute; Python 3 cannot parse it, so rename first.
    tree = ast.parse(source.replace("\nasync = ", "\nasync_ = "))
    found: dict[str, Any] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            if isinstance(target, ast.Name):
                try:
                    found[target.id.rstrip("_")] = ast.literal_eval(node.value)
                except ValueError:
                    continue
    return found


def jumpscript_dict(name: str, source: str, *, gid: int, path: str | None = None) -> dict[str, Any]:
    """The 20-key jumpscript JSON of spec §5.4 for ``source`` (``id`` null, ``"*"`` role dropped).

    >>> d = jumpscript_dict("echo", SOURCES["echo"], gid=1)
    >>> len(d), d["organization"], d["async"], d["id"]
    (20, 'livegrid', True, None)
    """
    meta = _module_constants(source)
    if "descr" not in meta:
        raise ValueError(f"jumpscript {name!r} has no descr")
    attrs = Jumpscript.attributes(meta)
    organization = attrs.get("organization", Jumpscript.DEFAULTS["organization"])
    return Jumpscript.pm(
        name=meta.get("name", name), descr=meta["descr"], source=source,
        path=path or f"{PM_PATH}/{organization}/{name}.py", gid=meta.get("gid", gid), **attrs,
    )


def grid_jumpscripts(gid: int = 1) -> list[dict[str, Any]]:
    """The live grid's jumpscripts as PM dicts (organization ``livegrid``)."""
    return [jumpscript_dict(name, source, gid=gid) for name, source in SOURCES.items()]
