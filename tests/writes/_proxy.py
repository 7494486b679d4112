"""A tiny TCP proxy for the write tests: it can lose the reply (or the request) of an EVALSHA.

``drop_reply=n``: the next ``n`` client chunks that contain ``EVALSHA`` reach the server, but
the server's reply to each is swallowed and the client's connection is cut (a lost reply).
``skip=k`` lets the first ``k`` matching chunks through untouched.
``drop_request=n``: those chunks are swallowed instead and the connection is cut (the write
never arrives). ``refuse_after_drop``: after that, refuse new connections too (a server
that stays away). ``refuse()`` stops accepting new connections (a server that stays away).
"""

from __future__ import annotations

import contextlib
import socket
import threading


class ReplyDroppingProxy:
    """Forward 127.0.0.1:<port> to the upstream Redis, losing chosen EVALSHA replies."""

    def __init__(self, upstream_port: int, *, drop_reply: int = 0, drop_request: int = 0,
                 match: bytes = b"EVALSHA", refuse_after_drop: bool = False, skip: int = 0) -> None:
        self.upstream_port = upstream_port
        self.drop_reply = drop_reply
        self.drop_request = drop_request
        self.match = match
        self.dropped = 0
        self.refuse_after_drop = refuse_after_drop
        self.skip = skip
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._accepting = True
        self._socks: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def refuse(self) -> None:
        """Cut every connection and refuse new ones (connect gets ECONNREFUSED)."""
        self._accepting = False
        _close(self._listener)  # shutdown wakes the blocked accept() and stops listening
        for s in list(self._socks):
            _close(s)

    def close(self) -> None:
        self.refuse()

    def _accept(self) -> None:
        while self._accepting:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
            self._socks += [client, upstream]
            state = {"armed": False}
            threading.Thread(target=self._up, args=(client, upstream, state), daemon=True).start()
            threading.Thread(target=self._down, args=(upstream, client, state), daemon=True).start()

    def _take(self, what: str) -> bool:
        with self._lock:
            if self.skip > 0:
                self.skip -= 1
                return False
            left = getattr(self, what)
            if left > 0:
                setattr(self, what, left - 1)
                self.dropped += 1
                if self.refuse_after_drop:
                    self._accepting = False
                    _close(self._listener)
                return True
            return False

    def _up(self, client: socket.socket, upstream: socket.socket, state: dict[str, bool]) -> None:
        try:
            while data := client.recv(65536):
                if self.match in data and self._take("drop_request"):
                    break
                if self.match in data and self._take("drop_reply"):
                    state["armed"] = True
                upstream.sendall(data)
        except OSError:
            pass
        if not state["armed"]:
            _close(client)
            _close(upstream)

    def _down(self, upstream: socket.socket, client: socket.socket, state: dict[str, bool]) -> None:
        try:
            while data := upstream.recv(65536):
                if state["armed"]:
                    break  # the reply is lost: the client only sees its connection cut
                client.sendall(data)
        except OSError:
            pass
        _close(client)
        _close(upstream)


def _close(s: socket.socket) -> None:
    with contextlib.suppress(OSError):
        s.shutdown(socket.SHUT_RDWR)
    s.close()
