"""The ``jsadmin`` console script (also ``python -m jsadmin``), declared with click.

    jsadmin summary                              # embedded demo grid: headlines and families
    jsadmin summary --url redis://10.0.0.1       # one node
    jsadmin summary --inventory grid.yaml        # a fleet (see docs/fleet.md)
    jsadmin load jobs                            # a table on a terminal, CSV when piped
    jsadmin load jobs --format json --out jobs.json
    jsadmin snapshot snaps/before
    jsadmin diff snaps/before snaps/after
    jsadmin enqueue --url redis://10.0.0.1 --gid 1 --nid 5 --category jumpscale --cmd echo \\
        --args '{"msg": "hi"}' --wait

Exit status: 0 done; 1 it could not be done (connection, server refused, already exists, job
failed or no result in time); 2 the command line is wrong or a needed extra is missing (nothing
was started or written); 130 interrupted. Errors print one line on stderr (a usage line above a
command-line error). Progress bars appear only on a terminal.
"""

from __future__ import annotations

import functools
import inspect
import io
import json
import os
import shutil
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import pandas as pd

from . import lab
from ._version import __version__
from .admin import connect, demo
from .analytics.recorder import run_recorder
from .catalog import FAMILIES
from .cli_text import as_flags, indented_table, terminal_table
from .connection import parse_url, scrub, url_secrets
from .dashboard import DEFAULT_PORT as DASHBOARD_PORT
from .dashboard import DEFAULT_REFRESH, run_dashboard
from .diffs import diff
from .errors import (
    ConnectionConfigError,
    JobTimeoutError,
    JsAdminError,
    UnknownFamilyError,
    WriteValidationError,
    did_you_mean,
)
from .extras import MissingExtraError
from .fleets import fleet, quick_retry
from .metrics import DEFAULT_PORT as METRICS_PORT
from .metrics import LEFTOVER_AFTER, MAX_ENTRIES, MAX_KEYS, run_metrics_server
from .parquet import encode_frame
from .snapshot import open_snapshot
from .summary import RECENT, summarize
from .writes.api import WritesMixin
from .writes.jobs import prepare_job
from .writes.jumpscripts import JumpscriptExistsError, prepare_jumpscript


class UsageError(JsAdminError, ValueError):
    """Bad command-line input (exit status 2)."""


class JobFailed(JsAdminError):
    """``enqueue --wait``: the job ended in another state than OK (exit status 1)."""


EXIT_CODES = """\b
exit status:
  0    done
  1    could not be done: connection or server error, the target already exists, a waited-for job
       failed or sent no result in time
  2    the command line is wrong (unknown command or option, bad value, invalid JSON, a name Redis
       keys cannot hold) or the command needs an extra that is not installed: checked before
       anything starts, nothing is written
  130  interrupted (Ctrl-C)"""


_secrets: list[str] = []
"""Passwords found in this run's arguments and ``$JSADMIN_URL`` (set by :func:`main`)."""


def _argv_secrets(argv: Sequence[str]) -> list[str]:
    """Every password in a URL-like argument (``--url X``, ``--url=X``, a stray URL, ``?password=``)."""
    found: list[str] = []
    for text in (*argv, os.environ.get("JSADMIN_URL") or ""):
        if "://" in text or "password=" in text.lower():
            found += url_secrets(text)
    return found


def _hide(message: str) -> str:
    """``message`` without any URL password, nor a password given in this run's arguments."""
    return scrub(message, *_secrets)


# --- where a command reads or writes: --url, --inventory, --timeout --------------------------


def _tty() -> bool:
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


def _progress(desc: str) -> Callable[[int, int], None] | None:
    """A ``progress(done, total)`` callback drawing a tqdm bar, only when stderr is a terminal."""
    if not _tty():
        return None
    from tqdm import tqdm

    bar: dict[str, Any] = {}

    def update(done: int, total: int) -> None:
        if "bar" not in bar:
            bar["bar"] = tqdm(total=total, desc=desc, unit="node", file=sys.stderr, leave=False)
        bar["bar"].update(done - bar["bar"].n)
        if done >= total:
            bar.pop("bar").close()

    return update


@dataclass
class Target:
    """A command's ``--url``, ``--inventory`` and ``--timeout``.

    >>> Target("summary", None, None, 5.0).options()["socket_timeout"]
    5.0
    """

    command: str
    url: str | None
    inventory: str | None
    timeout: float

    def open(self, *, writes: bool = False) -> Any:
        """An Admin (``--url``, ``$JSADMIN_URL`` or the embedded demo) or a Fleet (``--inventory``).

        Writes without a URL go to the *live* demo grid, whose simulated workers run the jobs.
        """
        if self.url and self.inventory:
            raise UsageError("give --url or --inventory, not both")
        if self.inventory:
            if writes:
                raise UsageError("writes go to one Redis: use --url, not --inventory")
            fl = fleet(self.inventory, readonly=True, timeout=self.timeout)
            fl.progress = _progress(self.command)
            return fl
        url = self.url or os.environ.get("JSADMIN_URL")
        if url is None:
            live = " (live: its simulated workers run jobs)" if writes else ""
            print(f"jsadmin: no --url and no $JSADMIN_URL: starting the embedded demo grid{live}", file=sys.stderr)
            return demo(live=writes)
        admin = connect(url, readonly=not writes, **self.options())
        admin.redis.ping()  # fail fast with a clear connection error
        return admin

    def options(self) -> dict[str, Any]:
        """Connection keywords for ``--timeout``."""
        return {"socket_connect_timeout": self.timeout, "socket_timeout": self.timeout, "retry": quick_retry()}

    def server_url(self, verb: str) -> str:
        """``--url``, else ``$JSADMIN_URL``, for a server command (the grid to ``verb``); a warning
        on stderr when ``--url`` shows a password (this process's arguments show it: ``ps``)."""
        if self.inventory:
            raise UsageError("--inventory is not supported here: give one grid's Redis with --url or $JSADMIN_URL")
        url = self.url or os.environ.get("JSADMIN_URL")
        if not url:
            raise UsageError(f"give --url redis://HOST:PORT/DB or set JSADMIN_URL (the grid to {verb}); "
                             "$JSADMIN_URL keeps a password out of the process list")
        if self.url and parse_url(self.url).password:
            print(f"jsadmin {self.command}: warning: the password in --url is visible in the process list; "
                  "give the URL as JSADMIN_URL instead", file=sys.stderr, flush=True)
        return url


Command = Callable[..., int]


def _target(f: Command) -> Command:
    """Give a command ``--url``, ``--inventory`` and ``--timeout``, passed to ``f`` as one :class:`Target`."""

    @functools.wraps(f)
    def command(url: str | None, inventory: str | None, timeout: float, **options: Any) -> int:
        return f(Target(click.get_current_context().info_name or "jsadmin", url, inventory, timeout), **options)

    # click shows the last applied first: --url, --inventory, --timeout, after the command's own options
    command = click.option("--timeout", type=float, default=5.0, metavar="SECONDS",
                           help="seconds per connection/command (5)")(command)
    command = click.option("--inventory", metavar="FILE", help="fleet inventory (YAML/TOML; docs/fleet.md)")(command)
    return click.option("--url", metavar="URL", help="Redis URL (redis://[user:pass@]host[:port][/db], rediss://, "
                                                     "unix://); default $JSADMIN_URL, else the embedded demo grid")(command)


class _Choice(click.Choice):
    """A choice whose error names the closest one ("did you mean 'json'?")."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        try:
            return super().convert(value, param, ctx)
        except click.BadParameter as exc:
            self.fail(f"{exc.message}{did_you_mean(str(value), [str(c) for c in self.choices])}", param, ctx)


class _Group(click.Group):
    """Commands listed in the order they are declared; an unknown one gets "did you mean"."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(self.commands)

    def resolve_command(self, ctx: click.Context, args: list[str]) -> tuple[str | None, click.Command | None, list[str]]:
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            ctx.fail(f"unknown command {args[0]!r}{did_you_mean(args[0], self.commands)}; "
                     f"commands: {', '.join(self.commands)}")
        return super().resolve_command(ctx, args)


@click.group(cls=_Group, no_args_is_help=False,
             context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
             epilog="Without --url or --inventory, commands use $JSADMIN_URL, else an embedded demo grid.\n\n"
                    + EXIT_CODES)
@click.version_option(__version__, message="jsadmin %(version)s", help="print the jsadmin version and exit")
def cli() -> None:
    """Admin tool for the Redis state of JumpScale 7 grids."""


def command(name: str, short_help: str, **settings: Any) -> Callable[[Command], click.Command]:
    """Declare ``jsadmin <name>``: the function's docstring is its help, the exit statuses its epilog."""
    return cli.command(name, short_help=short_help, epilog=EXIT_CODES, **settings)


def _where(pairs: Sequence[str]) -> dict[str, Any]:
    filters: dict[str, Any] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise UsageError(f"--where needs COLUMN=VALUE, got {pair!r}")
        filters[name] = int(value) if value.lstrip("-").isdigit() else value
    return filters


def _json_arg(text: str | None, what: str) -> Any:
    if text is None:
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"{what} is not valid JSON: {exc.msg} at character {exc.pos}") from None


# --- summary (the text: jsadmin.summary) ---------------------------------------------------


@command("summary", "headlines (jobs in flight, queue ages, run times, stale heartbeats, errors) and families")
@click.option("--stale", type=float, default=60.0, metavar="SECONDS", help="heartbeat age counted as stale (60)")
@click.option("--recent", type=float, default=RECENT, metavar="SECONDS",
              help=f"run-time percentiles over jobs finished this recently ({RECENT:g})")
@click.option("--leftover-after", type=float, default=LEFTOVER_AFTER, metavar="SECONDS",
              help=f"jobs untouched this long are leftovers, not current work ({LEFTOVER_AFTER:g} = 7 days)")
@_target
def cmd_summary(target: Target, stale: float, recent: float, leftover_after: float) -> int:
    """Headlines (jobs in flight, queue ages, run times, stale heartbeats, errors) and families."""
    print(summarize(target.open(), stale=stale, recent=recent, leftover_after=leftover_after))
    return 0


# --- load / snapshot / diff -----------------------------------------------------------------


FORMAT_BY_SUFFIX = {".csv": "csv", ".json": "json", ".parquet": "parquet", ".pq": "parquet", ".txt": "table"}


def _stdout_tty() -> bool:
    try:
        return sys.stdout.isatty()
    except (AttributeError, ValueError):
        return False


def _load_format(fmt: str | None, out: str | None) -> str:
    """``--format``, else from ``--out``'s suffix, else a table on a terminal and CSV when piped."""
    if fmt:
        return fmt
    if out:
        return FORMAT_BY_SUFFIX.get(Path(out).suffix.lower(), "csv")
    return "table" if _stdout_tty() else "csv"


TABLE_FIRST = ("guid", "state", "category", "cmd", "nid", "role", "id", "timeCreate", "timeStart", "timeStop")


def readable_order(df: pd.DataFrame) -> pd.DataFrame:
    """Columns for a terminal: job essentials first, ``key``/``field`` last, duplicates of an
    earlier column (``field`` = ``guid``, ``key_gid`` = ``gid``) dropped.

    >>> list(readable_order(pd.DataFrame({"key": ["k"], "field": ["g"], "guid": ["g"], "x": [1]})).columns)
    ['guid', 'x', 'key']
    """
    order = [c for c in TABLE_FIRST if c in df.columns]
    order += [c for c in df.columns if c not in order and c not in ("key", "field")]
    order += [c for c in ("key", "field") if c in df.columns]
    kept: list[str] = []
    for c in order:
        if not any(_same(df[c], df[k]) for k in kept):
            kept.append(c)
    return df[kept]


def _same(a: pd.Series, b: pd.Series) -> bool:
    try:
        return bool(len(a)) and bool((a.astype("string").fillna("") == b.astype("string").fillna("")).all())
    except (TypeError, ValueError):
        return False


def _family_name(name: str) -> str:
    if name not in FAMILIES:
        raise UsageError(f"unknown family {name!r}{did_you_mean(name, FAMILIES)}; "
                         f"known families: {', '.join(sorted(FAMILIES))}")
    return name


@command("load", "one family as a table (terminal), CSV (piped), JSON or Parquet")
@click.argument("family")
@click.option("--format", "fmt", type=_Choice(("table", "csv", "json", "parquet")), metavar="FORMAT",
              help="table, csv, json or parquet (default: from --out's suffix, else table on a terminal, "
                   "csv when piped)")
@click.option("--out", metavar="FILE", help="write here instead of stdout")
@click.option("--where", multiple=True, metavar="COL=VALUE",
              help="keep rows whose COL equals VALUE (repeatable), e.g. --where state=ERROR")
@click.option("--expand", metavar="COL", help="add COL.<key> columns for a dict column (e.g. args)")
@click.option("--columns", metavar="A,B,...", help="only these columns, in this order")
@click.option("--rows", type=int, default=50, metavar="N", help="rows shown by --format table (50)")
@_target
def cmd_load(target: Target, family: str, fmt: str | None, out: str | None, where: tuple[str, ...],
             expand: str | None, columns: str | None, rows: int) -> int:
    """One FAMILY (e.g. jobs, command_queues, ecos; jsadmin summary lists them) as a table on a
    terminal, CSV when piped, JSON or Parquet."""
    _family_name(family)  # input errors are reported before connecting or starting a server
    filters = _where(where)
    if expand:
        filters["expand"] = expand
    fmt = _load_format(fmt, out)
    wanted = [c.strip() for c in columns.split(",") if c.strip()] if columns else None
    if fmt == "parquet" and not out and _stdout_tty():
        raise UsageError("parquet is binary: give --out FILE (or redirect stdout)")
    df, info = target.open().load_with_info(family, **filters)
    if wanted:
        missing = [c for c in wanted if c not in df.columns]
        if missing:
            hint = did_you_mean(missing[0], df.columns)
            raise UsageError(f"--columns: no column {missing[0]!r} in {family}{hint}; "
                             f"columns: {', '.join(map(str, df.columns))}")
        df = df[wanted]
    if fmt == "parquet":
        encoded, _ = encode_frame(df)
        if out:
            encoded.to_parquet(out, index=False)
        else:
            buf = io.BytesIO()
            encoded.to_parquet(buf, index=False)
            sys.stdout.buffer.write(buf.getvalue())
            sys.stdout.flush()
    else:
        if fmt == "table":
            width = shutil.get_terminal_size((120, 24)).columns
            shown = df if wanted else readable_order(df)
            text = terminal_table(shown, width=width, rows=rows, columns=wanted) + "\n"
        elif fmt == "csv":
            text = encode_frame(df)[0].to_csv(index=False)
        else:
            text = df.to_json(orient="records", date_format="iso", default_handler=str, indent=None)
            text += "\n"
        if out:
            Path(out).write_text(text, encoding="utf-8")
        else:
            sys.stdout.write(text)
    if out:
        print(f"{len(df)} rows of {family} written to {out} ({fmt})", file=sys.stderr)
    if len(info.problems):
        print(f"jsadmin: {len(info.problems)} value(s) did not decode (see Admin.problems())", file=sys.stderr)
    return 0


@command("snapshot", "every family to Parquet under PATH")
@click.argument("path")
@click.option("--overwrite", is_flag=True, help="replace an existing snapshot at PATH")
@_target
def cmd_snapshot(target: Target, path: str, overwrite: bool) -> int:
    """Every family to Parquet under PATH, a directory to create (it must not exist, unless --overwrite)."""
    if Path(path).exists() and not overwrite:  # the same refusal snapshot() makes, before any server starts
        raise JsAdminError(f"{path} already exists; choose a new path or pass --overwrite")
    written = target.open().snapshot(path, overwrite=overwrite)
    snap = open_snapshot(written)
    rows = sum(sum(f["rows"].values()) for f in snap.manifest["families"].values())
    print(f"snapshot written to {written}: {len(snap.family_names)} families, {rows} rows, "
          f"{len(snap.answered)} of {len(snap.sources)} source(s)")
    for s in snap.manifest.get("status") or []:
        if not s.get("ok"):
            print(f"  not reached: {s['source']} ({s['error']})", file=sys.stderr)
    return 0


def _observation(spec: str, target: Target) -> Any:
    if "://" in spec:
        admin = connect(spec, readonly=True, **target.options())
        admin.redis.ping()
        return admin
    if not Path(spec).exists():
        raise UsageError(f"{spec}: no such snapshot directory (or give a redis:// URL)")
    return open_snapshot(spec)


@command("diff", "compare two snapshots (or redis:// URLs)")
@click.argument("before")
@click.argument("after")
@click.option("-v", "--verbose", is_flag=True, help="print the rows of each section")
@click.option("--rows", type=int, default=20, metavar="N", help="rows per section with -v (20)")
@_target
def cmd_diff(target: Target, before: str, after: str, verbose: bool, rows: int) -> int:
    """Compare BEFORE with AFTER, each a snapshot directory or a redis:// URL."""
    d = diff(_observation(before, target), _observation(after, target))
    span = (d.after_at - d.before_at).total_seconds()
    print(f"jsadmin diff {before} -> {after} ({span:.0f} s apart)")
    print("")
    print("families that changed:")
    print(indented_table(d.summary(all_families=False)))
    for name in ("new_jobs", "finished_jobs", "stuck_jobs", "grown_queues", "stopped_workers"):
        frame = getattr(d, name)
        print("")
        print(f"{name.replace('_', ' ')}: {len(frame)}")
        if len(frame) and verbose:
            print(indented_table(frame.head(rows)))
    return 0


# --- record / lab ---------------------------------------------------------------------------


@command("record", "record history to Parquet (analytics)")
@click.option("--out", required=True, metavar="DIR", help="directory of the Parquet history (by day)")
@click.option("--interval", type=float, default=1.0, metavar="SECONDS", help="seconds between polls (1)")
@click.option("--duration", type=float, metavar="SECONDS", help="seconds to run (default: until Ctrl-C)")
@_target
def cmd_record(target: Target, out: str, interval: float, duration: float | None) -> int:
    """Record history to Parquet (analytics), one poll every --interval seconds."""
    if target.inventory:
        raise UsageError("record follows one Redis: use --url, not --inventory")
    return int(run_recorder(connect(target.url, readonly=True), out, interval, duration) or 0)


@command("lab", "open the notebooks / control panels in JupyterLab", add_help_option=False,
         context_settings={"ignore_unknown_options": True})
@click.argument("lab_options", nargs=-1, type=click.UNPROCESSED)
def cmd_lab(lab_options: tuple[str, ...]) -> int:
    """Start the live demo grid and open JupyterLab on the notebooks; LAB_OPTIONS are jsadmin.lab's
    (jsadmin lab --help lists them)."""
    return int(lab.main(list(lab_options)) or 0)


# --- writes ---------------------------------------------------------------------------------


def _json_value(value: Any) -> Any:
    """JSON for what ``json`` cannot encode: UTC timestamps as ISO 8601 (``NaT`` as null), the rest as text."""
    if value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return str(value)


def _show(result: Any) -> None:
    if hasattr(result, "commands"):  # a WritePlan
        print(repr(result))
    else:
        print(json.dumps(result, indent=2, default=_json_value, sort_keys=True))


ENQUEUE_FLAGS = {"gid": "--gid", "nid": "--nid", "role": "--role", "category": "--category", "cmd": "--cmd",
                 "args": "--args", "queue": "--queue", "timeout": "--job-timeout", "wait": "--wait"}
REGISTER_FLAGS = {"organization": "--organization", "name": "--name", "source": "--source", "descr": "--descr",
                  "gid": "--gid", "replace": "--replace"}
SNAPSHOT_FLAGS = {"overwrite": "--overwrite"}


@command("enqueue", "schedule a job like the agentcontroller (--wait: and wait for its result)")
@click.option("--gid", type=int, required=True, metavar="GID", help="grid id of the job (jobs:<gid>, jobs:last field)")
@click.option("--nid", type=int, metavar="NID",
              help="node id that runs the job (queue queues:commands:queue:<gid>:<nid>); give --nid or --role")
@click.option("--role", metavar="ROLE",
              help="role whose nodes may run the job (queue queues:commands:queue:<gid>:<role>)")
@click.option("--category", required=True, metavar="CATEGORY", help="jumpscript organization, e.g. jumpscale")
@click.option("--cmd", required=True, metavar="CMD", help="jumpscript name, e.g. echo")
@click.option("--args", "job_args", metavar="JSON", help="job arguments as a JSON object, e.g. '{\"msg\": \"hi\"}'")
@click.option("--queue", default="", metavar="QUEUE", help="worker queue ('' = default, io, hypervisor, process)")
@click.option("--job-timeout", type=float, default=600, metavar="SECONDS", help="job timeout in seconds (600)")
@click.option("--wait", is_flag=True, help="set wait=true and wait for the result (queues:jobqueue:<guid>); print it; "
                                           "exit 1 unless it is OK")
@click.option("--wait-timeout", type=click.FloatRange(min=0), metavar="SECONDS",
              help="with --wait: give up after this many seconds (default: --job-timeout + 10)")
@click.option("--dry-run", is_flag=True, help="print the plan, write nothing")
@_target
def cmd_enqueue(target: Target, gid: int, nid: int | None, role: str | None, category: str, cmd: str,
                job_args: str | None, queue: str, job_timeout: float, wait: bool, wait_timeout: float | None,
                dry_run: bool) -> int:
    """Schedule a job like the agentcontroller, on node --nid or on a node of --role (--wait: and
    wait for its result)."""
    parsed = _json_arg(job_args, "--args")
    if parsed is not None and not isinstance(parsed, dict):
        raise UsageError("--args must be a JSON object, e.g. '{\"msg\": \"hi\"}'")
    options: dict[str, Any] = dict(nid=nid, role=role, category=category, cmd=cmd, args=parsed or {}, queue=queue,
                                   timeout=job_timeout, wait=wait)
    prepare_job(gid, **options)  # every value checked (names Redis keys can hold, numbers) before any server starts
    admin = target.open(writes=True)
    result = admin.enqueue_job(gid, **options, dry_run=dry_run)
    if not wait or dry_run:
        _show(result)
        return 0
    limit = wait_timeout if wait_timeout is not None else (job_timeout or 600) + 10
    try:
        print(f"jsadmin enqueue: job {result['guid']} scheduled (id {result.get('id')}); waiting up to {limit:g} s "
              "for its result", file=sys.stderr, flush=True)
        final = admin.wait_job(result["guid"], timeout=limit)
    except JobTimeoutError:
        raise JobTimeoutError(f"job {result['guid']} sent no result within {limit:g} s (--wait-timeout); it may "
                              f"still run: jsadmin load jobs --where guid={result['guid']}") from None
    _show(final)
    if final.get("state") != "OK":
        raise JobFailed(f"job {result['guid']} ended {final.get('state')}")
    return 0


@command("register", "store a jumpscript like the processmanager")
@click.option("--organization", required=True, metavar="ORG", help="jumpscript organization, e.g. ops")
@click.option("--name", required=True, metavar="NAME",
              help="jumpscript name (workers look up <organization>__<name>)")
@click.option("--source", required=True, metavar="FILE", help="jumpscript source file, or - for stdin")
@click.option("--descr", metavar="TEXT", help="one-line description (default: the source's descr = '...')")
@click.option("--gid", type=int, metavar="GID",
              help="the node's grid id (default: what its jumpscripts or jobs:last say)")
@click.option("--options", metavar="JSON",
              help="more register_jumpscript keywords as JSON, e.g. '{\"roles\": [\"node\"]}'")
@click.option("--replace", is_flag=True, help="overwrite a different source of the same name")
@click.option("--dry-run", is_flag=True, help="print the plan, write nothing")
@_target
def cmd_register(target: Target, organization: str, name: str, source: str, descr: str | None, gid: int | None,
                 options: str | None, replace: bool, dry_run: bool) -> int:
    """Store a jumpscript like the processmanager."""
    extra = _json_arg(options, "--options") or {}
    if not isinstance(extra, dict):
        raise UsageError("--options must be a JSON object of register_jumpscript keywords")
    allowed = [k for k in inspect.signature(WritesMixin.register_jumpscript).parameters
               if k not in ("self", "organization", "name", "source", "descr", "replace", "dry_run", "gid")]
    for key in extra:
        if key not in allowed:
            raise UsageError(f"--options: unknown keyword {key!r}{did_you_mean(key, allowed)}; "
                             f"known: {', '.join(allowed)}")
    if source == "-":
        text = sys.stdin.read()
    elif Path(source).is_file():
        text = Path(source).read_text(encoding="utf-8")
    else:
        raise UsageError(f"--source {source}: no such file")
    prepare_jumpscript(organization, name, text, descr=descr, gid=gid, **extra)
    admin = target.open(writes=True)
    _show(admin.register_jumpscript(organization, name, text, descr=descr, gid=gid, replace=replace,
                                    dry_run=dry_run, **extra))
    return 0


# --- servers --------------------------------------------------------------------------------


def _listen(port: int) -> Callable[[Command], Command]:
    """``--port`` and ``--addr`` of an HTTP server command."""

    def add(f: Command) -> Command:
        f = click.option("--addr", default="127.0.0.1", metavar="ADDR",
                         help="address to listen on (127.0.0.1; 0.0.0.0 for all)")(f)
        return click.option("--port", type=click.IntRange(1, 65535), default=port, metavar="PORT",
                            help=f"HTTP port ({port})")(f)

    return add


@command("dashboard", "serve the control panels as a web page (Voila)")
@_listen(DASHBOARD_PORT)
@click.option("--allow-writes", is_flag=True,
              help="enable the write controls (each write is previewed, then confirmed); default read-only")
@click.option("--refresh", type=click.FloatRange(min=0.5), default=DEFAULT_REFRESH, metavar="SECONDS",
              help=f"seconds between refreshes of the health board and job browser ({DEFAULT_REFRESH:g})")
@_target
def cmd_dashboard(target: Target, port: int, addr: str, allow_writes: bool, refresh: float) -> int:
    """Serve the control panels (job browser, enqueue form, jumpscript registry, health board) as a
    self-refreshing web page. Read-only unless --allow-writes. Give the URL with $JSADMIN_URL to keep
    a password out of the process list."""
    return run_dashboard(target.server_url("show"), port=port, addr=addr, allow_writes=allow_writes,
                         refresh=refresh, timeout=target.timeout)


@command("metrics", "serve Prometheus metrics of the grid (read-only)")
@_listen(METRICS_PORT)
@click.option("--max-keys", type=click.IntRange(min=1), default=MAX_KEYS, metavar="N",
              help=f"keys read per family per scrape ({MAX_KEYS})")
@click.option("--max-entries", type=click.IntRange(min=1), default=MAX_ENTRIES, metavar="N",
              help=f"entries read per key per scrape ({MAX_ENTRIES})")
@click.option("--stale", type=float, default=120.0, metavar="SECONDS", help="heartbeat age counted as stale (120)")
@click.option("--leftover-after", type=float, default=LEFTOVER_AFTER, metavar="SECONDS",
              help=f"jobs untouched this long are leftovers, not current work ({LEFTOVER_AFTER:g} = 7 days)")
@_target
def cmd_metrics(target: Target, port: int, addr: str, max_keys: int, max_entries: int, stale: float,
                leftover_after: float) -> int:
    """Serve Prometheus metrics of one grid's Redis on http://ADDR:PORT/metrics. Each scrape reads
    Redis (read-only, bounded by --max-keys/--max-entries). Give the URL with $JSADMIN_URL to keep a
    password out of the process list."""
    return run_metrics_server(target.server_url("read"), port=port, addr=addr, max_keys=max_keys,
                              max_entries=max_entries, stale=stale, leftover_after=leftover_after,
                              timeout=target.timeout)


# --- running it -----------------------------------------------------------------------------


def _connection_errors() -> tuple[type[BaseException], ...]:
    import redis

    return (redis.exceptions.RedisError, ConnectionError, TimeoutError)


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``jsadmin`` with ``argv`` (default ``sys.argv[1:]``); return the exit status.

    >>> main(["summary"])   # doctest: +SKIP
    0
    """
    argv = list(argv) if argv is not None else sys.argv[1:]
    _secrets[:] = _argv_secrets(argv)
    ctx: click.Context | None = None
    runtime_errors: tuple[type[BaseException], ...] = (*_connection_errors(), JsAdminError, OSError, ValueError)
    try:
        with cli.make_context("jsadmin", list(argv)) as ctx:  # a copy: click consumes it
            return int(cli.invoke(ctx) or 0)
    except click.exceptions.Exit as exc:  # --help, --version
        return exc.exit_code
    except click.UsageError as exc:  # the command line, checked before anything starts
        _usage_error(exc, argv)
        return 2
    except SystemExit as exc:  # jsadmin lab's own parser (its --help, its usage errors)
        return exc.code if isinstance(exc.code, int) else 1
    except KeyboardInterrupt:
        print("jsadmin: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except JumpscriptExistsError as exc:  # the server holds another source: --replace decides
        _fail(ctx, exc)
        return 1
    except (UsageError, WriteValidationError, UnknownFamilyError, ConnectionConfigError, MissingExtraError,
            KeyError, TypeError) as exc:
        _fail(ctx, exc)
        return 2
    except runtime_errors as exc:
        _fail(ctx, exc)
        return 1


def _given(argv: Sequence[str], option: str) -> str:
    """``option`` as typed, with the value that follows it (``--stael 5``)."""
    at = argv.index(option) if option in argv else len(argv)
    value = argv[at + 1 : at + 2]
    return " ".join([option, *[v for v in value if not v.startswith("-") and v not in cli.commands]])


def _usage_error(exc: click.UsageError, argv: Sequence[str]) -> None:
    """A usage line, then ``jsadmin <command>: error: ...`` with "did you mean"; passwords masked."""
    ctx = exc.ctx
    message = exc.format_message()
    if isinstance(exc, click.NoSuchOption):
        options = [o for p in (ctx.command.get_params(ctx) if ctx else []) for o in p.opts if o.startswith("--")]
        message = f"no such option: {_given(argv, exc.option_name)}{did_you_mean(exc.option_name, options)}"
        verb = next((a for a in argv if a in cli.commands), None)
        if ctx is not None and ctx.parent is None and verb:
            moved = [a for a in argv if a != verb]
            message += f" (options such as --url go after the command: jsadmin {verb} {' '.join(moved)})"
    if "://" in message and "go after the command" not in message and not isinstance(exc, click.BadParameter):
        message += " (give a Redis URL as --url URL)"
    if ctx is not None:
        print(ctx.get_usage().replace("Usage:", "usage:", 1), file=sys.stderr)
    print(f"{ctx.command_path if ctx else 'jsadmin'}: error: {_hide(message)}", file=sys.stderr)


def _fail(ctx: click.Context | None, exc: BaseException) -> None:
    command = (ctx.invoked_subcommand if ctx else None) or ""
    message = str(exc.args[0]) if isinstance(exc, KeyError) and exc.args else str(exc)
    message = " ".join(_hide(message).split()) or type(exc).__name__
    flags = {"enqueue": ENQUEUE_FLAGS, "register": REGISTER_FLAGS, "snapshot": SNAPSHOT_FLAGS}.get(command, {})
    print(f"jsadmin {command}: error: {as_flags(message, flags)}", file=sys.stderr)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
