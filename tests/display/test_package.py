"""``jsadmin.display`` is light to import and exports the panel API."""

from __future__ import annotations

import subprocess
import sys

import jsadmin.display


def test_import_pulls_in_neither_ipywidgets_nor_matplotlib() -> None:
    code = (
        "import sys, jsadmin.display as d; "
        "print('ipywidgets' in sys.modules, 'matplotlib' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def test_public_names() -> None:
    assert jsadmin.display.__all__ == sorted(jsadmin.display.__all__)
    assert {"JobBrowser", "EnqueueForm", "JumpscriptRegistry", "HealthBoard", "control_panel",
            "render_admin_html"} <= set(jsadmin.display.__all__)
    from jsadmin.display import HealthBoard, render_admin_html
    from jsadmin.display.html import render_admin_html as direct
    from jsadmin.display.panels import HealthBoard as board

    assert render_admin_html is direct and HealthBoard is board
