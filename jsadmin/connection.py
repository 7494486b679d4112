"""Connection URLs and redis-py clients, with secrets kept out of every printed form.

Accepted URLs: ``redis://[user:pass@]host[:port][/db]``, ``rediss://…`` (TLS) and
``unix:///path/to/redis.sock[?db=N]``. A URL without a port means JumpScale's **9999**.

>>> parse_url("redis://admin:s3cret@10.0.0.1/2").port
9999
>>> redact("redis://admin:s3cret@10.0.0.1:9999/2")
'redis://admin:***@10.0.0.1:9999/2'
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote, unquote_plus, urlsplit

import redis
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

from .errors import ConnectionConfigError

DEFAULT_PORT = 9999
"""Every JumpScale 7 node runs its ``system`` Redis on port 9999 (spec §1)."""

SCHEMES = ("redis", "rediss", "unix")
_QUERY_OPTIONS: dict[str, Callable[[str], Any]] = {
    "ssl_ca_certs": str,
    "ssl_certfile": str,
    "ssl_keyfile": str,
    "ssl_cert_reqs": str,
    "ssl_check_hostname": lambda v: v.lower() in ("1", "true", "yes"),
    "socket_timeout": float,
    "socket_connect_timeout": float,
    "db": int,
    "username": str,  # redis-py's URL form; the user info part of the URL is the usual place
    "password": str,
}


@dataclass(frozen=True)
class RedisTarget:
    """A parsed connection URL. ``password`` never appears in ``repr`` or :attr:`safe_url`."""

    scheme: str
    host: str | None
    port: int | None
    path: str | None
    db: int
    username: str | None
    password: str | None = field(repr=False)
    options: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def safe_url(self) -> str:
        """The URL with the password masked (safe for reprs, logs and manifests)."""
        user = ""
        if self.username or self.password:
            user = f"{self.username or ''}{':***' if self.password else ''}@"
        if self.scheme == "unix":
            suffix = f"?db={self.db}" if self.db else ""
            return f"unix://{user}{self.path}{suffix}"
        return f"{self.scheme}://{user}{self.host}:{self.port}/{self.db}"

    def client(self, **redis_options: Any) -> redis.Redis:
        """A redis-py client (bytes responses) for this target."""
        kwargs: dict[str, Any] = {
            "db": self.db,
            "username": self.username,
            "password": self.password,
            "decode_responses": False,
            "health_check_interval": 30,
            "protocol": 2,  # RESP2: every Redis from 2.8 up speaks it; RESP3 (HELLO) needs 6.0
            # one quick retry: redis-py's default retries take seconds to report a wrong
            # password or a dead node, which a fleet of hundreds cannot afford
            "retry": Retry(ExponentialBackoff(cap=0.2, base=0.05), 1),
        }
        kwargs.update(self.options)
        kwargs.update(redis_options)
        if kwargs.get("decode_responses"):
            raise ConnectionConfigError("jsadmin needs bytes responses: decode_responses must be False")
        if self.scheme == "unix":
            return redis.Redis(unix_socket_path=self.path, **kwargs)
        if self.scheme == "rediss":
            kwargs["ssl"] = True
        return redis.Redis(host=self.host or "localhost", port=self.port or DEFAULT_PORT, **kwargs)


def parse_url(url: str) -> RedisTarget:
    """Parse a connection URL; a missing port is 9999.

    >>> parse_url("unix:///tmp/r.sock").path
    '/tmp/r.sock'
    """
    if not isinstance(url, str) or not url.strip():
        raise ConnectionConfigError("empty Redis URL; expected redis://host[:port][/db], rediss://… or unix:///path")
    try:
        parts = urlsplit(url.strip())
    except ValueError as exc:
        raise ConnectionConfigError(f"cannot parse Redis URL {redact(url)!r}: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise ConnectionConfigError(
            f"unsupported URL scheme {scheme or '(none)'!r} in {redact(url)!r}; use redis://, rediss:// or unix://"
        )
    options: dict[str, Any] = {}
    db = 0
    for name, values in parse_qs(parts.query).items():
        if name not in _QUERY_OPTIONS:
            raise ConnectionConfigError(
                f"unknown URL option {name!r} in {redact(url)!r}; known: {', '.join(sorted(_QUERY_OPTIONS))}"
            )
        try:
            value = _QUERY_OPTIONS[name](values[-1])
        except ValueError:
            raise ConnectionConfigError(f"bad value for URL option {name!r} in {redact(url)!r}") from None
        if name == "db":
            db = int(value)
        else:
            options[name] = value
    username = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password is not None else None
    for name in ("username", "password"):
        if name in options:
            if (username, password)[name == "password"] is not None:
                raise ConnectionConfigError(f"{name} given twice (user info and ?{name}=) in {redact(url)!r}")
            if name == "username":
                username = options.pop(name)
            else:
                password = options.pop(name)
    if scheme == "unix":
        path = unquote(parts.path)
        if not path:
            raise ConnectionConfigError(f"unix URL without a socket path: {redact(url)!r}")
        return RedisTarget("unix", None, None, path, db, username, password, options)
    if not parts.hostname:
        raise ConnectionConfigError(f"Redis URL without a host: {redact(url)!r}")
    try:
        port = parts.port or DEFAULT_PORT
    except ValueError:
        raise ConnectionConfigError(f"bad port in Redis URL {redact(url)!r}") from None
    path = parts.path.strip("/")
    if path:
        if not path.isdigit():
            raise ConnectionConfigError(f"the database in {redact(url)!r} must be a number, not {path!r}")
        db = int(path)
    return RedisTarget(scheme, parts.hostname, port, None, db, username, password, options)


# ``scheme://user:`` then the password up to the ``@`` that starts the host part: the password
# may itself hold ``@`` and spaces (urlsplit splits user info at the *last* ``@``), so it runs
# greedily to the last ``@`` (before any ``/ ? #``) that is followed by a host part. In free text
# that may mask a little too much (an e-mail address after the URL), never too little.
_SECRET_IN_URL = re.compile(
    r"(?P<pre>\b(?:rediss?|unix)://[^:/@\s]*:)(?P<pw>[^/?#]*)@(?=[^@/?#\s]*(?:[/?#\s'\"]|$))"
)
_SECRET_IN_QUERY = re.compile(r"(?P<pre>[?&](?:password|pass|pwd)=)(?P<pw>[^&#\s'\"]*)", re.IGNORECASE)


def redact(text: str) -> str:
    """Mask passwords of every Redis URL inside ``text`` (user info and ``?password=``).

    >>> redact("failed: redis://u:pw@h:1/0")
    'failed: redis://u:***@h:1/0'
    >>> redact("redis://u:p@ss w@h:1/0 and redis://h/0?password=x&db=1")
    'redis://u:***@h:1/0 and redis://h/0?password=***&db=1'
    """
    out = _SECRET_IN_URL.sub(lambda m: f"{m.group('pre')}***@", str(text))
    return _SECRET_IN_QUERY.sub(lambda m: f"{m.group('pre')}***", out)


def url_secrets(text: str) -> list[str]:
    """The passwords inside a URL-like string (user info and ``?password=``), raw and decoded.

    For masking them wherever they might be echoed, even when ``text`` is no valid URL.

    >>> url_secrets("redis://u:p%40ss@h/0?password=x")
    ['p%40ss', 'p@ss', 'x']
    """
    found: list[str] = []
    for m in _SECRET_IN_URL.finditer(text):
        found.append(m.group("pw"))
    for m in _SECRET_IN_QUERY.finditer(text):
        found.append(m.group("pw"))
    out: list[str] = []
    for secret in found:
        for variant in (secret, unquote(secret), unquote_plus(secret)):
            if variant and variant not in out:
                out.append(variant)
    return out


def scrub(text: str, *secrets: str | None) -> str:
    """Remove URL passwords and the given secret strings from an error message."""
    out = redact(text)
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        out = out.replace(secret, "***")
    return out
