"""URL parsing, default port, redaction, and real connections."""

from __future__ import annotations

import logging

import pytest
import redis

import jsadmin
from jsadmin.connection import DEFAULT_PORT, parse_url, redact
from jsadmin.errors import ConnectionConfigError


@pytest.mark.parametrize(
    ("url", "host", "port", "db"),
    [
        ("redis://10.0.0.1", "10.0.0.1", 9999, 0),
        ("redis://10.0.0.1/3", "10.0.0.1", 9999, 3),
        ("redis://10.0.0.1:6379/0", "10.0.0.1", 6379, 0),
        ("rediss://u:p@master.example:7000/1", "master.example", 7000, 1),
    ],
)
def test_parse_tcp(url: str, host: str, port: int, db: int) -> None:
    t = parse_url(url)
    assert (t.host, t.port, t.db) == (host, port, db)
    assert DEFAULT_PORT == 9999


def test_parse_unix_and_options() -> None:
    t = parse_url("unix:///tmp/redis.sock?db=2")
    assert (t.scheme, t.path, t.db) == ("unix", "/tmp/redis.sock", 2)
    t = parse_url("rediss://h?ssl_ca_certs=/ca.pem&ssl_check_hostname=false")
    assert t.options == {"ssl_ca_certs": "/ca.pem", "ssl_check_hostname": False}


@pytest.mark.parametrize(
    "url", ["", "http://h", "redis://", "redis://h/x", "redis://h?nosuch=1", "unix://", "redis://h:99999999"]
)
def test_bad_urls_are_clear(url: str) -> None:
    with pytest.raises(ConnectionConfigError):
        parse_url(url)


def test_secrets_never_printed() -> None:
    t = parse_url("redis://admin:s3cret@h:1/0")
    assert "s3cret" not in repr(t) and "s3cret" not in t.safe_url
    assert t.safe_url == "redis://admin:***@h:1/0"
    assert redact("x redis://u:s3cret@h/0 y") == "x redis://u:***@h/0 y"
    with pytest.raises(ConnectionConfigError) as err:
        parse_url("redis://u:s3cret@h?bogus=1")
    assert "s3cret" not in str(err.value)


def test_connect_real_server(redis_url: str) -> None:
    admin = jsadmin.connect(redis_url)
    assert admin.redis.ping()
    assert admin.url == redis_url and not admin.readonly
    assert "embedded" not in repr(admin)
    admin.close()


def test_connect_uses_env(redis_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JSADMIN_URL", redis_url)
    admin = jsadmin.connect()
    assert admin.url == redis_url and admin.embedded is None
    admin.close()


def test_unreachable_is_a_redis_error_without_secret() -> None:
    from jsadmin.embedded import free_port

    with pytest.raises(redis.ConnectionError) as err:
        jsadmin.connect(f"redis://u:s3cret@127.0.0.1:{free_port()}/0", socket_connect_timeout=1)
    assert "s3cret" not in str(err.value) and "127.0.0.1" in str(err.value)


def test_connect_without_url_starts_embedded_demo(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.delenv("JSADMIN_URL", raising=False)
    with caplog.at_level(logging.WARNING, logger="jsadmin"):
        admin = jsadmin.connect()
    try:
        assert admin.embedded is not None and admin.embedded.alive()
        assert "embedded demo" in repr(admin)
        assert any("embedded demo grid" in r.getMessage() for r in caplog.records)
        assert admin.url.startswith("unix://")
    finally:
        admin.close()
    assert not admin.embedded.alive()
