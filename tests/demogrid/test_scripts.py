"""The demo jumpscripts: PM dict normal form (spec §5.4) and runnable ``action`` bodies."""

from __future__ import annotations

import json
from typing import Any

import pytest

from jsadmin.demogrid import load_demo_jumpscripts
from jsadmin.demogrid.encoding import ujson_dumps
from jsadmin.demogrid.scripts import JUMPSCRIPT_KEYS, demo_jumpscripts_dir, parse_jumpscript

SCRIPTS = load_demo_jumpscripts()
BY_NAME = {f"{s['organization']}__{s['name']}": s for s in SCRIPTS}


def _action(name: str) -> Any:
    namespace: dict[str, Any] = {}
    script = BY_NAME[name]
    exec(compile(script["source"], script["path"], "exec"), namespace)
    return namespace["action"]


def test_between_8_and_12_scripts_in_normal_form() -> None:
    assert 8 <= len(SCRIPTS) <= 12
    for script in SCRIPTS:
        assert tuple(script) == JUMPSCRIPT_KEYS
        assert len(script) == 20
        assert script["id"] is None
        assert "*" not in script["roles"]
        assert script["path"] == (
            f"/opt/jumpscale7/apps/processmanager/jumpscripts/{script['organization']}/{script['name']}.py"
        )
        source_file = demo_jumpscripts_dir() / script["organization"] / f"{script['name']}.py"
        assert script["source"] == source_file.read_text(encoding="utf-8")
        assert script["descr"].strip()
        # the ujson form is valid JSON that round-trips
        assert json.loads(ujson_dumps(script)) == script


def test_expected_metadata() -> None:
    cleanup = BY_NAME["system__cleanupredisac"]
    assert (cleanup["period"], cleanup["roles"], cleanup["queue"], cleanup["async"]) == (300, ["master"], "", True)
    backup = BY_NAME["backup__backup_dirs"]
    assert backup["period"] == "0 2 * * *"  # cron form: period can be a string
    assert backup["timeout"] == 3600
    info = BY_NAME["jumpscale__info"]
    assert (info["async"], info["queue"], info["timeout"], info["period"]) == (False, "", None, 0)
    assert BY_NAME["jumpscale__loadavg"]["timeout"] == 10.0
    assert BY_NAME["jumpscale__loadavg"]["order"] == 2
    health = [s for s in SCRIPTS if s["category"] == "monitor.healthcheck"]
    assert len(health) >= 2
    assert {"jumpscale__echo", "jumpscale__exec", "jumpscale__sleep", "system__diskusage", "demo__flaky"} <= set(BY_NAME)


def test_gid_is_filled() -> None:
    assert {s["gid"] for s in load_demo_jumpscripts(gid=7)} == {7}


def test_actions_run_without_jumpscale(tmp_path: Any) -> None:
    assert _action("jumpscale__echo")(msg="héllo/wörld") == "héllo/wörld"
    assert 0.05 <= _action("jumpscale__sleep")(duration=0.05) < 5  # it sleeps, and says how long
    rc, out, _err = _action("jumpscale__exec")(cmd="echo hi")
    assert (rc, out) == (0, "hi\n")
    with pytest.raises(RuntimeError, match="exit code 3"):
        _action("jumpscale__exec")(cmd="exit 3", die=True)
    usage = _action("system__diskusage")(paths=[str(tmp_path)])
    assert usage[str(tmp_path)]["total"] > 0
    assert set(_action("jumpscale__info")()) == {"hostname", "platform", "python", "cpus", "load"}
    assert set(_action("jumpscale__loadavg")()) == {"load1", "load5", "load15"}
    states = _action("monitor__healthcheck_workers")(heartbeats={"default": 1000, "io": 1590}, now=1600)
    assert [(m["uid"], m["state"]) for m in states] == [("worker:default", "ERROR"), ("worker:io", "OK")]
    (tmp_path / "a.txt").write_text("data")
    archive = _action("backup__backup_dirs")(source=str(tmp_path), target=str(tmp_path / "b.tgz"), duration=0)
    assert archive["files"] == 1 and archive["size"] > 0


def test_flaky_fails_and_succeeds() -> None:
    flaky = _action("demo__flaky")
    with pytest.raises(RuntimeError, match="flaky failure"):
        flaky(failrate=1.0)
    assert flaky(failrate=0.0)["failrate"] == 0.0


def test_parse_refuses_a_script_without_descr(tmp_path: Any) -> None:
    bad = tmp_path / "org" / "nodescr.py"
    bad.parent.mkdir()
    bad.write_text("def action():\n    return 1\n")
    with pytest.raises(ValueError, match="descr"):
        parse_jumpscript(bad)
    bad.write_text("descr = 'x'\nroles = ['*', 'node']\n")
    with pytest.raises(ValueError, match="action"):
        parse_jumpscript(bad)
    bad.write_text("descr = 'x'\nroles = ['*', 'node']\nname = 'NoDescr'\ndef action():\n    pass\n")
    parsed = parse_jumpscript(bad)
    assert parsed["roles"] == ["node"] and parsed["name"] == "NoDescr" and parsed["organization"] == "unknown"
