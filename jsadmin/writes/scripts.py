"""The Lua scripts of the write helpers: loaded from package data, run with EVALSHA.

Each script runs in one round trip: ``EVALSHA``, falling back to ``EVAL`` (which also caches
the script on the server) when the server answers ``NOSCRIPT``.

>>> SCRIPTS["enqueue"].sha1  # doctest: +ELLIPSIS
'...'
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

import redis
from redis.exceptions import NoScriptError, ResponseError

Arg = str | bytes | int | float


@dataclass(frozen=True)
class LuaScript:
    """One Lua script: its name, source text and SHA1 (the EVALSHA handle)."""

    name: str
    source: str
    sha1: str

    @classmethod
    def load(cls, name: str) -> LuaScript:
        """Read ``jsadmin/writes/lua/<name>.lua`` from the package."""
        text = resources.files(__package__).joinpath("lua", f"{name}.lua").read_text("utf-8")
        return cls(name, text, hashlib.sha1(text.encode("utf-8")).hexdigest())

    def __call__(self, client: redis.Redis, keys: Sequence[Arg], args: Sequence[Arg]) -> Any:
        """Run the script once: one EVALSHA, or EVAL if the server does not know it yet."""
        try:
            return client.evalsha(self.sha1, len(keys), *keys, *args)
        except NoScriptError:
            return client.eval(self.source, len(keys), *keys, *args)

    def stream(
        self,
        client: redis.Redis,
        calls: Iterable[tuple[Sequence[Arg], Sequence[Arg]]],
        while_waiting: Callable[[], Any] | None = None,
    ) -> tuple[list[Any], BaseException | None]:
        """Run the script once per call, streamed on one connection: every EVALSHA is sent
        as soon as its arguments are built (the server executes while Python builds the next
        one), then the replies are read in order.

        ``while_waiting`` runs after the last send, before the first read (client-side work
        that overlaps the server's). Returns ``(results, error)``: ``results[i]`` is the reply (or the ``ResponseError``) of
        call ``i`` for every reply read; on a connection failure, ``error`` is set and calls
        without a reply are unknown (each call is atomic: applied whole or not at all).
        """
        client.script_load(self.source)  # one round trip; EVALSHA then cannot miss
        pool = client.connection_pool
        conn = pool.get_connection()
        results: list[Any] = []
        error: BaseException | None = None
        sent: list[tuple[Sequence[Arg], Sequence[Arg]]] = []
        try:
            for keys, args in calls:
                conn.send_command("EVALSHA", self.sha1, len(keys), *keys, *args)
                sent.append((keys, args))
            if while_waiting is not None:
                while_waiting()
            for _ in sent:
                try:
                    results.append(conn.read_response())
                except ResponseError as exc:
                    results.append(exc)
        except (redis.ConnectionError, redis.TimeoutError, OSError) as exc:
            conn.disconnect()
            error = exc
        except BaseException:
            conn.disconnect()
            raise
        finally:
            pool.release(conn)
        for i, res in enumerate(results):  # scripts flushed meanwhile: re-run those with EVAL
            if isinstance(res, NoScriptError):
                keys, args = sent[i]
                results[i] = self(client, keys, args)
        return results, error


SCRIPTS: dict[str, LuaScript] = {
    name: LuaScript.load(name)
    for name in ("enqueue", "register_jumpscript", "remove_values", "purge", "restore")
}
