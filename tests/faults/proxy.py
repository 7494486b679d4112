"""A loopback TCP proxy in front of a real redis-server that injects faults on chosen commands.

The proxy parses the RESP stream in both directions (incrementally, O(bytes)), so it knows
which reply belongs to which command, also when commands are pipelined. A :class:`Rule`
picks the Nth command that matches (by name, optionally by a predicate on its arguments)
and does one thing to it:

- ``drop_reply``: the server runs the command; its reply is swallowed and the client side is
  closed (the client sees a connection error after sending);
- ``drop_request``: the command (and all after it) is never forwarded; the client side is
  closed, commands sent before it still run (their replies go nowhere);
- ``delay_reply``: the reply (and every later one on that connection) is held ``seconds``;
- ``delay_request``: the command reaches the server only after ``seconds`` (the proxy keeps
  the server side open to deliver it even after the client gave up);
- ``cut_request`` / ``cut_reply``: only the first ``nbytes`` bytes of the command / reply get
  through, then the client side is closed (a cut command never runs).

Threads only, loopback only, bounded (``max_connections``); :meth:`FaultProxy.close` stops
everything.

>>> with FaultProxy(6379) as proxy:                                    # doctest: +SKIP
...     rule = proxy.add_rule(Rule("drop_reply", command=b"EVALSHA"))
...     ...                                                            # the first EVALSHA loses its reply
...     assert rule.fired == 1
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

Args = Sequence[bytes]
ACTIONS = ("drop_reply", "drop_request", "delay_reply", "delay_request", "cut_request", "cut_reply", "pass")


class RespStream:
    """Incremental RESP2 parser: feed bytes, get the end offsets of complete top-level values.

    With ``collect=True`` the bulk strings of each top-level array are kept (a command's
    arguments). Keeps only a small state between feeds, so a multi-megabyte value costs O(size).
    """

    def __init__(self, collect: bool = False) -> None:
        self.collect = collect
        self._line = bytearray()  # a header line split across feeds
        self._bulk_left = 0  # bytes of bulk payload (+CRLF) still to skip
        self._bulk = bytearray()
        self._stack: list[int] = []  # remaining elements of the open arrays
        self._args: list[bytes] = []

    def feed(self, data: bytes) -> list[tuple[int, list[bytes]]]:
        """Return ``(end offset in data, args)`` for every top-level value completed in ``data``."""
        out: list[tuple[int, list[bytes]]] = []
        pos, n = 0, len(data)
        while pos < n:
            if self._bulk_left:
                take = min(self._bulk_left, n - pos)
                if self.collect:
                    self._bulk += data[pos : pos + take]
                self._bulk_left -= take
                pos += take
                if self._bulk_left == 0:
                    if self.collect:
                        self._args.append(bytes(self._bulk[:-2]))
                        self._bulk.clear()
                    if self._element_done():
                        out.append((pos, self._take_args()))
                continue
            idx = data.find(b"\n", pos)
            if idx < 0:
                self._line += data[pos:]
                if len(self._line) > 1 << 20:
                    raise ValueError("RESP header line longer than 1 MiB")
                break
            line = bytes(self._line) + data[pos:idx + 1]
            self._line.clear()
            pos = idx + 1
            kind, body = line[:1], line[1:].rstrip(b"\r\n")
            if kind in (b"+", b"-", b":"):
                if self._element_done():
                    out.append((pos, self._take_args()))
            elif kind == b"$":
                size = int(body)
                if size < 0:
                    if self._element_done():
                        out.append((pos, self._take_args()))
                else:
                    self._bulk_left = size + 2
            elif kind == b"*":
                size = int(body)
                if size <= 0:
                    if self._element_done():
                        out.append((pos, self._take_args()))
                else:
                    self._stack.append(size)
            else:  # an inline command (telnet style): one line is one command
                if not self._stack:
                    self._args = line.split()
                    out.append((pos, self._take_args()))
                else:
                    raise ValueError(f"unexpected RESP line {line[:40]!r}")
        return out

    def _element_done(self) -> bool:
        """One element finished; True when that completes a top-level value."""
        while self._stack:
            self._stack[-1] -= 1
            if self._stack[-1] > 0:
                return False
            self._stack.pop()
        return True

    def _take_args(self) -> list[bytes]:
        args, self._args = self._args, []
        return args


@dataclass
class Rule:
    """Do ``action`` to the ``nth`` command (1-based) named ``command`` whose args pass ``where``.

    ``times`` consecutive matches from the nth on are affected (default 1). ``fired`` counts
    how often the rule acted, so a test can assert that its fault really happened;
    ``answered_at`` holds when the server's whole reply to each affected command reached the
    proxy (so a delayed request has then run on the server, whatever the client does with it).
    """

    action: str
    command: bytes | None = None
    nth: int = 1
    where: Callable[[Args], bool] | None = None
    seconds: float = 0.0
    nbytes: int = 0
    times: int = 1
    seen: int = 0
    fired: int = 0
    fired_at: list[float] = field(default_factory=list)
    answered_at: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.action not in ACTIONS:
            raise ValueError(f"unknown action {self.action!r}; one of {ACTIONS}")

    def matches(self, args: Args) -> bool:
        if not args:
            return False
        if self.command is not None and args[0].upper() != self.command.upper():
            return False
        return self.where is None or bool(self.where(args))


@dataclass
class _Pending:
    """What to do with the reply of one forwarded command."""

    action: str
    rule: Rule | None
    args: list[bytes]


class _Link:
    """One client connection and its server connection, pumped by two threads."""

    def __init__(self, proxy: FaultProxy, client: socket.socket) -> None:
        self.proxy = proxy
        self.client = client
        self.server = socket.create_connection((proxy.upstream_host, proxy.upstream_port), timeout=5)
        self.server.settimeout(None)
        self.pending: deque[_Pending] = deque()
        self.cond = threading.Condition()
        self.closed = False
        self.threads = [
            threading.Thread(target=self._client_to_server, daemon=True, name="proxy-c2s"),
            threading.Thread(target=self._server_to_client, daemon=True, name="proxy-s2c"),
        ]
        for t in self.threads:
            t.start()

    def close_client(self) -> None:
        with contextlib.suppress(OSError):
            self.client.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(OSError):
            self.client.close()

    def close(self) -> None:
        with self.cond:
            self.closed = True
            self.cond.notify_all()
        self.close_client()
        with contextlib.suppress(OSError):
            self.server.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(OSError):
            self.server.close()

    def _client_to_server(self) -> None:
        parser = RespStream(collect=True)
        partial = bytearray()  # a command still arriving: forwarded only once whole and judged
        try:
            while True:
                try:
                    data = self.client.recv(65536)
                except OSError:
                    data = b""
                if not data:
                    break
                start = 0
                for end, args in parser.feed(data):
                    chunk = bytes(partial) + data[start:end]
                    partial.clear()
                    start = end
                    rule = self.proxy._decide(args)
                    action = rule.action if rule else "pass"
                    self.proxy.log.append((time.monotonic(), action, args[:1]))
                    if action in ("drop_request", "cut_request"):
                        # lost in the network: what was sent before still runs and is answered
                        # (into the void); this command and everything after never run
                        if action == "cut_request" and rule:
                            self.server.sendall(chunk[: rule.nbytes])
                        self.close_client()
                        raise OSError("request dropped")
                    if action == "delay_request" and rule and self.proxy._stopping.wait(rule.seconds):
                        raise OSError("proxy closed: a held request is dropped, never delivered")
                    with self.cond:
                        self.pending.append(_Pending(action, rule, args))
                    self.server.sendall(chunk)
                partial += data[start:]
        except OSError:
            pass
        # the client is gone: let replies still owed by the server arrive (a delayed command
        # must still reach and run on the server), then close the server side
        deadline = time.monotonic() + 10
        with self.cond:
            while self.pending and not self.closed and time.monotonic() < deadline:
                self.cond.wait(0.05)
        self.close()

    def _server_to_client(self) -> None:
        parser = RespStream()
        state = {"open": True, "cur": None, "sent": 0, "delayed": False}

        def deliver(segment: bytes, completes: bool) -> None:
            if state["cur"] is None:  # a new reply starts: its command's action applies
                with self.cond:
                    state["cur"] = self.pending[0] if self.pending else _Pending("pass", None, [])
                state["sent"], state["delayed"] = 0, False
            item: _Pending = state["cur"]  # type: ignore[assignment]
            if state["open"]:
                if item.action == "drop_reply":
                    self.close_client()
                    state["open"] = False
                elif item.action == "cut_reply" and item.rule:
                    room = item.rule.nbytes - int(state["sent"])  # type: ignore[call-overload]
                    with contextlib.suppress(OSError):
                        self.client.sendall(segment[: max(room, 0)])
                    state["sent"] = int(state["sent"]) + len(segment)  # type: ignore[call-overload]
                    if int(state["sent"]) >= item.rule.nbytes:  # type: ignore[call-overload]
                        self.close_client()
                        state["open"] = False
                else:
                    if item.action == "delay_reply" and item.rule and not state["delayed"]:
                        self.proxy._stopping.wait(item.rule.seconds)
                        state["delayed"] = True
                    try:
                        self.client.sendall(segment)
                    except OSError:
                        state["open"] = False
            if completes:
                if item.rule is not None:
                    item.rule.answered_at.append(time.monotonic())
                with self.cond:
                    if self.pending:
                        self.pending.popleft()
                    self.cond.notify_all()
                state["cur"] = None

        try:
            while True:
                try:
                    data = self.server.recv(65536)
                except OSError:
                    data = b""
                if not data:
                    break
                start = 0
                for end, _ in parser.feed(data):
                    deliver(data[start:end], True)
                    start = end
                if start < len(data):
                    deliver(data[start:], False)  # the head of a reply still arriving
        finally:
            self.close()


class FaultProxy:
    """Listen on ``127.0.0.1:<port>`` and forward to ``upstream_host:upstream_port``."""

    def __init__(self, upstream_port: int, upstream_host: str = "127.0.0.1", *, max_connections: int = 64) -> None:
        self.upstream_host = upstream_host
        self.upstream_port = upstream_port
        self.max_connections = max_connections
        self.rules: list[Rule] = []
        self.log: deque[tuple[float, str, list[bytes]]] = deque(maxlen=10000)
        self.connections = 0
        self._lock = threading.Lock()
        self._links: list[_Link] = []
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(16)
        self._listener.settimeout(0.1)  # accept() wakes up to see close()
        self.port: int = self._listener.getsockname()[1]
        self._stopped = False
        self._stopping = threading.Event()  # cuts delays short at close()
        self._acceptor = threading.Thread(target=self._accept, daemon=True, name="proxy-accept")
        self._acceptor.start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def add_rule(self, rule: Rule) -> Rule:
        """Arm a rule (rules are checked in order; the first that acts wins)."""
        with self._lock:
            self.rules.append(rule)
        return rule

    def clear_rules(self) -> None:
        with self._lock:
            self.rules.clear()

    def _decide(self, args: list[bytes]) -> Rule | None:
        chosen: Rule | None = None
        with self._lock:
            for rule in self.rules:  # every matching rule counts the command; the first due acts
                if not rule.matches(args):
                    continue
                rule.seen += 1
                if chosen is None and rule.nth <= rule.seen < rule.nth + rule.times:
                    rule.fired += 1
                    rule.fired_at.append(time.monotonic())
                    chosen = rule
        return chosen

    def _accept(self) -> None:
        while not self._stopped:
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.settimeout(None)
            with self._lock:
                self._links = [link for link in self._links if not link.closed]
                full = len(self._links) >= self.max_connections
            if full or self._stopped:
                conn.close()
                continue
            try:
                link = _Link(self, conn)
            except OSError:  # the server is down: the client sees the connection close
                conn.close()
                continue
            with self._lock:
                self._links.append(link)
                self.connections += 1

    def close(self) -> None:
        """Stop accepting, close every connection, join the threads (bounded)."""
        self._stopped = True
        self._stopping.set()
        with contextlib.suppress(OSError):
            self._listener.close()
        with self._lock:
            links = list(self._links)
        for link in links:
            link.close()
        self._acceptor.join(timeout=2)
        for link in links:
            for t in link.threads:
                t.join(timeout=2)

    def __enter__(self) -> FaultProxy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
