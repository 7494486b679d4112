"""URL parsing, default port, redaction, and real connections."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
import redis
from redis_servers import ServerFactory, commandstats, old_binary

import jsadmin
from jsadmin.compat import ServerInfo
from jsadmin.connection import DEFAULT_PORT, parse_url, redact
from jsadmin.embedded import EmbeddedRedis, binary_version, free_port
from jsadmin.errors import ConnectionConfigError, UnsupportedByServer


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


# --- passwords with @, spaces and ?password= (issue 10 item 5) --------------------------------


@pytest.mark.parametrize(
    ("url", "password"),
    [
        ("redis://u:p@ss@h:1/0", "p@ss"),
        ("redis://:a@b c:d@127.0.0.1:5/0", "a@b c:d"),
        ("redis://u:pw@h:1/0?password=other", None),  # twice: refused
        ("redis://h:1/0?password=q%2Bp+w", "q+p w"),
        ("redis://h:1/0?username=bob&password=xq-9", "xq-9"),
    ],
)
def test_odd_passwords_parse_and_never_print(url: str, password: str | None) -> None:
    if password is None:
        with pytest.raises(ConnectionConfigError, match="password given twice") as err:
            parse_url(url)
        assert "pw" not in str(err.value).replace("password", "") and "other" not in str(err.value)
        return
    t = parse_url(url)
    assert t.password == password
    assert password not in repr(t)
    for text in (t.safe_url, redact(url), redact(f"error at {url}: refused")):
        assert password not in text and "***" in text
    assert "ss@h" not in redact(url)  # no piece of the password either


def test_redact_masks_query_passwords_and_keeps_the_rest() -> None:
    assert redact("redis://h:1/0?password=s3cret&db=2") == "redis://h:1/0?password=***&db=2"
    assert redact("x redis://u:a b@h/0 y") == "x redis://u:***@h/0 y"
    assert redact("redis://host:9999/0 ops@example.com") == "redis://host:9999/0 ops@example.com"
    with pytest.raises(ConnectionConfigError) as err:
        parse_url("redis://h?password=s3cret&bogus=1")
    assert "s3cret" not in str(err.value) and "bogus" in str(err.value)


# --- the server version and features old servers lack (issue 10 item 1) ------------------------


def test_admin_server_is_the_version_read_once(redis_url: str, redis_info: ServerInfo, r: redis.Redis) -> None:
    admin = jsadmin.connect(redis_url)
    try:
        r.config_resetstat()
        assert admin.server == redis_info  # INFO server of the live server == redis-server --version
        assert admin.server.has("hset_multi") == (redis_info.version >= (4, 0, 0))
        for _ in range(3):
            admin.server  # noqa: B018 - the property is what is tested
        calls = commandstats(r).get("info", 0)
        assert calls <= 1  # r's own INFO commandstats call; connect() already read the version
    finally:
        admin.close()


@pytest.fixture(scope="module")
def old_server(redis_factory: ServerFactory) -> Iterator[EmbeddedRedis]:
    """A pre-6.0 redis-server (no ACL users, no TLS), with a password."""
    binary = old_binary()
    if binary is None:
        pytest.skip("no Redis older than 6.0 here: python -m tests.matrix --build-only builds 2.8.17 and 3.0.5")
    srv = redis_factory.start(binary=binary, password=OLD_PW)
    yield srv
    srv.stop()


OLD_PW = "old-Pw-81x"


def test_a_user_name_on_a_server_without_acl_names_the_version(old_server: EmbeddedRedis) -> None:
    version = ".".join(map(str, binary_version(old_server.binary)))
    url = f"redis://alice:{OLD_PW}@127.0.0.1:{old_server.port}/0"
    # right password: redis-py would quietly drop the user name and log in with full rights
    with pytest.raises(UnsupportedByServer, match=rf"ACL users need Redis 6\.0 or newer; this server runs Redis {version}") as ok_pw:
        jsadmin.connect(url)
    # wrong password: the error still says why a user name cannot work here
    with pytest.raises(UnsupportedByServer, match=r"ACL users need Redis 6\.0") as bad_pw:
        jsadmin.connect(url.replace(OLD_PW, "nope"))
    for err in (ok_pw, bad_pw):
        assert OLD_PW not in str(err.value) and "alice" in str(err.value)
        assert "without a user name" in str(err.value)
    # the "default" user is the only user an old server has: accepted
    admin = jsadmin.connect(f"redis://default:{OLD_PW}@127.0.0.1:{old_server.port}/0")
    assert admin.server.version_text == version and not admin.server.has("acl")
    admin.close()


def test_tls_to_a_server_without_tls_names_the_version(old_server: EmbeddedRedis, redis_factory: ServerFactory) -> None:
    version = ".".join(map(str, binary_version(old_server.binary)))
    with pytest.raises(UnsupportedByServer, match=r"TLS") as err:
        jsadmin.connect(f"rediss://:{OLD_PW}@127.0.0.1:{old_server.port}/0", socket_connect_timeout=2, socket_timeout=0.5)
    text = str(err.value)
    assert "plain text" in text and "redis://" in text and OLD_PW not in text
    open_srv = redis_factory.start(binary=old_server.binary)  # no password: version known
    try:
        with pytest.raises(UnsupportedByServer, match=rf"TLS needs Redis 6\.0 or newer; .* runs Redis {version}"):
            jsadmin.connect(f"rediss://127.0.0.1:{open_srv.port}/0", socket_connect_timeout=2, socket_timeout=0.5)
    finally:
        open_srv.stop()


def test_cli_and_fleet_report_the_version_too(old_server: EmbeddedRedis, capsys: pytest.CaptureFixture[str]) -> None:
    from jsadmin.cli import main

    url = f"redis://reader:{OLD_PW}@127.0.0.1:{old_server.port}/0"
    assert main(["load", "jobs_last", "--url", url]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "ACL users need Redis 6.0" in err and OLD_PW not in err
    f = jsadmin.fleet({"old": url}, timeout=2)
    f.load("jobs_last")
    status = f.status().set_index("source")
    assert not bool(status.loc["old", "ok"])
    assert status.loc["old", "error"].startswith("UnsupportedByServer: ACL users need Redis 6.0")
