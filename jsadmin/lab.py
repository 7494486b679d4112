"""``jsadmin lab``: start the embedded live demo grid and open JupyterLab on the notebooks.

The grid (a private ``redis-server`` on a free localhost port, seeded, with simulated
agentcontroller/processmanagers/workers) runs in this process; JupyterLab runs as a child with
``JSADMIN_URL`` pointing at it, so ``jsadmin.connect()`` in every notebook reaches the same grid.
Everything stops when JupyterLab exits (Ctrl-C).

>>> from jsadmin.lab import main
>>> main(["--check"])            # doctest: +SKIP
0
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from .embedded import EmbeddedRedis, free_port

if TYPE_CHECKING:  # the demo simulator is imported when the grid starts (the demo extra)
    from .demogrid.grid import LiveGrid

NOTEBOOKS_ENV = "JSADMIN_NOTEBOOKS"


def default_notebooks() -> Path:
    """``$JSADMIN_NOTEBOOKS``, else ``notebooks/`` of a source checkout, else the current directory."""
    env = os.environ.get(NOTEBOOKS_ENV)
    if env:
        return Path(env)
    checkout = Path(__file__).resolve().parents[1] / "notebooks"
    return checkout if checkout.is_dir() else Path.cwd()


def lab_command(notebooks: Path, *, port: int | None, open_browser: bool) -> list[str]:
    """The JupyterLab command line (run with this Python)."""
    cmd = [sys.executable, "-m", "jupyterlab", f"--ServerApp.root_dir={notebooks}"]
    if port:
        cmd.append(f"--ServerApp.port={port}")
    if not open_browser:
        cmd.append("--no-browser")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")  # containers often run as root; JupyterLab refuses otherwise
    return cmd


def start_grid(*, seed: int = 7, quiet: bool = False) -> tuple[EmbeddedRedis, LiveGrid, str]:
    """Start a seeded redis-server on a free TCP port and a live grid on it: ``(server, grid, url)``."""
    import redis

    from .demogrid import seed_demo
    from .demogrid.grid import LiveGrid, Scenario

    server = EmbeddedRedis.start(port=free_port())
    client = redis.Redis.from_url(protocol=2, url=server.url)
    try:
        seed_demo(client, seed=seed)
    finally:
        client.close()
    grid = LiveGrid(server.url, seed=seed, scenario=Scenario.quiet() if quiet else None).start()
    return server, grid, server.url


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="jsadmin lab",
        description="Start the embedded live demo grid and open JupyterLab on the jsadmin notebooks.",
    )
    p.add_argument("--notebooks", type=Path, default=None, help="notebook directory (default: the jsadmin notebooks)")
    p.add_argument("--port", type=int, default=None, help="JupyterLab port (default: JupyterLab's choice)")
    p.add_argument("--no-browser", action="store_true", help="do not open a browser")
    p.add_argument("--seed", type=int, default=7, help="demo seed (default 7)")
    p.add_argument("--quiet-grid", action="store_true", help="deterministic grid: no random errors or traffic")
    p.add_argument("--check", action="store_true",
                   help="start the grid, print the URL and the JupyterLab command, stop; do not launch")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``jsadmin lab``; returns the exit code (JupyterLab's, or 2 on a usage problem).

    >>> main(["--no-browser", "--port", "8899"])   # doctest: +SKIP
    """
    args = _parser().parse_args(list(argv) if argv is not None else None)
    notebooks = (args.notebooks or default_notebooks()).resolve()
    if not notebooks.is_dir():
        print(f"jsadmin lab: notebook directory {notebooks} does not exist", file=sys.stderr)
        return 2
    if not args.check and importlib.util.find_spec("jupyterlab") is None:
        print("jsadmin lab: JupyterLab is not installed; install it with: pip install 'jsadmin[lab]'",
              file=sys.stderr)
        return 2
    server, grid, url = start_grid(seed=args.seed, quiet=args.quiet_grid)
    cmd = lab_command(notebooks, port=args.port, open_browser=not args.no_browser)
    print(f"jsadmin lab: live demo grid at {url}")
    print(f"jsadmin lab: JSADMIN_URL={url} " + " ".join(cmd))
    try:
        if args.check:
            return 0
        env = {**os.environ, "JSADMIN_URL": url}
        try:
            return subprocess.call(cmd, env=env, cwd=notebooks)
        except KeyboardInterrupt:
            return 0
    finally:
        grid.stop()
        server.stop()


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
