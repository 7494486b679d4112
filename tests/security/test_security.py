"""Connection security against real servers: passwords, ACL users, a read-only user, TLS, no leaked secrets."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pandas as pd
import pytest
import redis

import jsadmin
from jsadmin.cli import main
from jsadmin.embedded import EmbeddedRedis
from jsadmin.errors import ReadOnlyError, WriteNotApplied
from jsadmin.fleets import fleet, quick_retry

PASSWORD = "pw-Secr3t-9f2c"  # the same values as tests/security/conftest.py
ADMIN_USER, ADMIN_PW = "alice", "alice-Pw-51e0"
READER_USER, READER_PW = "reader", "reader-Pw-a7d3"
SECRETS = (PASSWORD, ADMIN_PW, READER_PW)

TlsServer = object  # tests/security/conftest.py: .url, .port, .files (ca, client_cert, ...), .server


def _url(srv: EmbeddedRedis, user: str = "", password: str = PASSWORD) -> str:
    return f"redis://{user}:{password}@127.0.0.1:{srv.port}/0"


def _socket_frames(srv: EmbeddedRedis, name: str, **auth: str) -> pd.DataFrame:
    """The same family read over the server's unix socket with raw credentials (reference)."""
    target = f"unix://{srv.socket_path}"
    client = redis.Redis(protocol=2, unix_socket_path=str(srv.socket_path), **auth)
    admin = jsadmin.Admin(client, url=target, readonly=True)
    try:
        return admin.load(name)
    finally:
        client.close()


def assert_no_secret(*texts: object) -> None:
    blob = "\n".join(map(str, texts))
    for secret in SECRETS:
        assert secret not in blob


# --- passwords ------------------------------------------------------------------------------


def test_password_auth(password_server: EmbeddedRedis) -> None:
    admin = jsadmin.connect(_url(password_server), readonly=True)
    jobs = admin.load("jobs")
    pd.testing.assert_frame_equal(jobs, _socket_frames(password_server, "jobs", password=PASSWORD))
    assert len(jobs) > 0
    assert admin.url == f"redis://:***@127.0.0.1:{password_server.port}/0"
    admin.close()


def test_wrong_or_missing_password_is_a_clear_error(password_server: EmbeddedRedis) -> None:
    # Redis >= 6: "invalid username-password pair"; Redis 2.8-5: "invalid password"
    with pytest.raises(redis.AuthenticationError, match=r"invalid (username-password pair|password)") as wrong:
        jsadmin.connect(_url(password_server, password="nope-" + PASSWORD), retry=quick_retry())
    with pytest.raises(redis.RedisError, match=r"(?i)auth") as missing:
        jsadmin.connect(f"redis://127.0.0.1:{password_server.port}/0", retry=quick_retry())
    assert_no_secret(wrong.value, missing.value, repr(wrong.value))


# --- ACL users ------------------------------------------------------------------------------


def test_acl_users(acl_server: EmbeddedRedis) -> None:
    alice = jsadmin.connect(_url(acl_server, ADMIN_USER, ADMIN_PW))
    assert alice.url == f"redis://{ADMIN_USER}:***@127.0.0.1:{acl_server.port}/0"
    assert alice.redis.acl_whoami() in (ADMIN_USER, ADMIN_USER.encode())
    with pytest.raises(redis.AuthenticationError) as bad:
        jsadmin.connect(_url(acl_server, ADMIN_USER, READER_PW), retry=quick_retry())
    with pytest.raises(redis.RedisError):  # the default user is switched off
        jsadmin.connect(f"redis://127.0.0.1:{acl_server.port}/0", retry=quick_retry())
    assert_no_secret(bad.value, alice, alice.url)
    alice.close()


def test_password_given_as_keyword_stays_secret(password_server: EmbeddedRedis) -> None:
    url = f"redis://127.0.0.1:{password_server.port}/0"
    f = fleet({"kw": url}, password=PASSWORD)
    assert len(f.load("jobs")) > 0
    bad = fleet({"kw": url}, password="y" + PASSWORD)
    bad.load("jobs")
    assert not bad.status()["ok"].any()
    assert_no_secret(repr(f), f.status().to_string(), bad.status().to_string(), repr(bad), bad.sources)


def test_read_only_acl_user_loads_everything(acl_server: EmbeddedRedis) -> None:
    reader = jsadmin.connect(_url(acl_server, READER_USER, READER_PW), readonly=True)
    alice = jsadmin.connect(_url(acl_server, ADMIN_USER, ADMIN_PW), readonly=True)
    as_reader, as_alice = reader.load_all(), alice.load_all()
    assert list(as_reader) == list(as_alice)
    for name, frame in as_reader.items():
        pd.testing.assert_frame_equal(frame, as_alice[name], obj=name)
    pd.testing.assert_frame_equal(reader.families(), alice.families())
    # the reader may not run INFO (NOPERM): the version comes from HELLO 2 instead
    assert reader.server == alice.server and reader.server.has("acl")
    assert sum(len(f) for f in as_reader.values()) > 100
    reader.close()
    alice.close()


def test_read_only_acl_user_refreshes_the_health_board(acl_server: EmbeddedRedis) -> None:
    """The reader may not run scripts (``-@all +@read``: EVALSHA is ``@scripting``): the batched
    refresh falls back to pipelined per-key reads and shows the same frames as a user who may."""
    from jsadmin.display.panels.health import collect

    reader = jsadmin.connect(_url(acl_server, READER_USER, READER_PW), readonly=True)
    alice = jsadmin.connect(_url(acl_server, ADMIN_USER, ADMIN_PW), readonly=True)
    now = pd.Timestamp.now(tz="UTC")
    as_reader, as_alice = collect(reader, now=now), collect(alice, now=now)
    assert list(as_reader) == list(as_alice)
    for name, frame in as_reader.items():
        pd.testing.assert_frame_equal(frame, as_alice[name], obj=name)
    assert len(as_reader["queues"]) > 0 and len(as_reader["heartbeats"]) > 0
    reader.close()
    alice.close()


def test_read_only_acl_user_cannot_write(acl_server: EmbeddedRedis) -> None:
    url = _url(acl_server, READER_USER, READER_PW)
    before = redis.Redis.from_url(protocol=2, url=_url(acl_server, ADMIN_USER, ADMIN_PW))
    size = before.dbsize()
    admin = jsadmin.connect(url, readonly=False)  # the client does not refuse: the server must
    with pytest.raises(redis.exceptions.NoPermissionError, match="no permissions to run the 'set' command"):
        admin.redis.set("jsadmin:probe", "1")
    if hasattr(admin, "enqueue_job"):
        # the write transport reports the refusal as "nothing was written" (cause: NOPERM)
        with pytest.raises(WriteNotApplied, match="no permissions") as info:
            admin.enqueue_job(1, nid=1, category="jumpscale", cmd="echo", args={"msg": "hi"})
        assert isinstance(info.value.__cause__, redis.exceptions.NoPermissionError)
        guarded = jsadmin.connect(url, readonly=True)
        with pytest.raises(ReadOnlyError, match="read-only"):
            guarded.enqueue_job(1, nid=1, category="jumpscale", cmd="echo")
        guarded.close()
    assert before.dbsize() == size
    assert before.get("jsadmin:probe") is None
    before.close()
    admin.close()


def test_read_only_user_write_through_cli_is_one_clear_line(
    acl_server: EmbeddedRedis, capsys: pytest.CaptureFixture[str]
) -> None:
    url = _url(acl_server, READER_USER, READER_PW)
    status = main(["enqueue", "--url", url, "--gid", "1", "--nid", "1", "--category", "jumpscale", "--cmd", "echo"])
    err = capsys.readouterr().err
    assert status == 1 and err.count("\n") == 1 and "no permissions" in err
    assert_no_secret(err)


# --- secrets stay out of everything printed -------------------------------------------------


def test_secrets_never_appear_in_reprs_logs_status_or_manifests(
    password_server: EmbeddedRedis, acl_server: EmbeddedRedis, tmp_path: Path,
    caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    targets = {
        "pw": _url(password_server),
        "alice": _url(acl_server, ADMIN_USER, ADMIN_PW),
        "reader": _url(acl_server, READER_USER, READER_PW),
        "wrong": _url(acl_server, READER_USER, "x" + PASSWORD),
    }
    f = fleet(targets, readonly=True, timeout=2)
    frames = f.load_all()
    status = f.status()
    assert status["ok"].tolist() == [True, True, True, False]
    path = f.snapshot(tmp_path / "snap")
    admin = jsadmin.connect(targets["pw"], readonly=True)
    texts: list[object] = [
        repr(f), f.sources, status.to_string(), status.to_json(), repr(admin), str(admin), admin.url,
        f.families().to_string(), frames["jobs"].head().to_string(), caplog.text,
    ]
    texts.append(admin._repr_html_())
    for file in path.rglob("*"):
        if file.is_file():
            texts.append(file.read_bytes().decode("latin-1"))
    manifest = json.loads((path / "manifest.json").read_text())
    assert {s["name"]: s["url"] for s in manifest["sources"]}["wrong"].startswith(f"redis://{READER_USER}:***@")
    for argv in (["summary", "--url", targets["wrong"]], ["load", "jobs_last", "--url", targets["pw"]],
                 ["summary", "--url", targets["pw"].replace("127.0.0.1", "127.0.0.2")]):
        main(argv)
        out = capsys.readouterr()
        texts += [out.out, out.err]
    for record in caplog.records:
        texts.append(record.getMessage())
    assert_no_secret(*texts)
    admin.close()


# --- TLS ------------------------------------------------------------------------------------


def test_tls_with_ca_in_the_url_query(tls_server: TlsServer) -> None:
    url = f"{tls_server.url}?ssl_ca_certs={tls_server.files.ca}"
    admin = jsadmin.connect(url, readonly=True)
    assert admin.url.startswith("rediss://127.0.0.1:")
    jobs = admin.load("jobs")
    pd.testing.assert_frame_equal(jobs, _socket_frames(tls_server.server, "jobs"))
    assert len(jobs) > 0
    admin.close()


def test_tls_with_keyword_options_and_a_client_certificate(tls_server: TlsServer) -> None:
    files = tls_server.files
    admin = jsadmin.connect(tls_server.url, readonly=True, ssl_ca_certs=str(files.ca))
    assert admin.redis.ping()
    admin.close()
    with_cert = jsadmin.connect(
        tls_server.url, ssl_ca_certs=str(files.ca), ssl_certfile=str(files.client_cert),
        ssl_keyfile=str(files.client_key),
    )
    assert len(with_cert.load("worker_heartbeat")) > 0
    with_cert.close()
    query = f"{tls_server.url}?ssl_ca_certs={files.ca}&ssl_certfile={files.client_cert}&ssl_keyfile={files.client_key}"
    via_query = jsadmin.connect(query, readonly=True)
    assert via_query.redis.ping()
    via_query.close()


def test_tls_refuses_an_unknown_ca_and_plain_text(tls_server: TlsServer) -> None:
    with pytest.raises(redis.ConnectionError, match="certificate verify failed"):
        jsadmin.connect(tls_server.url, ssl_ca_certs=str(tls_server.files.other_ca), retry=quick_retry())
    with pytest.raises(redis.ConnectionError):
        jsadmin.connect(f"redis://127.0.0.1:{tls_server.port}/0", socket_timeout=2, retry=quick_retry())


def test_tls_fleet_and_cli(tls_server: TlsServer, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"{tls_server.url}?ssl_ca_certs={tls_server.files.ca}"
    f = fleet({"tls": url, "no-ca": tls_server.url}, timeout=2)
    heart = f.load("worker_heartbeat")
    st = f.status().set_index("source")
    assert bool(st.loc["tls", "ok"]) and not bool(st.loc["no-ca", "ok"])
    assert "certificate verify failed" in st.loc["no-ca", "error"]
    assert set(heart["source"]) == {"tls"}
    assert main(["load", "jobs_last", "--url", url, "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["key"] == "jobs:last"
