"""The jsadmin console script: subprocesses against real servers, and in-process main() for speed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import redis
from redis_servers import ServerFactory

import jsadmin
from jsadmin.cli import main
from jsadmin.embedded import EmbeddedRedis, free_port

BIN = Path(sys.executable).with_name("jsadmin")
PASSWORD = "cli-pw-77x"


@pytest.fixture(scope="module")
def grid(redis_factory: ServerFactory) -> Iterator[EmbeddedRedis]:
    """A seeded demo grid on TCP that the tests only read."""
    srv = redis_factory.seeded(seed=4, nodes=2, jobs=40)
    yield srv
    srv.stop()


def run(*args: str, env: dict[str, str] | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if k != "JSADMIN_URL"}
    full_env.update(env or {})
    return subprocess.run(
        [str(BIN), *args], capture_output=True, text=True, timeout=timeout, env=full_env, check=False
    )


@pytest.mark.version_independent  # the command line only: no server is reached
def test_console_script_is_installed() -> None:
    assert BIN.is_file(), "pip install -e . creates the jsadmin console script"


def test_summary_without_url_starts_the_demo_grid() -> None:
    proc = run("summary")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "(embedded demo grid)" in out
    for section in ("families with data", "in flight:", "oldest entry per queue", "stale worker heartbeats", "ECOs:",
                    "job copies by family and state"):
        assert section in out
    for family in jsadmin.FAMILIES:
        assert family in out
    assert "Traceback" not in proc.stderr and "%|" not in proc.stderr  # no progress bar off a TTY


def test_summary_figures_match_the_frames(grid: EmbeddedRedis, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["summary", "--url", grid.url]) == 0
    out = capsys.readouterr().out
    admin = jsadmin.connect(grid.url, readonly=True)
    jobs = admin.load("jobs")
    copies = out.split("job copies by family and state")[1]
    line = next(x for x in copies.splitlines() if x.split()[:1] == ["jobs"])
    assert line.split()[-1] == str(len(jobs))
    ecos = admin.load("ecos")
    assert f"ECOs: {len(ecos)} in eco:objects ({int(ecos['stub'].sum())} processed stubs)" in out
    fams = admin.families().set_index("family")
    row = next(x for x in out.splitlines() if x.split()[:1] == ["worker_jobs"])
    assert row.split()[-2:] == [str(fams.loc["worker_jobs", "keys"]), str(fams.loc["worker_jobs", "entries"])]
    admin.close()


def test_summary_of_a_fleet_inventory(grid: EmbeddedRedis, tmp_path: Path) -> None:
    inv = tmp_path / "grid.yaml"
    inv.write_text(f"nodes:\n  master: {grid.url}\n  down: redis://127.0.0.1:{free_port()}/0\n")
    proc = run("summary", "--inventory", str(inv), "--timeout", "1")
    assert proc.returncode == 0, proc.stderr
    assert "fleet of 2 sources" in proc.stdout
    assert "master" in proc.stdout and "ConnectionError" in proc.stdout
    beats = proc.stdout.split("stale worker heartbeats")[1].split("errors in the last")[0]
    assert any(x.split()[:2] == ["master", "reports"] for x in beats.splitlines()), beats  # per node
    queues = proc.stdout.split("oldest entry per queue")[1].split("run time")[0]
    assert queues.splitlines()[1].split()[:2] == ["source", "kind"]


def test_load_formats(grid: EmbeddedRedis, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    admin = jsadmin.connect(grid.url, readonly=True)
    expected = admin.load("command_queues")
    assert main(["load", "command_queues", "--url", grid.url, "--format", "json"]) == 0
    records = json.loads(capsys.readouterr().out)
    assert [r["guid"] for r in records] == expected["guid"].tolist()
    assert records[0]["args"] == expected["args"].iloc[0]

    out = tmp_path / "q.csv"
    assert main(["load", "command_queues", "--url", grid.url, "--out", str(out)]) == 0
    csv = pd.read_csv(out)
    assert csv["guid"].tolist() == expected["guid"].tolist()
    assert json.loads(csv["args"].iloc[0]) == expected["args"].iloc[0]

    pq = tmp_path / "q.parquet"
    assert main(["load", "command_queues", "--url", grid.url, "--format", "parquet", "--out", str(pq)]) == 0
    assert pd.read_parquet(pq)["guid"].tolist() == expected["guid"].tolist()

    ok = admin.load("jobs", state="OK")
    assert main(["load", "jobs", "--url", grid.url, "--format", "json", "--where", "state=OK"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == len(ok)
    admin.close()


def test_load_parquet_to_stdout_via_python_m(grid: EmbeddedRedis, tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "jsadmin", "load", "jobs_last", "--url", grid.url, "--format", "parquet"],
        capture_output=True, timeout=60, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    (tmp_path / "x.parquet").write_bytes(proc.stdout)
    assert len(pd.read_parquet(tmp_path / "x.parquet")) == 1


def test_snapshot_and_diff_commands(
    grid: EmbeddedRedis, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from jsadmin.snapshot import open_snapshot

    a, b = tmp_path / "a", tmp_path / "b"
    proc = run("snapshot", str(a), "--url", grid.url)  # once through the console script
    assert proc.returncode == 0 and f"{len(jsadmin.FAMILIES)} families" in proc.stdout, proc.stderr
    assert main(["snapshot", str(b), "--url", grid.url]) == 0
    assert open_snapshot(a).kind == "admin"
    capsys.readouterr()
    assert main(["diff", str(a), str(b)]) == 0
    out = capsys.readouterr().out
    assert "families that changed:\n  (none)" in out
    assert "new jobs: 0" in out and "finished jobs: 0" in out
    assert main(["snapshot", str(a), "--url", grid.url]) == 1
    assert "already exists" in capsys.readouterr().err


def test_enqueue_and_register_dry_run_then_real(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], redis_factory: ServerFactory
) -> None:
    srv = redis_factory.start()
    try:
        url = srv.url
        base = ["enqueue", "--url", url, "--gid", "1", "--nid", "2", "--category", "jumpscale", "--cmd", "echo"]
        assert main([*base, "--args", '{"msg": "hi"}', "--dry-run"]) == 0
        out = capsys.readouterr().out
        assert "dry run, nothing written" in out and "queues:commands:queue:1:2" in out
        client = redis.Redis.from_url(protocol=2, url=url)
        assert client.dbsize() == 0
        assert main([*base, "--args", '{"msg": "hi"}']) == 0
        job = json.loads(capsys.readouterr().out)
        assert job["cmd"] == "echo" and job["args"] == {"msg": "hi"}
        assert client.llen("queues:commands:queue:1:2") == 1

        script = tmp_path / "hello.py"
        script.write_text("def action():\n    return 'hello'\n")
        reg = ["register", "--url", url, "--organization", "me", "--name", "hello", "--source", str(script),
               "--descr", "says hello"]
        assert main([*reg, "--dry-run"]) == 0
        assert "dry run, nothing written" in capsys.readouterr().out
        assert not client.exists("workers:jumpscripts:name")
        assert main(reg) == 0
        capsys.readouterr()
        assert client.hexists("workers:jumpscripts:name", "me__hello")
        client.close()
    finally:
        srv.stop()


@pytest.mark.parametrize(
    ("argv", "status", "message"),
    [
        (["enqueue", "--gid", "1", "--nid", "2", "--category", "c", "--cmd", "x", "--args", "{bad"], 2, "--args is not valid JSON"),
        (["enqueue", "--gid", "1", "--category", "c", "--cmd", "x"], 2, "give exactly one of --nid (node queue) or --role"),
        (["load", "no_such_family"], 2, "unknown family 'no_such_family'"),
        (["load", "no_such_family", "--url", "redis://127.0.0.1:1/0"], 2, "unknown family"),  # before connecting
        (["load", "jobs", "--where", "colour=red"], 2, "unknown filter"),
        (["load", "jobs", "--where", "oops"], 2, "--where needs COLUMN=VALUE"),
        (["diff", "/nonexistent/a", "/nonexistent/b"], 2, "no such snapshot directory"),
        (["summary", "--url", "http://x"], 2, "unsupported URL scheme"),
    ],
)
def test_input_errors_are_one_clear_line(
    grid: EmbeddedRedis, argv: list[str], status: int, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    if "--url" not in argv and argv[0] != "diff":
        argv = [*argv, "--url", grid.url]
    assert main(argv) == status
    err = [x for x in capsys.readouterr().err.strip().splitlines() if not x.startswith(("usage:", " "))]
    assert len(err) == 1 and message in err[0] and err[0].startswith(f"jsadmin {argv[0]}: error:")


@pytest.mark.version_independent  # the command line only: no server is reached
def test_connection_errors_exit_1_without_traceback_or_secret() -> None:
    port = free_port()
    proc = run("load", "jobs", "--url", f"redis://:{PASSWORD}@127.0.0.1:{port}/0")
    assert proc.returncode == 1
    assert proc.stderr.strip().count("\n") == 0
    assert "Connection refused" in proc.stderr and "Traceback" not in proc.stderr
    assert PASSWORD not in proc.stderr + proc.stdout


def test_wrong_password_is_reported_without_the_password(
    capsys: pytest.CaptureFixture[str], redis_factory: ServerFactory
) -> None:
    locked = redis_factory.start(password=PASSWORD)
    try:
        assert main(["summary", "--url", f"redis://:wrong-{PASSWORD}@127.0.0.1:{locked.port}/0"]) == 1
        err = capsys.readouterr().err
        assert ("invalid username-password pair" in err or "invalid password" in err) and PASSWORD not in err
        assert main(["load", "jobs_last", "--url", f"redis://:{PASSWORD}@127.0.0.1:{locked.port}/0"]) == 0
        out = capsys.readouterr()
        assert PASSWORD not in out.out + out.err
    finally:
        locked.stop()


@pytest.mark.version_independent  # the command line only: no server is reached
def test_help_of_every_command() -> None:
    for cmd in ("summary", "load", "snapshot", "diff", "record", "lab", "enqueue", "register"):
        assert main([cmd, "--help"]) == 0
    proc = subprocess.run(
        [sys.executable, "-m", "jsadmin", "--help"], capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode == 0 and "summary" in proc.stdout and "enqueue" in proc.stdout


def test_record_runs_the_analytics_recorder(grid: EmbeddedRedis, tmp_path: Path) -> None:
    proc = run("record", "--url", grid.url, "--out", str(tmp_path / "rec"), "--interval", "0.2", "--duration", "0.6")
    assert proc.returncode == 0, proc.stderr
    assert any((tmp_path / "rec").rglob("*.parquet"))


def test_lab_gives_a_clear_message_or_runs(capsys: pytest.CaptureFixture[str]) -> None:
    try:
        import jsadmin.lab  # noqa: F401
    except ImportError:
        proc = run("lab", "--no-browser")
        assert proc.returncode == 1 and "jsadmin lab is not available" in proc.stderr
        assert "Traceback" not in proc.stderr
    else:  # options after "lab" belong to jsadmin.lab.main; --check starts the grid and stops
        assert main(["lab", "--check"]) == 0
        assert "jsadmin lab: live demo grid at" in capsys.readouterr().out


@pytest.mark.version_independent  # rendering: a progress bar only when stderr is a terminal
def test_progress_bar_only_on_a_terminal(grid: EmbeddedRedis, tmp_path: Path) -> None:
    import fcntl
    import pty
    import struct
    import termios

    inv = tmp_path / "grid.yaml"
    inv.write_text(f"nodes:\n  a: {grid.url}\n  b: {grid.url}\n")
    argv = [str(BIN), "load", "jobs_last", "--inventory", str(inv), "--format", "json"]
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))  # a real terminal's size
    try:
        proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=slave, timeout=60, check=False)
        os.close(slave)
        chunks = []
        while True:
            try:
                data = os.read(master, 4096)
            except OSError:
                break
            if not data:
                break
            chunks.append(data)
    finally:
        os.close(master)
    tty_err = b"".join(chunks).decode(errors="replace")
    assert proc.returncode == 0
    assert "load:" in tty_err and "/2 [" in tty_err and "node/s" in tty_err  # tqdm drew "load: 0%|...| 0/2 [...]"
    plain = run("load", "jobs_last", "--inventory", str(inv), "--format", "json")
    assert plain.returncode == 0 and plain.stderr == ""  # no bar off a terminal
    assert [r["source"] for r in json.loads(plain.stdout)] == ["a", "b"]


# --- no password in argument errors (issue 10 item 5) ----------------------------------------

SECRET_FORMS = {
    "plain": "cli-Secr3t-pw",
    "at sign": "p@ss-w0rd@x",
    "spaces": "pass word with spaces",
}


def _url_with(password: str, port: int) -> str:
    return f"redis://:{password}@127.0.0.1:{port}/0"


@pytest.mark.version_independent  # the command line only: no server is reached
@pytest.mark.parametrize("form", list(SECRET_FORMS))
@pytest.mark.parametrize(
    "argv",
    [
        ["summary", "{url}"],                         # URL given without --url
        ["summary", "--urll", "{url}"],               # a mistyped option before it
        ["summary", "--timeout", "1", "--ur1", "{url}"],
        ["--url", "{url}", "summary"],                # option before the command: "invalid choice"
        ["enqueue", "--gid", "{url}", "--category", "c", "--cmd", "x"],  # "invalid int value"
        ["load", "{url}", "--timeout", "1"],          # taken as the family name
    ],
)
def test_argument_errors_never_echo_a_password(argv: list[str], form: str) -> None:
    password = SECRET_FORMS[form]
    args = [a.replace("{url}", _url_with(password, free_port())) for a in argv]
    proc = run(*args, timeout=60)
    assert proc.returncode == 2, proc.stderr
    assert "error" in proc.stderr and "Traceback" not in proc.stderr
    everything = proc.stdout + proc.stderr
    assert password not in everything
    for word in password.split():  # not even a piece of a password with spaces
        if len(word) > 4:
            assert word not in everything
    assert "***" in proc.stderr  # the URL is still shown, masked, so the user sees what was wrong


def test_query_password_is_accepted_and_never_printed(grid: EmbeddedRedis, redis_factory: ServerFactory) -> None:
    secret = "q-Secr3t+pw"
    locked = redis_factory.start(password=secret)
    try:
        good = f"redis://127.0.0.1:{locked.port}/0?password=q-Secr3t%2Bpw"
        proc = run("load", "jobs_last", "--url", good, "--format", "json")
        assert proc.returncode == 0, proc.stderr
        bad = [
            run("load", "jobs_last", "--url", f"{good}&bogus=1"),  # unknown option: the URL is quoted
            run("load", "jobs_last", "--url", good.replace("q-Secr3t", "x-Secr3t")),  # wrong password
            run("summary", good),  # URL without --url
        ]
        assert [p.returncode for p in bad] == [2, 1, 2]  # a bad URL is a usage error; a refused password is not
        for p in bad:
            assert "Secr3t" not in p.stdout + p.stderr, p.stderr
        assert "password=***" in bad[0].stderr
    finally:
        locked.stop()


def test_password_with_at_sign_and_spaces_works_and_stays_secret(
    capsys: pytest.CaptureFixture[str], redis_factory: ServerFactory
) -> None:
    secret = "a@b c:d@e"
    locked = redis_factory.start(password=secret)
    try:
        url = f"redis://:{secret}@127.0.0.1:{locked.port}/0"  # as typed (urlsplit takes the last @)
        assert main(["load", "jobs_last", "--url", url, "--format", "json"]) == 0
        assert main(["load", "jobs_last", "--url", url.replace("d@e", "x@e")]) == 1
        out = capsys.readouterr()
        assert "invalid" in out.err
        assert secret not in out.out + out.err and "b c:d" not in out.err and "b c:x" not in out.err
    finally:
        locked.stop()
