"""``jsadmin dashboard``: the control panels as a self-refreshing web page, served by Voila.

    JSADMIN_URL=redis://:secret@10.0.0.1:9999/0 jsadmin dashboard --port 8866
    jsadmin dashboard --url redis://10.0.0.1:9999/0 --allow-writes --refresh 10

The page is read-only unless ``--allow-writes`` is given (then every write is previewed and
needs *Confirm*). Opening it only reads. The URL reaches the Voila server and its kernels through
the environment (``JSADMIN_URL``), never their command lines; the page shows it without the
password. Giving the URL as ``$JSADMIN_URL`` also keeps it out of this process's own arguments.

>>> jsadmin.cli.main(["dashboard", "--port", "8866"])      # doctest: +SKIP
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from .admin import connect
from .extras import missing

DEFAULT_PORT = 8866
DEFAULT_REFRESH = 5.0
ENV_URL = "JSADMIN_URL"
ENV_WRITES = "JSADMIN_DASHBOARD_WRITES"
ENV_REFRESH = "JSADMIN_DASHBOARD_REFRESH"
CELL = (
    "# jsadmin dashboard: configured by JSADMIN_URL, JSADMIN_DASHBOARD_WRITES, JSADMIN_DASHBOARD_REFRESH\n"
    "from jsadmin.display.panels.dashboard import dashboard_from_env\n\n"
    "dashboard_from_env()"
)


def dashboard_notebook() -> dict[str, Any]:
    """The one-cell notebook Voila serves (no URL, no secret in it).

    >>> dashboard_notebook()["cells"][0]["source"].splitlines()[-1]
    'dashboard_from_env()'
    """
    return {
        "cells": [{"cell_type": "code", "id": "jsadmin-dashboard", "metadata": {}, "execution_count": None,
                   "outputs": [], "source": CELL}],
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
                     "language_info": {"name": "python"}, "title": "jsadmin dashboard"},
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def voila_command(notebook: Path, *, port: int, addr: str) -> list[str]:
    """The Voila command line: the notebook, where to listen; nothing about the grid."""
    return [sys.executable, "-m", "voila", str(notebook), f"--port={port}", "--no-browser",
            f"--Voila.ip={addr}", "--show_tracebacks=False", "--theme=light"]


def voila_env(url: str, *, allow_writes: bool, refresh: float, base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for Voila and its kernels: the grid URL and the dashboard switches."""
    env = dict(os.environ if base is None else base)
    env[ENV_URL] = url
    env[ENV_WRITES] = "1" if allow_writes else "0"
    env[ENV_REFRESH] = f"{refresh:g}"
    return env


def run_dashboard(url: str, *, port: int = DEFAULT_PORT, addr: str = "127.0.0.1", allow_writes: bool = False,
                  refresh: float = DEFAULT_REFRESH, timeout: float = 5.0) -> int:
    """Check the grid, then serve the dashboard with Voila until interrupted; Voila's exit status.

    The URL reaches Voila and its kernels through the environment only. Raises
    :class:`~jsadmin.extras.MissingExtraError` without Voila, a connection error when the grid
    does not answer (not a blank page later).

    >>> run_dashboard("redis://10.0.0.1:9999/0", port=8866)   # doctest: +SKIP
    """
    if importlib.util.find_spec("voila") is None:
        raise missing("voila", extra="dashboard", feature="jsadmin dashboard")
    admin = connect(url, readonly=True, socket_timeout=timeout, socket_connect_timeout=timeout)
    admin.redis.ping()
    shown = admin.url
    admin.redis.close()
    workdir = Path(tempfile.mkdtemp(prefix="jsadmin-dashboard-"))
    notebook = workdir / "jsadmin-dashboard.ipynb"
    notebook.write_text(json.dumps(dashboard_notebook(), indent=1), encoding="utf-8")
    previous = {sig: signal.signal(sig, _interrupt) for sig in (signal.SIGTERM, signal.SIGHUP)}
    # its own process group: stopping the dashboard stops Voila and every kernel it started
    proc = subprocess.Popen(voila_command(notebook, port=port, addr=addr), cwd=workdir,
                            env=voila_env(url, allow_writes=allow_writes, refresh=refresh),
                            start_new_session=True)
    mode = "writes allowed (previewed, confirmed)" if allow_writes else "read-only"
    print(f"jsadmin dashboard: http://{addr}:{port}/ for {shown} ({mode}, refresh {refresh:g} s); "
          "Ctrl-C stops it", file=sys.stderr, flush=True)
    try:
        while proc.poll() is None:
            time.sleep(0.5)
        return int(proc.returncode or 0)
    except KeyboardInterrupt:
        return 0
    finally:
        stop_group(proc)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        shutil.rmtree(workdir, ignore_errors=True)


def _interrupt(signum: int, _frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def stop_group(proc: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    """Stop ``proc``'s process group (Voila and its kernels): SIGTERM, then SIGKILL after ``timeout`` s."""
    try:
        pgid = os.getpgid(proc.pid)
    except ProcessLookupError:
        return
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(pgid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            proc.poll()
            try:
                os.killpg(pgid, 0)  # anyone left in the group?
            except ProcessLookupError:
                return
            time.sleep(0.2)


__all__ = ["dashboard_notebook", "run_dashboard", "stop_group", "voila_command", "voila_env"]
