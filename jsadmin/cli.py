"""The ``jsadmin`` console script (also ``python -m jsadmin``).

    jsadmin summary                              # embedded demo grid: families and headline figures
    jsadmin summary --url redis://10.0.0.1       # one node
    jsadmin summary --inventory grid.yaml        # a fleet (see docs/fleet.md)
    jsadmin load jobs --format csv --out jobs.csv
    jsadmin snapshot snaps/before
    jsadmin diff snaps/before snaps/after
    jsadmin enqueue --url redis://10.0.0.1 --gid 1 --nid 5 --category jumpscale --cmd echo \\
        --args '{"msg": "hi"}' --dry-run

Errors (connection refused, bad input) print one line on stderr and exit non-zero: 1 for
runtime and connection errors, 2 for bad input. Progress bars appear only on a terminal.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

import pandas as pd

from .catalog import family
from .connection import scrub, url_secrets
from .dashboard import add_dashboard_parser
from .errors import JsAdminError
from .metrics import add_metrics_parser
from .summary import summarize

JOB_FAMILIES = ("jobs", "command_queues", "worker_queues", "worker_jobs", "job_results")
QUEUE_FAMILIES = ("command_queues", "worker_queues")


class UsageError(JsAdminError, ValueError):
    """Bad command-line input (exit status 2)."""


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
    """An Admin (``--url``, ``$JSADMIN_URL`` or the embedded demo) or a Fleet (``--inventory``)."""
    import jsadmin

    if args.url and args.inventory:
        raise UsageError("give --url or --inventory, not both")
    if args.inventory:
        if writes:
            raise UsageError("writes go to one Redis: use --url, not --inventory")
        fl = jsadmin.fleet(args.inventory, readonly=True, timeout=args.timeout)
        fl.progress = _progress(args.command)
        return fl
    url = args.url or os.environ.get("JSADMIN_URL")
    if url is None:
        print("jsadmin: no --url and no $JSADMIN_URL: starting the embedded demo grid", file=sys.stderr)
        return jsadmin.demo()
    admin = jsadmin.connect(url, readonly=not writes, **_options(args))
    admin.redis.ping()  # fail fast with a clear connection error
    return admin


def _options(args: argparse.Namespace) -> dict[str, Any]:
    from .fleet import quick_retry

    return {"socket_connect_timeout": args.timeout, "socket_timeout": args.timeout, "retry": quick_retry()}


def _is_fleet(obj: Any) -> bool:
    from .fleet import Fleet

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


def _table(df: pd.DataFrame, *, index: bool = False, top: int | None = None, width: int = 60) -> str:
    if not len(df):
        return "  (none)"
    shown = df.head(top) if top else df
    text = shown.to_string(index=index, max_rows=60, max_colwidth=width)
    lines = ["  " + line for line in text.splitlines()]
    if len(shown) < len(df):
        lines.append(f"  ... {len(df) - len(shown)} more")
    return "\n".join(lines)


# --- summary (the text: jsadmin.summary) ---------------------------------------------------


def cmd_summary(args: argparse.Namespace) -> int:
    obj = _open(args)
    print(summarize(obj, stale=args.stale))
    return 0


# --- load / snapshot / diff -----------------------------------------------------------------


def cmd_load(args: argparse.Namespace) -> int:
    from .snapshot import encode_frame

    family(args.family)  # an unknown name is an input error, reported before connecting
    filters = _where(args.where)
    if args.expand:
        filters["expand"] = args.expand
    obj = _open(args)
    df = obj.load(args.family, **filters)
    if args.format == "parquet":
        encoded, _ = encode_frame(df)
        if args.out:
            encoded.to_parquet(args.out, index=False)
        elif sys.stdout.isatty():
            raise UsageError("parquet is binary: give --out FILE (or redirect stdout)")
        else:
            buf = io.BytesIO()
            encoded.to_parquet(buf, index=False)
            sys.stdout.buffer.write(buf.getvalue())
            sys.stdout.flush()
    else:
        if args.format == "csv":
            text = encode_frame(df)[0].to_csv(index=False)
        else:
            text = df.to_json(orient="records", date_format="iso", default_handler=str, indent=None)
            text += "\n"
        if args.out:
            Path(args.out).write_text(text, encoding="utf-8")
        else:
            sys.stdout.write(text)
    if args.out:
        print(f"{len(df)} rows of {args.family} written to {args.out}", file=sys.stderr)
    problems = df.attrs.get("problems")
    if isinstance(problems, pd.DataFrame) and len(problems):
        print(f"jsadmin: {len(problems)} value(s) did not decode (see Admin.problems())", file=sys.stderr)
    return 0


def cmd_snapshot(args: argparse.Namespace) -> int:
    obj = _open(args)
    path = obj.snapshot(args.path, overwrite=args.overwrite)
    from .snapshot import open_snapshot

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
    import jsadmin

    from .snapshot import open_snapshot

    if "://" in spec:
        admin = jsadmin.connect(spec, readonly=True, **_options(args))
        admin.redis.ping()
        return admin
    if not Path(spec).exists():
        raise UsageError(f"{spec}: no such snapshot directory (or give a redis:// URL)")
    return open_snapshot(spec)


def cmd_diff(args: argparse.Namespace) -> int:
    from .diff import diff

    d = diff(_observation(args.a, args), _observation(args.b, args))
    span = (d.after_at - d.before_at).total_seconds()
    print(f"jsadmin diff {args.a} -> {args.b} ({span:.0f} s apart)")
    print("")
    print("families that changed:")
    print(_table(d.summary(all_families=False)))
    for name in ("new_jobs", "finished_jobs", "stuck_jobs", "grown_queues", "stopped_workers"):
        frame = getattr(d, name)
        print("")
        print(f"{name.replace('_', ' ')}: {len(frame)}")
        if len(frame) and args.verbose:
            print(_table(frame.head(args.rows)))
    return 0


# --- record / lab ---------------------------------------------------------------------------


def cmd_record(args: argparse.Namespace) -> int:
    if args.inventory:
        raise UsageError("record follows one Redis: use --url, not --inventory")
    try:
        from .analytics.recorder import run_recorder
    except ImportError as exc:
        raise JsAdminError(f"jsadmin record is not available in this build ({exc})") from None
    return int(run_recorder(args.url, args.out, args.interval, args.duration) or 0)


def cmd_lab(args: argparse.Namespace) -> int:
    try:
        from . import lab
    except ImportError as exc:
        raise JsAdminError(f"jsadmin lab is not available in this build ({exc})") from None
    if args.url:
        os.environ["JSADMIN_URL"] = args.url
    result = lab.main(list(args.lab_args))
    return int(result or 0)


# --- writes ---------------------------------------------------------------------------------


def _show(result: Any) -> None:
    if hasattr(result, "commands"):  # a WritePlan
        print(repr(result))
    else:
        print(json.dumps(result, indent=2, default=str, sort_keys=True))


def cmd_enqueue(args: argparse.Namespace) -> int:
    job_args = _json_arg(args.args, "--args")
    if job_args is not None and not isinstance(job_args, dict):
        raise UsageError("--args must be a JSON object, e.g. '{\"msg\": \"hi\"}'")
    if args.nid is None and args.role is None:
        raise UsageError("give --nid or --role: the node or role that runs the job")
    admin = _open(args, writes=True)
    result = admin.enqueue_job(
        args.gid,
        nid=args.nid,
        role=args.role,
        category=args.category,
        cmd=args.cmd,
        args=job_args or {},
        queue=args.queue,
        timeout=args.job_timeout,
        wait=args.wait,
        dry_run=args.dry_run,
    )
    _show(result)
    return 0


def cmd_register(args: argparse.Namespace) -> int:
    extra = _json_arg(args.options, "--options") or {}
    if not isinstance(extra, dict):
        raise UsageError("--options must be a JSON object of register_jumpscript keywords")
    if args.source == "-":
        source = sys.stdin.read()
    else:
        p = Path(args.source)
        if not p.is_file():
            raise UsageError(f"--source {args.source}: no such file")
        source = p.read_text(encoding="utf-8")
    admin = _open(args, writes=True)
    result = admin.register_jumpscript(
        args.organization,
        args.name,
        source,
        descr=args.descr,
        replace=args.replace,
        dry_run=args.dry_run,
        **extra,
    )
    _show(result)
    return 0


# --- parser ---------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    """The argparse parser of ``jsadmin`` (one sub-command per verb)."""
    common = _Parser(add_help=False)
    target = common.add_argument_group("target")
    target.add_argument("--url", help="Redis URL (redis://[user:pass@]host[:port][/db], rediss://, unix://)")
    target.add_argument("--inventory", metavar="FILE", help="fleet inventory (YAML/TOML; docs/fleet.md)")
    target.add_argument("--timeout", type=float, default=5.0, help="seconds per connection/command (5)")

    parser = _Parser(
        prog="jsadmin",
        description="Admin tool for the Redis state of JumpScale 7 grids.",
        epilog="Without --url or --inventory, commands use $JSADMIN_URL, else an embedded demo grid.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    p = sub.add_parser("summary", parents=[common], help="families, counts and headline figures")
    p.add_argument("--stale", type=float, default=60.0, help="heartbeat age (s) counted as stale (60)")
    p.set_defaults(func=cmd_summary)

    p = sub.add_parser("load", parents=[common], help="one family as CSV, JSON or Parquet")
    p.add_argument("family", help="family name, e.g. jobs, command_queues, ecos")
    p.add_argument("--format", choices=("csv", "json", "parquet"), default="csv")
    p.add_argument("--out", metavar="FILE", help="write here instead of stdout")
    p.add_argument("--where", action="append", default=[], metavar="COL=VALUE", help="filter (repeatable)")
    p.add_argument("--expand", metavar="COL", help="add COL.<key> columns for a dict column (e.g. args)")
    p.set_defaults(func=cmd_load)

    p = sub.add_parser("snapshot", parents=[common], help="every family to Parquet under PATH")
    p.add_argument("path")
    p.add_argument("--overwrite", action="store_true", help="replace an existing snapshot at PATH")
    p.set_defaults(func=cmd_snapshot)

    p = sub.add_parser("diff", parents=[common], help="compare two snapshots (or redis:// URLs)")
    p.add_argument("a", help="before: snapshot directory or URL")
    p.add_argument("b", help="after: snapshot directory or URL")
    p.add_argument("-v", "--verbose", action="store_true", help="print the rows of each section")
    p.add_argument("--rows", type=int, default=20, help="rows per section with -v (20)")
    p.set_defaults(func=cmd_diff)

    p = sub.add_parser("record", parents=[common], help="record history to Parquet (analytics)")
    p.add_argument("--out", required=True, metavar="DIR")
    p.add_argument("--interval", type=float, default=1.0, help="seconds between polls (1)")
    p.add_argument("--duration", type=float, default=None, help="seconds to run (default: until Ctrl-C)")
    p.set_defaults(func=cmd_record)

    p = sub.add_parser("lab", parents=[common], help="open the notebooks / control panels")
    p.add_argument("lab_args", nargs=argparse.REMAINDER, help="passed to jsadmin.lab")
    p.set_defaults(func=cmd_lab)

    p = sub.add_parser("enqueue", parents=[common], help="schedule a job like the agentcontroller")
    p.add_argument("--gid", type=int, required=True)
    p.add_argument("--nid", type=int)
    p.add_argument("--role")
    p.add_argument("--category", required=True, help="jumpscript organization, e.g. jumpscale")
    p.add_argument("--cmd", required=True, help="jumpscript name")
    p.add_argument("--args", metavar="JSON", help="job arguments as a JSON object")
    p.add_argument("--queue", default="", help="worker queue ('' = default, io, hypervisor, process)")
    p.add_argument("--job-timeout", type=float, default=600, help="job timeout in seconds (600)")
    p.add_argument("--wait", action="store_true", help="set wait=true (result on queues:jobqueue:<guid>)")
    p.add_argument("--dry-run", action="store_true", help="print the plan, write nothing")
    p.set_defaults(func=cmd_enqueue)

    p = sub.add_parser("register", parents=[common], help="store a jumpscript like the processmanager")
    p.add_argument("--organization", required=True)
    p.add_argument("--name", required=True)
    p.add_argument("--source", required=True, metavar="FILE", help="jumpscript source file, or - for stdin")
    p.add_argument("--descr", required=True, help="one-line description of the jumpscript")
    p.add_argument("--options", metavar="JSON", help="more register_jumpscript keywords as JSON")
    p.add_argument("--replace", action="store_true", help="overwrite an existing jumpscript")
    p.add_argument("--dry-run", action="store_true", help="print the plan, write nothing")
    p.set_defaults(func=cmd_register)

    add_dashboard_parser(sub, parents=[common])
    add_metrics_parser(sub, parents=[common])
    return parser


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
    args, extra = parser.parse_known_args(argv)
    if extra and args.command == "lab":
        args.lab_args = [*extra, *args.lab_args]  # options of jsadmin.lab itself
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    runtime_errors: tuple[type[BaseException], ...] = (*_connection_errors(), JsAdminError, OSError, ValueError)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("jsadmin: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except (UsageError, KeyError, TypeError) as exc:
        _fail(args, exc)
        return 2
    except runtime_errors as exc:
        _fail(args, exc)
        return 1


def _fail(args: argparse.Namespace, exc: BaseException) -> None:
    message = str(exc.args[0]) if isinstance(exc, KeyError) and exc.args else str(exc)
    message = " ".join(_hide(message).split()) or type(exc).__name__
    url = getattr(args, "url", None)
    if url:
        from .connection import parse_url

        try:
            password = parse_url(url).password
        except JsAdminError:
            password = None
        message = scrub(message, password)
    print(f"jsadmin {args.command}: error: {message}", file=sys.stderr)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
