"""The ``jsadmin`` console script (also ``python -m jsadmin``).

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
failed or no result in time); 2 the command line is wrong (nothing was started or written);
130 interrupted. Errors print one line on stderr. Progress bars appear only on a terminal.
"""

from __future__ import annotations

import argparse
import inspect
import io
import json
import os
import shutil
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

import pandas as pd

from . import lab
from ._version import __version__
from .admin import connect, demo
from .analytics.recorder import run_recorder
from .catalog import FAMILIES
from .cli_text import as_flags, did_you_mean, indented_table, suggest_choice, terminal_table
from .connection import parse_url, scrub, url_secrets
from .dashboard import add_dashboard_parser
from .diffs import diff
from .errors import (
    ConnectionConfigError,
    JobTimeoutError,
    JsAdminError,
    UnknownFamilyError,
    WriteValidationError,
)
from .fleets import Fleet, fleet, quick_retry
from .metrics import LEFTOVER_AFTER, add_metrics_parser
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


EXIT_CODES = """exit status:
  0    done
  1    could not be done: connection or server error, the target already exists, a waited-for job
       failed or sent no result in time
  2    the command line is wrong (unknown command or option, bad value, invalid JSON, a name Redis
       keys cannot hold): checked before anything starts, nothing is written
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


class _Parser(argparse.ArgumentParser):
    """argparse that never echoes a password: its errors quote arguments (``invalid choice:
    'redis://:pw@h'``, ``unrecognized arguments: ...``), so they are scrubbed first."""

    def error(self, message: str) -> NoReturn:
        message = _hide(message)
        if "unrecognized arguments" in message and "://" in message:
            message += " (give a Redis URL as --url URL)"
        elif "invalid choice" in message and "://" in message:
            message += " (options such as --url go after the command: jsadmin summary --url URL)"
        elif "invalid choice" in message:
            message = suggest_choice(message)
        super().error(message)


# --- helpers --------------------------------------------------------------------------------


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


def _open(args: argparse.Namespace, *, writes: bool = False) -> Any:
    """An Admin (``--url``, ``$JSADMIN_URL`` or the embedded demo) or a Fleet (``--inventory``).

    Writes without a URL go to the *live* demo grid, whose simulated workers run the jobs.
    """
    if args.url and args.inventory:
        raise UsageError("give --url or --inventory, not both")
    if args.inventory:
        if writes:
            raise UsageError("writes go to one Redis: use --url, not --inventory")
        fl = fleet(args.inventory, readonly=True, timeout=args.timeout)
        fl.progress = _progress(args.command)
        return fl
    url = args.url or os.environ.get("JSADMIN_URL")
    if url is None:
        live = " (live: its simulated workers run jobs)" if writes else ""
        print(f"jsadmin: no --url and no $JSADMIN_URL: starting the embedded demo grid{live}", file=sys.stderr)
        return demo(live=writes)
    admin = connect(url, readonly=not writes, **_options(args))
    admin.redis.ping()  # fail fast with a clear connection error
    return admin


def _options(args: argparse.Namespace) -> dict[str, Any]:
    return {"socket_connect_timeout": args.timeout, "socket_timeout": args.timeout, "retry": quick_retry()}


def _is_fleet(obj: Any) -> bool:
    return isinstance(obj, Fleet)


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


def cmd_summary(args: argparse.Namespace) -> int:
    obj = _open(args)
    print(summarize(obj, stale=args.stale, recent=args.recent, leftover_after=args.leftover_after))
    return 0


# --- load / snapshot / diff -----------------------------------------------------------------


FORMAT_BY_SUFFIX = {".csv": "csv", ".json": "json", ".parquet": "parquet", ".pq": "parquet", ".txt": "table"}


def _stdout_tty() -> bool:
    try:
        return sys.stdout.isatty()
    except (AttributeError, ValueError):
        return False


def _load_format(args: argparse.Namespace) -> str:
    """``--format``, else from ``--out``'s suffix, else a table on a terminal and CSV when piped."""
    if args.format:
        return str(args.format)
    if args.out:
        return FORMAT_BY_SUFFIX.get(Path(args.out).suffix.lower(), "csv")
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


def cmd_load(args: argparse.Namespace) -> int:
    _family_name(args.family)  # input errors are reported before connecting or starting a server
    filters = _where(args.where)
    if args.expand:
        filters["expand"] = args.expand
    fmt = _load_format(args)
    columns = [c.strip() for c in args.columns.split(",") if c.strip()] if args.columns else None
    if fmt == "parquet" and not args.out and _stdout_tty():
        raise UsageError("parquet is binary: give --out FILE (or redirect stdout)")
    obj = _open(args)
    df, info = obj.load_with_info(args.family, **filters)
    if columns:
        missing = [c for c in columns if c not in df.columns]
        if missing:
            hint = did_you_mean(missing[0], df.columns)
            raise UsageError(f"--columns: no column {missing[0]!r} in {args.family}{hint}; "
                             f"columns: {', '.join(map(str, df.columns))}")
        df = df[columns]
    if fmt == "parquet":
        encoded, _ = encode_frame(df)
        if args.out:
            encoded.to_parquet(args.out, index=False)
        else:
            buf = io.BytesIO()
            encoded.to_parquet(buf, index=False)
            sys.stdout.buffer.write(buf.getvalue())
            sys.stdout.flush()
    else:
        if fmt == "table":
            width = shutil.get_terminal_size((120, 24)).columns
            shown = df if columns else readable_order(df)
            text = terminal_table(shown, width=width, rows=args.rows, columns=columns) + "\n"
        elif fmt == "csv":
            text = encode_frame(df)[0].to_csv(index=False)
        else:
            text = df.to_json(orient="records", date_format="iso", default_handler=str, indent=None)
            text += "\n"
        if args.out:
            Path(args.out).write_text(text, encoding="utf-8")
        else:
            sys.stdout.write(text)
    if args.out:
        print(f"{len(df)} rows of {args.family} written to {args.out} ({fmt})", file=sys.stderr)
    if len(info.problems):
        print(f"jsadmin: {len(info.problems)} value(s) did not decode (see Admin.problems())", file=sys.stderr)
    return 0


def cmd_snapshot(args: argparse.Namespace) -> int:
    target = Path(args.path)
    if target.exists() and not args.overwrite:  # the same refusal snapshot() makes, before any server starts
        raise JsAdminError(f"{target} already exists; choose a new path or pass --overwrite")
    obj = _open(args)
    path = obj.snapshot(args.path, overwrite=args.overwrite)
    snap = open_snapshot(path)
    rows = sum(sum(f["rows"].values()) for f in snap.manifest["families"].values())
    print(f"snapshot written to {path}: {len(snap.family_names)} families, {rows} rows, "
          f"{len(snap.answered)} of {len(snap.sources)} source(s)")
    if snap.manifest.get("status"):
        failed = [s for s in snap.manifest["status"] if not s.get("ok")]
        for s in failed:
            print(f"  not reached: {s['source']} ({s['error']})", file=sys.stderr)
    return 0


def _observation(spec: str, args: argparse.Namespace) -> Any:
    if "://" in spec:
        admin = connect(spec, readonly=True, **_options(args))
        admin.redis.ping()
        return admin
    if not Path(spec).exists():
        raise UsageError(f"{spec}: no such snapshot directory (or give a redis:// URL)")
    return open_snapshot(spec)


def cmd_diff(args: argparse.Namespace) -> int:
    d = diff(_observation(args.a, args), _observation(args.b, args))
    span = (d.after_at - d.before_at).total_seconds()
    print(f"jsadmin diff {args.a} -> {args.b} ({span:.0f} s apart)")
    print("")
    print("families that changed:")
    print(indented_table(d.summary(all_families=False)))
    for name in ("new_jobs", "finished_jobs", "stuck_jobs", "grown_queues", "stopped_workers"):
        frame = getattr(d, name)
        print("")
        print(f"{name.replace('_', ' ')}: {len(frame)}")
        if len(frame) and args.verbose:
            print(indented_table(frame.head(args.rows)))
    return 0


# --- record / lab ---------------------------------------------------------------------------


def cmd_record(args: argparse.Namespace) -> int:
    if args.inventory:
        raise UsageError("record follows one Redis: use --url, not --inventory")
    return int(run_recorder(connect(args.url, readonly=True), args.out, args.interval, args.duration) or 0)


def cmd_lab(args: argparse.Namespace) -> int:
    if args.url:
        os.environ["JSADMIN_URL"] = args.url
    result = lab.main(list(args.lab_args))
    return int(result or 0)


# --- writes ---------------------------------------------------------------------------------


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


def cmd_enqueue(args: argparse.Namespace) -> int:
    job_args = _json_arg(args.args, "--args")
    if job_args is not None and not isinstance(job_args, dict):
        raise UsageError("--args must be a JSON object, e.g. '{\"msg\": \"hi\"}'")
    if args.wait_timeout is not None and args.wait_timeout < 0:
        raise UsageError("--wait-timeout must be >= 0 seconds")
    options = dict(gid=args.gid, nid=args.nid, role=args.role, category=args.category, cmd=args.cmd,
                   args=job_args or {}, queue=args.queue, timeout=args.job_timeout, wait=args.wait)
    prepare_job(**options)  # every value checked (names Redis keys can hold, numbers) before any server starts
    admin = _open(args, writes=True)
    result = admin.enqueue_job(options.pop("gid"), **options, dry_run=args.dry_run)
    if not args.wait or args.dry_run:
        _show(result)
        return 0
    limit = args.wait_timeout if args.wait_timeout is not None else (args.job_timeout or 600) + 10
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


def cmd_register(args: argparse.Namespace) -> int:
    extra = _json_arg(args.options, "--options") or {}
    if not isinstance(extra, dict):
        raise UsageError("--options must be a JSON object of register_jumpscript keywords")
    allowed = [k for k in inspect.signature(WritesMixin.register_jumpscript).parameters
               if k not in ("self", "organization", "name", "source", "descr", "replace", "dry_run", "gid")]
    for key in extra:
        if key not in allowed:
            raise UsageError(f"--options: unknown keyword {key!r}{did_you_mean(key, allowed)}; "
                             f"known: {', '.join(allowed)}")
    if args.source == "-":
        source = sys.stdin.read()
    else:
        p = Path(args.source)
        if not p.is_file():
            raise UsageError(f"--source {args.source}: no such file")
        source = p.read_text(encoding="utf-8")
    prepare_jumpscript(args.organization, args.name, source, descr=args.descr, gid=args.gid, **extra)
    admin = _open(args, writes=True)
    result = admin.register_jumpscript(
        args.organization,
        args.name,
        source,
        descr=args.descr,
        gid=args.gid,
        replace=args.replace,
        dry_run=args.dry_run,
        **extra,
    )
    _show(result)
    return 0


# --- parser ---------------------------------------------------------------------------------


def _json_value(value: Any) -> Any:
    """JSON for what ``json`` cannot encode: UTC timestamps as ISO 8601 (``NaT`` as null), the rest as text."""
    if value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return str(value)


def build_parser() -> argparse.ArgumentParser:
    """The argparse parser of ``jsadmin`` (one sub-command per verb)."""
    common = _Parser(add_help=False)
    target = common.add_argument_group("target")
    target.add_argument("--url", help="Redis URL (redis://[user:pass@]host[:port][/db], rediss://, unix://); "
                                      "default $JSADMIN_URL, else the embedded demo grid")
    target.add_argument("--inventory", metavar="FILE", help="fleet inventory (YAML/TOML; docs/fleet.md)")
    target.add_argument("--timeout", type=float, default=5.0, metavar="SECONDS",
                        help="seconds per connection/command (5)")

    def command(name: str, help: str, description: str | None = None) -> argparse.ArgumentParser:
        return sub.add_parser(name, parents=[common], help=help, description=description or help[:1].upper() + help[1:],
                              epilog=EXIT_CODES, formatter_class=argparse.RawDescriptionHelpFormatter)

    parser = _Parser(
        prog="jsadmin",
        description="Admin tool for the Redis state of JumpScale 7 grids.",
        epilog="Without --url or --inventory, commands use $JSADMIN_URL, else an embedded demo grid.\n\n" + EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"jsadmin {__version__}",
                        help="print the jsadmin version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    p = command("summary", "headlines (jobs in flight, queue ages, run times, stale heartbeats, errors) and families")
    p.add_argument("--stale", type=float, default=60.0, metavar="SECONDS",
                   help="heartbeat age counted as stale (60)")
    p.add_argument("--recent", type=float, default=RECENT, metavar="SECONDS",
                   help=f"run-time percentiles over jobs finished this recently ({RECENT:g})")
    p.add_argument("--leftover-after", type=float, default=LEFTOVER_AFTER, metavar="SECONDS",
                   help=f"jobs untouched this long are leftovers, not current work ({LEFTOVER_AFTER:g} = 7 days)")
    p.set_defaults(func=cmd_summary)

    p = command("load", "one family as a table (terminal), CSV (piped), JSON or Parquet")
    p.add_argument("family", help="family name, e.g. jobs, command_queues, ecos (see jsadmin summary)")
    p.add_argument("--format", choices=("table", "csv", "json", "parquet"),
                   help="output format (default: from --out's suffix, else table on a terminal, csv when piped)")
    p.add_argument("--out", metavar="FILE", help="write here instead of stdout")
    p.add_argument("--where", action="append", default=[], metavar="COL=VALUE",
                   help="keep rows whose COL equals VALUE (repeatable), e.g. --where state=ERROR")
    p.add_argument("--expand", metavar="COL", help="add COL.<key> columns for a dict column (e.g. args)")
    p.add_argument("--columns", metavar="A,B,...", help="only these columns, in this order")
    p.add_argument("--rows", type=int, default=50, metavar="N", help="rows shown by --format table (50)")
    p.set_defaults(func=cmd_load)

    p = command("snapshot", "every family to Parquet under PATH")
    p.add_argument("path", help="directory to create (must not exist, unless --overwrite)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing snapshot at PATH")
    p.set_defaults(func=cmd_snapshot)

    p = command("diff", "compare two snapshots (or redis:// URLs)")
    p.add_argument("a", help="before: snapshot directory or URL")
    p.add_argument("b", help="after: snapshot directory or URL")
    p.add_argument("-v", "--verbose", action="store_true", help="print the rows of each section")
    p.add_argument("--rows", type=int, default=20, metavar="N", help="rows per section with -v (20)")
    p.set_defaults(func=cmd_diff)

    p = command("record", "record history to Parquet (analytics)")
    p.add_argument("--out", required=True, metavar="DIR", help="directory of the Parquet history (by day)")
    p.add_argument("--interval", type=float, default=1.0, metavar="SECONDS", help="seconds between polls (1)")
    p.add_argument("--duration", type=float, default=None, metavar="SECONDS",
                   help="seconds to run (default: until Ctrl-C)")
    p.set_defaults(func=cmd_record)

    p = command("lab", "open the notebooks / control panels in JupyterLab")
    p.add_argument("lab_args", nargs=argparse.REMAINDER, help="passed to jsadmin.lab")
    p.set_defaults(func=cmd_lab)

    p = command("enqueue", "schedule a job like the agentcontroller (--wait: and wait for its result)")
    p.add_argument("--gid", type=int, required=True, help="grid id of the job (jobs:<gid>, jobs:last field)")
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--nid", type=int, help="node id that runs the job (queue queues:commands:queue:<gid>:<nid>)")
    where.add_argument("--role", help="role whose nodes may run the job (queue queues:commands:queue:<gid>:<role>)")
    p.add_argument("--category", required=True, help="jumpscript organization, e.g. jumpscale")
    p.add_argument("--cmd", required=True, help="jumpscript name, e.g. echo")
    p.add_argument("--args", metavar="JSON", help="job arguments as a JSON object, e.g. '{\"msg\": \"hi\"}'")
    p.add_argument("--queue", default="", help="worker queue ('' = default, io, hypervisor, process)")
    p.add_argument("--job-timeout", type=float, default=600, metavar="SECONDS", help="job timeout in seconds (600)")
    p.add_argument("--wait", action="store_true",
                   help="set wait=true and wait for the result (queues:jobqueue:<guid>); print it; "
                        "exit 1 unless it is OK")
    p.add_argument("--wait-timeout", type=float, metavar="SECONDS",
                   help="with --wait: give up after this many seconds (default: --job-timeout + 10)")
    p.add_argument("--dry-run", action="store_true", help="print the plan, write nothing")
    p.set_defaults(func=cmd_enqueue)

    p = command("register", "store a jumpscript like the processmanager")
    p.add_argument("--organization", required=True, help="jumpscript organization, e.g. ops")
    p.add_argument("--name", required=True, help="jumpscript name (workers look up <organization>__<name>)")
    p.add_argument("--source", required=True, metavar="FILE", help="jumpscript source file, or - for stdin")
    p.add_argument("--descr", help="one-line description (default: the source's descr = '...')")
    p.add_argument("--gid", type=int, help="the node's grid id (default: what its jumpscripts or jobs:last say)")
    p.add_argument("--options", metavar="JSON", help="more register_jumpscript keywords as JSON, e.g. '{\"roles\": [\"node\"]}'")
    p.add_argument("--replace", action="store_true", help="overwrite a different source of the same name")
    p.add_argument("--dry-run", action="store_true", help="print the plan, write nothing")
    p.set_defaults(func=cmd_register)

    for p in (add_dashboard_parser(sub, parents=[common]), add_metrics_parser(sub, parents=[common])):
        p.epilog = EXIT_CODES
        p.formatter_class = argparse.RawDescriptionHelpFormatter
    return parser


def _subparser(parser: argparse.ArgumentParser, name: str) -> argparse.ArgumentParser | None:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            found = action.choices.get(name)
            return found if isinstance(found, argparse.ArgumentParser) else None
    return None


def _mistyped_option(parser: argparse.ArgumentParser, argv: Sequence[str]) -> tuple[argparse.ArgumentParser, str] | None:
    """``(sub-parser, message)`` for the first ``--option`` the command does not know, checked
    before parsing so that "did you mean" wins over "the following arguments are required"."""
    sub_action = next((a for a in parser._actions if isinstance(a, argparse._SubParsersAction)), None)
    if sub_action is None:
        return None
    at = next((i for i, a in enumerate(argv) if a in sub_action.choices), None)
    if at is None or argv[at] == "lab":
        return None
    sub = sub_action.choices[argv[at]]
    options = [o for a in sub._actions for o in a.option_strings if o.startswith("--")]
    rest = list(argv[at + 1 :])
    for i, token in enumerate(rest):
        if token == "--":
            break
        name = token.split("=", 1)[0]
        if token.startswith("--") and not any(o.startswith(name) for o in options):
            value = rest[i + 1 : i + 2] if "=" not in token and rest[i + 1 : i + 2] != ["--"] else []
            shown = " ".join([token, *[v for v in value if not v.startswith("-")]])
            return sub, f"unrecognized arguments: {shown}{did_you_mean(name, options)}"
    return None


def _unknown_options(parser: argparse.ArgumentParser, command: str, extra: Sequence[str]) -> str:
    """``unrecognized arguments: ...`` with "did you mean" for a mistyped option of ``command``."""
    message = f"unrecognized arguments: {' '.join(extra)}"
    sub = _subparser(parser, command)
    if sub is None:
        return message
    options = [o for a in sub._actions for o in a.option_strings if o.startswith("--")]
    for token in extra:
        if token.startswith("--"):
            hint = did_you_mean(token.split("=", 1)[0], options)
            if hint:
                return message + hint
    return message


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
    parser = build_parser()
    try:  # usage errors (exit 2), --help and --version (exit 0) end here, before anything starts
        mistyped = _mistyped_option(parser, argv)
        if mistyped:
            mistyped[0].error(mistyped[1])
        args, extra = parser.parse_known_args(argv)
        if extra and args.command == "lab":
            args.lab_args = [*extra, *args.lab_args]  # options of jsadmin.lab itself
        elif extra:
            sub = _subparser(parser, args.command)
            (sub or parser).error(_unknown_options(parser, args.command, extra))
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 2
    runtime_errors: tuple[type[BaseException], ...] = (*_connection_errors(), JsAdminError, OSError, ValueError)
    try:
        return int(args.func(args) or 0)
    except SystemExit as exc:  # a command's own usage error (parser.error): same status, returned
        return exc.code if isinstance(exc.code, int) else 1
    except KeyboardInterrupt:
        print("jsadmin: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except JumpscriptExistsError as exc:  # the server holds another source: --replace decides
        _fail(args, exc)
        return 1
    except (UsageError, WriteValidationError, UnknownFamilyError, ConnectionConfigError, KeyError, TypeError) as exc:
        _fail(args, exc)
        return 2
    except runtime_errors as exc:
        _fail(args, exc)
        return 1


def _fail(args: argparse.Namespace, exc: BaseException) -> None:
    message = str(exc.args[0]) if isinstance(exc, KeyError) and exc.args else str(exc)
    message = " ".join(_hide(message).split()) or type(exc).__name__
    flags = {"enqueue": ENQUEUE_FLAGS, "register": REGISTER_FLAGS, "snapshot": SNAPSHOT_FLAGS}.get(args.command, {})
    message = as_flags(message, flags)
    url = getattr(args, "url", None)
    if url:
        try:
            password = parse_url(url).password
        except JsAdminError:
            password = None
        message = scrub(message, password)
    print(f"jsadmin {args.command}: error: {message}", file=sys.stderr)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
