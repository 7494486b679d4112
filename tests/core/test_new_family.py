"""A family added with one catalog entry (and one byte-form fixture) works everywhere, with no
other change: ``families()``, ``load``, ``load_all``, snapshots, ``diff`` and fleets."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import redis
from byteforms import ByteForm, write

import jsadmin
from jsadmin.catalog import Family, classify, families_of, register, unregister
from jsadmin.diffs import diff
from jsadmin.embedded import EmbeddedRedis, free_port
from jsadmin.fleets import fleet
from jsadmin.snapshot import open_snapshot, snapshot

NODE_BOOT = Family(
    "node_boot", "hash", ("nodes:boot",), ("nodes:boot",), re.compile(re.escape("nodes:boot")), "current",
    "When each node last booted (field = nid, value = epoch).",
    "epoch", {"booted": "datetime"}, field_column="node", kind="process",
)
"""The one catalog entry: nothing else in jsadmin names this family."""

FORM = ByteForm("node boot times", "hash", "nodes:boot", {b"1": b"1539600000", b"2": b"1539600123.5"},
                expect={"1": 1539600000.0, "2": 1539600123.5}, family="node_boot")
"""The one byte-form fixture."""


@pytest.fixture()
def server() -> Iterator[EmbeddedRedis]:
    register(NODE_BOOT)
    srv = EmbeddedRedis.start(port=free_port())
    client = redis.Redis.from_url(srv.url, protocol=2)
    write(client, [FORM])
    client.rpush("queues:system", b'{"guid": "g1", "state": "STARTED"}')  # a built-in family beside it
    client.close()
    try:
        yield srv
    finally:
        srv.stop()
        unregister("node_boot")


def _expected() -> pd.Series:
    return pd.Series(pd.to_datetime([FORM.expect[k] for k in ("1", "2")], unit="s", utc=True), name="booted")


def test_families_load_and_load_all_handle_a_new_family(server: EmbeddedRedis) -> None:
    assert classify("nodes:boot") == "node_boot" and "node_boot" in families_of("process")
    admin = jsadmin.connect(server.url, readonly=True)
    try:
        fams = admin.families().set_index("family")
        assert (fams.loc["node_boot", "keys"], fams.loc["node_boot", "entries"]) == (1, 2)
        df, df_info = admin.load_with_info("node_boot")
        df = df.sort_values("node").reset_index(drop=True)
        assert list(df.columns) == list(NODE_BOOT.columns) == ["key", "node", "booted"]
        assert df["node"].tolist() == ["1", "2"] and str(df["booted"].dtype) == "datetime64[ns, UTC]"
        pd.testing.assert_series_equal(df["booted"], _expected())
        assert df_info.problems.empty
        assert len(admin.load("node_boot", node="2")) == 1
        frames = admin.load_all()
        assert len(frames["worker_queues"]) == 1
        pd.testing.assert_frame_equal(frames["node_boot"].sort_values("node").reset_index(drop=True), df,
                                      check_like=True)
    finally:
        admin.close()


def test_snapshots_diff_and_fleets_handle_a_new_family(server: EmbeddedRedis, tmp_path: Path) -> None:
    admin = jsadmin.connect(server.url, readonly=True)
    try:
        before = open_snapshot(snapshot(admin, tmp_path / "before"))
        assert "node_boot" in before.families()["family"].tolist()
        stored = before.load("node_boot").sort_values("node").reset_index(drop=True)
        pd.testing.assert_series_equal(stored["booted"], _expected())
        client = redis.Redis.from_url(server.url, protocol=2)
        client.hset("nodes:boot", "2", b"1539700000")
        client.hset("nodes:boot", "3", b"1539700001")
        client.close()
        changes = diff(before, admin).families["node_boot"].sort_values("node")
        assert changes[["change", "node"]].values.tolist() == [["changed", "2"], ["added", "3"]]
        assert changes.iloc[0]["changed"] == ["booted"]
        live = fleet({"a": server.url, "b": server.url}, readonly=True)
        try:
            both = live.load("node_boot")
            assert sorted(both["source"].astype(str).unique()) == ["a", "b"] and len(both) == 6
        finally:
            live.close()
    finally:
        admin.close()
