"""HTML reprs are well-formed (parsed with xml.etree) and carry the right structure and facts."""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import pytest

from jsadmin.display.html import (
    frame_html,
    message_html,
    render_admin_html,
    render_panel_html,
    render_plan_html,
    table_html,
)

VOID = {"br", "img", "hr", "input", "meta", "link"}


class _Balance(HTMLParser):
    """Checks every opened element is closed in order (html.parser view)."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.errors: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"unexpected </{tag}> with open {self.stack}")
        else:
            self.stack.pop()


def parse(html: str) -> ET.Element:
    """Parse as XML (strict well-formedness) and as HTML (balanced tags); return the root."""
    checker = _Balance()
    checker.feed(html)
    checker.close()
    assert not checker.errors and not checker.stack, (checker.errors, checker.stack)
    return ET.fromstring(html)


def texts(root: ET.Element) -> str:
    return " ".join(t.strip() for t in root.itertext() if t.strip())


def test_table_escapes_and_is_well_formed() -> None:
    root = parse(table_html([[1, "<script>alert(1)</script>"], [None, "a & b"]], ["n", "text"]))
    assert root.tag == "table"
    cells = [td.text for td in root.iter("td")]
    assert cells == ["1", "<script>alert(1)</script>", None, "a & b"]
    assert not list(root.iter("script"))


def test_frame_html_renders_at_most_max_rows() -> None:
    import pandas as pd

    df = pd.DataFrame({"a": range(1000), "b": ["x"] * 1000})
    root = parse(frame_html(df, columns=["a", "missing", "b"], max_rows=50))
    assert [th.text for th in root.iter("th")] == ["a", "b"]
    assert len(root.find("tbody")) == 50


def test_admin_repr_lists_families_with_counts(admin) -> None:
    admin.enqueue_job(1, nid=3, category="jumpscale", cmd="echo", args={"msg": "x"})
    admin.enqueue_job(1, nid=3, category="jumpscale", cmd="echo", args={"msg": "y"})
    html = render_admin_html(admin)
    root = parse(html)
    assert "jsadmin-admin" in root.get("class")
    assert admin.url in texts(root)
    assert "read-write" in texts(root) and "remote" in texts(root)
    rows = {tr[0].text: [td.text for td in tr] for tr in root.find(".//table[@class='jsadmin-families']/tbody")}
    assert rows["command_queues"][-2:] == ["1", "2"]  # 1 key, 2 entries
    assert rows["jobs"][-2:] == ["1", "2"]
    assert rows["jobs_last"][-2:] == ["1", "1"]
    assert "static" in texts(root)


def test_admin_repr_readonly_badge(readonly_admin) -> None:
    root = parse(render_admin_html(readonly_admin))
    assert "read-only" in texts(root)


def test_admin_repr_survives_a_dead_server(admin, redis_server) -> None:
    class Broken:
        url = admin.url
        readonly = False
        embedded = None

        def families(self) -> None:
            raise ConnectionError("server went away")

    root = parse(render_admin_html(Broken()))
    assert "families unavailable: server went away" in texts(root)


def test_plan_repr_lists_exact_commands(admin) -> None:
    plan = admin.enqueue_job(1, nid=2, category="jumpscale", cmd="echo", args={"msg": "<hi>"}, dry_run=True)
    root = parse(render_plan_html(plan))
    body = root.find(".//table[@class='jsadmin-plan-commands']/tbody")
    names = [tr[1].find("b").text for tr in body]
    assert names == [c[0] for c in plan.commands]
    assert len(names) == len(plan.commands) >= 3
    assert "nothing written" in texts(root)
    assert "queues:commands:queue:1:2" in texts(root)
    assert admin.redis.dbsize() == 0


def test_panel_static_fallback_says_it_is_static() -> None:
    root = parse(render_panel_html("Grid health", {"queues": 3, "<b>": "x"}, reason="Install ipywidgets."))
    assert "jsadmin-static" in root.get("class")
    assert "will not update" in texts(root) and "Install ipywidgets." in texts(root)
    assert parse(message_html("a < b", kind="error")).text == "a < b"


def test_panels_without_ipywidgets_render_static_html(admin, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ipywidgets", None)  # import ipywidgets -> ImportError
    from jsadmin.display import JobBrowser

    admin.enqueue_job(1, nid=3, category="jumpscale", cmd="echo", args={})
    jb = JobBrowser(admin)
    assert jb.widget is None
    bundle = jb._repr_mimebundle_()
    assert set(bundle) == {"text/plain", "text/html"}
    root = parse(bundle["text/html"])
    assert "will not update" in texts(root)
    assert 'Install ipywidgets for live controls: pip install "jsadmin[display]".' in texts(root)
    assert "jobs 1 copies 2" in texts(root)  # one job: its jobs:1 entry + its queue entry


def test_panel_bundle_with_widgets_has_view_and_fallback(admin) -> None:
    from jsadmin.display import JobBrowser

    bundle = JobBrowser(admin)._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    parse(bundle["text/html"])
