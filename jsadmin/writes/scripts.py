"""The write transport: every mutating Lua script of jsadmin runs through here, sent once.

**Write ids and markers.** Every write call has a ``write_id`` (uuid4 hex unless the caller
passes a deterministic one). The transport prepends ``KEYS[1] = "jsadmin:write:<write_id>"``
and ``ARGV[1] = MARKER_TTL``, so script bodies use ``KEYS[2..]`` and ``ARGV[2..]``. A script
whose body calls ``finish(...)`` is loaded with the prelude ``lua/_prelude.lua``: when the
marker exists the script returns its stored value and writes nothing; else the body checks
every precondition (returning ``refuse(msg)`` before any mutation), mutates, and ends with
``return finish(result)``, which stores ``cjson.encode(result)`` in the marker
(``SET .. EX MARKER_TTL``) and returns it. :meth:`LuaScript.run` decodes that JSON.

**Sent once.** A write is one ``EVALSHA`` on a pooled connection (``send_command`` +
``read_response``: no redis-py ``Retry``). ``NOSCRIPT`` means it did not run: ``SCRIPT LOAD``
and send again. **A lost reply is resolved**, never re-sent: ``fence.lua`` on a fresh
connection returns the marker if the write ran, or stores ``"fenced"`` in it so that a late
copy does nothing and raises :class:`~jsadmin.errors.WriteNotApplied`. When the server cannot
be reached within ``RESOLVE_TIMEOUT`` s, :class:`~jsadmin.errors.WriteOutcomeUnknown` carries
the write id; :func:`resolve` (``Admin.write_status``) settles it later.

Numbers in results go through Lua's cjson (14 significant digits): scripts return ids that
may exceed 10**14 as strings.

>>> counter = LuaScript.from_body("count", "return finish(redis.call('INCR', KEYS[2]))")
>>> counter.uses_marker, counter.source.startswith("-- jsadmin write prelude")
(True, True)
>>> marker_key("9f1c2a7b3e4d4f0a8b6c5d4e3f2a1b0c")
'jsadmin:write:9f1c2a7b3e4d4f0a8b6c5d4e3f2a1b0c'
>>> SCRIPTS["enqueue"].run(client, keys, args, write_id=new_write_id())  # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

import redis
from redis.backoff import NoBackoff
from redis.exceptions import (
    AuthenticationError,
    BusyLoadingError,
    MasterDownError,
    NoPermissionError,
    NoScriptError,
    OutOfMemoryError,
    ReadOnlyError,
    ResponseError,
)
from redis.retry import Retry

from ..errors import WriteError, WriteNotApplied, WriteOutcomeUnknown, WriteRefused

Arg = str | bytes | int | float
Call = tuple[Sequence[Arg], Sequence[Arg], str]
"""One streamed script call: ``(keys, args, write_id)`` (keys/args without the marker)."""

MARKER_PREFIX = "jsadmin:write:"
MARKER_TTL = 7 * 24 * 3600
"""Seconds a write's marker lives: a lost reply can be resolved (and a re-run is harmless) this long."""
FENCED = "fenced"
"""The marker value of a write id fenced after a lost reply: that write never ran and never will."""
RESOLVE_TIMEOUT = 10.0
"""Seconds spent reaching the server to resolve a lost reply before WriteOutcomeUnknown."""
REPLY_TIMEOUT = 60.0
"""Longest wait for one write's reply when the client has no ``socket_timeout`` of its own."""

_CONNECTION_ERRORS = (redis.ConnectionError, redis.TimeoutError, OSError)
_NOT_RUN_CLASSES = (
    OutOfMemoryError, BusyLoadingError, ReadOnlyError, NoPermissionError, AuthenticationError, MasterDownError,
)
_NOT_RUN_CODES = ("BUSY ", "MISCONF ", "NOREPLICAS ", "NOTBUSY ")


class _LoadFailed(Exception):
    """SCRIPT LOAD got an error reply: the write was not sent."""


def new_write_id() -> str:
    """A fresh random write id (32 hex digits)."""
    return uuid.uuid4().hex


def marker_key(write_id: str) -> str:
    """The key that records the outcome of write ``write_id``."""
    return MARKER_PREFIX + write_id


def _text(name: str) -> str:
    return resources.files(__package__).joinpath("lua").joinpath(f"{name}.lua").read_text("utf-8")


PRELUDE = _text("_prelude")


def _decode(raw: Any, name: str, write_id: str) -> Any:
    """The JSON result a marker-guarded script returned; a fenced marker means not applied."""
    value = json.loads(raw)
    if value == FENCED:
        raise WriteNotApplied(
            f"{name} write {write_id} was fenced after a lost reply: nothing was written; safe to retry",
            write_id=write_id,
        )
    return value


def classify_error(exc: ResponseError, name: str, write_id: str) -> WriteError:
    """The WriteError for an error reply of a marker-guarded script.

    ``JSADMIN ...`` is a refused precondition (nothing written). Errors a server returns
    before a script's first write (OOM, BUSY, LOADING, READONLY, MISCONF, auth) mean nothing
    ran. Anything else is a failure inside the script, reported with its write id.
    """
    text = str(exc)
    if text.startswith("JSADMIN "):
        return WriteRefused(f"{name} refused: {text[8:]}; nothing was written", write_id=write_id)
    if (
        isinstance(exc, _NOT_RUN_CLASSES)
        or text.startswith(_NOT_RUN_CODES)
        or "OOM command not allowed" in text  # Redis < 7 wraps errors raised by redis.call
    ):
        return WriteNotApplied(
            f"{name} was refused by the server before writing ({type(exc).__name__}: {text}); "
            "nothing was written; safe to retry once the server accepts writes",
            write_id=write_id,
        )
    return WriteError(
        f"{name} failed inside Redis (write {write_id}): {text}. jsadmin checks every precondition "
        "before writing, so this is unexpected; check the keys it touches",
        write_id=write_id,
    )


def _fresh_connection(client: redis.Redis, timeout: float) -> Any:
    """A new connection like the pool's, with bounded timeouts and no redis-py retry."""
    pool = client.connection_pool
    kwargs = dict(pool.connection_kwargs)
    kwargs.update(socket_timeout=timeout, socket_connect_timeout=timeout, retry=Retry(NoBackoff(), 0))
    return pool.connection_class(**kwargs)


def resolve(client: redis.Redis, write_ids: Sequence[str], *, timeout: float | None = None,
            name: str = "jsadmin") -> list[Any]:
    """Settle writes whose replies were lost: one entry per id, in order.

    An entry is the write's decoded result when it ran, or a
    :class:`~jsadmin.errors.WriteNotApplied` (its marker now holds ``"fenced"``, so a delayed
    copy does nothing). Runs ``fence.lua`` (idempotent, so it may be retried) on a fresh
    connection until ``timeout`` s (default :data:`RESOLVE_TIMEOUT`) have passed; then raises
    :class:`~jsadmin.errors.WriteOutcomeUnknown` naming the first write id.

    >>> resolve(client, ["9f1c2a7b3e4d4f0a8b6c5d4e3f2a1b0c"])  # doctest: +SKIP
    [WriteNotApplied('jsadmin write 9f1c... was fenced after a lost reply: ...')]
    """
    if not write_ids:
        return []
    timeout = RESOLVE_TIMEOUT if timeout is None else timeout
    fence = SCRIPTS["fence"]
    deadline = time.monotonic() + timeout
    last: BaseException | None = None
    pause = 0.05
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        conn = _fresh_connection(client, max(0.05, min(2.0, left)))
        try:
            conn.connect()
            conn.send_command("SCRIPT", "LOAD", fence.source)
            conn.read_response()
            for wid in write_ids:  # pipelined: one round trip for every id
                conn.send_command("EVALSHA", fence.sha1, 1, marker_key(wid), MARKER_TTL)
            raws = [conn.read_response() for _ in write_ids]
        except (*_CONNECTION_ERRORS, ResponseError) as exc:  # unreachable, LOADING, BUSY, OOM
            last = exc
            time.sleep(min(pause, max(0.0, deadline - time.monotonic())))
            pause = min(pause * 2, 0.5)
            continue
        finally:
            conn.disconnect()
        out: list[Any] = []
        for wid, raw in zip(write_ids, raws, strict=True):
            try:
                out.append(_decode(raw, name, wid))
            except WriteNotApplied as exc:
                out.append(exc)
        return out
    raise WriteOutcomeUnknown(
        f"{name} write {write_ids[0]}"
        + (f" (and {len(write_ids) - 1} more)" if len(write_ids) > 1 else "")
        + f": the reply was lost and the server could not be reached within {timeout:g}s ({last}); "
        "it may or may not have been applied. Resolve it later with "
        f"Admin.write_status({write_ids[0]!r}) (markers live {MARKER_TTL // 86400} days)",
        write_id=write_ids[0],
    )


def _reply_timeout(conn: Any) -> Any:
    """The read timeout of a write: the client's own if it has one, else REPLY_TIMEOUT."""
    return REPLY_TIMEOUT if getattr(conn, "socket_timeout", None) is None else conn.socket_timeout


@dataclass(frozen=True)
class LuaScript:
    """One Lua script: its name, the source loaded on the server and its SHA1 (EVALSHA handle).

    ``uses_marker`` is True when the body calls ``finish(...)``: the prelude is prepended and
    the script runs through :meth:`run` / :meth:`stream`. Other scripts (legacy bodies not yet
    ported, ``fence``) keep the plain :meth:`__call__`.
    """

    name: str
    source: str
    sha1: str
    uses_marker: bool

    @classmethod
    def load(cls, name: str) -> LuaScript:
        """Read ``jsadmin/writes/lua/<name>.lua`` from the package (with the prelude if it uses one)."""
        return cls.from_body(name, _text(name))

    @classmethod
    def from_body(cls, name: str, body: str) -> LuaScript:
        """A script from its body text (the prelude is prepended when the body calls ``finish``)."""
        uses_marker = "finish(" in body
        source = PRELUDE + body if uses_marker else body
        return cls(name, source, hashlib.sha1(source.encode("utf-8")).hexdigest(), uses_marker)

    def _argv(self, keys: Sequence[Arg], args: Sequence[Arg], write_id: str) -> list[Arg]:
        return ["EVALSHA", self.sha1, len(keys) + 1, marker_key(write_id), *keys, MARKER_TTL, *args]

    def _require_marker(self) -> None:
        if not self.uses_marker:
            raise TypeError(f"lua/{self.name}.lua does not call finish(): run it with SCRIPTS[{self.name!r}](...)")

    def run(self, client: redis.Redis, keys: Sequence[Arg], args: Sequence[Arg], *, write_id: str | None = None,
            resolve_timeout: float | None = None) -> Any:
        """Run the write once and return its decoded JSON result.

        ``keys``/``args`` exclude the marker (the body sees them from ``KEYS[2]``/``ARGV[2]``).
        Raises :class:`~jsadmin.errors.WriteRefused` (a precondition failed),
        :class:`~jsadmin.errors.WriteNotApplied` (nothing written, safe to retry),
        :class:`~jsadmin.errors.WriteOutcomeUnknown` (reply lost, server unreachable) or
        :class:`~jsadmin.errors.WriteError`; every one carries ``write_id``.

        >>> SCRIPTS["enqueue"].run(client, keys, args, write_id=new_write_id())  # doctest: +SKIP
        """
        self._require_marker()
        wid = write_id or new_write_id()
        pool = client.connection_pool
        try:
            conn = pool.get_connection()
        except _CONNECTION_ERRORS as exc:
            raise WriteNotApplied(
                f"{self.name}: cannot connect to Redis ({exc}); nothing was sent; safe to retry", write_id=wid
            ) from exc
        try:
            raw = self._send_once(conn, self._argv(keys, args, wid))
        except _LoadFailed as exc:
            raise WriteNotApplied(f"{self.name}: the server refused SCRIPT LOAD ({exc}); nothing was written",
                                  write_id=wid) from exc
        except ResponseError as exc:
            raise classify_error(exc, self.name, wid) from exc
        except _CONNECTION_ERRORS as exc:
            conn.disconnect()
            outcome = resolve(client, [wid], timeout=resolve_timeout, name=self.name)[0]
            if isinstance(outcome, WriteNotApplied):
                raise outcome from exc
            return outcome
        except BaseException as exc:  # KeyboardInterrupt while waiting: outcome unknown
            conn.disconnect()
            if sys.version_info >= (3, 11):  # no notes on 3.10: re-raise as is
                exc.add_note(f"jsadmin: write {wid} ({self.name}) may or may not have run; "
                             f"Admin.write_status({wid!r}) resolves it")
            raise
        finally:
            pool.release(conn)
        return _decode(raw, self.name, wid)

    def _send_once(self, conn: Any, argv: list[Arg]) -> Any:
        conn.send_command(*argv)
        try:
            return conn.read_response(timeout=_reply_timeout(conn))
        except NoScriptError:  # the script did not run: load it and send again
            self._load(conn)
            conn.send_command(*argv)
            return conn.read_response(timeout=_reply_timeout(conn))

    def _load(self, conn: Any) -> None:
        conn.send_command("SCRIPT", "LOAD", self.source)
        try:
            conn.read_response(timeout=_reply_timeout(conn))
        except ResponseError as exc:
            raise _LoadFailed(str(exc)) from exc

    def stream(
        self,
        client: redis.Redis,
        calls: Iterable[Call],
        while_waiting: Callable[[], Any] | None = None,
        *,
        resolve_timeout: float | None = None,
    ) -> tuple[list[Any], BaseException | None]:
        """Run the script once per call, streamed on one connection, each call under its own
        write id: every EVALSHA is sent as soon as its arguments are built, then the replies
        are read in order. ``while_waiting`` runs after the last send, before the first read.

        Returns ``(outcomes, error)``: one outcome per call (the decoded result, or a
        :class:`~jsadmin.errors.WriteError` instance: refused, not applied, unknown), and the
        connection error that interrupted the stream (None if none). After such an error every
        sent call without a reply is resolved through its marker (:func:`resolve`); calls never
        sent are ``WriteNotApplied``. If the server stays unreachable, those are
        ``WriteOutcomeUnknown``.
        """
        self._require_marker()
        todo = list(calls)
        outcomes: list[Any] = [None] * len(todo)
        sent = 0  # calls whose send was attempted (possibly received by the server)
        read = 0
        error: BaseException | None = None
        pool = client.connection_pool
        try:
            conn = pool.get_connection()
        except _CONNECTION_ERRORS as exc:
            for i, (_, _, wid) in enumerate(todo):
                outcomes[i] = WriteNotApplied(f"{self.name}: cannot connect to Redis ({exc}); nothing was sent",
                                              write_id=wid)
            return outcomes, exc
        try:
            try:
                self._load(conn)  # EVALSHA then cannot miss
            except _LoadFailed as exc:
                for i, (_, _, wid) in enumerate(todo):
                    outcomes[i] = WriteNotApplied(
                        f"{self.name}: the server refused SCRIPT LOAD ({exc}); nothing was written", write_id=wid
                    )
                return outcomes, None
            for keys, args, wid in todo:
                sent += 1
                conn.send_command(*self._argv(keys, args, wid))
            if while_waiting is not None:
                while_waiting()
            while read < sent:
                try:
                    raw = conn.read_response(timeout=_reply_timeout(conn))
                    outcomes[read] = _decode(raw, self.name, todo[read][2])
                except ResponseError as exc:
                    outcomes[read] = exc
                except WriteNotApplied as exc:
                    outcomes[read] = exc
                read += 1
        except _CONNECTION_ERRORS as exc:
            conn.disconnect()
            error = exc
        except BaseException as exc:
            conn.disconnect()
            if sys.version_info >= (3, 11):  # no notes on 3.10: re-raise as is
                exc.add_note(f"jsadmin: {sent - read} {self.name} write(s) may or may not have run; "
                             "Admin.write_status(<write id>) resolves each (ids are in the journal)")
            raise
        finally:
            pool.release(conn)
        for i in range(read):
            res = outcomes[i]
            if isinstance(res, NoScriptError):  # scripts flushed meanwhile: it did not run
                keys, args, wid = todo[i]
                try:
                    outcomes[i] = self.run(client, keys, args, write_id=wid, resolve_timeout=resolve_timeout)
                except WriteError as exc:
                    outcomes[i] = exc
            elif isinstance(res, ResponseError):
                outcomes[i] = classify_error(res, self.name, todo[i][2])
        if error is not None:
            pending = [todo[i][2] for i in range(read, sent)]
            try:
                settled = resolve(client, pending, timeout=resolve_timeout, name=self.name)
            except WriteOutcomeUnknown as exc:
                settled = [WriteOutcomeUnknown(str(exc), write_id=wid) for wid in pending]
            outcomes[read:sent] = settled
            for i in range(sent, len(todo)):
                outcomes[i] = WriteNotApplied(f"{self.name} write {todo[i][2]} was never sent ({error})",
                                              write_id=todo[i][2])
        return outcomes, error

    def __call__(self, client: redis.Redis, keys: Sequence[Arg], args: Sequence[Arg]) -> Any:
        """Legacy path for a body without ``finish()``: run it once, raw (no marker, no resolve)."""
        if self.uses_marker:
            raise TypeError(f"lua/{self.name}.lua is marker-guarded: use SCRIPTS[{self.name!r}].run(...)")
        pool = client.connection_pool
        conn = pool.get_connection()
        try:
            return self._send_once(conn, ["EVALSHA", self.sha1, len(keys), *keys, *args])
        except ResponseError:
            raise
        except BaseException:
            conn.disconnect()
            raise
        finally:
            pool.release(conn)


SCRIPTS: dict[str, LuaScript] = {
    name: LuaScript.load(name)
    for name in ("enqueue", "register_jumpscript", "remove_values", "purge", "restore", "fence")
}
