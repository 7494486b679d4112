"""``WritesMixin``: the write helpers as methods of ``jsadmin.Admin``.

The mixin relies only on ``self.redis`` (redis-py client, bytes responses), ``self.readonly``
and ``self.url`` (secret-free); an optional ``self.journal_path`` overrides the journal file.
Every method first refuses read-only Admins, then validates, then writes atomically or, with
``dry_run=True``, returns a :class:`~jsadmin.writes.plan.WritePlan` and touches nothing
(``@overload``s say so to type checkers: a literal ``dry_run=True`` gives a ``WritePlan``).

>>> adm = jsadmin.connect("redis://127.0.0.1:9999")                       # doctest: +SKIP
>>> adm.enqueue_job(1, nid=5, category="jumpscale", cmd="echo", args={"msg": "hi"})  # doctest: +SKIP
{'id': 1, 'sessionid': None, 'gid': 1, 'nid': 5, 'cmd': 'echo', ...}
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal, TypeAlias, overload

import pandas as pd

from ..errors import WriteNotApplied
from . import jobs as _jobs
from . import jumpscripts as _js
from . import leftovers as _leftovers
from . import manage as _manage
from . import validate as v
from .journal import ENV_JOURNAL, Journal
from .plan import EnqueuePreview, WritePlan
from .results import ManageResult, PurgeResult, UndoResult
from .scripts import resolve
from .validate import require_writable

UndoEntry: TypeAlias = str | pd.Series | Mapping[str, Any] | ManageResult | PurgeResult
"""What ``undo`` takes: an entry id, a ``journal()`` row, an entry dict, or a write's result."""


class WritesMixin:
    """Write helpers for ``Admin``: enqueue, wait, register jumpscripts, manage queues, journal."""

    redis: Any
    readonly: bool
    url: str
    journal_path: str | os.PathLike[str] | None = None
    """Overrides the journal file of this target (else ``$JSADMIN_JOURNAL`` or the default place)."""
    embedded: Any = None
    """The embedded demo server, if this target is one: its journal goes away with it."""

    # -- plumbing ------------------------------------------------------------------------
    def _journal(self) -> Journal:
        path, embedded = self.journal_path, self.embedded
        if path is None and not os.environ.get(ENV_JOURNAL) and embedded is not None:
            path = embedded.workdir / "journal.jsonl"  # a demo grid's journal goes away with it
        return Journal(path, url=self.url)

    def journal(self) -> pd.DataFrame:
        """The local journal of this target's writes, one row per entry (oldest first).

        Kept in ``~/.jsadmin/journal/<host>_<port>_<db>.jsonl`` (0600 in a 0700 directory,
        rotated at 4 MiB with 4 old files kept; large removed payloads in gzip side files,
        at most 1 GiB, oldest first out). ``$JSADMIN_JOURNAL`` overrides the place.
        ``status`` is ``done``, ``partial``, ``failed`` or ``intent`` (started, never closed:
        its chunks' write ids tell what landed, and ``undo`` resolves them).

        >>> adm.journal()[["time", "helper", "status", "removed", "undone"]]  # doctest: +SKIP
        """
        return self._journal().to_frame()

    # -- jobs ----------------------------------------------------------------------------
    @overload
    def enqueue_job(
        self, gid: int | str, *, nid: int | str | None = ..., role: str | None = ..., category: str, cmd: str,
        args: Mapping[str, Any] | None = ..., queue: str = ..., timeout: float | None = ..., wait: bool = ...,
        log: bool = ..., errorreport: bool = ..., tags: Any = ..., jscriptid: int | str | None = ...,
        sessionid: str | None = ..., dry_run: Literal[False] = ...,
    ) -> dict[str, Any]: ...
    @overload
    def enqueue_job(
        self, gid: int | str, *, nid: int | str | None = ..., role: str | None = ..., category: str, cmd: str,
        args: Mapping[str, Any] | None = ..., queue: str = ..., timeout: float | None = ..., wait: bool = ...,
        log: bool = ..., errorreport: bool = ..., tags: Any = ..., jscriptid: int | str | None = ...,
        sessionid: str | None = ..., dry_run: Literal[True],
    ) -> WritePlan[EnqueuePreview]: ...
    @overload
    def enqueue_job(
        self, gid: int | str, *, nid: int | str | None = ..., role: str | None = ..., category: str, cmd: str,
        args: Mapping[str, Any] | None = ..., queue: str = ..., timeout: float | None = ..., wait: bool = ...,
        log: bool = ..., errorreport: bool = ..., tags: Any = ..., jscriptid: int | str | None = ...,
        sessionid: str | None = ..., dry_run: bool = ...,
    ) -> dict[str, Any] | WritePlan[EnqueuePreview]: ...
    def enqueue_job(
        self,
        gid: int | str,
        *,
        nid: int | str | None = None,
        role: str | None = None,
        category: str,
        cmd: str,
        args: Mapping[str, Any] | None = None,
        queue: str = "",
        timeout: float | None = 600,
        wait: bool = False,
        log: bool = True,
        errorreport: bool = False,
        tags: Any = None,
        jscriptid: int | str | None = None,
        sessionid: str | None = None,
        dry_run: bool = False,
    ) -> dict[str, Any] | WritePlan[EnqueuePreview]:
        """Schedule one AC job like ``scheduleCmd`` in one round trip; returns the job as written.

        Exactly one of ``nid`` (node queue) or ``role`` (role queue). One EVALSHA allocates the
        id (``HINCRBY jobs:last <gid> 1``), then ``HSET jobs:<gid> <guid>`` and ``RPUSH
        queues:commands:queue:<gid>:<nid|role>``.

        >>> job = adm.enqueue_job(1, role="node", category="jumpscale", cmd="echo",
        ...                       args={"msg": "hi"}, wait=True)            # doctest: +SKIP
        >>> adm.wait_job(job["guid"], 30)["result"]                         # doctest: +SKIP
        'hi'
        """
        require_writable(self, "enqueue_job")
        job = _jobs.prepare_job(
            gid, nid=nid, role=role, category=category, cmd=cmd, args=args, queue=queue,
            timeout=timeout, wait=wait, log=log, errorreport=errorreport, tags=tags,
            jscriptid=jscriptid, sessionid=sessionid,
        )
        if dry_run:
            return _jobs.plan_enqueue("enqueue_job", self.url, _jobs.make_batches([job]))
        return _jobs.enqueue_one(self.redis, job, url=self.url, journal=self._journal())

    @overload
    def enqueue_jobs(
        self, jobs: pd.DataFrame | Iterable[Mapping[str, Any]], *, batch_size: int = ...,
        dry_run: Literal[False] = ...,
    ) -> pd.DataFrame: ...
    @overload
    def enqueue_jobs(
        self, jobs: pd.DataFrame | Iterable[Mapping[str, Any]], *, batch_size: int = ..., dry_run: Literal[True]
    ) -> WritePlan[EnqueuePreview]: ...
    @overload
    def enqueue_jobs(
        self, jobs: pd.DataFrame | Iterable[Mapping[str, Any]], *, batch_size: int = ..., dry_run: bool = ...
    ) -> pd.DataFrame | WritePlan[EnqueuePreview]: ...
    def enqueue_jobs(
        self,
        jobs: pd.DataFrame | Iterable[Mapping[str, Any]],
        *,
        batch_size: int = _jobs.DEFAULT_BATCH,
        dry_run: bool = False,
    ) -> pd.DataFrame | WritePlan[EnqueuePreview]:
        """Schedule many jobs: a list of dicts or a DataFrame whose columns are ``enqueue_job``
        parameter names. Every job is validated before anything is written; then one Lua call
        per batch (jobs of one grid and queue; one write id each), streamed and sent once.
        Returns one row per job in input order (a DataFrame input keeps its index): ``gid nid
        role id guid queue_key jobs_key category cmd queue wait timeCreate write_id written``.

        The plan (batches and write ids) is journalled before sending. If anything fails,
        every batch is resolved through its marker and
        :class:`~jsadmin.errors.PartialWriteError` says "wrote X of N jobs; Y not written;
        Z unknown"; its ``.result`` frame has ``written`` True/False (NA: settle with
        ``write_status(write_id)``). Resume without duplicates by passing back the input rows
        that were not written: ``jobs[~err.result.written.to_numpy(bool)]`` (refuses while
        any is NA).

        >>> adm.enqueue_jobs([{"gid": 1, "nid": n, "category": "jumpscale", "cmd": "echo"}
        ...                   for n in (1, 2, 3)])                           # doctest: +SKIP
        """
        require_writable(self, "enqueue_jobs")
        _jobs.check_batch_size(batch_size)
        prepared = _jobs.prepare_jobs(jobs)
        if dry_run:
            return _jobs.plan_enqueue("enqueue_jobs", self.url, _jobs.make_batches(prepared, batch_size))
        return _jobs.enqueue_many(
            self.redis, prepared, batch_size=batch_size, url=self.url, journal=self._journal(),
            index=jobs.index if isinstance(jobs, pd.DataFrame) else None,
        )

    def write_status(self, write_id: str) -> dict[str, Any]:
        """Settle a write whose reply was lost (``WriteOutcomeUnknown.write_id``, or a
        ``write_id`` of an ``enqueue_jobs`` frame whose ``written`` is NA).

        Returns ``{"write_id", "applied", "result"}``: ``applied`` True with the write's
        stored result if it ran; else False, and the write id is fenced so that a delayed copy
        can never run (a retry under a new id is then safe). Markers live 7 days
        (``jsadmin.writes.scripts.MARKER_TTL``). Raises WriteOutcomeUnknown while the server
        stays unreachable.

        >>> adm.write_status(err.write_id)                                  # doctest: +SKIP
        {'write_id': '9f1c...', 'applied': True, 'result': {'first': '1042', 'n': 1}}
        """
        require_writable(self, "write_status")
        wid = v.write_id(write_id)
        (outcome,) = resolve(self.redis, [wid])
        if isinstance(outcome, WriteNotApplied):
            return {"write_id": wid, "applied": False, "result": None}
        return {"write_id": wid, "applied": True, "result": outcome}

    def wait_job(self, guid: str, timeout: float = 60) -> dict[str, Any]:
        """Wait for the result of a ``wait=True`` job without consuming it; returns the job dict
        with ``timeCreate``/``timeStart``/``timeStop`` as UTC ``pd.Timestamp`` (``NaT`` for 0).

        Raises :class:`~jsadmin.errors.JobTimeoutError` when nothing arrives in ``timeout`` s.

        >>> adm.wait_job("9f1c2a7b3e4d4f0a8b6c5d4e3f2a1b0c", timeout=10)["state"]  # doctest: +SKIP
        'OK'
        """
        require_writable(self, "wait_job")
        return _jobs.wait_job(self.redis, guid, timeout)

    # -- jumpscripts ---------------------------------------------------------------------
    @overload
    def register_jumpscript(
        self, organization: str, name: str, source: str, *, category: str = ..., descr: str | None = ...,
        roles: Sequence[str] = ..., queue: str = ..., async_: bool = ..., period: int | str = ..., order: int = ...,
        log: bool = ..., enable: bool = ..., startatboot: bool = ..., timeout: float | None = ...,
        gid: int | None = ..., author: str = ..., license: str = ..., version: str = ..., replace: bool = ...,
        dry_run: Literal[False] = ...,
    ) -> dict[str, Any]: ...
    @overload
    def register_jumpscript(
        self, organization: str, name: str, source: str, *, category: str = ..., descr: str | None = ...,
        roles: Sequence[str] = ..., queue: str = ..., async_: bool = ..., period: int | str = ..., order: int = ...,
        log: bool = ..., enable: bool = ..., startatboot: bool = ..., timeout: float | None = ...,
        gid: int | None = ..., author: str = ..., license: str = ..., version: str = ..., replace: bool = ...,
        dry_run: Literal[True],
    ) -> WritePlan[dict[str, Any]]: ...
    @overload
    def register_jumpscript(
        self, organization: str, name: str, source: str, *, category: str = ..., descr: str | None = ...,
        roles: Sequence[str] = ..., queue: str = ..., async_: bool = ..., period: int | str = ..., order: int = ...,
        log: bool = ..., enable: bool = ..., startatboot: bool = ..., timeout: float | None = ...,
        gid: int | None = ..., author: str = ..., license: str = ..., version: str = ..., replace: bool = ...,
        dry_run: bool = ...,
    ) -> dict[str, Any] | WritePlan[dict[str, Any]]: ...
    def register_jumpscript(
        self,
        organization: str,
        name: str,
        source: str,
        *,
        category: str = "unknown",
        descr: str | None = None,
        roles: Sequence[str] = (),
        queue: str = "",
        async_: bool = False,
        period: int | str = 0,
        order: int = 1,
        log: bool = True,
        enable: bool = True,
        startatboot: bool = False,
        timeout: float | None = None,
        gid: int | None = None,
        author: str = "unknown",
        license: str = "unknown",
        version: str = "1.0",
        replace: bool = False,
        dry_run: bool = False,
    ) -> dict[str, Any] | WritePlan[dict[str, Any]]:
        """Store a jumpscript where workers find it (``workers:jumpscripts:name`` field
        ``<organization>__<name>`` and ``workers:jumpscripts:id``), atomically.

        The id is reused when the same source (md5) was registered before, else allocated
        from ``workers:jumpscriptlastid`` (never below 1000001). A different source under an
        existing name is refused unless ``replace=True``; then every registered worker gets
        ``RELOAD``. Returns the 20-key jumpscript dict as written.

        Python 2 sources (``print "x"``) are accepted: the source must hold a module-level
        ``def action(`` line; it is not compiled. ``descr`` defaults to the source's
        ``descr = "..."``. ``gid`` is written as an int like the processmanager does: the
        argument, else the gid the node's existing jumpscripts carry, else the only grid in
        ``jobs:last``; otherwise the call is refused (pass ``gid=``). Sent once under a write
        id; preconditions (key types, integer counters) are checked before any write.

        >>> adm.register_jumpscript("demo", "hello", "def action(who):\\n    return 'hi ' + who\\n",
        ...                         descr="greets")["id"]                    # doctest: +SKIP
        1000001
        """
        require_writable(self, "register_jumpscript")
        js = _js.prepare_jumpscript(
            organization, name, source, descr=descr, category=category, roles=roles, queue=queue,
            async_=async_, period=period, order=order, log=log, enable=enable,
            startatboot=startatboot, timeout=timeout, gid=gid, author=author, license=license,
            version=version,
        )
        replace = bool(replace)
        if dry_run:
            return _js.plan_register(self.redis, js, replace=replace, url=self.url)
        return _js.register(self.redis, js, replace=replace, url=self.url, journal=self._journal())

    # -- queue and job management --------------------------------------------------------
    @overload
    def cancel_jobs(self, selection: Any, *, dry_run: Literal[False] = ...) -> ManageResult: ...
    @overload
    def cancel_jobs(self, selection: Any, *, dry_run: Literal[True]) -> WritePlan[pd.DataFrame]: ...
    @overload
    def cancel_jobs(self, selection: Any, *, dry_run: bool = ...) -> ManageResult | WritePlan[pd.DataFrame]: ...
    def cancel_jobs(self, selection: Any, *, dry_run: bool = False) -> ManageResult | WritePlan[pd.DataFrame]:
        """Remove the selected queued jobs: the exact bytes read (LREM 1, skipped if they
        changed or left the queue) and their unchanged ``jobs:<gid>`` entries. Journalled;
        returns a :class:`~jsadmin.writes.results.ManageResult` (``frame``: one row per value,
        ``removed`` True/False/NA; ``not_found``, ``note``), and ``undo(result.journal_id)``
        puts them back.

        >>> q = adm.load("command_queues", gid=1)                          # doctest: +SKIP
        >>> done = adm.cancel_jobs(q[q.cmd == "reboot"]); done.removed      # doctest: +SKIP
        >>> adm.undo(done.journal_id)                                      # doctest: +SKIP
        """
        require_writable(self, "cancel_jobs")
        return _manage.cancel_jobs(self.redis, selection, url=self.url, journal=self._journal(), dry_run=dry_run)

    @overload
    def purge_queue(self, key: str, *, dry_run: Literal[False] = ...) -> PurgeResult: ...
    @overload
    def purge_queue(self, key: str, *, dry_run: Literal[True]) -> WritePlan[dict[str, Any]]: ...
    @overload
    def purge_queue(self, key: str, *, dry_run: bool = ...) -> PurgeResult | WritePlan[dict[str, Any]]: ...
    def purge_queue(self, key: str, *, dry_run: bool = False) -> PurgeResult | WritePlan[dict[str, Any]]:
        """Empty one list (e.g. a command queue) in chunks of 1000; each chunk's values are
        journalled before the script that trims them is sent, and that script trims only if
        the head still holds exactly those values (consumers may pop meanwhile). Returns a
        :class:`~jsadmin.writes.results.PurgeResult`.

        >>> adm.purge_queue("queues:commands:queue:1:5")                   # doctest: +SKIP
        PurgeResult(key='queues:commands:queue:1:5', removed=12, consumed_meanwhile=0, chunks=1, unknown=0, journal_id='...', helper='purge_queue')
        """
        require_writable(self, "purge_queue")
        return _manage.purge_queue(self.redis, key, url=self.url, journal=self._journal(), dry_run=dry_run)

    @overload
    def requeue_jobs(
        self, selection: Any, *, args: Mapping[str, Any] | None = ..., nid: int | str | None = ...,
        role: str | None = ..., states: Sequence[str] | None = ..., dry_run: Literal[False] = ...,
    ) -> ManageResult: ...
    @overload
    def requeue_jobs(
        self, selection: Any, *, args: Mapping[str, Any] | None = ..., nid: int | str | None = ...,
        role: str | None = ..., states: Sequence[str] | None = ..., dry_run: Literal[True],
    ) -> WritePlan[EnqueuePreview]: ...
    @overload
    def requeue_jobs(
        self, selection: Any, *, args: Mapping[str, Any] | None = ..., nid: int | str | None = ...,
        role: str | None = ..., states: Sequence[str] | None = ..., dry_run: bool = ...,
    ) -> ManageResult | WritePlan[EnqueuePreview]: ...
    def requeue_jobs(
        self,
        selection: Any,
        *,
        args: Mapping[str, Any] | None = None,
        nid: int | str | None = None,
        role: str | None = None,
        states: Sequence[str] | None = _manage.REQUEUE_STATES,
        dry_run: bool = False,
    ) -> ManageResult | WritePlan[EnqueuePreview]:
        """Clone failed / timed-out jobs into new SCHEDULED jobs (new id and guid).

        ``args`` is merged into each job's args; ``nid``/``role`` sends the clones elsewhere
        (default: the original role queue, else node). Only jobs in ``states`` are accepted
        (``ERROR``, ``TIMEOUT``, ``NOWORK`` by default; ``None`` accepts any state, for a plain
        "clone and edit" of a queued or finished job). Returns a
        :class:`~jsadmin.writes.results.ManageResult`: one row per clone (``source_guid``, then
        the ``enqueue_jobs`` columns), selected jobs no longer in Redis in ``not_found``.

        >>> failed = adm.load("job_results").query("state == 'ERROR'")      # doctest: +SKIP
        >>> adm.requeue_jobs(failed, args={"retries": 1}, role="node")      # doctest: +SKIP
        """
        require_writable(self, "requeue_jobs")
        return _manage.requeue_jobs(
            self.redis, selection, args=None if args is None else dict(args), nid=nid, role=role,
            states=None if states is None else tuple(states), url=self.url, journal=self._journal(), dry_run=dry_run,
        )

    @overload
    def delete_jobs(self, selection: Any, *, dry_run: Literal[False] = ...) -> ManageResult: ...
    @overload
    def delete_jobs(self, selection: Any, *, dry_run: Literal[True]) -> WritePlan[pd.DataFrame]: ...
    @overload
    def delete_jobs(self, selection: Any, *, dry_run: bool = ...) -> ManageResult | WritePlan[pd.DataFrame]: ...
    def delete_jobs(self, selection: Any, *, dry_run: bool = False) -> ManageResult | WritePlan[pd.DataFrame]:
        """Delete stale ``jobs:<gid>`` entries (HDEL only if the value is unchanged). Journalled;
        returns a :class:`~jsadmin.writes.results.ManageResult` as :meth:`cancel_jobs` does.

        >>> adm.delete_jobs(adm.load("jobs").query("state == 'TIMEOUT'"))   # doctest: +SKIP
        """
        require_writable(self, "delete_jobs")
        return _manage.delete_jobs(self.redis, selection, url=self.url, journal=self._journal(), dry_run=dry_run)

    @overload
    def cleanup_leftovers(
        self, *, families: Iterable[str] | None = ..., dry_run: Literal[False] = ...
    ) -> ManageResult: ...
    @overload
    def cleanup_leftovers(self, *, families: Iterable[str] | None = ..., dry_run: Literal[True]) -> WritePlan[pd.DataFrame]: ...
    @overload
    def cleanup_leftovers(
        self, *, families: Iterable[str] | None = ..., dry_run: bool = ...
    ) -> ManageResult | WritePlan[pd.DataFrame]: ...
    def cleanup_leftovers(
        self, *, families: Iterable[str] | None = None, dry_run: bool = False
    ) -> ManageResult | WritePlan[pd.DataFrame]:
        """Remove the fields of JumpScale 6 leftover hashes (``workers:watchdog``,
        ``workers:sessions``, ``healthcheck:status``/``lastcheck``/``monitoring``): each HDEL only
        if the value is unchanged, journalled, undoable. Never touches a current family.

        >>> adm.cleanup_leftovers(dry_run=True)                      # preview   # doctest: +SKIP
        >>> done = adm.cleanup_leftovers(); adm.undo(done.journal_id)      # doctest: +SKIP
        """
        require_writable(self, "cleanup_leftovers")
        return _leftovers.cleanup_leftovers(self.redis, url=self.url, journal=self._journal(),
                                            families=families, dry_run=dry_run)

    @overload
    def undo(self, entry: UndoEntry, *, dry_run: Literal[False] = ...) -> UndoResult: ...
    @overload
    def undo(self, entry: UndoEntry, *, dry_run: Literal[True]) -> WritePlan[dict[str, Any]]: ...
    @overload
    def undo(self, entry: UndoEntry, *, dry_run: bool = ...) -> UndoResult | WritePlan[dict[str, Any]]: ...
    def undo(self, entry: UndoEntry, *, dry_run: bool = False) -> UndoResult | WritePlan[dict[str, Any]]:
        """Put back, once, what a journalled ``cancel_jobs``/``purge_queue``/``delete_jobs`` removed.

        ``entry`` is an entry id, a ``journal()`` row, an entry dict or the result of the write
        (its ``journal_id``); returns an :class:`~jsadmin.writes.results.UndoResult`. Chunked (at most 1000
        values per script); list values return to the head of their list in their original
        order. Each chunk runs under the write id ``undo:<entry id>:<chunk>``, so a second undo
        of the same entry, from any process, restores nothing (markers live 7 days).

        >>> adm.undo(adm.journal().iloc[-1])                                 # doctest: +SKIP
        """
        require_writable(self, "undo")
        if isinstance(entry, Mapping) and not isinstance(entry, dict):  # a journal() row, a mapping
            entry = dict(entry)
        return _manage.undo(self.redis, entry, url=self.url, journal=self._journal(), dry_run=dry_run)
