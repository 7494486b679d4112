"""The write helpers through the real ``jsadmin.connect`` Admin (WritesMixin mixed in)."""

from __future__ import annotations

import json
import os
import stat
import time
from pathlib import Path

import pytest
import redis

import jsadmin
from jsadmin.errors import ReadOnlyError, WriteValidationError
from jsadmin.writes import WritesMixin
from jsadmin.writes import journal as journal_module
from jsadmin.writes.journal import DEFAULT_DIR, ENV_JOURNAL, KEEP, MAX_BYTES, Journal, journal_path

from .conftest import _A


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
    left = sorted(k for k in r.scan_iter() if not k.startswith(b"jsadmin:write:"))
    assert left == [b"jobs:last"]  # besides the write markers (7-day TTL), only jobs:last is left
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
    url = "redis://admin:***@10.0.0.7:9999/2"
    assert journal_path(url=url) == DEFAULT_DIR.expanduser() / "10.0.0.7_9999_2.jsonl"
    assert journal_path(url="unix:///run/r.sock?db=3").name == "unix_run_r.sock_3.jsonl"
    monkeypatch.setenv(ENV_JOURNAL, str(tmp_path / "env.jsonl"))
    assert journal_path(url=url) == tmp_path / "env.jsonl"  # a .jsonl file: shared by every target
    monkeypatch.setenv(ENV_JOURNAL, str(tmp_path / "dir"))
    assert journal_path(url=url) == tmp_path / "dir" / "10.0.0.7_9999_2.jsonl"  # a directory: one per target
    assert journal_path(tmp_path / "explicit.jsonl", url) == tmp_path / "explicit.jsonl"


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_one_private_journal_per_target(redis_url: str, r: redis.Redis, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_JOURNAL, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / ".jsadmin" / "journal").mkdir(parents=True, mode=0o755)  # left open by an older version
    os.chmod(tmp_path / ".jsadmin" / "journal", 0o755)
    legacy = tmp_path / ".jsadmin" / "journal.jsonl"
    legacy.write_text('{"id": "old", "args": {"password": "hunter2"}}\n')
    os.chmod(legacy, 0o644)
    db0 = jsadmin.connect(redis_url)
    db1 = jsadmin.connect(redis_url.rsplit("/", 1)[0] + "/1")
    db0.enqueue_job(1, nid=1, category="c", cmd="x", args={"password": "s3cret"})
    db1.enqueue_job(1, nid=1, category="c", cmd="x")
    port = redis_url.rsplit(":", 1)[1].split("/")[0]
    folder = tmp_path / ".jsadmin" / "journal"
    files = sorted(p.name for p in folder.glob("*.jsonl"))
    assert files == [f"127.0.0.1_{port}_0.jsonl", f"127.0.0.1_{port}_1.jsonl"]
    assert _mode(folder) == 0o700 and all(_mode(p) == 0o600 for p in folder.iterdir())
    assert _mode(legacy) == 0o600  # the old global file holds job arguments too
    assert db0.journal()["helper"].tolist() == ["enqueue_job"] and len(db1.journal()) == 1


def test_journal_rotates_and_moves_large_removed_payloads_to_side_files(
    tmp_path: Path, r: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(journal_module, "MAX_BYTES", 3000)  # lines: a few entries per file
    monkeypatch.setattr(journal_module, "KEEP", 2)
    monkeypatch.setattr(journal_module, "SIDE_MAX_BYTES", 2_000_000)  # side files: about 3 purges
    adm = _A(r, journal_path=tmp_path / "j" / "grid.jsonl")
    ids = []
    for round_ in range(8):
        r.rpush("queues:commands:queue:1:1", *[f"value {round_} {i} " + os.urandom(60).hex() for i in range(3000)])
        ids.append(adm.purge_queue("queues:commands:queue:1:1").journal_id)
    j = adm._journal()
    files = j.files()
    assert len(files) == 3 and all(p.stat().st_size < 3000 + 1000 for p in files)  # rotated: bounded lines
    sides = list(j.side_dir.iterdir())
    assert sides and all(p.name.endswith(".json.gz") and _mode(p) == 0o600 for p in sides)
    assert sum(p.stat().st_size for p in sides) <= 2_000_000 + 700_000  # one entry may overshoot, never evicted
    assert {p.name.split("-")[0] for p in sides} >= {ids[-1]}  # the newest purge is whole
    last = j.find(ids[-1])
    assert last is not None and sum(c["count"] for c in last["chunks"].values()) == 3000
    assert "removed" not in next(iter(j.lines(ids[-1])))  # the values live in a side file
    with pytest.raises(WriteValidationError, match=r"no journal entry|gone from the journal"):
        adm.undo(ids[0])  # rotated or evicted away: refused clearly, nothing written
    assert r.llen("queues:commands:queue:1:1") == 0
    adm.undo(ids[-1])
    assert r.llen("queues:commands:queue:1:1") == 3000


@pytest.mark.version_independent  # a journal file written directly and read back: no server
def test_journal_stays_fast_with_a_full_history(tmp_path: Path) -> None:
    """A journal at its cap: KEEP rotated files and a full current one of small entries (large
    payloads live in side files, never in lines). Written directly: rotation is tested above."""
    journal = Journal(tmp_path / "big.jsonl")
    job = {"gid": 1, "nid": 5, "cmd": "echo", "args": {"msg": "x" * 300}}
    n = 0
    for path in [journal.path.with_name(f"big.{i}.jsonl") for i in range(KEEP, 0, -1)] + [journal.path]:
        lines = []
        size = 0
        while size < MAX_BYTES - 2000:
            line = json.dumps({"id": f"{n:032x}", "time": "2026-01-01T00:00:00.000000+00:00", "event": "entry",
                               "helper": "enqueue_job", "url": "redis://10.0.0.1:9999/0",
                               "commands": [["HSET", "jobs:1", f"{n:032x}", json.dumps(job)]],
                               "removed": [], "result": {"id": n}, "undo_of": None}) + "\n"
            lines.append(line)
            size += len(line)
            n += 1
        path.write_text("".join(lines))
    journal.append(helper="purge_queue", url="redis://10.0.0.1:9999/0", commands=[],
                   removed=[{"type": "list", "key": "q", "value": {"text": "v" * 100}}] * 100_000)
    t0 = time.perf_counter()
    frame = journal.to_frame()
    took = time.perf_counter() - t0
    size = sum(p.stat().st_size for p in journal.files())
    print(f"\njournal(): {len(frame)} entries, {size / 2**20:.1f} MiB in {len(journal.files())} files, {took:.2f}s")
    assert len(journal.files()) == KEEP + 1 and frame["removed"].iloc[-1] == 100_000
    assert size <= (KEEP + 1) * MAX_BYTES and len(frame) > 20_000
    assert took < 3.0


def test_a_demo_grid_journals_beside_its_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Embedded demo grids come and go on random ports: their journal lives and dies with them."""
    monkeypatch.delenv(ENV_JOURNAL, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    admin = jsadmin.demo()
    try:
        admin.enqueue_job(1, nid=1, category="jumpscale", cmd="echo")
        assert admin._journal().path == admin.embedded.workdir / "journal.jsonl"
        assert admin.journal()["helper"].tolist() == ["enqueue_job"]
    finally:
        admin.embedded.stop()
    assert not admin._journal().path.exists() and not (tmp_path / ".jsadmin" / "journal").exists()
