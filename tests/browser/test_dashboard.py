"""``jsadmin dashboard`` in a real browser: the CLI starts Voila, Playwright drives Debian's Chromium.

The grid is a seeded redis-server with a password. The read-only dashboard is opened while no
other client writes: every key's ``DUMP`` and the ``INFO commandstats`` write counters are the same
after the page has loaded and refreshed a few times. The page must show states in colour, disable
every write control saying how to enable writes, refresh itself (new jobs appear without a
click), and never show the password, which must not be on any child's command line either. A second
dashboard started with ``--allow-writes`` enqueues only after *Preview* and *Confirm*.

Screenshots go to ``/tmp/jsadmin-dashboard-shots`` (and ``$JSADMIN_ARTIFACTS`` when set).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest
import redis
from redis_servers import ServerFactory, commandstats

import jsadmin
from jsadmin.display.cost import server_writes
from jsadmin.embedded import free_port

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PASSWORD = "dash-s3cret-pw"
SHOTS = Path("/tmp/jsadmin-dashboard-shots")
REFRESH = 2

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is missing (apt-get install chromium)"),
]


@pytest.fixture(scope="module")
def grid(redis_factory: ServerFactory) -> Iterator[str]:
    """A seeded demo grid behind a password; yields the URL with the password."""
    server = redis_factory.seeded(seed=7, password=PASSWORD)
    yield redis_factory.url(server, PASSWORD)
    server.stop()


def _start(args: list[str], env: dict[str, str], log: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    out = log.open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "jsadmin", "dashboard", "--port", str(port),
                             "--refresh", str(REFRESH), *args],
                            env=env, stdout=out, stderr=subprocess.STDOUT)
    out.close()
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"jsadmin dashboard exited with {proc.returncode}: {log.read_text()}")
        try:
            urllib.request.urlopen(url, timeout=2).close()
            return proc, url
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(f"the dashboard did not answer at {url}: {log.read_text()}")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()  # jsadmin dashboard stops Voila and its kernels, then exits
    try:
        proc.wait(timeout=40)
    except subprocess.TimeoutExpired:
        proc.kill()


def _descendant_cmdlines(pid: int) -> list[str]:
    out = []
    for child in psutil.Process(pid).children(recursive=True):
        try:
            out.append(" ".join(child.cmdline()))
        except psutil.Error:
            continue
    return out


def _keyspace(client: redis.Redis) -> dict[bytes, bytes | None]:
    return {k: client.dump(k) for k in client.scan_iter(count=1000)}


def _screenshot(pg: Any, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / name
    pg.screenshot(path=str(path), full_page=True)
    artifacts = os.environ.get("JSADMIN_ARTIFACTS")
    if artifacts:
        Path(artifacts).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(artifacts) / name)
    return path


def _browser(pw: Any) -> Any:
    profile = tempfile.mkdtemp(prefix="jsadmin-chromium-")
    ctx = pw.chromium.launch_persistent_context(
        user_data_dir=profile, executable_path=str(CHROMIUM), headless=True, args=ARGS,
        viewport={"width": 1400, "height": 1400},
    )
    ctx.set_default_timeout(60_000)
    return ctx, profile


def _wait_for_dashboard(pg: Any) -> None:
    pg.locator(".jsadmin-dashboard table.jsadmin-jobs").first.wait_for(timeout=120_000)


def _refresh_count(pg: Any) -> int:
    text = pg.locator(".jsadmin-dashboard-header").first.inner_text()
    return int(text.rsplit("(#", 1)[1].split(")")[0])


def _background(pg: Any, selector: str) -> str:
    return pg.eval_on_selector(selector, "e => getComputedStyle(e).backgroundColor")


ONLY_STATE = (
    "s => { const b = document.querySelectorAll('.jsadmin-jobbrowser table.jsadmin-jobs .jsadmin-state');"
    " return b.length > 0 && [...b].every(e => e.dataset.state === s); }"
)
"""The job browser's table shows rows, all in state ``s``."""


def _tab(pg: Any, title: str) -> None:
    pg.locator(".jsadmin-dashboard .lm-TabBar-tab", has_text=title).first.click()


@pytest.fixture(scope="module")
def pw() -> Iterator[Any]:
    """One Playwright driver for the module (the sync API cannot nest)."""
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def readonly(grid: str, pw: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The read-only dashboard (URL given with --url), opened in Chromium; what opening it did to Redis."""
    log = tmp_path_factory.mktemp("dash") / "dashboard.log"
    env = {k: v for k, v in os.environ.items() if k != "JSADMIN_URL"}
    env["JSADMIN_JOURNAL"] = str(log.parent / "journal.jsonl")
    proc, url = _start(["--url", grid], env, log)
    client = redis.Redis.from_url(grid, protocol=2)
    before = {"keys": _keyspace(client), "calls": commandstats(client)}
    try:
        ctx, profile = _browser(pw)
        pg = ctx.new_page()
        pg.goto(url, timeout=120_000)
        _wait_for_dashboard(pg)
        first = _refresh_count(pg)
        pg.wait_for_function(  # two self-refreshes of the job browser, no click
            "n => { const h = document.querySelector('.jsadmin-dashboard-header');"
            " return h && Number(h.innerText.split('(#').pop().split(')')[0]) >= n; }",
            arg=first + 2, timeout=60_000,
        )
        after = {"keys": _keyspace(client), "calls": commandstats(client)}
        yield {"page": pg, "before": before, "after": after, "proc": proc, "log": log, "client": client,
               "grid": grid}
        ctx.close()
        shutil.rmtree(profile, ignore_errors=True)
    finally:
        _stop(proc)
        client.close()


def test_opening_the_dashboard_writes_nothing(readonly: dict[str, Any]) -> None:
    before, after = readonly["before"], readonly["after"]
    delta = {c: n - before["calls"].get(c, 0) for c, n in after["calls"].items() if n != before["calls"].get(c, 0)}
    assert server_writes(delta) == {}, delta  # a script's writes count under their own names
    assert after["keys"] == before["keys"]
    assert delta.get("scan", 0) > 0 and delta.get("hscan", 0) > 0 and delta.get("llen", 0) > 0, delta
    _screenshot(readonly["page"], "dash-01-readonly-jobs.png")


def test_write_controls_are_disabled_and_say_why(readonly: dict[str, Any]) -> None:
    pg = readonly["page"]
    states = pg.eval_on_selector(
        ".jsadmin-dashboard",
        "d => [...d.querySelectorAll('button')].map(b => [b.innerText.trim(), b.disabled])",
    )
    # every button that writes is disabled: the job browser's actions and all three Confirm buttons.
    # Preview / Validate & preview stay usable: a dry run writes nothing, and its Confirm is disabled.
    writers = [d for label, d in states if label in ("Cancel…", "Requeue…", "Clone & edit…", "Preview clone", "Confirm")]
    assert len(writers) == 7 and all(writers), states
    by_label = {label: disabled for label, disabled in states}
    assert by_label.get("Reload from Redis") is False and by_label.get("Refresh now") is False
    text = pg.locator(".jsadmin-dashboard").first.inner_text()
    assert "Read-only dashboard" in text and "--allow-writes" in text
    assert "read-only" in pg.locator(".jsadmin-dashboard-header").first.inner_text()


def test_states_are_coloured_in_the_job_browser_and_the_board(readonly: dict[str, Any]) -> None:
    pg = readonly["page"]
    browser = pg.locator(".jsadmin-dashboard .jsadmin-jobbrowser").first
    state = browser.locator("select").nth(1)
    state.select_option("ERROR")
    pg.wait_for_function(ONLY_STATE, arg="ERROR", timeout=30_000)
    assert _background(pg, ".jsadmin-jobbrowser .jsadmin-state[data-state='ERROR']") == "rgb(207, 34, 46)"
    _screenshot(pg, "dash-02-errors-filtered.png")
    state.select_option("OK")
    pg.wait_for_function(ONLY_STATE, arg="OK", timeout=30_000)
    assert _background(pg, ".jsadmin-jobbrowser .jsadmin-state[data-state='OK']") == "rgb(26, 127, 55)"
    state.select_option("any")
    pg.wait_for_selector(".jsadmin-jobbrowser .jsadmin-state[data-state='SCHEDULED']", timeout=30_000)
    scheduled = _background(pg, ".jsadmin-jobbrowser .jsadmin-state[data-state='SCHEDULED']")
    started = _background(pg, ".jsadmin-jobbrowser .jsadmin-state[data-state='STARTED']")
    assert len({scheduled, started, "rgb(207, 34, 46)", "rgb(26, 127, 55)"}) == 4
    _tab(pg, "Health")
    pg.wait_for_selector(".jsadmin-healthboard .jsadmin-state[data-state='stale']", state="visible", timeout=30_000)
    assert _background(pg, ".jsadmin-healthboard .jsadmin-state[data-state='stale']") == "rgb(188, 76, 0)"
    assert _background(pg, ".jsadmin-healthboard .jsadmin-state[data-state='ok']") == "rgb(26, 127, 55)"
    _screenshot(pg, "dash-03-health-board.png")
    _tab(pg, "Jobs")


def test_the_dashboard_refreshes_itself(readonly: dict[str, Any]) -> None:
    pg, grid = readonly["page"], readonly["grid"]
    board = pg.locator(".jsadmin-healthboard").first
    n = int(board.locator("text=/refresh #\\d+/").first.inner_text().split("#")[1].split()[0])
    pg.wait_for_function(
        "n => { const e = document.querySelector('.jsadmin-healthboard'); const m = e && /refresh #(\\d+)/.exec(e.innerText);"
        " return m && Number(m[1]) >= n; }", arg=n + 2, timeout=60_000,
    )
    # a job written now shows up in the job browser without a click
    writer = jsadmin.connect(grid)
    job = writer.enqueue_job(1, nid=77, category="jumpscale", cmd="echo", args={"msg": f"refresh {os.getpid()}"})
    try:
        pg.wait_for_function(
            "g => { const b = document.querySelector('.jsadmin-jobbrowser'); return b && b.innerText.includes(g); }",
            arg=job["guid"], timeout=60_000,
        )
        _screenshot(pg, "dash-04-new-job-appeared.png")
    finally:
        writer.cancel_jobs(writer.load("command_queues", key_nid=77))
        writer.redis.close()


def test_the_password_is_nowhere_in_the_page_the_children_or_the_log(readonly: dict[str, Any]) -> None:
    pg, proc = readonly["page"], readonly["proc"]
    assert PASSWORD not in pg.content()
    children = _descendant_cmdlines(proc.pid)
    assert any("voila" in c for c in children) and any("ipykernel" in c for c in children), children
    assert not [c for c in children if PASSWORD in c]
    log = readonly["log"].read_text()
    assert "jsadmin dashboard: http://127.0.0.1" in log and PASSWORD not in log
    assert "password in --url is visible in the process list" in log  # --url was used: say so
    assert "127.0.0.1" in pg.locator(".jsadmin-dashboard-header").first.inner_text()


def test_with_allow_writes_an_enqueue_needs_preview_then_confirm(grid: str, pw: Any, tmp_path: Path) -> None:
    env = {**os.environ, "JSADMIN_URL": grid, "JSADMIN_JOURNAL": str(tmp_path / "journal.jsonl")}
    proc, url = _start(["--allow-writes"], env, tmp_path / "dashboard.log")
    client = redis.Redis.from_url(grid, protocol=2)
    queue = "queues:commands:queue:1:78"
    client.delete(queue)
    message = f"from the dashboard {os.getpid()}"
    try:
        assert PASSWORD.encode() not in Path(f"/proc/{proc.pid}/cmdline").read_bytes()
        ctx, profile = _browser(pw)
        pg = ctx.new_page()
        pg.goto(url, timeout=120_000)
        _wait_for_dashboard(pg)
        assert "writes allowed" in pg.locator(".jsadmin-dashboard-header").first.inner_text()
        assert "Read-only dashboard" not in pg.locator(".jsadmin-dashboard").first.inner_text()
        _tab(pg, "Enqueue")
        form = pg.locator(".jsadmin-enqueueform").first
        form.locator("select").first.select_option(label="jumpscale__echo")
        target = form.locator(".widget-text:has(label:text-is('nid/role')) input").first
        target.fill("78")
        target.press("Enter")
        form.locator(".widget-textarea textarea").first.fill(f'{{"msg": "{message}"}}')
        form.locator("text=valid JSON").wait_for(timeout=20_000)
        confirm = form.get_by_role("button", name="Confirm")
        assert confirm.is_disabled()
        form.get_by_role("button", name="Preview").click()
        form.locator("text=nothing written yet").first.wait_for(timeout=20_000)
        pg.wait_for_function(
            "() => [...document.querySelectorAll('.jsadmin-enqueueform button')]"
            ".some(b => b.innerText.trim() === 'Confirm' && !b.disabled)", timeout=20_000)
        assert client.llen(queue) == 0  # the preview wrote nothing
        _screenshot(pg, "dash-05-writes-preview.png")
        confirm.click()
        deadline = time.monotonic() + 30
        while client.llen(queue) == 0 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert client.llen(queue) == 1 and message.encode() in (client.lindex(queue, 0) or b"")
        _screenshot(pg, "dash-06-writes-confirmed.png")
        ctx.close()
        shutil.rmtree(profile, ignore_errors=True)
        children = psutil.Process(proc.pid).children(recursive=True)
        assert any("voila" in " ".join(c.cmdline()) for c in children)
        _stop(proc)
        assert proc.returncode == 0
        _gone, alive = psutil.wait_procs(children, timeout=5)
        assert not alive, f"left running after the dashboard stopped: {alive}"  # no orphaned Voila or kernel
    finally:
        _stop(proc)
        client.delete(queue)
        client.close()
