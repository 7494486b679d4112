"""Parquet snapshots of real servers: exact round trips, layout, manifest, no secrets."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pyarrow.dataset as ds
import pytest
from redis_servers import ServerFactory

import jsadmin
from jsadmin.embedded import EmbeddedRedis
from jsadmin.errors import UnknownFamilyError
from jsadmin.fleets import fleet
from jsadmin.snapshot import SnapshotError, SnapshotMixin, open_snapshot, snapshot

SNAP_PASSWORD = "snap-pw-Zq81"  # the same as tests/snapshot/conftest.py
FILES_ONLY = pytest.mark.version_independent
"""What these check is files on disk (overwrite refusals, the Parquet layout read by pyarrow, older
column names): the server only supplies rows, and reading them into a snapshot is checked on every
leg by the round-trip, streaming, fleet-layout and problems tests of this file."""


def test_admin_snapshot_round_trips_every_family_exactly(seeded: EmbeddedRedis, tmp_path: Path) -> None:
    admin = jsadmin.connect(seeded.url, readonly=True)
    loaded = admin.load_all_with_info()
    live = {name: x.frame for name, x in loaded.items()}
    path = snapshot(admin, tmp_path / "snap")
    snap = open_snapshot(path)
    assert snap.kind == "admin" and snap.family_names == list(live)
    for name, frame in live.items():
        back, back_info = snap.load_with_info(name)
        assert back_info.family == name
        pd.testing.assert_frame_equal(back, frame, obj=name)
        pd.testing.assert_frame_equal(back_info.problems, loaded[name].info.problems, check_dtype=False)
    jobs = snap.load("jobs")
    assert isinstance(jobs["state"].dtype, pd.CategoricalDtype)
    assert str(jobs["timeCreate"].dtype).endswith(", UTC]")
    assert any(isinstance(a, dict) and a for a in jobs["args"])
    assert all(isinstance(r, list) for r in jobs["roles"])
    assert "code" in snap.load("jumpscripts_by_name").columns  # the jumpscript code column
    admin.close()


def test_snapshot_mixin_method(seeded: EmbeddedRedis, tmp_path: Path) -> None:
    admin = jsadmin.connect(seeded.url, readonly=True)
    path = SnapshotMixin.snapshot(admin, tmp_path / "m", name="master")  # as Admin.snapshot(path)
    assert open_snapshot(path).sources == {"master": admin.url}
    admin.close()


def test_families_filters_and_expand(seeded: EmbeddedRedis, tmp_path: Path) -> None:
    admin = jsadmin.connect(seeded.url, readonly=True)
    snap = open_snapshot(snapshot(admin, tmp_path / "s"))
    pd.testing.assert_frame_equal(snap.families(), admin.families())
    live = admin.load("jobs", state=["SCHEDULED", "STARTED"], expand="args")
    offline = snap.load("jobs", state=["SCHEDULED", "STARTED"], expand="args")
    pd.testing.assert_frame_equal(offline, live)
    assert any(c.startswith("args.") for c in offline.columns)
    with pytest.raises(UnknownFamilyError, match="no_such"):
        snap.load("no_such")
    with pytest.raises(ValueError, match="no such column"):
        snap.load("jobs", colour="red")
    admin.close()


def test_fleet_snapshot_layout_manifest_and_no_secret(pair: tuple[str, str], tmp_path: Path) -> None:
    plain, locked = pair
    f = fleet({"n1": plain, "n2": locked, "gone": "redis://127.0.0.1:1/0"}, timeout=1)
    live = f.load_all()
    path = f.snapshot(tmp_path / "fleet")
    manifest = json.loads((path / "manifest.json").read_text())
    assert manifest["kind"] == "fleet" and manifest["jsadmin_version"] == jsadmin.__version__
    assert pd.Timestamp(manifest["created_at"]).tzinfo is not None
    assert [s["name"] for s in manifest["sources"]] == ["n1", "n2", "gone"]
    assert manifest["sources"][1]["url"].startswith("redis://:***@127.0.0.1:")
    assert manifest["answered"] == ["n1", "n2"]
    assert [s["ok"] for s in manifest["status"]] == [True, True, False]
    assert manifest["families"]["jobs"]["rows"] == {
        src: int((live["jobs"]["source"] == src).sum()) for src in ("n1", "n2")
    }
    assert manifest["families"]["jobs"]["dtypes"]["state"]["dtype"] == "category"
    assert "args" in manifest["families"]["jobs"]["json_columns"]
    for family in live:
        for src in ("n1", "n2"):
            assert (path / family / f"source={src}" / "part-0.parquet").is_file()
        assert not (path / family / "source=gone").exists()
    for file in path.rglob("*"):
        if file.is_file():
            assert SNAP_PASSWORD.encode() not in file.read_bytes(), file

    snap = open_snapshot(path)
    for name, frame in live.items():
        pd.testing.assert_frame_equal(snap.load(name), frame, obj=name)
    assert snap.load("jobs", source="n2")["source"].unique().tolist() == ["n2"]
    assert PASSWORD_FREE(repr(snap)) and PASSWORD_FREE(snap.families().to_string())


def PASSWORD_FREE(text: str) -> bool:
    return SNAP_PASSWORD not in text


@FILES_ONLY
def test_layout_reads_with_pyarrow_dataset_and_pandas(pair: tuple[str, str], tmp_path: Path) -> None:
    f = fleet({"n1": pair[0], "n2": pair[1]})
    live = f.load("command_queues")
    path = f.snapshot(tmp_path / "fl")
    table = ds.dataset(path / "command_queues", format="parquet", partitioning="hive").to_table()
    frame = table.to_pandas()
    assert sorted(frame["source"].astype(str).unique()) == ["n1", "n2"]
    counts = frame.groupby(frame["source"].astype(str)).size().to_dict()
    assert counts == live.groupby(live["source"].astype(str)).size().to_dict()
    assert set(live.columns) == set(frame.columns)
    via_pandas = pd.read_parquet(path / "command_queues")
    assert len(via_pandas) == len(live)
    # JSON columns stay text outside jsadmin
    assert isinstance(via_pandas["args"].dropna().iloc[0], str)


@FILES_ONLY
def test_overwrite_rules_and_bad_paths(seeded: EmbeddedRedis, tmp_path: Path) -> None:
    admin = jsadmin.connect(seeded.url, readonly=True)
    path = snapshot(admin, tmp_path / "s")
    with pytest.raises(SnapshotError, match="already exists"):
        snapshot(admin, path)
    assert snapshot(admin, path, overwrite=True) == path
    other = tmp_path / "precious"
    other.mkdir()
    (other / "thesis.txt").write_text("do not delete")
    with pytest.raises(SnapshotError, match="not a jsadmin snapshot"):
        snapshot(admin, other, overwrite=True)
    assert (other / "thesis.txt").read_text() == "do not delete"
    with pytest.raises(SnapshotError, match="not a jsadmin snapshot"):
        open_snapshot(other)
    with pytest.raises(TypeError, match="Admin or a Fleet"):
        snapshot(42, tmp_path / "x")
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temp leftovers
    admin.close()


def test_snapshot_streams_batches_and_round_trips_exactly(tmp_path: Path, redis_factory: ServerFactory) -> None:
    import pyarrow.parquet as pq
    import redis

    srv = redis_factory.start()
    try:
        client = redis.Redis.from_url(protocol=2, url=srv.url)
        logs = [
            b'{"message":"m%d","level":%d,"category":"c","gid":1,"nid":2,"epoch":%d,"tags":"%s"}'
            % (i, i % 5, 1539600000 + i, b"t" if i % 2 else b"")
            for i in range(2500)
        ]
        client.rpush("queues:logs", *logs)
        client.rpush("queues:logs", b"[1, 2]")  # a problem in the last batch
        for i in range(30):  # the odd state only in a later batch: categories as one load orders them
            state = "ZZZ_LEGACY" if i < 3 else "AAA_LEGACY" if i > 25 else "OK"
            args = f'{{"n": {i}}}' if i > 20 else "null"  # dicts only in a later batch
            client.hset("jobs:1", f"g{i:02d}", f'{{"guid":"g{i:02d}","gid":1,"state":"{state}","args":{args}}}')
        client.close()
        admin = jsadmin.connect(srv.url, readonly=True)
        live = admin.load_all(limit=None)
        path = snapshot(admin, tmp_path / "s", batch_rows=1000)
        (part,) = (path / "logs").glob("source=*/part-0.parquet")
        assert pq.ParquetFile(part).num_row_groups >= 2  # written batch by batch (2000-entry LRANGE pieces)
        snap = open_snapshot(path)
        for name, frame in live.items():
            pd.testing.assert_frame_equal(snap.load(name), frame, obj=name)
        assert len(snap.load("logs")) == 2500
        assert snap.problems()["error"].str.contains("expected a JSON object").tolist() == [True]
        assert list(snap.load("jobs")["state"].cat.categories[-2:]) == ["AAA_LEGACY", "ZZZ_LEGACY"]
        assert json.loads((path / "manifest.json").read_text())["limit"] is None

        capped = open_snapshot(snapshot(admin, tmp_path / "capped", limit=100))
        assert len(capped.load("logs")) == 99 and len(capped.problems()) == 1  # the newest entry is broken
        assert capped.load_with_info("logs").info.notes == [
            "queues:logs: newest 100 of 2,501 entries; pass `limit=None` for all"
        ]
        assert capped.load_with_info("logs").info.truncated == {"queues:logs": {"kept": 100, "total": 2501, "keep": "newest"}}
        assert snap.load_with_info("logs").info.truncated == {}
        admin.close()
    finally:
        srv.stop()


def _tree(path: Path) -> dict[str, bytes]:
    return {str(f.relative_to(path)): f.read_bytes() for f in sorted(path.rglob("*")) if f.is_file()}


@FILES_ONLY
def test_overwrite_replaces_a_real_snapshot_and_deletes_nothing_else(
    seeded: EmbeddedRedis, tmp_path: Path
) -> None:
    admin = jsadmin.connect(seeded.url, readonly=True)
    path = snapshot(admin, tmp_path / "s")
    before = json.loads((path / "manifest.json").read_text())["created_at"]
    neighbour = tmp_path / "neighbour.txt"
    neighbour.write_text("next to the snapshot")
    assert snapshot(admin, path, overwrite=True) == path
    after = json.loads((path / "manifest.json").read_text())["created_at"]
    assert after > before
    assert open_snapshot(path).family_names == list(jsadmin.FAMILIES)
    assert neighbour.read_text() == "next to the snapshot"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["neighbour.txt", "s"]  # no temp or old copies
    admin.close()


@FILES_ONLY
@pytest.mark.parametrize(
    "setup, reason",
    [
        ("foreign_manifest", "not a jsadmin snapshot manifest"),
        ("broken_manifest", "not a jsadmin snapshot manifest"),
        ("user_file_at_top", "not part of its jsadmin snapshot (notes.txt)"),
        ("user_file_in_family", "not part of its jsadmin snapshot (jobs/keep.csv)"),
        ("user_file_in_partition", "not part of its jsadmin snapshot (jobs/source="),
        ("user_dir_named_like_no_family", "not part of its jsadmin snapshot (results)"),
    ],
)
def test_overwrite_refuses_anything_but_a_jsadmin_snapshot(
    seeded: EmbeddedRedis, tmp_path: Path, setup: str, reason: str
) -> None:
    admin = jsadmin.connect(seeded.url, readonly=True)
    path = tmp_path / "target"
    if setup in ("foreign_manifest", "broken_manifest"):
        path.mkdir()
        (path / "results").mkdir()
        (path / "results" / "run1.csv").write_text("a,b\n1,2\n")
        text = '{"name": "my-webapp", "version": "1.0"}' if setup == "foreign_manifest" else "{not json"
        (path / "manifest.json").write_text(text)
    else:
        snapshot(admin, path)
        if setup == "user_file_at_top":
            (path / "notes.txt").write_text("my notes")
        elif setup == "user_file_in_family":
            (path / "jobs" / "keep.csv").write_text("guid\n")
        elif setup == "user_file_in_partition":
            part = next((path / "jobs").iterdir())
            (part / "analysis.ipynb").write_text("{}")
        else:
            (path / "results").mkdir()
            (path / "results" / "part-0.parquet").write_bytes(b"PAR1")
    before = _tree(path)
    with pytest.raises(SnapshotError, match="refusing to overwrite") as err:
        snapshot(admin, path, overwrite=True)
    assert reason in str(err.value)
    assert _tree(path) == before  # untouched, byte for byte
    assert sorted(p.name for p in tmp_path.iterdir()) == ["target"]  # no temp leftovers
    admin.close()


@FILES_ONLY
def test_overwrite_rechecks_files_added_while_redis_was_read(
    seeded: EmbeddedRedis, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import jsadmin.snapshot as snapshot_module

    admin = jsadmin.connect(seeded.url, readonly=True)
    path = snapshot(admin, tmp_path / "s")
    real_stage = snapshot_module.stage_source

    def stage_and_meddle(*args: object, **kwargs: object) -> object:
        (path / "written-meanwhile.txt").write_text("keep me")  # the user saves a file mid-snapshot
        return real_stage(*args, **kwargs)

    monkeypatch.setattr(snapshot_module, "stage_source", stage_and_meddle)
    before = _tree(path)
    with pytest.raises(SnapshotError, match=r"not part of its jsadmin snapshot \(written-meanwhile.txt\)"):
        snapshot(admin, path, overwrite=True)
    assert _tree(path) == before | {"written-meanwhile.txt": b"keep me"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s"]
    admin.close()


@FILES_ONLY
def test_cli_overwrite_refuses_a_foreign_directory(
    seeded: EmbeddedRedis, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from jsadmin.cli import main

    path = tmp_path / "site"
    path.mkdir()
    (path / "manifest.json").write_text('{"short_name": "pwa"}')
    (path / "index.html").write_text("<html></html>")
    assert main(["snapshot", str(path), "--overwrite", "--url", seeded.url]) == 1
    assert "not a jsadmin snapshot manifest" in capsys.readouterr().err
    assert sorted(p.name for p in path.iterdir()) == ["index.html", "manifest.json"]
    assert main(["snapshot", str(tmp_path / "real"), "--url", seeded.url]) == 0
    assert main(["snapshot", str(tmp_path / "real"), "--overwrite", "--url", seeded.url]) == 0
    assert open_snapshot(tmp_path / "real").kind == "admin"


def test_problems_survive_a_snapshot(tmp_path: Path, redis_factory: ServerFactory) -> None:
    import redis

    srv = redis_factory.start()
    try:
        client = redis.Redis.from_url(protocol=2, url=srv.url)
        client.hset("jobs:1", "feedface", b"{broken")
        client.hset("jobs:1", "cafe", b'{"guid":"cafe","gid":1}')
        client.hset("jobs:1", "beef", b'{"guid":"beef","gid":1}')
        client.close()
        admin = jsadmin.connect(srv.url, readonly=True)
        path = snapshot(admin, tmp_path / "p")
        snap = open_snapshot(path)
        probs = snap.problems()
        assert probs[["family", "key", "field"]].values.tolist() == [["jobs", "jobs:1", "feedface"]]
        assert bytes(probs["raw"].iloc[0]).startswith(b"{broken")
        jobs, jobs_info = snap.load_with_info("jobs")
        assert len(jobs_info.problems) == 1
        assert jobs_info.problems == admin.load_with_info("jobs").info.problems  # read back == live
        mirrored = snap.load("jobs")  # the deprecated attrs mirror: compared on concat as one bool, not a frame
        both = pd.concat([mirrored.iloc[:1], mirrored.iloc[1:], mirrored])
        assert len(both) == 2 * len(jobs) and len(both.attrs["problems"]) == 1
        admin.close()
    finally:
        srv.stop()


def _as_older_version(
    path: Path, family: str, renames: dict[str, str], drop: tuple[str, ...] = (), renamed: dict[str, str] | None = None
) -> None:
    """Rewrite one family of a snapshot as a version before the column vocabulary wrote it:
    today's column names back to the old ones (``renames``: current -> old), ``drop`` columns gone."""
    import pyarrow.parquet as pq

    manifest_file = path / "manifest.json"
    manifest = json.loads(manifest_file.read_text())
    schema = manifest["families"][family]
    for part in (path / family).glob("source=*/part-0.parquet"):
        table = pq.read_table(part).drop_columns([c for c in drop if c in pq.read_schema(part).names])
        table = table.rename_columns([renames.get(c, c) for c in table.column_names])
        pq.write_table(table, part)
    schema["columns"] = [renames.get(c, c) for c in schema["columns"] if c not in drop]
    schema["dtypes"] = {renames.get(c, c): d for c, d in schema["dtypes"].items() if c not in drop}
    schema["json_columns"] = [renames.get(c, c) for c in schema.get("json_columns", []) if c not in drop]
    if renamed is not None:  # what ParquetSink recorded for a column it stored under another name
        schema["renamed"] = renamed
    manifest_file.write_text(json.dumps(manifest))


@FILES_ONLY
def test_snapshot_of_an_earlier_version_reads_under_todays_column_names(
    seeded: EmbeddedRedis, tmp_path: Path
) -> None:
    admin = jsadmin.connect(seeded.url, readonly=True)
    names = ("jobs", "command_queues", "worker_queues", "jumpscripts_by_name", "jumpscripts_by_id", "logs_incr")
    live = {name: admin.load(name) for name in names}
    path = snapshot(admin, tmp_path / "old")
    admin.close()
    assert all(len(live[n]) for n in names), "the seeded grid has every one of these families"
    _as_older_version(path, "jobs", {}, drop=("jumpscript",))
    _as_older_version(path, "command_queues", {"key_nid": "target_nid", "key_role": "target_role"}, drop=("jumpscript",))
    _as_older_version(path, "worker_queues", {"key_queue": "worker_queue"}, drop=("jumpscript",))
    # earlier versions stored the jumpscripts' own "source" column (the code) as source_code
    old_code = {"source_code": "source"}
    _as_older_version(path, "jumpscripts_by_name", {"jumpscript": "field", "code": "source_code"}, renamed=old_code)
    _as_older_version(path, "jumpscripts_by_id", {"code": "source_code"}, drop=("jumpscript",), renamed=old_code)
    _as_older_version(path, "logs_incr", {"gid": "key_gid", "nid": "key_node", "epoch": "key_epoch"})
    assert "target_nid" in pd.read_parquet(next((path / "command_queues").glob("source=*/part-0.parquet"))).columns
    snap = open_snapshot(path)
    for name in names:
        pd.testing.assert_frame_equal(snap.load(name), live[name], obj=name)
    assert len(snap.load("command_queues", key_role="node")) == int((live["command_queues"]["key_role"] == "node").sum())
