"""Fleet against real servers: 10 seeded nodes, one with a password, one down."""

from __future__ import annotations

import os
import signal
import textwrap
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import redis
from redis_servers import ServerFactory

import jsadmin
from jsadmin.errors import ConnectionConfigError, UnknownFamilyError
from jsadmin.fleets import (
    Fleet,
    InventoryError,
    fleet,
    load_inventory,
    resolve_targets,
)
from jsadmin.sources import merge_sources

FleetServers = Any  # tests/fleet/conftest.py: .up, .locked, .down_port, .password, .n_up, .targets()
PASSWORD = "s3cret-fleet-pw"
N_UP = 10


@pytest.fixture(scope="module")
def loaded(servers: FleetServers) -> tuple[Fleet, dict[str, pd.DataFrame]]:
    f = fleet(servers.targets(), readonly=True, timeout=2)
    return f, f.load_all()


def _single(url: str, name: str) -> pd.DataFrame:
    admin = jsadmin.connect(url, readonly=True)
    try:
        return admin.load(name)
    finally:
        admin.close()


def test_fixture_constants_match(servers: FleetServers) -> None:
    assert (servers.password, servers.n_up) == (PASSWORD, N_UP)


def test_sources_keep_order_and_hide_the_password(servers: FleetServers) -> None:
    f = fleet(servers.targets())
    assert list(f.sources) == [*(f"node{i + 1:02d}" for i in range(N_UP)), "locked", "down"]
    assert f.sources["locked"] == f"redis://:***@127.0.0.1:{servers.locked.port}/0"
    assert PASSWORD not in repr(f) and PASSWORD not in str(f.sources)


def test_load_all_rows_per_source_equal_single_admin_loads(
    servers: FleetServers, loaded: tuple[Fleet, dict[str, pd.DataFrame]]
) -> None:
    _f, frames = loaded
    targets = servers.targets()
    answered = [n for n in targets if n != "down"]
    assert len(frames) == len(jsadmin.FAMILIES)
    singles = {}
    for src in answered:
        admin = jsadmin.connect(targets[src], readonly=True)
        singles[src] = admin.load_all()
        admin.close()
    with_rows = 0
    for name, merged in frames.items():
        assert merged.columns[0] == "source"
        assert list(merged["source"].cat.categories) == list(targets)
        assert merged.attrs["family"] == name
        assert "down" not in set(merged["source"])
        for src in answered:
            single = singles[src][name]
            part = merged[merged["source"] == src].drop(columns=["source"]).reset_index(drop=True)
            part = part.rename(columns={"source_code": "source"})
            assert len(part) == len(single), (name, src)
            if len(single):
                with_rows += 1
                pd.testing.assert_frame_equal(
                    part[list(single.columns)], single, check_categorical=False, obj=f"{name}@{src}"
                )
    assert with_rows >= 3 * len(answered)  # real data in several families of every source


def test_nodes_hold_different_data(loaded: tuple[Fleet, dict[str, pd.DataFrame]]) -> None:
    _, frames = loaded
    jobs = frames["jobs"]
    per_source = jobs.groupby("source", observed=False).size()
    assert per_source["down"] == 0
    guids = jobs.groupby("source", observed=True)["guid"].apply(frozenset)
    assert len(set(guids)) == len(guids)  # no two nodes hold the same jobs


def test_status_reports_down_and_wrong_password_without_failing_the_rest(servers: FleetServers) -> None:
    targets = servers.targets()
    targets["badauth"] = targets["locked"].replace(PASSWORD, "not-the-pw")
    f = fleet(targets, readonly=True, timeout=2)
    jobs = f.load("jobs")
    st = f.status()
    assert list(st.columns) == ["source", "url", "ok", "error", "elapsed", "operation"]
    assert list(st["source"]) == list(targets)
    ok = dict(zip(st["source"], st["ok"], strict=True))
    assert [n for n, v in ok.items() if not v] == ["down", "badauth"]
    errors = dict(zip(st["source"], st["error"], strict=True))
    assert errors["down"].startswith("ConnectionError") and "refused" in errors["down"]
    assert errors["badauth"].startswith("AuthenticationError")
    assert all(pd.isna(errors[n]) for n in ok if ok[n])
    assert st["elapsed"].between(0, 10).all() and (st["operation"] == "load jobs").all()
    assert set(jobs["source"]) == {n for n, v in ok.items() if v}
    everything = st.to_string() + repr(st.to_dict()) + repr(f) + jobs.to_string()
    assert "not-the-pw" not in everything and PASSWORD not in everything


def test_a_hung_instance_times_out(servers: FleetServers, redis_factory: ServerFactory) -> None:
    hung = redis_factory.start()
    os.kill(hung.process.pid, signal.SIGSTOP)  # accepts TCP (kernel backlog) but never answers
    try:
        f = fleet({"good": servers.up["node01"].url, "hung": hung.url}, timeout=0.5)
        frame = f.load("jobs_last")
        st = f.status().set_index("source")
        assert bool(st.loc["good", "ok"]) and not bool(st.loc["hung", "ok"])
        assert "Timeout" in st.loc["hung", "error"]
        assert set(frame["source"]) == {"good"}
    finally:
        os.kill(hung.process.pid, signal.SIGCONT)
        hung.stop()


def test_families_counts_per_source(servers: FleetServers) -> None:
    f = fleet(servers.targets(), timeout=2)
    fams = f.families()
    assert fams.columns[0] == "source"
    node = servers.up["node03"]
    admin = jsadmin.connect(node.url, readonly=True)
    expected = admin.families()
    admin.close()
    got = fams[fams["source"] == "node03"].drop(columns=["source"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(got, expected, check_categorical=False)
    assert set(fams["source"]) == set(servers.targets()) - {"down"}
    wide = f.families(wide=True, values="keys")
    assert list(wide.columns) == list(servers.targets())
    assert wide.index.tolist() == expected["family"].tolist()
    assert wide["node03"].tolist() == expected["keys"].tolist()
    assert wide["down"].isna().all()
    with pytest.raises(ValueError, match="values must be"):
        f.families(wide=True, values="bytes")


def test_problems_carry_their_source(servers: FleetServers, redis_factory: ServerFactory) -> None:
    extra = redis_factory.start()
    try:
        client = redis.Redis.from_url(protocol=2, url=extra.url)
        client.hset("jobs:1", "deadbeef", b"{not json")
        client.close()
        f = fleet({"good": servers.up["node02"].url, "broken": extra.url})
        jobs, jobs_info = f.load_with_info("jobs")
        probs = jobs_info.problems
        assert list(probs["source"]) == ["broken"]
        assert probs["key"].tolist() == ["jobs:1"]
        assert f.problems()["source"].tolist() == ["broken"]
        mirrored = f.load("jobs")  # the deprecated attrs mirror: compared on concat as one bool, not a frame
        both = pd.concat([mirrored.iloc[:1], mirrored.iloc[1:]])
        assert len(both) == len(jobs) and both.attrs["problems"]["source"].tolist() == ["broken"]
    finally:
        extra.stop()


def test_serial_and_parallel_give_the_same_frames(servers: FleetServers) -> None:
    urls = [srv.url for srv in servers.up.values()]
    a = fleet(urls, max_workers=1).load("command_queues")
    b = fleet(urls, max_workers=8).load("command_queues")
    pd.testing.assert_frame_equal(a, b)
    assert list(a["source"].cat.categories) == [f"127.0.0.1:{s.port}" for s in servers.up.values()]


def test_unknown_family_fails_before_any_connection(servers: FleetServers) -> None:
    f = fleet(servers.targets())
    with pytest.raises(UnknownFamilyError):
        f.load("no_such_family")
    assert f.status()["operation"].eq("ping").all()


def test_inventory_yaml_and_toml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, servers: FleetServers) -> None:
    monkeypatch.setenv("JS_FLEET_PW", PASSWORD)
    port = servers.locked.port
    yml = tmp_path / "grid.yaml"
    yml.write_text(
        textwrap.dedent(
            f"""\
            nodes:
              n1: {servers.up["node01"].url}
              locked: "redis://:${{JS_FLEET_PW}}@127.0.0.1:{port}/0"
            """
        )
    )
    toml = tmp_path / "grid.toml"
    toml.write_text(
        f'[nodes]\nn1 = "{servers.up["node01"].url}"\nlocked = "redis://:${{JS_FLEET_PW}}@127.0.0.1:{port}/0"\n'
    )
    expected = {"n1": servers.up["node01"].url, "locked": f"redis://:{PASSWORD}@127.0.0.1:{port}/0"}
    assert load_inventory(yml) == expected
    assert load_inventory(toml) == expected
    f = fleet(str(yml))
    counts = f.load("jobs").groupby("source", observed=False).size().to_dict()
    locked_url = f"redis://:{PASSWORD}@127.0.0.1:{port}/0"
    assert counts == {"n1": len(_single(servers.up["node01"].url, "jobs")), "locked": len(_single(locked_url, "jobs"))}
    assert counts["locked"] > 0
    listed = tmp_path / "list.yml"
    listed.write_text(f"nodes:\n  - {servers.up['node01'].url}\n  - name: x\n    url: redis://10.0.0.9\n")
    assert list(load_inventory(listed)) == [f"127.0.0.1:{servers.up['node01'].port}", "x"]


@pytest.mark.parametrize(
    ("text", "suffix", "message"),
    [
        ("nodes: [", ".yaml", "not valid YAML"),
        ("hosts: {a: redis://x}", ".yaml", "'nodes'"),
        ("nodes: {a: 'redis://:${JS_NOT_SET_ANYWHERE}@x'}", ".yaml", "JS_NOT_SET_ANYWHERE is not set"),
        ("nodes: {'bad/name': redis://x}", ".yaml", "bad source name"),
        ("nodes: {a: 'http://x'}", ".yaml", "unsupported URL scheme"),
        ("[nodes]\na = 1\n", ".toml", "must be text"),
        ("nodes = [", ".toml", "not valid TOML"),
        ("nodes: {}", ".ini", "use a .yaml"),
    ],
)
def test_bad_inventories_get_clear_errors(tmp_path: Path, text: str, suffix: str, message: str) -> None:
    path = tmp_path / f"inv{suffix}"
    path.write_text(text)
    with pytest.raises(ConnectionConfigError, match=message):
        load_inventory(path)


def test_target_forms() -> None:
    assert list(resolve_targets(["redis://10.0.0.1", "redis://10.0.0.1", "redis://h:1/2"])) == [
        "10.0.0.1:9999",
        "10.0.0.1:9999-2",
        "h:1.db2",
    ]
    assert resolve_targets({"a": "unix:///tmp/x.sock"}) == {"a": "unix:///tmp/x.sock"}
    with pytest.raises(InventoryError, match="at least one"):
        resolve_targets([])
    with pytest.raises(InventoryError, match="not found"):
        resolve_targets("no/such/inventory.yaml")
    with pytest.raises(ValueError, match="max_workers"):
        fleet(["redis://x"], max_workers=0)


def test_duplicate_inventory_names(tmp_path: Path) -> None:
    path = tmp_path / "dup.yaml"
    path.write_text("nodes:\n  - {name: a, url: 'redis://x'}\n  - {name: a, url: 'redis://y'}\n")
    with pytest.raises(InventoryError, match="appears twice"):
        load_inventory(path)


@pytest.mark.version_independent  # merging frames in memory: no server
def test_merge_sources_unions_categories() -> None:
    a = pd.DataFrame({"state": pd.Categorical(["OK"], categories=["OK"])})
    b = pd.DataFrame({"state": pd.Categorical(["ERROR"], categories=["ERROR", "OK"])})
    merged = merge_sources({"a": a, "b": b}, sources=["a", "b", "c"])
    assert isinstance(merged["state"].dtype, pd.CategoricalDtype)
    assert merged["state"].tolist() == ["OK", "ERROR"]
    assert list(merged["source"].cat.categories) == ["a", "b", "c"]
    empty = merge_sources({}, sources=["a"])
    assert list(empty.columns) == ["source"] and len(empty) == 0
