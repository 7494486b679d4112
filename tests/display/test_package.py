"""``jsadmin.display`` is light to import and exports the panel API."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import jsadmin.display

pytestmark = pytest.mark.version_independent  # what Python imports (subprocess sys.modules) and the export list: no server

DISPLAY_LIBRARIES = ("ipywidgets", "matplotlib", "IPython", "pygments", "voila")


def _imported_after(statements: str) -> list[str]:
    code = (
        f"import json, sys\n{statements}\n"
        f"print(json.dumps(sorted({{m.partition('.')[0] for m in sys.modules}} & set({DISPLAY_LIBRARIES!r}))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def test_import_pulls_in_neither_ipywidgets_nor_matplotlib() -> None:
    assert _imported_after("import jsadmin.display as d") == []
    # nor does the core, the CLI or the catalog of extras
    assert _imported_after("import jsadmin, jsadmin.cli, jsadmin.extras") == []
    # the control: the plots module is where matplotlib comes in
    assert _imported_after("from jsadmin.display import plots") == ["matplotlib"]


def test_public_names() -> None:
    assert jsadmin.display.__all__ == sorted(jsadmin.display.__all__)
    assert {"JobBrowser", "EnqueueForm", "JumpscriptRegistry", "HealthBoard", "control_panel",
            "render_admin_html"} <= set(jsadmin.display.__all__)
    from jsadmin.display import HealthBoard, render_admin_html
    from jsadmin.display.html import render_admin_html as direct
    from jsadmin.display.panels import HealthBoard as board

    assert render_admin_html is direct and HealthBoard is board
