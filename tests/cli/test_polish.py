"""CLI polish: --version, help everywhere, did-you-mean, flags in errors, exit statuses, checks
before any server starts, enqueue --wait, tables on a terminal. Real servers and a real pty."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import click
import pandas as pd
import pytest
from redis_servers import ServerFactory

import jsadmin
from jsadmin._version import __version__
from jsadmin.cli import cli, main
from jsadmin.cli_text import as_flags
from jsadmin.embedded import EmbeddedRedis

BIN = Path(sys.executable).with_name("jsadmin")
DEMO_NOTE = "starting the embedded demo grid"


def run(*args: str, timeout: float = 90, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if k != "JSADMIN_URL"}
    full.update(env or {})
    return subprocess.run([str(BIN), *args], capture_output=True, text=True, timeout=timeout, env=full, check=False)


def run_on_tty(*args: str, columns: int = 120) -> tuple[int, str]:
    """Run jsadmin with stdout on a real pseudo-terminal; ``(status, what the terminal showed)``."""
    master, slave = pty.openpty()
    env = {k: v for k, v in os.environ.items() if k != "JSADMIN_URL"}
    env["COLUMNS"] = str(columns)
    proc = subprocess.Popen([str(BIN), *args], stdout=slave, stderr=subprocess.DEVNULL, env=env)
    os.close(slave)
    chunks = []
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(master)
    return proc.wait(timeout=90), b"".join(chunks).decode().replace("\r\n", "\n")


@pytest.fixture(scope="module")
def grid(redis_factory: ServerFactory) -> Iterator[EmbeddedRedis]:
    srv = redis_factory.seeded(seed=3, nodes=2, jobs=30)
    yield srv
    srv.stop()


@pytest.mark.version_independent  # the command line only: no server is reached
def test_version() -> None:
    proc = run("--version")
    assert proc.returncode == 0 and proc.stdout.strip() == f"jsadmin {__version__}"


@pytest.mark.version_independent  # the command line only: no server is reached
def test_every_option_of_every_command_has_help() -> None:
    missing = []
    for name, cmd in cli.commands.items():
        for param in cmd.params:
            if isinstance(param, click.Option) and not param.help:
                missing.append(f"{name} {'/'.join(param.opts)}")
            if isinstance(param, click.Argument) and param.human_readable_name not in (cmd.help or ""):
                missing.append(f"{name} {param.human_readable_name} (not named in the command's help)")
    assert not missing, f"options without help: {missing}"
    text = run("enqueue", "--help").stdout
    for flag in ("--gid GID", "--nid NID", "--role ROLE", "--wait-timeout"):
        assert flag in text
    assert "exit status:" in text and "the command line is wrong" in text
    top = run("--help").stdout
    assert "exit status:" in top and "130" in top and "--version" in top


@pytest.mark.parametrize(
    ("argv", "hint"),
    [
        (["sumary"], "did you mean 'summary'?"),
        (["load", "jobs", "--fromat", "csv"], "did you mean '--format'?"),
        (["load", "jobz"], "did you mean 'jobs'?"),
        (["load", "jobs", "--format", "jsn"], "did you mean 'json'?"),
        (["summary", "--stael", "5"], "did you mean '--stale'?"),
        (["enqueue", "--gid", "1", "--nid", "1", "--catgory", "c", "--cmd", "x"], "did you mean '--category'?"),
        (["register", "--organization", "o", "--name", "n", "--source", "-", "--options", '{"rols": []}'],
         "did you mean 'roles'?"),
        (["diff", "a", "b", "--verb"], "did you mean '--verbose'?"),  # options are spelled out, not abbreviated
        (["--stale", "5", "summary"], "options such as --url go after the command: jsadmin summary --stale 5"),
    ],
)
def test_did_you_mean(argv: list[str], hint: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert hint in err and DEMO_NOTE not in err


@pytest.mark.version_independent  # the command line only: no server is reached
@pytest.mark.parametrize(
    ("argv", "phrase"),
    [
        (["enqueue", "--gid", "1", "--nid", "1", "--role", "node", "--category", "c", "--cmd", "x"],
         "give exactly one of --nid (node queue) or --role (role queue); got --nid 1, --role 'node'"),
        (["enqueue", "--gid", "1", "--category", "c", "--cmd", "x"], "give exactly one of --nid (node queue) or --role"),
        (["enqueue", "--gid", "1", "--nid", "1", "--category", "a b", "--cmd", "x"], "--category 'a b' contains"),
        (["enqueue", "--gid", "1", "--role", "no:de", "--category", "c", "--cmd", "x"], "--role must be a plain"),
        (["enqueue", "--gid", "1", "--nid", "1", "--category", "c", "--cmd", "x", "--job-timeout", "-1"],
         "--job-timeout must be a finite number >= 0"),
        (["enqueue", "--gid", "1", "--nid", "1", "--category", "c", "--cmd", "x", "--args", "[1]"],
         "--args must be a JSON object"),
        (["enqueue", "--gid", "1", "--nid", "1", "--category", "c", "--cmd", "x", "--wait", "--wait-timeout", "-2"],
         "'--wait-timeout': -2.0 is not in the range x>=0"),
        (["register", "--organization", "o", "--name", "a__b", "--source", "{src}"], "--name must not contain '__'"),
        (["register", "--organization", "o", "--name", "n", "--source", "{nodescr}"], "--descr is required"),
        (["load", "jobs", "--where", "oops"], "--where needs COLUMN=VALUE"),
        (["summary", "--url", "http://x"], "unsupported URL scheme"),
    ],
)
def test_bad_arguments_exit_2_as_flags_before_any_server_starts(
    argv: list[str], phrase: str, tmp_path: Path
) -> None:
    src = tmp_path / "ok.py"
    src.write_text('descr = "x"\ndef action():\n    pass\n')
    nodescr = tmp_path / "nodescr.py"
    nodescr.write_text("def action():\n    pass\n")
    argv = [a.replace("{src}", str(src)).replace("{nodescr}", str(nodescr)) for a in argv]
    proc = run(*argv)  # no --url: a check made after starting would show the demo grid's note
    assert proc.returncode == 2, proc.stderr
    assert phrase in proc.stderr
    assert DEMO_NOTE not in proc.stderr and "Traceback" not in proc.stderr
    assert "=True" not in proc.stderr and "nid=" not in proc.stderr and "role=" not in proc.stderr


def test_python_keywords_become_flags() -> None:
    flags = {"nid": "--nid", "role": "--role", "overwrite": "--overwrite", "gid": "--gid", "replace": "--replace"}
    assert as_flags("give exactly one of nid= (node queue) or role= (role queue); got nid=None, role=None",
                    flags) == "give exactly one of --nid (node queue) or --role (role queue); got --nid None, --role None"
    assert as_flags("x exists; choose a new path or pass overwrite=True", flags).endswith("pass --overwrite")
    assert as_flags("pass gid=<the node's grid id>", flags) == "pass --gid <the node's grid id>"
    assert as_flags("ridge=1 stays", flags) == "ridge=1 stays"  # only whole keyword names


def test_existing_targets_hint_the_flag_and_exit_1(grid: EmbeddedRedis, tmp_path: Path) -> None:
    snap = tmp_path / "s"
    assert run("snapshot", str(snap), "--url", grid.url).returncode == 0
    proc = run("snapshot", str(snap), "--url", grid.url)
    assert proc.returncode == 1 and "pass --overwrite" in proc.stderr and "overwrite=True" not in proc.stderr
    proc = run("snapshot", str(snap))  # refused before the demo grid starts
    assert proc.returncode == 1 and "pass --overwrite" in proc.stderr and DEMO_NOTE not in proc.stderr
    (tmp_path / "plain").mkdir()
    proc = run("snapshot", str(tmp_path / "plain"), "--overwrite", "--url", grid.url)
    assert proc.returncode == 1 and "is not a jsadmin snapshot" in proc.stderr
    src = tmp_path / "echo.py"
    src.write_text('descr = "mine"\ndef action():\n    print "mine"\n')
    proc = run("register", "--url", grid.url, "--organization", "jumpscale", "--name", "echo", "--source", str(src),
               "--gid", "1")
    assert proc.returncode == 1, proc.stderr
    assert "pass --replace to overwrite it" in proc.stderr and "replace=True" not in proc.stderr


def test_enqueue_wait_prints_the_result_not_the_scheduled_job() -> None:
    proc = run("enqueue", "--gid", "1", "--nid", "2", "--category", "jumpscale", "--cmd", "echo",
               "--args", '{"msg": "hi there"}', "--wait", "--wait-timeout", "60")
    assert proc.returncode == 0, proc.stderr
    job = json.loads(proc.stdout)
    assert job["state"] == "OK" and job["result"] == "hi there"
    assert pd.Timestamp(job["timeStop"]) >= pd.Timestamp(job["timeCreate"])  # ISO 8601 UTC, as wait_job returns
    assert "waiting up to 60 s" in proc.stderr


def test_enqueue_wait_exits_1_when_the_job_fails_or_sends_nothing() -> None:
    failed = run("enqueue", "--gid", "1", "--nid", "2", "--category", "demo", "--cmd", "flaky",
                 "--args", '{"p": 1}', "--wait", "--wait-timeout", "60")
    assert failed.returncode == 1, failed.stderr
    assert json.loads(failed.stdout)["state"] == "ERROR"
    assert f"job {json.loads(failed.stdout)['guid']} ended ERROR" in failed.stderr
    silent = run("enqueue", "--gid", "1", "--nid", "5", "--category", "jumpscale", "--cmd", "echo",
                 "--wait", "--wait-timeout", "1")  # node 5 of the demo has no processmanager polling
    assert silent.returncode == 1
    assert "sent no result within 1 s (--wait-timeout)" in silent.stderr and "Traceback" not in silent.stderr


@pytest.mark.version_independent  # rendering by output kind (tty table, csv, json); loads are checked per leg elsewhere
def test_load_is_a_table_on_a_terminal_and_csv_when_piped(grid: EmbeddedRedis, tmp_path: Path) -> None:
    admin = jsadmin.connect(grid.url, readonly=True)
    jobs = admin.load("jobs")
    admin.close()
    status, screen = run_on_tty("load", "jobs", "--url", grid.url, "--rows", "5", columns=100)
    assert status == 0
    lines = screen.strip().splitlines()
    assert lines[0].split()[:4] == ["guid", "state", "category", "cmd"]
    assert all(len(x) <= 100 for x in lines)
    assert lines[-1].startswith(f"(5 of {len(jobs)} rows; --rows N for more;") and "more columns" in lines[-1]
    shown = lines[1].split()[0]  # the first job's guid, cut with "…" when the terminal is too narrow
    assert len(shown) >= 8 and jobs["guid"].iloc[0].startswith(shown.removesuffix("…"))
    assert "," not in lines[0]

    piped = run("load", "jobs", "--url", grid.url)
    assert piped.returncode == 0
    assert pd.read_csv(pd.io.common.StringIO(piped.stdout))["guid"].tolist() == jobs["guid"].tolist()

    status, screen = run_on_tty("load", "jobs", "--url", grid.url, "--format", "json")
    assert status == 0 and len(json.loads(screen)) == len(jobs)
    out = tmp_path / "jobs.json"
    assert run("load", "jobs", "--url", grid.url, "--out", str(out)).returncode == 0
    assert len(json.loads(out.read_text())) == len(jobs)  # the format follows the suffix
    status, screen = run_on_tty("load", "jobs", "--url", grid.url, "--columns", "state,nid", "--rows", "3")
    assert screen.splitlines()[0].split() == ["state", "nid"]
    proc = run("load", "jobs", "--url", grid.url, "--columns", "stat")
    assert proc.returncode == 2 and "did you mean 'state'?" in proc.stderr


@pytest.mark.version_independent  # the command line only: no server is reached
def test_lab_help_is_the_help_of_jsadmin_lab_itself() -> None:
    proc = run("lab", "--help")
    assert proc.returncode == 0
    assert "usage: jsadmin lab" in proc.stdout and "--check" in proc.stdout and "--no-browser" in proc.stdout


@pytest.mark.version_independent  # the command line only: no server is reached
def test_click_loads_with_the_cli_only() -> None:
    code = "import sys, jsadmin; a = 'click' in sys.modules; import jsadmin.cli; print(a, 'click' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.split() == ["False", "True"]


@pytest.mark.version_independent  # the command line only: no server is reached
def test_help_stays_fast() -> None:
    import time

    start = time.perf_counter()
    assert run("--help").returncode == 0
    assert time.perf_counter() - start < 5  # about 0.6 s here: pandas is the cost, no server starts
