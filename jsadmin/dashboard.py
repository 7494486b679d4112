"""``jsadmin dashboard``: the control panels as a self-refreshing web page, served by Voila.

    JSADMIN_URL=redis://:secret@10.0.0.1:9999/0 jsadmin dashboard --port 8866
    jsadmin dashboard --url redis://10.0.0.1:9999/0 --allow-writes --refresh 10

The page is read-only unless ``--allow-writes`` is given (then every write is previewed and
needs *Confirm*). Opening it only reads. The URL reaches the Voila server and its kernels through
the environment (``JSADMIN_URL``), never their command lines; the page shows it without the
password. Giving the URL as ``$JSADMIN_URL`` also keeps it out of this process's own arguments.

>>> main(["dashboard", "--port", "8866"])      # doctest: +SKIP
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .admin import connect
from .connection import parse_url

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


def add_server_parser(subparsers: Any, name: str, parents: Sequence[argparse.ArgumentParser], *, port: int,
                      help: str, description: str) -> argparse.ArgumentParser:
    """Add a ``jsadmin <name>`` HTTP server command with ``--url`` (unless ``parents`` has it), ``--port``
    and ``--addr``; ``description`` ends by pointing to ``$JSADMIN_URL``.

    >>> sub = argparse.ArgumentParser().add_subparsers()
    >>> add_server_parser(sub, "web", (), port=8080, help="serve", description="Serve.").parse_args([]).port
    8080
    """
    p = subparsers.add_parser(
        name, parents=list(parents), help=help,
        description=description + " Give the URL with $JSADMIN_URL to keep a password out of the process list.",
    )
    if not any(a.dest == "url" for parent in parents for a in parent._actions):
        p.add_argument("--url", help="Redis URL (default: $JSADMIN_URL)")
    p.add_argument("--port", type=int, default=port, help=f"HTTP port ({port})")
    p.add_argument("--addr", default="127.0.0.1", help="address to listen on (127.0.0.1; 0.0.0.0 for all)")
    return p


def add_dashboard_parser(subparsers: Any, parents: Sequence[argparse.ArgumentParser] = ()) -> argparse.ArgumentParser:
    """Add ``jsadmin dashboard`` to the CLI's sub-parsers (``parents`` holds the common ``--url``)."""
    p = add_server_parser(
        subparsers, "dashboard", parents, port=DEFAULT_PORT, help="serve the control panels as a web page (Voila)",
        description="Serve the control panels (job browser, enqueue form, jumpscript registry, health board) "
                    "as a self-refreshing web page. Read-only unless --allow-writes.",
    )
    p.add_argument("--allow-writes", action="store_true",
                   help="enable the write controls (each write is previewed, then confirmed); default read-only")
    p.add_argument("--refresh", type=float, default=DEFAULT_REFRESH,
                   help=f"seconds between refreshes of the health board and job browser ({DEFAULT_REFRESH:g})")
    p.set_defaults(func=cmd_dashboard, dashboard_parser=p)
    return p


def target_url(args: argparse.Namespace, parser: argparse.ArgumentParser, command: str, verb: str) -> str:
    """``--url``, else ``$JSADMIN_URL``, for ``jsadmin <command>`` (the grid to ``verb``); a usage error
    (exit 2) when neither is given or ``--inventory`` is; a warning when the URL shows a password."""
    if getattr(args, "inventory", None):
        parser.error("--inventory is not supported here: give one grid's Redis with --url or $JSADMIN_URL")
    url = getattr(args, "url", None) or os.environ.get(ENV_URL)
    if not url:
        parser.error(f"give --url redis://HOST:PORT/DB or set JSADMIN_URL (the grid to {verb}); "
                     "$JSADMIN_URL keeps a password out of the process list")
    warn_password_in_args(args, command)
    return str(url)


def warn_password_in_args(args: argparse.Namespace, command: str) -> None:
    """Say on stderr when ``--url`` carries a password: this process's arguments show it (``ps``)."""
    url = getattr(args, "url", None)
    if url and parse_url(url).password:
        print(f"jsadmin {command}: warning: the password in --url is visible in the process list; "
              "give the URL as JSADMIN_URL instead", file=sys.stderr, flush=True)


def cmd_dashboard(args: argparse.Namespace) -> int:
    """``jsadmin dashboard``: check the arguments and the grid, then run Voila until interrupted."""
    parser: argparse.ArgumentParser = args.dashboard_parser
    if not 0 < args.port < 65536:
        parser.error("--port must be between 1 and 65535")
    if args.refresh < 0.5:
        parser.error("--refresh must be at least 0.5 seconds")
    url = target_url(args, parser, "dashboard", "show")
    if importlib.util.find_spec("voila") is None:
        parser.error("jsadmin dashboard needs Voila: pip install 'jsadmin[dashboard]' (or voila)")
    timeout = float(getattr(args, "timeout", 5.0) or 5.0)
    admin = connect(url, readonly=True, socket_timeout=timeout, socket_connect_timeout=timeout)
    # ^ fail here, not in a blank page, when the grid is unreachable
    admin.redis.ping()
    shown = admin.url
    admin.redis.close()
    workdir = Path(tempfile.mkdtemp(prefix="jsadmin-dashboard-"))
    notebook = workdir / "jsadmin-dashboard.ipynb"
    notebook.write_text(json.dumps(dashboard_notebook(), indent=1), encoding="utf-8")
    previous = {sig: signal.signal(sig, _interrupt) for sig in (signal.SIGTERM, signal.SIGHUP)}
    # its own process group: stopping the dashboard stops Voila and every kernel it started
    proc = subprocess.Popen(voila_command(notebook, port=args.port, addr=args.addr), cwd=workdir,
                            env=voila_env(url, allow_writes=args.allow_writes, refresh=args.refresh),
                            start_new_session=True)
    mode = "writes allowed (previewed, confirmed)" if args.allow_writes else "read-only"
    print(f"jsadmin dashboard: http://{args.addr}:{args.port}/ for {shown} ({mode}, refresh {args.refresh:g} s); "
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


__all__ = ["add_dashboard_parser", "add_server_parser", "cmd_dashboard", "dashboard_notebook", "target_url",
           "voila_command", "voila_env"]
