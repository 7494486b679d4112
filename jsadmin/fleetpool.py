"""Fleet reads in worker processes, so decoding uses every core instead of queueing on the GIL.

A :class:`~jsadmin.fleets.Fleet` with ``processes >= 1`` sends its ``load``, ``load_all``,
``families`` and snapshot calls here (a snapshot's workers write their sources' Parquet files
themselves and send back only what the manifest needs). The sources are split into one contiguous chunk per process; each worker
process opens (and keeps, per fleet) its own connections, reads its chunk with a few threads (so
round trips to many instances overlap even with two processes), decodes, merges its sources
(:func:`merge_call`: :func:`~jsadmin.sources.merge_loaded`, the same merge the threads use) and
returns one :class:`~jsadmin.loadinfo.Loaded` (frame and typed ``LoadInfo``) per family by pickle;
the caller joins the chunks in fleet order (:func:`combine_call`:
:func:`~jsadmin.sources.concat_loaded`, the step ``merge_loaded`` itself ends with). Merging in the
worker matters as much as decoding there: unpickling one small frame per source and family, and
merging them, cost the caller about as much as the reads themselves. Status and each source's
problems come back per source, with the same error text the threads give (:func:`describe_error`),
and the ``TruncatedWarning`` of a read is re-emitted in the caller. Nothing travels in ``attrs``.

Workers start with the ``forkserver`` method where the platform has it (Linux, macOS) and
``spawn`` elsewhere, never plain ``fork`` (the caller has threads). The forkserver preloads this
module, so after the first pool of a session a new pool starts in milliseconds instead of a
second per process. Everything a worker runs is a module-level function or a picklable dataclass,
so a notebook or a script can use it; a script needs the usual ``if __name__ == "__main__":``
guard (without it the pool fails to start and the fleet falls back to threads with a warning).

>>> Call("load", "jobs", (("gid", 1),)).label
'load jobs'
"""

from __future__ import annotations

import contextlib
import math
import multiprocessing as mp
import os
import pickle
import sys
import sysconfig
import threading
import time
import warnings
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

from . import catalog
from .admin import Admin, connect
from .connection import scrub
from .loadinfo import Loaded
from .snapshot import stage_source
from .sources import concat_loaded, concat_sources, merge_loaded, merge_sources

AUTO_MIN_SOURCES = 12
"""``processes="auto"`` uses worker processes from this many sources up (below, threads win:
see the crossover table in docs/fleet.md)."""

AUTO_MAX_PROCESSES = 8
"""``processes="auto"`` never starts more processes than this (nor more than usable CPUs)."""

_BUILT_IN = frozenset(catalog.FAMILIES)
"""The families of the catalog as imported: a worker has them; others are sent with each chunk."""

Outcome = tuple[str, Any, "str | None", float]
"""``(source, value or None, error text or None, elapsed seconds)`` of one source's call."""


def quick_retry() -> Retry:
    """One quick retry: redis-py's default (3 retries with backoff) makes a down node cost ~4 s."""
    return Retry(ExponentialBackoff(cap=0.2, base=0.05), 1)


def admin_options(timeout: float, redis_options: Mapping[str, Any]) -> dict[str, Any]:
    """The ``connect`` keywords of a fleet member: ``timeout`` for connecting and each command.

    >>> sorted(admin_options(2.0, {"ssl_ca_certs": "ca.pem"}))
    ['retry', 'socket_connect_timeout', 'socket_timeout', 'ssl_ca_certs']
    """
    options: dict[str, Any] = {
        "socket_timeout": timeout,
        "socket_connect_timeout": timeout,
        "retry": quick_retry(),
    }
    options.update(redis_options)
    return options


def describe_error(exc: BaseException, secrets: Sequence[str]) -> str:
    """The ``status()`` text of a failed source: exception type and message, secrets masked.

    >>> describe_error(ValueError("bad pw hunter2"), ["hunter2"])
    'ValueError: bad pw ***'
    """
    return f"{type(exc).__name__}: {scrub(str(exc), *secrets) or 'no message'}"


def usable_cpus() -> int:
    """CPUs this process may run on (its affinity where the OS tells it, else ``os.cpu_count()``)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def main_is_safe() -> bool:
    """Whether worker processes can start without running the caller's own script again.

    ``spawn`` and ``forkserver`` workers import the ``__main__`` of the caller: harmless in a
    notebook, a REPL, ``python -c``, ``python -m package`` and console scripts (which carry the
    ``if __name__ == "__main__":`` guard), but a plain ``python script.py`` without the guard
    would run again, side effects included. ``processes="auto"`` uses threads there.

    >>> isinstance(main_is_safe(), bool)
    True
    """
    main = sys.modules.get("__main__")
    name = getattr(getattr(main, "__spec__", None), "name", None)
    if name is not None:  # python -m: multiprocessing re-imports it unless it is a package's __main__
        return bool(name == "__main__" or name.endswith(".__main__"))
    path = getattr(main, "__file__", None)
    if path is None:  # notebook, REPL, python -c
        return True
    scripts = {os.path.dirname(os.path.abspath(sys.executable)), os.path.abspath(sysconfig.get_path("scripts"))}
    return os.path.dirname(os.path.abspath(path)) in scripts  # console scripts have the guard


def auto_processes(n_sources: int) -> int:
    """How many worker processes ``processes="auto"`` uses for a fleet of ``n_sources`` (0 = threads).

    >>> auto_processes(2)
    0
    """
    cpus = usable_cpus()
    if cpus < 2 or n_sources < AUTO_MIN_SOURCES or not main_is_safe():
        return 0
    return min(cpus, AUTO_MAX_PROCESSES, n_sources)


def picklable(obj: object) -> bool:
    """Whether ``obj`` can be sent to a worker process (module-level functions can, lambdas cannot)."""
    try:
        pickle.dumps(obj)
    except Exception:
        return False
    return True


# --- what runs on each source ---------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    """One read to run on every source, picklable (a lambda would not cross a process boundary).

    ``kind`` is ``"load"`` (``name`` and ``filters``), ``"load_all"`` (``filters`` holds its
    options, e.g. ``limit``), ``"families"`` or ``"snapshot"`` (``filters``: the snapshot's
    temporary ``directory``, ``limit`` and ``batch_rows``); calling it with an :class:`Admin` runs
    it there: ``load_with_info``/``load_all_with_info``, so each source's
    :class:`~jsadmin.loadinfo.LoadInfo` travels with its frame (both pickle), or
    :func:`~jsadmin.snapshot.stage_source`, which writes the source's Parquet files and returns
    their :class:`~jsadmin.snapshot.StagedSource`.

    >>> Call("load_all").label
    'load_all'
    """

    kind: str
    name: str | None = None
    filters: tuple[tuple[str, Any], ...] = ()

    @property
    def label(self) -> str:
        """The ``operation`` that ``Fleet.status()`` shows."""
        return f"load {self.name}" if self.kind == "load" else self.kind

    def __call__(self, admin: Admin) -> Any:
        if self.kind == "load":
            return admin.load_with_info(str(self.name), **dict(self.filters))
        if self.kind == "load_all":
            return admin.load_all_with_info(**dict(self.filters))
        if self.kind == "families":
            return admin.families()
        if self.kind == "snapshot":
            options = dict(self.filters)
            return stage_source(admin, Path(options["directory"]), options["limit"], options["batch_rows"])
        raise ValueError(f"unknown fleet call {self.kind!r}")


def merge_families(
    per_source: Mapping[str, Mapping[str, Loaded]], *, sources: list[str]
) -> dict[str, Loaded]:
    """``{source: {family: Loaded}}`` -> ``{family: merged Loaded}`` (family order of the first source)."""
    out: dict[str, Loaded] = {}
    for fam in _family_order(per_source.values()):
        parts = {src: frames[fam] for src, frames in per_source.items() if fam in frames}
        out[fam] = merge_loaded(parts, family=fam, sources=sources)
    return out


def merge_call(call: Call, per_source: Mapping[str, Any], sources: list[str]) -> Any:
    """The fleet result of ``call`` from each source's result, with ``source`` first: a
    :class:`~jsadmin.loadinfo.Loaded` (``load``), ``{family: Loaded}`` (``load_all``) or a frame
    (``families``), merged by :func:`~jsadmin.sources.merge_loaded` / :func:`~jsadmin.sources.merge_sources`."""
    if call.kind == "load_all":
        return merge_families(per_source, sources=sources)
    if call.kind == "snapshot":  # the staged files stay apart: snapshot() partitions them by source
        return {src: per_source[src] for src in sources if src in per_source}
    if call.kind == "load":
        return merge_loaded(per_source, family=catalog.family(str(call.name)).name, sources=sources)
    return merge_sources(per_source, sources=sources)


def combine_call(call: Call, parts: Sequence[Any], sources: list[str]) -> Any:
    """The :func:`merge_call` of all sources from the :func:`merge_call` of consecutive chunks of them
    (:func:`~jsadmin.sources.concat_loaded` / :func:`~jsadmin.sources.concat_sources`: the same
    result as one merge of all sources).

    ``parts`` holds the chunks in fleet order, leaving out those where no source answered.

    >>> call = Call("families")
    >>> a = merge_call(call, {"a": pd.DataFrame({"x": [1]})}, ["a", "b"])
    >>> b = merge_call(call, {"b": pd.DataFrame({"x": [2]})}, ["a", "b"])
    >>> combine_call(call, [a, b], ["a", "b"])["source"].tolist()
    ['a', 'b']
    """
    if not parts:
        return merge_call(call, {}, sources)
    if call.kind == "load":
        return concat_loaded(parts, family=catalog.family(str(call.name)).name)
    if call.kind == "families":
        return concat_sources(parts)
    if call.kind == "snapshot":
        return {src: staged for part in parts for src, staged in part.items()}
    return {fam: concat_loaded([frames[fam] for frames in parts if fam in frames], family=fam)
            for fam in _family_order(parts)}


def _family_order(loads: Iterable[Mapping[str, Any]]) -> list[str]:
    """Every family of ``loads`` once, in the order they first appear."""
    return list(dict.fromkeys(fam for frames in loads for fam in frames))


@dataclass(frozen=True, repr=False)
class Chunk:
    """Everything a worker needs for its share of the sources (URLs hold secrets: no repr)."""

    token: str
    targets: tuple[tuple[str, str], ...]
    sources: tuple[str, ...]
    call: Call
    readonly: bool
    timeout: float
    threads: int
    secrets: tuple[str, ...]
    redis_options: dict[str, Any] = field(default_factory=dict)
    connect: Callable[..., Admin] | None = None
    families: tuple[str, ...] = field(default_factory=lambda: tuple(catalog.FAMILIES))
    """The caller's catalog, in order: a worker drops the families it lacks ..."""
    registered: tuple[catalog.Family, ...] = field(
        default_factory=lambda: tuple(f for f in catalog.FAMILY_LIST if f.name not in _BUILT_IN)
    )
    """... and adds the ones the caller registered at run time (:func:`~jsadmin.catalog.register`)."""

    def __repr__(self) -> str:
        return f"<Chunk {self.call.label} of {len(self.targets)} sources>"


# --- inside a worker process ----------------------------------------------------------------

_ADMINS: dict[tuple[str, str, str], Admin] = {}
_ADMINS_LOCK = threading.Lock()


def _admin(chunk: Chunk, source: str, url: str) -> Admin:
    key = (chunk.token, source, url)
    with _ADMINS_LOCK:
        admin = _ADMINS.get(key)
    if admin is None:
        open_admin = chunk.connect or connect
        admin = open_admin(url, readonly=chunk.readonly, **admin_options(chunk.timeout, chunk.redis_options))
        with _ADMINS_LOCK:
            admin = _ADMINS.setdefault(key, admin)
    return admin


def _forget(chunk: Chunk, source: str, url: str) -> None:
    with _ADMINS_LOCK:
        admin = _ADMINS.pop((chunk.token, source, url), None)
    client = getattr(admin, "redis", None)
    if client is not None:
        with contextlib.suppress(Exception):
            client.close()


def _one(chunk: Chunk, source: str, url: str) -> Outcome:
    start = time.perf_counter()
    try:
        value = chunk.call(_admin(chunk, source, url))
    except Exception as exc:
        _forget(chunk, source, url)
        return source, None, describe_error(exc, chunk.secrets), time.perf_counter() - start
    return source, value, None, time.perf_counter() - start


@dataclass
class ChunkResult:
    """What a worker sends back: per-source outcomes (values left out), the chunk's merged
    result (``None`` when no source answered), each answering source's problems per family read
    (``None`` for a family without any) and the warnings its reads raised."""

    outcomes: list[Outcome]
    merged: Any
    problems: dict[str, dict[str, pd.DataFrame | None]]
    warnings: list[tuple[str, type[Warning]]]


def _problems_by_family(call: Call, value: Any) -> dict[str, pd.DataFrame | None]:
    """The problems of each family read (``None``: none, which clears what an earlier read found)."""
    if call.kind == "snapshot":
        return dict(value.problems_by_family)
    loads: Mapping[str, Loaded] = (
        {value.info.family: value} if call.kind == "load" else value if call.kind == "load_all" else {}
    )
    return {name: x.info.problems if len(x.info.problems) else None for name, x in loads.items()}


def _sync_catalog(chunk: Chunk) -> None:
    """Make this worker's catalog the caller's: same families, same order."""
    sent = {f.name: f for f in chunk.registered}
    for name in list(catalog.FAMILIES):
        if name not in chunk.families or (name in sent and catalog.FAMILIES[name] != sent[name]):
            catalog.unregister(name)
    for fam in chunk.registered:
        if fam.name not in catalog.FAMILIES:
            catalog.register(fam)


def run_chunk(chunk: Chunk) -> ChunkResult:
    """Run ``chunk.call`` on each of the chunk's sources (in a worker process), a few at a time,
    and merge the results of those that answered."""
    _sync_catalog(chunk)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        threads = max(1, min(chunk.threads, len(chunk.targets)))
        if threads == 1:
            outcomes = [_one(chunk, s, u) for s, u in chunk.targets]
        else:
            with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="jsadmin-fleet") as pool:
                outcomes = list(pool.map(lambda t: _one(chunk, *t), chunk.targets))
        per_source = {source: value for source, value, error, _ in outcomes if error is None}
        merged = merge_call(chunk.call, per_source, list(chunk.sources)) if per_source else None
        problems = {source: _problems_by_family(chunk.call, value) for source, value in per_source.items()}
    return ChunkResult(
        [(source, None, error, elapsed) for source, _, error, elapsed in outcomes],
        merged,
        problems,
        [(str(w.message), w.category) for w in caught],
    )


# --- in the caller --------------------------------------------------------------------------


def _context() -> Any:
    methods = mp.get_all_start_methods()
    if "forkserver" in methods:
        ctx = mp.get_context("forkserver")
        # the forkserver imports jsadmin once; each worker forked from it starts in milliseconds
        ctx.set_forkserver_preload(["__main__", __name__])
        return ctx
    return mp.get_context("spawn")


def chunks(targets: Sequence[tuple[str, str]], parts: int) -> list[tuple[tuple[str, str], ...]]:
    """Split ``targets`` into at most ``parts`` contiguous, nearly equal chunks (fleet order kept).

    >>> [len(c) for c in chunks([("a", "u")] * 5, 2)]
    [3, 2]
    """
    parts = max(1, min(parts, len(targets)))
    size = math.ceil(len(targets) / parts)
    return [tuple(targets[i:i + size]) for i in range(0, len(targets), size)]


class ProcessReader:
    """A fleet's worker processes (started on first use, kept until :meth:`close`).

    >>> reader = ProcessReader(2)      # doctest: +SKIP
    """

    def __init__(self, processes: int) -> None:
        if processes < 1:
            raise ValueError("a ProcessReader needs at least one process")
        self.processes = processes
        self._pool: ProcessPoolExecutor | None = None
        self._stop: weakref.finalize[Any, Any] | None = None
        self._lock = threading.Lock()

    def _executor(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ProcessPoolExecutor(max_workers=self.processes, mp_context=_context())
                # a fleet dropped without close() shuts its pool down here, not by the pool's own
                # garbage collection, which races with the interpreter's exit on Python 3.11
                # ("OSError: Bad file descriptor" printed by concurrent.futures at exit)
                self._stop = weakref.finalize(self, self._pool.shutdown, wait=True, cancel_futures=True)
            return self._pool

    def run(self, work: Sequence[Chunk]) -> Iterator[tuple[Chunk, ChunkResult | None, BaseException | None]]:
        """Submit every chunk; yield ``(chunk, result, None)`` or ``(chunk, None, error)`` as they finish.

        ``error`` is what broke the chunk itself (a worker that died, a pool that could not start):
        the caller decides what to do with those sources.
        """
        pool = self._executor()
        futures: dict[Future[Any], Chunk] = {pool.submit(run_chunk, c): c for c in work}
        for future in as_completed(futures):
            chunk = futures[future]
            try:
                result: ChunkResult = future.result()
            except Exception as exc:  # BrokenProcessPool, a result that did not unpickle
                yield chunk, None, exc
                continue
            for message, category in result.warnings:
                warnings.warn(message, category, stacklevel=4)
            yield chunk, result, None

    def close(self) -> None:
        """Stop the worker processes (their connections close with them)."""
        with self._lock:
            stop, self._stop, self._pool = self._stop, None, None
        if stop is not None:
            stop()
