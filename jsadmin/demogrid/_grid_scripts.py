"""The live grid's own jumpscripts (organization ``livegrid``) and their PM storage form.

Each source is a real JumpScale-style module (metadata assignments plus ``def action``) that
runs without JumpScale. :func:`jumpscript_dict` turns one into the 20-key dict the processmanager
stores (spec §5.4) with the demo seed's parser (:func:`jsadmin.demogrid.scripts.jumpscript_from_source`,
no exec); attributes left at the processmanager's defaults (``roles = []``, ...) are not restated.

>>> sorted(s["name"] for s in grid_jumpscripts())[:3]
['backup', 'diskusage', 'echo']
"""

from __future__ import annotations

from typing import Any

from .scripts import jumpscript_from_source

__all__ = ["ORGANIZATION", "grid_jumpscripts", "jumpscript_dict"]

ORGANIZATION = "livegrid"

_HEADER = '''organization = "livegrid"
author = "jsadmin"
license = "Apache-2.0"
'''

SOURCES: dict[str, str] = {
    "echo": _HEADER + '''descr = """Return the message it was given (round-trip probe)."""
category = "demo.probe"
queue = "default"
async = True


def action(msg="hello"):
    return msg
''',
    "ping": _HEADER + '''descr = """Answer pong inside the processmanager (non-async, no worker)."""
category = "demo.probe"
timeout = 60


def action(msg="pong"):
    return {"reply": msg}
''',
    "fail": _HEADER + '''descr = """Always raise: exercises the worker error path and ECOs."""
category = "demo.errors"
queue = "default"
async = True


def action(msg="deliberate failure"):
    raise RuntimeError(msg)
''',
    "flaky": _HEADER + '''descr = """Fail with probability p (real randomness, for error-rate charts)."""
category = "demo.errors"
queue = "process"
async = True


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


def action(count=3):
    return [{"name": "vm-%d" % i, "state": "RUNNING"} for i in range(int(count))]
''',
    "backup": _HEADER + '''descr = """Back up a (simulated) volume: long-tailed durations."""
category = "storage.backup"
queue = "process"
async = True
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
log = False


def action():
    import os

    return {"load": os.getloadavg()[0]}
''',
}

def jumpscript_dict(name: str, source: str, *, gid: int, path: str | None = None) -> dict[str, Any]:
    """The 20-key jumpscript JSON of spec §5.4 for ``source`` (``id`` null, ``"*"`` role dropped).

    >>> d = jumpscript_dict("echo", SOURCES["echo"], gid=1)
    >>> len(d), d["organization"], d["async"], d["id"]
    (20, 'livegrid', True, None)
    """
    return jumpscript_from_source(source, name=name, gid=gid, path=path, where=f"livegrid jumpscript {name!r}")


def grid_jumpscripts(gid: int = 1) -> list[dict[str, Any]]:
    """The live grid's jumpscripts as PM dicts (organization ``livegrid``)."""
    return [jumpscript_dict(name, source, gid=gid) for name, source in SOURCES.items()]
