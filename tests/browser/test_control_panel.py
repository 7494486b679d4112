"""The control-panel notebook in a real browser: Voila serves it, Playwright drives Debian's Chromium.

Opening the page must write nothing: the Redis behind it has no other client while the page
loads, and every key's ``DUMP`` and the ``INFO commandstats`` write counters are compared before
and after. Then a live grid starts and the test enqueues through the form, which needs *Preview*
and then *Confirm*.

Needs ``/usr/bin/chromium`` (``apt-get install chromium``; skipped with that reason when missing)
and the Python ``playwright`` package (no ``playwright install``: we launch the system Chromium).
Screenshots go to a tmp dir and, when ``$JSADMIN_ARTIFACTS`` is set, there too.
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

import pytest
import redis
from redis_servers import ServerFactory, commandstats

import jsadmin
from jsadmin.demogrid.grid import LiveGrid, Scenario
from jsadmin.display.cost import server_writes
from jsadmin.embedded import free_port

CHROMIUM = Path("/usr/bin/chromium")
NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "04_control_panels.ipynb"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is missing (apt-get install chromium)"),
]


def _wait_http(url: str, proc: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"voila exited with {proc.returncode}")
        try:
            urllib.request.urlopen(url, timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"voila did not answer at {url} within {timeout}s")


@pytest.fixture(scope="module")
def grid_url(redis_factory: ServerFactory) -> Iterator[str]:
    """A real redis-server on TCP holding a seeded demo grid; nothing else writes to it until ``live``."""
    server = redis_factory.seeded(seed=7)
    yield server.url
    server.stop()


def _keyspace(client: redis.Redis) -> dict[bytes, bytes | None]:
    return {k: client.dump(k) for k in client.scan_iter(count=1000)}


@pytest.fixture(scope="module")
def voila(grid_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Voila serving the control-panel notebook, its kernel pointed at the grid."""
    port = free_port()
    env = {**os.environ, "JSADMIN_URL": grid_url,
           "JSADMIN_JOURNAL": str(tmp_path_factory.mktemp("journal") / "journal.jsonl")}
    log = (tmp_path_factory.mktemp("voila") / "voila.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "voila", str(NOTEBOOK), f"--port={port}", "--no-browser",
         "--Voila.ip=127.0.0.1", "--show_tracebacks=True"],
        cwd=NOTEBOOK.parent, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        _wait_http(url, proc, 60)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture(scope="module")
def opened(voila: str, grid_url: str) -> Iterator[dict[str, Any]]:
    """Open the page in Chromium; record what its loading did to Redis (``before``/``after``)."""
    sync_api = pytest.importorskip("playwright.sync_api")
    client = redis.Redis.from_url(protocol=2, url=grid_url)
    before = {"keys": _keyspace(client), "calls": commandstats(client)}
    profile = tempfile.mkdtemp(prefix="jsadmin-chromium-")
    with sync_api.sync_playwright() as pw:
        ctx = pw.chromium.launch_persistent_context(
            user_data_dir=profile, executable_path=str(CHROMIUM), headless=True, args=ARGS,
            viewport={"width": 1400, "height": 1600},
        )
        pg = ctx.new_page()
        pg.set_default_timeout(60_000)
        pg.goto(voila, timeout=120_000)
        pg.locator(".jsadmin-controlpanel").first.wait_for(timeout=120_000)  # the last cell: every cell has run
        calls = _settled_calls(client)
        after = {"keys": _keyspace(client), "calls": calls}
        yield {"page": pg, "before": before, "after": after}
        ctx.close()
    client.close()
    shutil.rmtree(profile, ignore_errors=True)


def _settled_calls(client: redis.Redis, quiet: float = 2.0, timeout: float = 30.0) -> dict[str, int]:
    """``commandstats`` once the kernel has stopped sending commands for ``quiet`` seconds."""
    deadline = time.monotonic() + timeout
    last = commandstats(client)
    quiet_since = time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.25)
        now = commandstats(client)
        now_cmp = {k: v for k, v in now.items() if k != "info"}
        if now_cmp != {k: v for k, v in last.items() if k != "info"}:
            last, quiet_since = now, time.monotonic()
        elif time.monotonic() - quiet_since >= quiet:
            return now
    return last


@pytest.fixture(scope="module")
def page(opened: dict[str, Any]) -> Any:
    return opened["page"]


@pytest.fixture(scope="module")
def live(opened: dict[str, Any], grid_url: str) -> Iterator[str]:
    """After the page has opened: simulated agentcontroller, processmanagers and workers run jobs."""
    grid = LiveGrid(grid_url, scenario=Scenario.quiet(), poll=0.2).start()
    yield grid_url
    grid.stop()


def _wait_text(pg: Any, panel: str, text: str, tmp_path: Path, timeout: float = 30_000) -> None:
    """Wait until a panel of class ``panel`` shows ``text``; screenshot the page if it never does."""
    try:
        pg.wait_for_function(
            "([cls, t]) => [...document.querySelectorAll('.' + cls)].some(e => e.innerText.includes(t))",
            arg=[panel, text], timeout=timeout,
        )
    except Exception:
        _screenshot(pg, f"failed-{panel}.png", tmp_path)
        raise


def _wait_rows(pg: Any, n: int, tmp_path: Path, timeout: float = 30_000) -> None:
    """Wait until the job browser's table shows exactly ``n`` rows (the status line updates first)."""
    try:
        pg.wait_for_function(
            "n => { const b = document.querySelector('.jsadmin-jobbrowser');"
            " return b && b.querySelectorAll('table.jsadmin-jobs tbody tr').length === n; }",
            arg=n, timeout=timeout,
        )
    except Exception:
        _screenshot(pg, "failed-rows.png", tmp_path)
        raise


def _text_input(scope: Any, label: str) -> Any:
    return scope.locator(f".widget-text:has(label:text-is('{label}')) input").first


def _screenshot(pg: Any, name: str, tmp_path: Path) -> Path:
    path = tmp_path / name
    pg.screenshot(path=str(path), full_page=True)
    artifacts = os.environ.get("JSADMIN_ARTIFACTS")
    if artifacts:
        Path(artifacts).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(artifacts) / name)
    return path


def _wait_enabled(pg: Any, panel: str, button: str, tmp_path: Path, timeout: float = 30_000) -> None:
    """Wait until the button labelled ``button`` inside the first ``.panel`` is enabled."""
    try:
        pg.wait_for_function(
            "([cls, t]) => { const p = document.querySelector('.' + cls); if (!p) return false;"
            " return [...p.querySelectorAll('button')].some(b => b.innerText.trim() === t && !b.disabled); }",
            arg=[panel, button], timeout=timeout,
        )
    except Exception:
        _screenshot(pg, f"failed-{panel}-{button}.png", tmp_path)
        raise


def _written_anywhere(client: redis.Redis, text: str) -> bool:
    """Whether ``text`` appears in any value of the (small) test Redis."""
    needle = text.encode()
    for key in client.scan_iter(count=1000):
        kind = client.type(key)
        if kind == b"list":
            values = client.lrange(key, 0, -1)
        elif kind == b"hash":
            values = client.hvals(key)
        elif kind == b"string":
            values = [client.get(key) or b""]
        else:
            continue
        if any(needle in v for v in values):
            return True
    return False


def test_opening_the_page_writes_nothing(opened: dict[str, Any], tmp_path: Path) -> None:
    before, after = opened["before"], opened["after"]
    delta = {c: n - before["calls"].get(c, 0) for c, n in after["calls"].items() if n != before["calls"].get(c, 0)}
    assert server_writes(delta) == {}, delta  # a script's writes count under their own names
    assert after["keys"] == before["keys"]
    assert delta.get("scan", 0) > 0 and delta.get("hscan", 0) > 0, delta  # the page did read this grid
    page = opened["page"]
    assert page.locator(".jsadmin-enqueueform").count() >= 1 and page.locator(".jsadmin-plan").count() == 0
    _screenshot(page, "00-page-opened.png", tmp_path)


def test_filter_enqueue_and_see_the_result(page: Any, live: str, tmp_path: Path) -> None:
    client = redis.Redis.from_url(protocol=2, url=live)
    client.delete("queues:commands:queue:1:77")
    needle = f"needle-{os.getpid()}"
    # a job only this test knows, on a node without agent so it stays queued
    admin = jsadmin.connect(live)
    stranded = admin.enqueue_job(1, nid=77, category="jumpscale", cmd="echo", args={"msg": needle})

    browser = page.locator(".jsadmin-jobbrowser").first
    family = browser.locator("select").nth(0)
    family.select_option("any")
    browser.get_by_role("button", name="Reload from Redis").click()
    search = _text_input(browser, "search")
    search.fill(needle)
    search.press("Enter")
    _wait_text(page, "jsadmin-jobbrowser", "· 1 matching", tmp_path)  # one job, not one row per copy
    _wait_rows(page, 1, tmp_path)
    table = browser.locator("table.jsadmin-jobs tbody tr")
    assert table.count() == 1
    # its jobs:1 entry and its command-queue copy are one row that says where it was seen
    assert "command_queues+jobs" in browser.locator("table.jsadmin-jobs").inner_text()
    assert stranded["guid"] in browser.locator("table.jsadmin-jobs").inner_text()
    _text_input(browser, "nid").fill("77")
    _text_input(browser, "nid").press("Enter")
    family.select_option("command_queues")
    _wait_text(page, "jsadmin-jobbrowser", "· 1 matching", tmp_path)
    _wait_rows(page, 1, tmp_path)
    assert browser.locator("table.jsadmin-jobs tbody tr").count() == 1
    # select it, see its JSON, preview a cancel (dry run), discard: nothing written
    browser.locator(".widget-select-multiple select").first.select_option(index=0)
    _wait_text(page, "jsadmin-jobbrowser", "Job JSON", tmp_path)
    assert needle in browser.locator(".jsadmin-json").inner_text()
    browser.get_by_role("button", name="Cancel…").click()
    _wait_text(page, "jsadmin-jobbrowser", "nothing written yet", tmp_path)
    assert "LREM" in browser.locator(".jsadmin-plan").first.inner_text().upper()
    browser.scroll_into_view_if_needed()
    _screenshot(page, "01-job-browser-filtered.png", tmp_path)
    browser.get_by_role("button", name="Discard").click()
    _wait_text(page, "jsadmin-jobbrowser", "discarded", tmp_path)
    assert client.llen("queues:commands:queue:1:77") == 1

    form = page.locator(".jsadmin-enqueueform").first
    assert form.get_by_role("button", name="Submit").count() == 0  # no one-click write any more
    form.locator("select").first.select_option(label="jumpscale__echo")
    _text_input(form, "nid/role").fill("2")
    _text_input(form, "nid/role").press("Enter")
    first = f"first draft {os.getpid()}"
    message = f"hello from chromium {os.getpid()}"
    args = form.locator(".widget-textarea textarea").first
    args.fill('{"msg": ')
    form.locator("text=invalid JSON").wait_for(timeout=20_000)
    args.fill(f'{{"msg": "{first}"}}')
    form.locator("text=valid JSON").wait_for(timeout=20_000)
    confirm = form.get_by_role("button", name="Confirm")
    assert confirm.is_disabled()  # nothing previewed yet
    form.get_by_role("button", name="Preview").click()
    form.locator("text=nothing written yet").first.wait_for(timeout=20_000)
    _wait_enabled(page, "jsadmin-enqueueform", "Confirm", tmp_path)
    assert "EVALSHA" in form.locator(".jsadmin-plan").first.inner_text().upper() or \
        "RPUSH" in form.locator(".jsadmin-plan").first.inner_text().upper()
    time.sleep(2)  # the grid is live: a job written now would have run and left its result
    assert not _written_anywhere(client, first)
    form.scroll_into_view_if_needed()
    _screenshot(page, "02-enqueue-preview.png", tmp_path)
    # editing the form after the preview discards it: Confirm cannot write the old plan
    args.fill(f'{{"msg": "{message}"}}')
    _wait_text(page, "jsadmin-enqueueform", "preview discarded", tmp_path)
    assert confirm.is_disabled() and form.locator(".jsadmin-plan").count() == 0
    _screenshot(page, "03-enqueue-preview-discarded.png", tmp_path)
    form.get_by_role("button", name="Preview").click()
    form.locator("text=nothing written yet").first.wait_for(timeout=20_000)
    _wait_enabled(page, "jsadmin-enqueueform", "Confirm", tmp_path)
    confirm.click()
    form.locator("text=finished: OK").wait_for(timeout=60_000)
    result = form.locator(".jsadmin-result").inner_text()
    assert message in result and "OK" in result
    form.scroll_into_view_if_needed()
    shot = _screenshot(page, "04-enqueue-confirmed.png", tmp_path)
    assert shot.stat().st_size > 10_000
    assert not _written_anywhere(client, first)  # the discarded preview never landed

    # the job really ran: its final copy is in queues:jobqueue:<guid> with our message
    finals = [k for k in client.scan_iter(match="queues:jobqueue:*", count=1000)]
    assert any(message.encode() in (client.lindex(k, 0) or b"") for k in finals)
    admin.cancel_jobs(admin.load("command_queues", key_nid=77))
    client.close()


def test_register_needs_preview_then_confirm(page: Any, live: str, tmp_path: Path) -> None:
    client = redis.Redis.from_url(protocol=2, url=live)
    name = f"browser{os.getpid()}"
    field = f"demo__{name}"
    registry = page.locator(".jsadmin-jumpscriptregistry").first
    assert registry.get_by_role("button", name="Register").count() == 0  # no one-click write any more
    _text_input(registry, "name").fill(name)
    _text_input(registry, "name").press("Enter")
    confirm = registry.get_by_role("button", name="Confirm")
    assert confirm.is_disabled()
    registry.get_by_role("button", name="Validate & preview").click()
    registry.locator("text=nothing written yet").first.wait_for(timeout=20_000)
    _wait_enabled(page, "jsadmin-jumpscriptregistry", "Confirm", tmp_path)
    assert "workers:jumpscripts:name" in registry.locator(".jsadmin-plan").first.inner_text()
    assert not client.hexists("workers:jumpscripts:name", field)  # the preview wrote nothing
    registry.locator(".jsadmin-plan").first.scroll_into_view_if_needed()
    _screenshot(page, "05-registry-preview.png", tmp_path)
    confirm.click()
    _wait_text(page, "jsadmin-jumpscriptregistry", f"registered demo/{name}", tmp_path)
    assert client.hexists("workers:jumpscripts:name", field)
    registry.scroll_into_view_if_needed()
    _screenshot(page, "06-registry-confirmed.png", tmp_path)
    client.hdel("workers:jumpscripts:name", field)
    client.close()


def test_health_board_refreshes_in_the_browser(page: Any, tmp_path: Path) -> None:
    board = page.locator(".jsadmin-healthboard").first
    before = board.locator("text=/refresh #\\d+/").first.inner_text()
    board.get_by_role("button", name="Refresh now").click()
    page.wait_for_function(
        "(b) => { const e = document.querySelector('.jsadmin-healthboard'); "
        "return e && /refresh #\\d+/.test(e.innerText) && !e.innerText.includes(b); }",
        arg=before, timeout=30_000,
    )
    text = board.inner_text()
    assert "commands" in text and " ms" in text
    # auto refresh: a kernel thread updates the widgets; the browser sees the count climb
    n = int(board.locator("text=/refresh #\\d+/").first.inner_text().split("#")[1].split()[0])
    board.get_by_role("button", name="Auto refresh").click()
    _wait_text(page, "jsadmin-healthboard", f"refresh #{n + 2} ", tmp_path, timeout=60_000)
    board.get_by_role("button", name="Stop").click()
    board.scroll_into_view_if_needed()
    _screenshot(page, "07-health-board.png", tmp_path)


