"""Static output that means something: coloured states, panel snapshots, nbconvert HTML offline.

A panel displays its live widget view and then an offline snapshot (``text/html``) of what it
shows. ``jupyter nbconvert --to html --execute`` prefers the widget view, which is blank without
the CDN renderer, so the snapshot is what a reader of the HTML sees: the test converts the
control-panel notebook against a seeded Redis and checks the page holds the jobs, their coloured
states and the health tables, then renders it with headless Chromium to a PNG.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import jsadmin
from jsadmin.display.html import STATE_COLORS, STATUS_COLORS, state_color, table_html
from jsadmin.embedded import EmbeddedRedis

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
CHROMIUM = Path("/usr/bin/chromium")


def test_states_are_coloured_distinctly() -> None:
    html = table_html([["a", "OK"], ["b", "ERROR"], ["c", "TIMEOUT"], ["d", "SCHEDULED"], ["e", "STARTED"],
                       ["f", "WEIRD"]], ["guid", "state"])
    badges = dict(re.findall(r'data-state="(\w+)" style="background:(#[0-9a-f]{6})', html))
    assert badges["OK"] == "#1a7f37"
    assert badges["ERROR"] == badges["TIMEOUT"] == "#cf222e"
    others = {badges[s] for s in ("SCHEDULED", "STARTED", "WEIRD")}
    assert len(others) == 3 and not others & {badges["OK"], badges["ERROR"]}
    assert state_color("ok") == STATUS_COLORS["ok"] == STATE_COLORS["OK"]
    assert state_color("stale") not in (state_color("ok"), state_color("warn"))
    # only the state/status columns are badges; other cells stay text
    assert '<td style="border-bottom:1px solid #eaeef2;padding:2px 8px;text-align:left;vertical-align:top">a</td>' in html


def test_panel_snapshots_hold_their_content(seeded_url: str) -> None:
    pytest.importorskip("ipywidgets")
    redis_url = seeded_url
    from jsadmin.display import HealthBoard, JobBrowser, JumpscriptRegistry

    admin = jsadmin.connect(redis_url, readonly=True)
    browser = JobBrowser(admin)
    html = browser._repr_html_()
    first = browser.page_frame.iloc[0]
    assert first["guid"] in html and "Static snapshot taken" in html
    assert f'data-state="{first["state"]}"' in html
    # the pager line, as the live panel shows it: it counts jobs, each job's copies folded into one row
    assert f"matching of {len(browser.jobs):,} jobs ({len(browser.copies):,} copies)" in html
    assert len(browser.jobs) < len(browser.copies) and browser.jobs["guid"].is_unique
    assert "Cancel… (disabled)" in html  # read-only: the write controls are shown disabled
    assert "read-only" in html
    bundle = browser._repr_mimebundle_()
    assert bundle["text/html"].count("data-state=") >= min(len(browser.page_frame), browser.page_size)

    board = HealthBoard(admin, plot=False)
    html = board._repr_html_()
    worst = board.data["heartbeats"].iloc[0]
    assert str(worst["queue"]) in html and 'data-state="' + str(worst["status"]) + '"' in html
    longest = board.data["queues"].sort_values("length", ascending=False).iloc[0]
    assert "Queues" in html and f'{longest["key"]}</td><td style="border-bottom:1px solid #eaeef2;padding:2px 8px;text-align:left;vertical-align:top">{longest["length"]}</td>' in html

    registry = JumpscriptRegistry(admin)
    assert "echo" in registry._repr_html_()
    admin.redis.close()


def test_display_emits_the_widget_then_an_offline_snapshot(redis_url: str) -> None:
    pytest.importorskip("ipywidgets")
    from IPython.core.interactiveshell import InteractiveShell

    from jsadmin.display import JobBrowser

    published: list[dict[str, Any]] = []
    shell = InteractiveShell.instance()
    original = shell.display_pub.publish
    shell.display_pub.publish = lambda data, *a, **k: published.append(data)  # type: ignore[method-assign]
    try:
        admin = jsadmin.connect(redis_url)
        JobBrowser(admin)._ipython_display_()
    finally:
        shell.display_pub.publish = original  # type: ignore[method-assign]
    assert len(published) == 2
    assert "application/vnd.jupyter.widget-view+json" in published[0] and "text/html" not in published[0]
    offline = published[1]["text/html"]
    assert 'class="jsadmin-offline"' in offline and ":has(.widget-box)" in offline
    assert "Job browser" in offline
    admin.redis.close()


@pytest.mark.slow
@pytest.mark.version_independent  # rendering; reading the grid is checked on every leg elsewhere
def test_nbconvert_html_shows_the_panels_offline(demo_grid: EmbeddedRedis, tmp_path: Path) -> None:
    seeded_url = demo_grid.url
    env = {**os.environ, "JSADMIN_URL": seeded_url, "JSADMIN_JOURNAL": str(tmp_path / "journal.jsonl")}
    proc = subprocess.run(
        [sys.executable, "-m", "jupyter", "nbconvert", "--to", "html", "--execute",
         str(NOTEBOOKS / "04_control_panels.ipynb"), "--output-dir", str(tmp_path)],
        env=env, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    html = (tmp_path / "04_control_panels.html").read_text(encoding="utf-8")
    admin = jsadmin.connect(seeded_url, readonly=True)
    jobs = admin.load("jobs")
    heartbeats = admin.load("worker_heartbeat")
    admin.redis.close()
    # one snapshot per displayed panel: four panels, then the tabbed control panel
    assert html.count('<div class="jsadmin-offline">') == 5
    for title in ("Job browser", "Enqueue a job", "Jumpscript registry", "Grid health"):
        assert f"<b>{title}</b>" in html
    offline = html[html.index('<div class="jsadmin-offline">'):]
    shown = [g for g in jobs["guid"].dropna() if g in offline]
    assert shown, "no job of jobs:<gid> is in the offline snapshots"
    assert 'data-state="SCHEDULED"' in offline and 'data-state="stale"' in offline
    assert any(str(q) in offline for q in heartbeats["queue"])
    assert "data:image/png;base64," in offline  # the health board's latency plot, inlined
    if CHROMIUM.exists():  # what a reader sees: render the page offline to a PNG
        png = tmp_path / "04_control_panels.png"
        subprocess.run([str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                        "--disable-background-networking", "--window-size=1400,9000", f"--screenshot={png}",
                        (tmp_path / "04_control_panels.html").as_uri()],
                       capture_output=True, timeout=120, check=False)
        assert png.exists() and png.stat().st_size > 100_000
        artifacts = os.environ.get("JSADMIN_ARTIFACTS")
        if artifacts:
            Path(artifacts).mkdir(parents=True, exist_ok=True)
            shutil.copy(png, Path(artifacts) / png.name)
