"""The write helpers through the real ``jsadmin.connect`` Admin (WritesMixin mixed in)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import redis

import jsadmin
from jsadmin.errors import ReadOnlyError
from jsadmin.writes import WritesMixin
from jsadmin.writes.journal import DEFAULT_JOURNAL, ENV_JOURNAL, journal_path


def test_connect_admin_enqueues_and_journals(redis_url: str, r: redis.Redis, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_JOURNAL, str(tmp_path / "j.jsonl"))
    admin = jsadmin.connect(redis_url)
    assert isinstance(admin, WritesMixin)
    job = admin.enqueue_job(1, role="node", category="jumpscale", cmd="echo", args={"msg": "hi"})
    assert json.loads(r.lindex("queues:commands:queue:1:node", 0)) == job
    loaded = admin.load("command_queues")
    assert loaded["guid"].tolist() == [job["guid"]] and loaded["state"].tolist() == ["SCHEDULED"]
    admin.cancel_jobs(loaded)
    # only jobs:last is left, besides the write markers (jsadmin:write:<id>, 7-day TTL)
    assert [k for k in r.scan_iter("*") if not k.startswith(b"jsadmin:write:")] == [b"jobs:last"]
    journal = admin.journal()
    assert journal["helper"].tolist() == ["enqueue_job", "cancel_jobs"]
    assert (journal["url"] == admin.url).all() and str(journal["time"].dtype) == "datetime64[ns, UTC]"
    assert "@" not in admin.url  # the journal never holds secrets: it stores the scrubbed url


def test_connect_readonly_refuses_with_how_it_was_opened(redis_url: str, r: redis.Redis) -> None:
    admin = jsadmin.connect(redis_url, readonly=True)
    with pytest.raises(ReadOnlyError, match=r"readonly=True"):
        admin.enqueue_job(1, nid=1, category="c", cmd="x")
    assert r.dbsize() == 0


def test_journal_path_resolution(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_JOURNAL, raising=False)
    assert journal_path() == DEFAULT_JOURNAL.expanduser()
    monkeypatch.setenv(ENV_JOURNAL, str(tmp_path / "env.jsonl"))
    assert journal_path() == tmp_path / "env.jsonl"
    assert journal_path(tmp_path / "explicit.jsonl") == tmp_path / "explicit.jsonl"
