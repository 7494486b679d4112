"""``jsadmin summary``: the headlines an operator acts on, computed on real servers with known values."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import redis
from redis_servers import ServerFactory

import jsadmin
from jsadmin.cli import main
from jsadmin.embedded import EmbeddedRedis
from jsadmin.summary import human, split_leftovers, summarize

BIN = Path(sys.executable).with_name("jsadmin")
NOW = pd.Timestamp("2026-06-01 12:00:00", tz="UTC")
T = NOW.timestamp()


def job(guid: str, state: str, *, created: float, start: float | None = None, stop: float | None = None,
        nid: int = 1, cmd: str = "echo", result: object = None) -> bytes:
    doc = {"guid": guid, "gid": 1, "nid": nid, "id": 1, "category": "jumpscale", "cmd": cmd, "state": state,
           "timeCreate": created, "timeStart": start or 0, "timeStop": stop or 0, "timeout": 600, "args": {},
           "result": result, "queue": "", "roles": [], "wait": True, "log": True}
    return json.dumps(doc).encode()


def hmset(client: redis.Redis, key: str, mapping: dict[str, object]) -> None:
    client.execute_command("HMSET", key, *[x for kv in mapping.items() for x in kv])


@pytest.fixture(scope="module")
def known(redis_factory: ServerFactory) -> Iterator[EmbeddedRedis]:
    """A grid whose headline figures are known in advance (at ``NOW``)."""
    srv = redis_factory.start()
    r = redis.Redis.from_url(srv.url, protocol=2)
    finished = {f"ok{i:02d}": job(f"ok{i:02d}", "OK", created=T - 200, start=T - 100, stop=T - 100 + i)
                for i in range(1, 11)}  # run times 1..10 s, finished within the last 2 min
    finished["err1"] = job("err1", "ERROR", created=T - 300, start=T - 250, stop=T - 240, nid=3, cmd="flaky",
                           result={"category": "workers.executejob", "errormessage": "boom"})
    finished["old_err"] = job("old_err", "ERROR", created=T - 9000, start=T - 8000, stop=T - 7990)  # > 1 h ago
    finished["sched1"] = job("sched1", "SCHEDULED", created=T - 100)
    finished["run1"] = job("run1", "STARTED", created=T - 60, start=T - 50)
    finished["run2"] = job("run2", "STARTED", created=T - 60, start=T - 40)
    finished["ancient"] = job("ancient", "STARTED", created=T - 3 * 365 * 86400, start=T - 3 * 365 * 86400)
    hmset(r, "jobs:1", finished)
    # one queue under both key forms: the older entry (5 min) sits in the documented form
    r.rpush("queues:commands:queue:1:4", job("sched1", "SCHEDULED", created=T - 100))
    r.rpush("commands:queue:1:4", job("q2", "SCHEDULED", created=T - 300))
    r.rpush("queues:workers:work:default", job("w1", "SCHEDULED", created=T - 30))
    hmset(r, "workers:heartbeat", {"default": int(T - 10), "reports": int(T - 7200)})
    hmset(r, "workers:watchdog", {"worker_default_0": int(T - 12 * 365 * 86400)})
    eco = {"guid": "e1", "gid": 1, "nid": 3, "category": "workers.executejob", "errormessage": "boom",
           "occurrences": 3, "epoch": int(T - 600), "lasttime": int(T - 120), "tags": "jsorganization:x jsname:y"}
    old_eco = {**eco, "guid": "e2", "errormessage": "old", "occurrences": 9, "epoch": int(T - 90000),
               "lasttime": int(T - 86400)}
    hmset(r, "eco:objects", {"k1": json.dumps(eco), "k2": json.dumps(old_eco)})
    r.close()
    yield srv
    srv.stop()


def test_headlines_carry_the_known_figures(known: EmbeddedRedis) -> None:
    admin = jsadmin.connect(known.url, readonly=True)
    text = summarize(admin, now=NOW, stale=60)
    admin.close()
    lines = text.splitlines()
    assert "  in flight: 5 (SCHEDULED 3, STARTED 2)" in lines, text  # sched1 counted once despite its queue copy
    assert "  finished, still in Redis: 12 (OK 10, ERROR 2)" in lines
    assert any(x.startswith("  leftovers untouched for more than 7 d: 1 (STARTED 1; the newest 3 y old)")
               for x in lines), text
    # both key forms of queue 1:4 are one row: depth 2, oldest 5 min (the commands:queue:1:4 entry)
    row = next(x for x in lines if " 1:4 " in x)
    assert row.split()[:4] == ["command", "1:4", "2", "5"], row
    assert "commands:queue:1:4, queues:commands:queue:1:4" in row
    assert "1 queue(s) have entries under both key forms" in text
    # the oldest queue comes first
    table = lines.index(next(x for x in lines if x.startswith("oldest entry per queue"))) + 2
    assert " 1:4 " in lines[table]
    # p50/p90 of the 11 jobs finished within 15 min (1..10 s and the 10 s ERROR run)
    expected = pd.Series([*range(1, 11), 10.0])
    assert (f"run time of jobs finished in the last 15 min: p50 {human(expected.quantile(0.5))}, "
            f"p90 {human(expected.quantile(0.9))} (11 jobs)") in text
    assert "stale worker heartbeats (older than 1 min): 1 of 2 queues" in text
    assert any(x.split()[:1] == ["reports"] and x.endswith("2 h") for x in lines), text
    assert not any(x.split()[:1] == ["default"] and "stale" in x for x in lines)
    assert "  leftovers: 1 JumpScale 6 workers:watchdog entries, the newest 12 y old" in lines
    # errors in the last hour: the recent ECO (3 occurrences) and the recent failed job, not the old ones
    assert "errors in the last 1 h: 1 ECOs seen (3 occurrences since their first), 1 failed jobs" in text
    assert "old" not in text.split("errors in the last 1 h")[1].split("ECOs:")[0].split()


def test_empty_target_warns_wrong_host_port_or_db(redis_factory: ServerFactory) -> None:
    srv = redis_factory.start()
    try:
        r = redis.Redis.from_url(srv.url, protocol=2)
        r.set("unrelated:thing", "1")
        r1 = redis.Redis.from_url(srv.url.rsplit("/", 1)[0] + "/1", protocol=2)
        r1.set("jobs:last", "x")
        r1.set("other", "y")
        proc = subprocess.run([str(BIN), "summary", "--url", srv.url], capture_output=True, text=True, timeout=60,
                              check=False)
        assert proc.returncode == 0, proc.stderr
        port = srv.url.rsplit(":", 1)[1].split("/")[0]
        assert (f"WARNING: 0 keys of any JumpScale family in db 0 at 127.0.0.1:{port} — wrong host, port or db? "
                "(db 0 holds 1 other key(s); keys are in db1 (2))") in proc.stdout
        r.close()
        r1.close()
    finally:
        srv.stop()


def test_demo_summary_puts_headlines_before_families() -> None:
    env = {k: v for k, v in os.environ.items() if k != "JSADMIN_URL"}
    proc = subprocess.run([str(BIN), "summary"], capture_output=True, text=True, timeout=90, env=env, check=False)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    order = ["in flight:", "oldest entry per queue", "run time of jobs finished in the last 15 min: p50",
             "stale worker heartbeats (older than 1 min):", "errors in the last 1 h:", "families with data"]
    positions = [out.index(x) for x in order]
    assert positions == sorted(positions), out
    assert "commands:queue:1:4, queues:commands:queue:1:4" in out  # the demo keeps both forms of 1:4
    assert "JumpScale 6 workers:watchdog entries" in out
    assert "could not compute" not in out and "e+0" not in out  # no raw float seconds


def test_ages_may_be_timedelta_and_leftover_columns_are_split() -> None:
    assert human(pd.Timedelta(hours=2)) == human(7200.0) == "2 h"
    frame = pd.DataFrame({"key": ["a", "b"], "current": [True, False]})
    cur, old = split_leftovers(frame)
    assert cur["key"].tolist() == ["a"] and old["key"].tolist() == ["b"]
    from jsadmin.summary import queue_lines

    depths = pd.DataFrame({"key": ["queues:commands:queue:1:2", "commands:queue:1:2", "queues:workers:work:x"],
                           "kind": ["command", "command", "worker"], "queue": ["1:2", "1:2", "x"],
                           "length": [1, 2, 4],
                           "oldest_age": pd.to_timedelta([30, 90, 3.9e8], unit="s"),
                           "leftover": [False, False, True]})
    lines = queue_lines(depths)
    assert lines[0].startswith("oldest entry per queue (1 queues with entries, 3 entries")
    assert "1.5 min" in lines[1] and "commands:queue:1:2, queues:commands:queue:1:2" in lines[1]
    assert lines[-1] == "  leftover queue entries: 4 in 1 key(s), the oldest 12.4 y old"


def test_summary_command_rejects_bad_options_before_starting_anything(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["summary", "--stale", "soon"]) == 2
    assert "starting the embedded demo grid" not in capsys.readouterr().err


def test_error_groups_with_nothing_to_name_them_read_blank(redis_factory: ServerFactory) -> None:
    """ECOs stored with empty category and message (the demo seed keeps some on purpose) are shown as
    "(blank)" in the text table, not as an empty row; the error_summary frame keeps its values."""
    srv = redis_factory.start()
    try:
        r = redis.Redis.from_url(srv.url, protocol=2)
        named = {"guid": "n1", "gid": 1, "nid": 3, "category": "workers.executejob", "errormessage": "boom",
                 "occurrences": 2, "epoch": int(T - 600), "lasttime": int(T - 120)}
        blank = {"guid": "b1", "gid": 1, "nid": 4, "category": "", "errormessage": "",
                 "occurrences": 5, "epoch": int(T - 600), "lasttime": int(T - 60)}
        hmset(r, "eco:objects", {"k1": json.dumps(named), "k2": json.dumps(blank)})
        r.close()
        admin = jsadmin.connect(srv.url, readonly=True)
        try:
            text = summarize(admin, now=NOW, stale=60)
            errs = admin.errors()
        finally:
            admin.close()
    finally:
        srv.stop()
    rows = [line.split() for line in text.splitlines() if line.startswith("   eco ")]
    assert ["eco", "(blank)", "(blank)", "4", "5", "(blank)"] in rows, text
    # a group with a name keeps its blank jumpscript cell blank
    assert ["eco", "workers.executejob", "3", "2", "boom"] in rows and len(rows) == 2, text
    kept = errs[errs["nid"] == 4].iloc[0]
    assert all(pd.isna(kept[c]) or str(kept[c]).strip() == "" for c in ("category", "jumpscript", "message")), kept
