"""The Lua scripts of the write helpers: loaded from package data, run with EVALSHA.

Each script runs in one round trip: ``EVALSHA``, falling back to ``EVAL`` (which also caches
the script on the server) when the server answers ``NOSCRIPT``.

>>> SCRIPTS["enqueue"].sha1  # doctest: +ELLIPSIS
'...'
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

import redis
from redis.exceptions import NoScriptError

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

    def run_many(
        self, client: redis.Redis, calls: Sequence[tuple[Sequence[Arg], Sequence[Arg]]]
    ) -> list[Any]:
        """Run the script once per ``(keys, args)`` in one pipeline (no MULTI).

        Calls answered ``NOSCRIPT`` did nothing on the server; they are re-sent with EVAL in
        a second pipeline. Results come back in call order; a call that failed yields its
        exception object instead of raising, so the caller knows which calls were applied.
        """
        if not calls:
            return []
        pipe = client.pipeline(transaction=False)
        for keys, args in calls:
            pipe.evalsha(self.sha1, len(keys), *keys, *args)
        results = pipe.execute(raise_on_error=False)
        missing = [i for i, res in enumerate(results) if isinstance(res, NoScriptError)]
        if missing:
            pipe = client.pipeline(transaction=False)
            for i in missing:
                keys, args = calls[i]
                pipe.eval(self.source, len(keys), *keys, *args)
            for i, res in zip(missing, pipe.execute(raise_on_error=False), strict=True):
                results[i] = res
        return results


SCRIPTS: dict[str, LuaScript] = {
    name: LuaScript.load(name)
    for name in ("enqueue", "register_jumpscript", "remove_values", "purge", "restore")
}
