"""One read protocol: ``Admin``, ``Fleet`` and ``Snapshot`` are each a ``Source``, and the same bad
``load`` fails the same way on all three (same error type, same message), before any read."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

import jsadmin
from jsadmin.embedded import EmbeddedRedis
from jsadmin.errors import JsAdminError, UnknownFamilyError, UnknownFilterError
from jsadmin.fleets import fleet
from jsadmin.loadinfo import Loaded, LoadInfo
from jsadmin.snapshot import open_snapshot, snapshot
from jsadmin.sources import InfoSource, Source


@pytest.fixture()
def sources(seeded: EmbeddedRedis, tmp_path: Path) -> Iterator[dict[str, Source]]:
    admin = jsadmin.connect(seeded.url, readonly=True)
    snap = open_snapshot(snapshot(admin, tmp_path / "snap"))
    yield {"admin": admin, "fleet": fleet([seeded.url]), "snapshot": snap}
    admin.close()


def _error(src: Source, name: str, **filters: object) -> Exception:
    with pytest.raises(JsAdminError) as info:
        src.load(name, **filters)
    return info.value


def test_every_source_is_a_source(sources: dict[str, Source]) -> None:
    for name, src in sources.items():
        assert isinstance(src, Source), name
        assert isinstance(src.load("jobs"), pd.DataFrame) and "jobs" in src.load_all()
        assert "family" in src.families().columns and isinstance(src.problems(), pd.DataFrame)


def test_unknown_filter_is_one_error_with_one_message(sources: dict[str, Source]) -> None:
    errors = {name: _error(src, "jobs", gdi=1) for name, src in sources.items()}
    for name, exc in errors.items():
        assert type(exc) is UnknownFilterError, name
        # what Admin.load (TypeError) and Snapshot.load (ValueError) raised before: both still catch it
        assert isinstance(exc, TypeError) and isinstance(exc, ValueError), name
    messages = {name: str(exc) for name, exc in errors.items()}
    assert len(set(messages.values())) == 1, messages
    assert messages["admin"].startswith("unknown filter 'gdi' for family 'jobs': no such column (did you mean 'gid'?);")


def test_unknown_family_is_one_error_with_one_message(sources: dict[str, Source]) -> None:
    errors = {name: _error(src, "jbos") for name, src in sources.items()}
    assert {type(exc) for exc in errors.values()} == {UnknownFamilyError}
    messages = {name: str(exc) for name, exc in errors.items()}
    assert len(set(messages.values())) == 1, messages
    assert messages["admin"].startswith("unknown family 'jbos' (did you mean 'jobs'?); known families: ")


def test_fleet_refuses_an_unknown_filter_before_any_connection(seeded: EmbeddedRedis) -> None:
    f = fleet([seeded.url])
    with pytest.raises(UnknownFilterError):
        f.load("jobs", colour="red")  # was: an empty frame, every source "failed" with a TypeError
    assert f.status()["operation"].eq("ping").all()
    admin = jsadmin.connect(seeded.url, readonly=True)
    assert len(f.load("jobs", gid=1, limit=None)) == len(admin.load("jobs", gid=1))  # options still pass
    admin.close()


def test_snapshot_of_a_fleet_names_the_same_filter(seeded: EmbeddedRedis, tmp_path: Path) -> None:
    snap = open_snapshot(snapshot(fleet([seeded.url]), tmp_path / "fleet"))
    exc = _error(snap, "jobs", gdi=1)
    assert type(exc) is UnknownFilterError
    assert str(exc).startswith("unknown filter 'gdi' for family 'jobs': no such column (did you mean 'gid'?);")
    only = next(iter(snap.sources))
    assert len(snap.load("jobs", source=only)) == len(snap.load("jobs"))  # "source" is a column here


def test_every_source_says_what_its_load_found(seeded: EmbeddedRedis, tmp_path: Path) -> None:
    """``load_with_info`` gives the frame ``load`` gives and a typed ``LoadInfo``, alike on Admin,
    Fleet and Snapshot; capped keys name their source in the multi-source reads only."""
    admin = jsadmin.connect(seeded.url, readonly=True)
    f = fleet({"n1": seeded.url})
    snap = open_snapshot(snapshot(admin, tmp_path / "capped", limit=2))
    fleet_snap = open_snapshot(snapshot(f, tmp_path / "fleet", limit=2))
    all_logs = admin.load("logs", limit=None)
    key = str(all_logs["key"].iloc[0])
    total = int((all_logs["key"] == key).sum())
    assert total > 2, "the seeded grid needs a log list longer than the cap"
    found: dict[str, LoadInfo] = {}
    for name, src, kw in (("admin", admin, {"limit": 2}), ("fleet", f, {"limit": 2}),
                          ("snapshot", snap, {}), ("fleet snapshot", fleet_snap, {})):
        assert isinstance(src, InfoSource), name
        loaded = src.load_with_info("logs", **kw)
        frame, info = loaded
        assert isinstance(loaded, Loaded) and isinstance(info, LoadInfo) and info.family == "logs", name
        assert len(frame) == 2 * len(info.capped) and "problems" not in frame.attrs, name
        mirrored = src.load("logs", **kw)  # the frame of load(), with the info mirrored for one release
        pd.testing.assert_frame_equal(mirrored, frame, obj=name)
        assert mirrored.attrs["notes"] == info.notes and mirrored.attrs["truncated"] == info.truncated, name
        assert mirrored.attrs["problems"] == info.problems and mirrored.attrs["family"] == "logs", name
        found[name] = info
    multi = {"fleet", "fleet snapshot"}
    for name, info in found.items():
        capped = {c.key: c for c in info.capped}
        assert capped[key].kept == 2 and capped[key].total == total, name
        assert capped[key].source == ("n1" if name in multi else None), name
        note = f"{key}: newest 2 of {total:,} entries; pass `limit=None` for all"
        assert (f"n1: {note}" if name in multi else note) in info.notes, name
        assert list(info.problems.columns[:1]) == (["source"] if name in multi else ["family"]), name
    # the same problems, wherever they were read
    assert [len(i.problems) for i in found.values()] == [len(found["admin"].problems)] * 4
    everything = admin.load_all_with_info()
    assert set(everything) == set(jsadmin.FAMILIES) and everything["jobs"].info.family == "jobs"
    admin.close()


def test_load_with_info_fails_like_load(sources: dict[str, Source]) -> None:
    for name, src in sources.items():
        assert isinstance(src, InfoSource), name
        with pytest.raises(UnknownFilterError) as bad_filter:
            src.load_with_info("jobs", gdi=1)
        assert str(bad_filter.value) == str(_error(src, "jobs", gdi=1)), name
        with pytest.raises(UnknownFamilyError) as bad_family:
            src.load_with_info("jbos")
        assert str(bad_family.value) == str(_error(src, "jbos")), name
