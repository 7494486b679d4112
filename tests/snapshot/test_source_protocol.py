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
from jsadmin.snapshot import open_snapshot, snapshot
from jsadmin.sources import Source


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
