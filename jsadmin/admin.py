"""``Admin``: one JumpScale Redis, read as typed DataFrames (and written through the write helpers).

>>> admin = connect("redis://10.0.0.1")        # port 9999 by default   # doctest: +SKIP
>>> admin.families()                                                    # doctest: +SKIP
>>> jobs = admin.load("jobs", gid=1)                                    # doctest: +SKIP
"""

from __future__ import annotations

import atexit
import logging
import os
from typing import Any

import pandas as pd
import redis

from .analytics.api import AnalyticsMixin
from .backends import LoadsFamilies
from .catalog import FAMILIES, classify, family
from .compat import ServerInfo, check_connection, explain_failure, server_info
from .connection import parse_url, scrub
from .embedded import EmbeddedRedis
from .errors import ReadOnlyError, UnsupportedByServer
from .loadinfo import Loaded, concat_problems
from .reader import read_loaded
from .scan import key_types, raw_client, scan_keys, sizes
from .snapshot import SnapshotMixin
from .writes.api import WritesMixin

log = logging.getLogger("jsadmin")

ENV_URL = "JSADMIN_URL"


class Admin(AnalyticsMixin, WritesMixin, SnapshotMixin, LoadsFamilies):
    """Typed, read-safe access to one JumpScale 7 Redis.

    Create it with :func:`connect` or :func:`demo`. Reads never write and use only bounded
    commands (``SCAN``/``HSCAN``/windowed ``LRANGE``); ``readonly=True`` also refuses every
    write helper client-side.
    """

    def __init__(
        self,
        client: redis.Redis,
        *,
        url: str,
        readonly: bool = False,
        embedded: EmbeddedRedis | None = None,
        grid: Any = None,
        server: ServerInfo | None = None,
    ) -> None:
        self.redis = client
        self.url = url
        self.readonly = readonly
        self.embedded = embedded
        self.grid = grid
        self._raw = raw_client(client)
        self._problems: dict[str, pd.DataFrame] = {}
        self._server = server

    @property
    def server(self) -> ServerInfo:
        """The Redis version and what it can do, read once (``INFO server``) per connection pool.

        >>> admin.server.version_text, admin.server.has("blmove")    # doctest: +SKIP
        ('3.0.5', False)
        """
        if self._server is None:
            self._server = server_info(self.redis)
        return self._server

    # ------------------------------------------------------------------ reading
    def families(self) -> pd.DataFrame:
        """One row per known family with the live number of keys and entries.

        One bounded ``SCAN`` pass classifies every key; types and sizes come from pipelined
        ``TYPE`` and ``HLEN``/``LLEN``/``SCARD``.

        >>> admin.families()[["family", "keys", "entries"]]     # doctest: +SKIP
        """
        found = self._keyspace()
        rows = []
        for fam in FAMILIES.values():
            typed = [(k, t) for k, t in found.get(fam.name, {}).items() if t != "none"]
            n = sizes(self._raw, [k for k, _ in typed], [t for _, t in typed]) if typed else []
            rows.append(
                {
                    "family": fam.name,
                    "patterns": ", ".join(fam.patterns),
                    "redis_type": fam.redis_type,
                    "status": fam.status,
                    "description": fam.description,
                    "keys": len(typed),
                    "entries": sum(n),
                }
            )
        df = pd.DataFrame(rows)
        df["keys"] = df["keys"].astype("Int64")
        df["entries"] = df["entries"].astype("Int64")
        df["status"] = df["status"].astype("category")
        return df

    def load_with_info(self, name: str, **filters: Any) -> Loaded:
        """One family as a typed DataFrame and its typed :class:`~jsadmin.loadinfo.LoadInfo`
        (``family``, ``problems``, ``capped`` keys with ``notes``/``truncated``, ``moved`` lists);
        :meth:`load` returns the frame alone, in the ``backend`` asked for.

        ``filters`` keep rows whose column equals the value (or is in a list):
        ``load("jobs", gid=1, state="OK")``. Special filters: ``expand="args"`` adds one
        column per key of the ``args`` dicts; ``limit=N`` reads at most N entries per key;
        ``keys=[...]`` reads only those keys; ``json_text=True`` keeps a job family's ``args`` and
        ``result`` as JSON text (less memory; ``jsadmin.frames.json_values`` decodes them). Values
        that do not decode are reported in :meth:`problems` and ``info.problems``, never dropped
        silently. For one release a pandas frame's ``attrs`` also mirror that info (``family``,
        ``problems``, ``notes``, ``truncated``, ``moved``); prefer this method.

        >>> logs, info = admin.load_with_info("logs")            # doctest: +SKIP
        >>> info.notes                                          # doctest: +SKIP
        ['queues:logs: newest 100,000 of 2,000,000 entries; pass `limit=None` for all']
        >>> admin.load("command_queues", key_role="node")    # doctest: +SKIP
        """
        loaded = read_loaded(self._raw, family(name), **filters)
        self._problems[loaded.info.family] = loaded.info.problems
        return loaded

    def load_all_with_info(self, **options: Any) -> dict[str, Loaded]:
        """Every family (one bounded ``SCAN`` pass, then each family's keys) as
        :meth:`load_with_info` returns it: ``{family: Loaded(frame, info)}``. ``options`` may hold
        ``limit`` (entries per key).

        >>> {n: len(x.info.problems) for n, x in admin.load_all_with_info().items()}   # doctest: +SKIP
        """
        found = self._keyspace()
        out: dict[str, Loaded] = {}
        for fam in FAMILIES.values():
            typed = found.get(fam.name, {})
            out[fam.name] = loaded = read_loaded(self._raw, fam, keys=list(typed), types=typed, **options)
            self._problems[fam.name] = loaded.info.problems
        return out

    def problems(self) -> pd.DataFrame:
        """Every value the loads so far could not decode: ``family, key, field, error, raw``."""
        return concat_problems(self._problems.values())

    def _keyspace(self) -> dict[str, dict[bytes, str]]:
        """Every known key by family with its Redis type: one SCAN pass, pipelined TYPE."""
        keys_found: list[bytes] = []
        names: list[str] = []
        seen: set[bytes] = set()
        for fam in FAMILIES.values():
            for k in fam.fixed_keys:
                keys_found.append(k.encode())
                names.append(fam.name)
                seen.add(k.encode())
        for key in scan_keys(self._raw):
            name = classify(key)
            if name is not None and key not in seen:
                keys_found.append(key)
                names.append(name)
        out: dict[str, dict[bytes, str]] = {}
        for key, name, rtype in zip(keys_found, names, key_types(self._raw, keys_found)):
            out.setdefault(name, {})[key] = rtype
        return out

    # ------------------------------------------------------------------ writing guard
    def _require_writable(self, what: str) -> None:
        """Raise :class:`ReadOnlyError` when this Admin was opened with ``readonly=True``."""
        if self.readonly:
            raise ReadOnlyError(
                f"{what} refused: this Admin was opened read-only ({self.url}, readonly=True); "
                "open it with jsadmin.connect(url, readonly=False) to write"
            )

    # ------------------------------------------------------------------ lifecycle
    def close(self) -> None:
        """Stop the live demo grid and the embedded server (if any) and close connections."""
        if self.grid is not None:
            self.grid.stop()
            self.grid = None
        self.redis.close()
        if self.embedded is not None:
            self.embedded.stop()

    def __enter__(self) -> Admin:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        where = "embedded demo " if self.embedded is not None else ""
        live = ", live grid" if self.grid is not None else ""
        return f"Admin({where}{self.url}, readonly={self.readonly}{live})"

    def _repr_html_(self) -> str:
        from .display.html import render_admin_html

        return render_admin_html(self)


def connect(url: str | None = None, *, readonly: bool = False, **redis_options: Any) -> Admin:
    """Connect to a JumpScale Redis.

    ``url``: ``redis://[user:pass@]host[:port][/db]`` (port 9999 when omitted), ``rediss://``
    (TLS; pass ``ssl_ca_certs=`` etc. in the URL query or as keyword options) or
    ``unix:///path.sock``. Without ``url``, ``$JSADMIN_URL`` is used; without either, the
    embedded live demo grid starts (see :func:`demo`) and the repr and a log line say so.

    >>> admin = connect("redis://master:9999", readonly=True)     # doctest: +SKIP
    """
    if url is None:
        url = os.environ.get(ENV_URL) or None
    if url is None:
        log.warning("jsadmin: no url and no $%s: starting the embedded demo grid", ENV_URL)
        return demo(live=True)
    target = parse_url(url)
    client = target.client(**redis_options)
    try:
        client.ping()
        server = check_connection(client, target)
    except UnsupportedByServer:
        client.close()
        raise
    except redis.RedisError as exc:
        client.close()
        timeout = redis_options.get("socket_connect_timeout") or 2.0
        explained = explain_failure(target, exc, timeout=float(timeout))
        if explained is not None:
            raise explained from None
        hint = ""
        if isinstance(exc, redis.AuthenticationError) and not target.password:
            hint = " (the server requires a password: redis://[user]:password@host:port/db)"
        raise type(exc)(scrub(f"cannot reach Redis at {target.safe_url}: {exc}{hint}", target.password)) from None
    return Admin(client, url=target.safe_url, readonly=readonly, server=server)


def demo(*, live: bool = False, seed: int = 7, readonly: bool = False, **seed_options: Any) -> Admin:
    """The embedded default: a private ``redis-server`` seeded with a realistic demo grid.

    ``live=True`` also starts the simulated agentcontroller, processmanagers and workers
    so enqueued jobs really run: nodes 1-3 are live (roles ``master``/``node``), while the seeded
    nodes 4-6 have no processmanager polling, so their command queues keep their backlog.

    >>> admin = demo(); admin.load("jobs").state.value_counts()   # doctest: +SKIP
    """
    server = EmbeddedRedis.start()
    target = parse_url(server.url)
    client = target.client()
    from .demogrid import seed_demo

    seed_demo(client, seed=seed, **seed_options)
    grid = None
    if live:
        from .demogrid.grid import LiveGrid

        grid = LiveGrid(server.url, seed=seed)
        grid.start()
        atexit.register(grid.stop)  # runs before the server's own atexit stop (LIFO): no noisy retries
    log.info("jsadmin: embedded demo grid at %s (live=%s)", server.url, live)
    return Admin(client, url=server.url, readonly=readonly, embedded=server, grid=grid)
