"""Many JumpScale Redis instances at once: one frame per family with a ``source`` column.

A grid has one Redis per node (port 9999) plus the master's. :func:`fleet` opens them all
(lazily), reads them concurrently (threads, and from 12 sources worker processes, so decoding
uses every core: see :mod:`jsadmin.fleetpool`), and keeps going when some are down:
:meth:`Fleet.status` tells which answered, how fast, and why the others did not.

>>> f = fleet({"master": "redis://10.0.0.1", "node5": "redis://10.0.0.5"})  # doctest: +SKIP
>>> jobs = f.load("jobs")                  # doctest: +SKIP
>>> jobs.groupby("source", observed=False).size()   # doctest: +SKIP
>>> f.status()                             # doctest: +SKIP

Targets are a list of URLs, a mapping ``{name: url}`` or the path of an inventory file
(see :func:`load_inventory` for the YAML/TOML format). Secrets never leave this module:
``repr``, :meth:`Fleet.status`, error messages and snapshot manifests hold redacted URLs.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import threading
import time
import uuid
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeVar

import pandas as pd

from .admin import Admin, connect
from .backends import LoadsFamilies
from .catalog import family
from .connection import parse_url, redact
from .errors import ConnectionConfigError, JsAdminError
from .fleetpool import (
    Call,
    Chunk,
    ProcessReader,
    admin_options,
    auto_processes,
    chunks,
    combine_call,
    describe_error,
    merge_call,
    picklable,
)
from .fleetpool import (
    merge_families as merge_families,  # re-exported: part of this module's API before fleetpool
)
from .fleetpool import (
    quick_retry as quick_retry,  # re-exported: the CLI and the tests import it from here
)
from .loadinfo import Loaded, concat_problems
from .reader import check_read_filters
from .snapshot import StagedSource, snapshot
from .sources import SOURCE, merge_sources, source_name

T = TypeVar("T")

_NAME_OK = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:@-]*$")
_ENV_REF = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)\}")


class InventoryError(ConnectionConfigError):
    """An inventory file or a target list that jsadmin cannot use."""


# --- inventory ------------------------------------------------------------------------------


def load_inventory(path: str | os.PathLike[str]) -> dict[str, str]:
    """Read a fleet inventory file (YAML or TOML) into ``{source name: url}``.

    The format is one table of node name -> Redis URL, under ``nodes``::

        # grid.yaml                              # grid.toml
        nodes:                                   [nodes]
          master: redis://10.0.0.1:9999          master = "redis://10.0.0.1:9999"
          node5: redis://10.0.0.5                node5 = "redis://10.0.0.5"
          node6: "redis://:${JS_PW}@10.0.0.6"    node6 = "redis://:${JS_PW}@10.0.0.6"

    ``nodes`` may also be a list of ``{name: ..., url: ...}`` tables or of bare URLs (named
    ``host:port``). ``${VAR}`` is replaced from the environment, so passwords need not be
    written in the file. Names are letters, digits and ``_ . : @ -``.

    >>> load_inventory("grid.yaml")   # doctest: +SKIP
    {'master': 'redis://10.0.0.1:9999', 'node5': 'redis://10.0.0.5'}
    """
    p = Path(path)
    if not p.is_file():
        raise InventoryError(f"inventory file not found: {p}")
    text = p.read_text(encoding="utf-8")
    suffix = p.suffix.lower()
    try:
        if suffix == ".toml":
            if sys.version_info >= (3, 11):
                import tomllib
            else:  # Python 3.10: the tomli backport (a dependency there)
                import tomli as tomllib

            data: Any = tomllib.loads(text)
        elif suffix in (".yaml", ".yml", ".json"):
            import yaml

            data = yaml.safe_load(text)
        else:
            raise InventoryError(f"inventory {p.name}: use a .yaml, .yml or .toml file")
    except InventoryError:
        raise
    except Exception as exc:  # yaml.YAMLError, tomllib.TOMLDecodeError
        raise InventoryError(f"inventory {p.name} is not valid {suffix[1:].upper()}: {exc}") from None
    if not isinstance(data, Mapping) or "nodes" not in data:
        raise InventoryError(f"inventory {p.name} needs a top-level 'nodes' table of name -> URL")
    nodes = data["nodes"]
    if isinstance(nodes, Mapping):
        pairs = [(str(k), v) for k, v in nodes.items()]
    elif isinstance(nodes, list):
        pairs = []
        for i, item in enumerate(nodes):
            if isinstance(item, str):
                pairs.append(("", item))
            elif isinstance(item, Mapping) and "url" in item:
                pairs.append((str(item.get("name") or ""), item["url"]))
            else:
                raise InventoryError(f"inventory {p.name}: nodes[{i}] needs a 'url'")
    else:
        raise InventoryError(f"inventory {p.name}: 'nodes' must be a table or a list")
    resolved = []
    for name, url in pairs:
        if not isinstance(url, str):
            raise InventoryError(f"inventory {p.name}: the URL of {name or 'a node'!r} must be text")
        resolved.append((name, _expand_env(url, p.name)))
    return _name_targets(resolved)


def _expand_env(url: str, where: str) -> str:
    def repl(m: re.Match[str]) -> str:
        value = os.environ.get(m.group("name"))
        if value is None:
            raise InventoryError(f"inventory {where}: environment variable {m.group('name')} is not set")
        return value

    return _ENV_REF.sub(repl, url)




def _name_targets(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, url in pairs:
        parse_url(url)  # validates early, with a secret-free message
        if name:
            if not _NAME_OK.match(name):
                raise InventoryError(
                    f"bad source name {name!r}: use letters, digits and _ . : @ - (it names a directory)"
                )
            if name in out:
                raise InventoryError(f"source name {name!r} appears twice")
        else:
            base = source_name(url)
            name, n = base, 1
            while name in out:
                n += 1
                name = f"{base}-{n}"
        out[name] = url
    if not out:
        raise InventoryError("a fleet needs at least one target URL")
    return out


def resolve_targets(targets: Any) -> dict[str, str]:
    """Turn a list of URLs, a ``{name: url}`` mapping or an inventory path into ``{name: url}``.

    >>> list(resolve_targets(["redis://10.0.0.1", "redis://10.0.0.2"]))
    ['10.0.0.1:9999', '10.0.0.2:9999']
    """
    if isinstance(targets, (str, os.PathLike)):
        text = os.fspath(targets)
        if "://" in text:
            return _name_targets([("", text)])
        return load_inventory(text)
    if isinstance(targets, Mapping):
        return _name_targets([(str(k), v) for k, v in targets.items()])
    if isinstance(targets, Iterable):
        items = list(targets)
        if not all(isinstance(t, str) for t in items):
            raise InventoryError("fleet targets must be URLs (text)")
        return _name_targets([("", t) for t in items])
    raise InventoryError(f"cannot use {type(targets).__name__} as fleet targets")


# --- the fleet ------------------------------------------------------------------------------


@dataclass
class _Status:
    source: str
    url: str
    ok: bool | None = None
    error: str | None = None
    elapsed: float | None = None
    operation: str | None = None


class Fleet(LoadsFamilies):
    """Many Redis instances read as one; build it with :func:`fleet`.

    >>> f = fleet(["redis://10.0.0.1", "redis://10.0.0.5"], readonly=True)  # doctest: +SKIP
    >>> f.load_all()["jobs"].head()       # doctest: +SKIP
    """

    def __init__(
        self,
        targets: Any,
        *,
        readonly: bool = False,
        max_workers: int = 16,
        timeout: float = 5,
        processes: int | Literal["auto"] = "auto",
        connect: Callable[..., Admin] | None = None,
        **redis_options: Any,
    ) -> None:
        if max_workers < 1:
            raise ValueError("max_workers must be at least 1")
        if timeout <= 0:
            raise ValueError("timeout must be a positive number of seconds")
        if processes != "auto" and (isinstance(processes, bool) or not isinstance(processes, int) or processes < 0):
            raise ValueError(f"processes must be 'auto' or a number >= 0 (0: threads only), not {processes!r}")
        self._urls = resolve_targets(targets)
        self._secrets = [p for p in (parse_url(u).password for u in self._urls.values()) if p]
        if redis_options.get("password"):
            self._secrets.append(str(redis_options["password"]))
        self.readonly = readonly
        self.max_workers = max_workers
        self.timeout = float(timeout)
        self._connect = connect
        self._redis_options = redis_options
        self._admins: dict[str, Admin] = {}
        self._lock = threading.Lock()
        self._status = {n: _Status(n, parse_url(u).safe_url) for n, u in self._urls.items()}
        self.progress: Callable[[int, int], None] | None = None
        """Optional callback ``progress(done, total)`` called as instances answer."""
        self.processes = auto_processes(len(self._urls)) if processes == "auto" else processes
        """Worker processes for ``load``/``load_all``/``families`` (0: threads in this process)."""
        if self.processes and not picklable((connect, redis_options)):
            if processes != "auto":
                raise ValueError("processes >= 1 needs a module-level connect= and picklable options; "
                                 "pass processes=0 to read with threads")
            self.processes = 0
        self._token = uuid.uuid4().hex
        self._reader: ProcessReader | None = None
        self._remote_problems: dict[str, dict[str, pd.DataFrame]] = {}

    # -- identity ----------------------------------------------------------------------------
    @property
    def sources(self) -> dict[str, str]:
        """``{source name: secret-free URL}`` in fleet order."""
        return {n: s.url for n, s in self._status.items()}

    def __len__(self) -> int:
        return len(self._urls)

    def __iter__(self) -> Iterator[str]:
        return iter(self._urls)

    def __repr__(self) -> str:
        ok = sum(1 for s in self._status.values() if s.ok)
        failed = sum(1 for s in self._status.values() if s.ok is False)
        mode = ", readonly" if self.readonly else ""
        return f"<Fleet {len(self)} sources ({ok} ok, {failed} failing){mode}>"

    # -- connections -------------------------------------------------------------------------
    def admin(self, source: str) -> Admin:
        """The :class:`~jsadmin.admin.Admin` of one source (connected on first use).

        >>> f.admin("master").load("jobs_last")   # doctest: +SKIP
        """
        if source not in self._urls:
            raise KeyError(f"no source {source!r} in this fleet; sources: {', '.join(self._urls)}")
        with self._lock:
            admin = self._admins.get(source)
        if admin is not None:
            return admin
        open_admin = self._connect or connect
        options = admin_options(self.timeout, self._redis_options)
        admin = open_admin(self._urls[source], readonly=self.readonly, **options)
        with self._lock:
            self._admins.setdefault(source, admin)
            return self._admins[source]

    def _forget(self, source: str) -> None:
        with self._lock:
            admin = self._admins.pop(source, None)
        client = getattr(admin, "redis", None)
        if client is not None:
            with contextlib.suppress(Exception):
                client.close()

    def close(self) -> None:
        """Close every connection and stop the worker processes (the fleet reconnects on next use)."""
        for source in list(self._admins):
            self._forget(source)
        reader, self._reader = self._reader, None
        if reader is not None:
            reader.close()
        self._remote_problems.clear()

    def __enter__(self) -> Fleet:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- concurrent calls --------------------------------------------------------------------
    def map(self, fn: Callable[[Admin], T], *, operation: str = "call") -> dict[str, T]:
        """Call ``fn(admin)`` on every source concurrently (threads); return the results of those that worked.

        Failures (connection refused, authentication, timeouts, decoding bugs) are recorded in
        :meth:`status` and left out of the result.

        >>> f.map(lambda a: a.redis.dbsize(), operation="dbsize")   # doctest: +SKIP
        {'master': 120, 'node5': 48}
        """
        names = list(self._urls)
        results = self._map_threads(fn, names, operation, _Progress(self.progress, len(names)))
        return {n: results[n] for n in names if n in results}

    def _note(self, source: str, error: str | None, elapsed: float, operation: str) -> None:
        st = self._status[source]
        st.ok, st.error, st.elapsed, st.operation = error is None, error, elapsed, operation

    def _map_threads(
        self, fn: Callable[[Admin], T], names: list[str], operation: str, progress: _Progress
    ) -> dict[str, T]:
        results: dict[str, T] = {}

        def run(source: str) -> tuple[str, T | None, str | None, float]:
            start = time.perf_counter()
            try:
                value = fn(self.admin(source))
            except Exception as exc:
                self._forget(source)
                return source, None, describe_error(exc, self._secrets), time.perf_counter() - start
            return source, value, None, time.perf_counter() - start

        workers = max(1, min(self.max_workers, len(names)))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="jsadmin-fleet") as pool:
            futures = [pool.submit(run, n) for n in names]
            for future in as_completed(futures):
                source, value, error, elapsed = future.result()
                self._note(source, error, elapsed, operation)
                if error is None:
                    results[source] = value  # type: ignore[assignment]
                progress.step()
        return results

    def _read(self, call: Call) -> Any:
        """``call`` on every source, merged: in worker processes when :attr:`processes` >= 1, else threads."""
        sources = list(self._urls)
        if not self.processes:
            return merge_call(call, self.map(call, operation=call.label), sources)
        progress = _Progress(self.progress, len(sources))
        if self._reader is None:
            self._reader = ProcessReader(self.processes)
        work = [
            Chunk(self._token, part, tuple(sources), call, self.readonly, self.timeout,
                  threads=max(1, -(-self.max_workers // self.processes)), secrets=tuple(self._secrets),
                  redis_options=self._redis_options, connect=self._connect)
            for part in chunks(list(self._urls.items()), self.processes)
        ]
        merged: dict[int, Any] = {}
        broken = False
        for chunk, result, failure in self._reader.run(work):
            if result is None:
                broken = True
                warnings.warn(
                    f"jsadmin fleet: worker processes failed ({type(failure).__name__}: {failure}); "
                    "reading with threads from now on (a script needs `if __name__ == '__main__':`, "
                    "or pass processes=0)",
                    RuntimeWarning,
                    stacklevel=3,
                )
                continue
            if result.merged is not None:
                merged[work.index(chunk)] = result.merged
            for source, _, error, elapsed in result.outcomes:
                self._note(source, error, elapsed, call.label)
                if error is None:
                    record = self._remote_problems.setdefault(source, {})
                    for fam, found in result.problems[source].items():  # as Admin._problems: last read wins
                        if found is None:
                            record.pop(fam, None)
                        else:
                            record[fam] = found
                else:
                    self._remote_problems.pop(source, None)
                progress.step()
        if broken:  # a worker died or the pool could not start: read it all again, with threads
            self.processes = 0
            self._reader.close()
            self._reader = None
            self._remote_problems.clear()
            return merge_call(call, self.map(call, operation=call.label), sources)
        return combine_call(call, [merged[i] for i in sorted(merged)], sources)

    # -- reads -------------------------------------------------------------------------------
    def load_with_info(self, name: str, **filters: Any) -> Loaded:
        """``Admin.load_with_info(name, **filters)`` on every source, merged: the frame with a
        ``source`` column first, and its :class:`~jsadmin.loadinfo.LoadInfo` (problems with a
        ``source`` column, capped keys with their source, moved lists). ``load`` returns the frame
        alone (``backend="polars"`` as in ``Admin.load``).

        >>> f.load("command_queues", gid=1)   # doctest: +SKIP
        >>> jobs, info = f.load_with_info("jobs")     # doctest: +SKIP
        >>> info.problems.groupby("source", observed=False).size()   # doctest: +SKIP
        """
        # an unknown family or filter: Admin.load's error, before touching the network
        fam = family(name)
        check_read_filters(fam, filters)
        loaded: Loaded = self._read(Call("load", fam.name, tuple(filters.items())))
        return loaded

    def load_all_with_info(self, **options: Any) -> dict[str, Loaded]:
        """Every family of every source: ``{family: Loaded(merged frame, merged info)}``
        (``options``, e.g. ``limit``, as ``Admin.load_all`` takes them).

        >>> frames = f.load_all(); frames["worker_heartbeat"]   # doctest: +SKIP
        >>> {n: x.info.notes for n, x in f.load_all_with_info().items() if x.info.capped}   # doctest: +SKIP
        """
        merged: dict[str, Loaded] = self._read(Call("load_all", None, tuple(options.items())))
        return merged

    def families(self, *, wide: bool = False, values: str = "entries") -> pd.DataFrame:
        """``Admin.families()`` of every source with ``source`` first (key/entry counts per source).

        ``wide=True`` gives one row per family and one column per source holding ``values``
        (``"entries"`` or ``"keys"``); sources that did not answer are ``<NA>``.

        >>> f.families(wide=True, values="keys")   # doctest: +SKIP
        """
        if values not in ("entries", "keys"):
            raise ValueError(f"values must be 'entries' or 'keys', not {values!r}")
        out: pd.DataFrame = self._read(Call("families"))
        if not wide:
            return out
        table = out.pivot(index="family", columns=SOURCE, values=values)
        order = list(dict.fromkeys(out["family"]))
        table = table.reindex(index=order, columns=list(self._urls))
        table.columns = pd.Index([str(c) for c in table.columns], name=SOURCE)
        return table.astype("Int64")

    def problems(self) -> pd.DataFrame:
        """Undecodable values of every source (``source``, family, key, field, error, raw).

        After reads in worker processes, these are the problems those reads returned (per source
        and family, as each worker's ``Admin`` holds them); nothing is read again.
        """
        if self._remote_problems:
            per_source = {n: concat_problems(self._remote_problems[n].values()) for n in self._urls if n in self._remote_problems}
        else:
            per_source = self.map(lambda a: a.problems(), operation="problems")
        return merge_sources(per_source, sources=self._urls)

    def ping(self) -> pd.DataFrame:
        """PING every source; returns :meth:`status`."""
        self.map(lambda a: a.redis.ping(), operation="ping")
        return self.status()

    def status(self) -> pd.DataFrame:
        """One row per source: ``source``, ``url`` (no secrets), ``ok``, ``error``, ``elapsed`` (s), ``operation``.

        Rows describe the last operation on each source; before any operation, every source is
        PINGed first.

        >>> f.status()[["source", "ok", "error"]]   # doctest: +SKIP
        """
        if all(s.ok is None for s in self._status.values()):
            self.map(lambda a: a.redis.ping(), operation="ping")
        rows = list(self._status.values())
        return pd.DataFrame(
            {
                SOURCE: pd.Series([s.source for s in rows], dtype="string"),
                "url": pd.Series([s.url for s in rows], dtype="string"),
                "ok": pd.Series([s.ok for s in rows], dtype="boolean"),
                "error": pd.Series([s.error for s in rows], dtype="string"),
                "elapsed": pd.Series([s.elapsed for s in rows], dtype="Float64"),
                "operation": pd.Series([s.operation for s in rows], dtype="string"),
            }
        )

    def snapshot(self, path: str | os.PathLike[str], **options: Any) -> Path:
        """Write every family of every source to Parquet under ``path`` (see :mod:`jsadmin.snapshot`).

        With :attr:`processes` >= 1 the worker processes read, decode and write their sources'
        files; :meth:`status` and :meth:`problems` then report that snapshot as after a threaded one.

        >>> f.snapshot("snaps/2026-11-27T12")   # doctest: +SKIP
        """
        return snapshot(self, path, **options)

    def stage_snapshot(self, directory: Path, *, limit: int | None, batch_rows: int) -> dict[str, StagedSource]:
        """Stage every source's files under ``directory`` (a snapshot's temporary directory), in
        worker processes or threads as the fleet reads: ``{source: StagedSource}`` of those that
        answered, in fleet order. :func:`jsadmin.snapshot.snapshot` calls it; call that instead.

        >>> f.stage_snapshot(Path("snaps/.tmp"), limit=None, batch_rows=50_000)   # doctest: +SKIP
        """
        call = Call("snapshot", None, (("directory", str(directory)), ("limit", limit), ("batch_rows", batch_rows)))
        staged: dict[str, StagedSource] = self._read(call)
        return staged


class _Progress:
    """Calls ``progress(done, total)`` once per source that finished (answered or failed)."""

    def __init__(self, callback: Callable[[int, int], None] | None, total: int) -> None:
        self.callback, self.total, self.done = callback, total, 0

    def step(self) -> None:
        self.done += 1
        if self.callback is not None:
            self.callback(self.done, self.total)


def fleet(
    targets: Any,
    *,
    readonly: bool = False,
    max_workers: int = 16,
    timeout: float = 5,
    processes: int | Literal["auto"] = "auto",
    **redis_options: Any,
) -> Fleet:
    """Open many JumpScale Redis instances as one :class:`Fleet` (connections are lazy).

    ``targets``: a list of URLs (sources named ``host:port``), a ``{name: url}`` mapping, or
    the path of a YAML/TOML inventory (:func:`load_inventory`). ``timeout`` bounds connecting
    and each command per instance; ``max_workers`` bounds the concurrent reads (threads, in all
    processes together). ``processes``: worker processes for ``load``, ``load_all`` and
    ``families``, so decoding runs on every core; ``"auto"`` uses one per usable CPU (at most 8)
    from 12 sources up (in a notebook, the REPL, ``python -m`` or a console script; a plain
    ``python script.py`` gets threads, see :func:`~jsadmin.fleetpool.main_is_safe`) and threads
    below that; ``0`` reads with threads only.

    >>> f = fleet("grid.yaml", readonly=True)     # doctest: +SKIP
    >>> f.load("worker_heartbeat")                # doctest: +SKIP
    >>> f.status()                                # doctest: +SKIP
    """
    try:
        return Fleet(
            targets, readonly=readonly, max_workers=max_workers, timeout=timeout, processes=processes,
            **redis_options,
        )
    except JsAdminError:
        raise
    except Exception as exc:
        raise InventoryError(redact(str(exc))) from None
