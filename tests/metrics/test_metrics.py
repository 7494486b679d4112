"""``jsadmin metrics``: Prometheus metrics scraped over HTTP from a real redis-server.

Values are checked three ways: against a grid written by hand here (exact lengths, ages, run
times, so the expected numbers are computed independently of jsadmin), against what
``Admin.load``/analytics report on the seeded demo grid, and against the caps. A scrape must
write nothing (every key's ``DUMP`` and the ``INFO commandstats`` write counters unchanged).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import redis
from prometheus_client.parser import text_string_to_metric_families
from redis_servers import ServerFactory, commandstats

import jsadmin
from jsadmin.analytics import heartbeat_ages
from jsadmin.display.cost import WRITE_COMMANDS
from jsadmin.embedded import free_port
from jsadmin.metrics import serve

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(port: int) -> Samples:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=30) as resp:
        assert resp.status == 200
        text = resp.read().decode()
    out: Samples = {}
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples[(name, tuple(sorted(labels.items())))]


def series(samples: Samples, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    return {labels: v for (n, labels), v in samples.items() if n == name}


@pytest.fixture()
def served(redis_url: str) -> Iterator[Any]:
    """Serve the metrics of the test server in-process; yields ``(port, admin)``."""
    started: list[Any] = []

    def start(**options: Any) -> int:
        port = free_port()
        admin = jsadmin.connect(redis_url, readonly=True)
        server, _thread = serve(admin, port=port, **options)
        started.append((server, admin))
        return port

    yield start
    for server, admin in started:
        server.shutdown()
        admin.redis.close()


def _job(guid: str, jid: int, *, state: str, cmd: str = "echo", category: str = "jumpscale",
         create: float, start: float | None = None, stop: float | None = None, nid: int = 5) -> str:
    return json.dumps({
        "guid": guid, "id": jid, "gid": 1, "nid": nid, "category": category, "cmd": cmd, "roles": [],
        "queue": "", "state": state, "timeCreate": create, "timeStart": start or 0, "timeStop": stop or 0,
        "timeout": 600, "wait": False, "log": True, "errorreport": True, "args": {}, "result": None,
        "resultcode": "", "jscriptid": None, "sessionid": "s", "achost": "", "parent": None, "tags": "",
    }, separators=(",", ":"))


def test_a_hand_written_grid_scrapes_to_the_values_written(r: redis.Redis, served: Any) -> None:
    now = time.time()
    # a command queue with 3 entries, the first created 100 s ago
    for i, age in enumerate((100, 50, 10)):
        r.rpush("queues:commands:queue:1:5", _job(f"q{i}", 10 + i, state="SCHEDULED", create=now - age))
    # finished jobs in jobs:1 with run times 0.2, 3 and 40 s; one finished 2 h ago (not recent)
    finished = [("f1", 0.2, 60), ("f2", 3.0, 30), ("f3", 40.0, 5), ("old", 7.0, 7200)]
    for i, (guid, run, ago) in enumerate(finished):
        stop = now - ago
        r.hset("jobs:1", guid, _job(guid, 20 + i, state="OK", create=stop - run - 1, start=stop - run, stop=stop))
    r.hset("jobs:1", "s1", _job("s1", 30, state="STARTED", create=now - 5, start=now - 4))
    r.hset("jobs:1", "q0", _job("q0", 10, state="SCHEDULED", create=now - 100))  # the queued job's jobs:1 copy
    decade = now - 10 * 365 * 86400  # a JumpScale leftover: a worker copy of a job that never finished
    r.set("workers:jobs:9", _job("ancient", 9, state="STARTED", create=decade, start=decade + 1))
    r.hset("workers:heartbeat", "default", str(int(now - 30)))
    r.hset("workers:heartbeat", "io", str(int(now - 4000)))
    for uid, cat, occ in (("a" * 32, "workers.executejob", 3), ("b" * 32, "workers.executejob", 4),
                          ("c" * 32, "processmanager.cmd", 1)):
        r.hset("eco:objects", uid, json.dumps({"guid": uid, "uniquekey": uid, "category": cat, "occurrences": occ,
                                                "errormessage": "boom", "level": 1, "type": "UNKNOWN", "gid": 1,
                                                "nid": 5, "epoch": int(now), "lasttime": int(now)}))
    samples = scrape(served())

    assert value(samples, "jsadmin_up") == 1
    assert value(samples, "jsadmin_queue_length", key="queues:commands:queue:1:5", kind="command") == 3
    assert value(samples, "jsadmin_queue_oldest_age_seconds", key="queues:commands:queue:1:5",
                 kind="command") == pytest.approx(100, abs=3)
    assert value(samples, "jsadmin_heartbeat_age_seconds", queue="default", worker="",
                 beat="heartbeat") == pytest.approx(30, abs=3)
    assert value(samples, "jsadmin_heartbeat_age_seconds", queue="io", worker="",
                 beat="heartbeat") == pytest.approx(4000, abs=3)
    assert value(samples, "jsadmin_job_copies", family="jobs", state="OK") == 4
    assert value(samples, "jsadmin_job_copies", family="command_queues", state="SCHEDULED") == 3
    # distinct jobs: q0 has two copies (queue and jobs:1), counted once
    assert series(samples, "jsadmin_jobs") == {(("state", "OK"),): 4, (("state", "SCHEDULED"),): 3,
                                               (("state", "STARTED"),): 1}  # not the leftover
    assert series(samples, "jsadmin_leftover_jobs") == {(("state", "STARTED"),): 1}
    assert value(samples, "jsadmin_job_copies", family="worker_jobs", state="STARTED") == 1
    assert value(samples, "jsadmin_ecos", category="workers.executejob") == 2
    assert value(samples, "jsadmin_eco_occurrences", category="workers.executejob") == 7
    assert value(samples, "jsadmin_ecos", category="processmanager.cmd") == 1
    js = "jumpscale__echo"
    assert value(samples, "jsadmin_job_run_time_seconds_count", jumpscript=js) == 3  # "old" is not recent
    assert value(samples, "jsadmin_job_run_time_seconds_sum", jumpscript=js) == pytest.approx(43.2, abs=0.01)
    assert value(samples, "jsadmin_job_run_time_seconds_bucket", jumpscript=js, le="0.25") == 1
    assert value(samples, "jsadmin_job_run_time_seconds_bucket", jumpscript=js, le="5.0") == 2
    assert value(samples, "jsadmin_job_run_time_seconds_bucket", jumpscript=js, le="30.0") == 2
    assert value(samples, "jsadmin_job_run_time_seconds_bucket", jumpscript=js, le="60.0") == 3
    assert 0 < value(samples, "jsadmin_scrape_duration_seconds") < 30
    assert value(samples, "jsadmin_scrape_commands") > 0
    assert all(v == 0 for v in series(samples, "jsadmin_scrape_truncated").values())


def test_the_demo_grid_scrapes_to_what_admin_and_analytics_report(seeded_url: str, served: Any) -> None:
    port = served()
    admin = jsadmin.connect(seeded_url, readonly=True)
    depths = admin.queue_depths()
    frames = {n: admin.load(n) for n in ("worker_heartbeat", "worker_watchdog")}
    beats = heartbeat_ages(frames)
    copies = {n: admin.load(n)["state"].astype("string").value_counts().to_dict()
              for n in ("jobs", "command_queues", "worker_queues", "worker_jobs", "job_results")}
    guids = pd.concat([admin.load(n)["guid"] for n in copies]).dropna()
    ecos = admin.load("ecos")
    samples = scrape(port)
    admin.redis.close()

    lengths = series(samples, "jsadmin_queue_length")
    assert {dict(k)["key"]: v for k, v in lengths.items()} == dict(zip(depths["key"], depths["length"], strict=True))
    ages = {dict(k)["key"]: v for k, v in series(samples, "jsadmin_queue_oldest_age_seconds").items()}
    expected = depths.dropna(subset=["oldest_age"])
    expected = expected[expected["length"] > 0]
    assert set(ages) == set(expected["key"])
    for key, age in zip(expected["key"], expected["oldest_age"], strict=True):
        seconds = age.total_seconds() if isinstance(age, pd.Timedelta) else float(age)  # Timedelta or float
        assert ages[key] == pytest.approx(seconds, abs=5)
    hb = series(samples, "jsadmin_heartbeat_age_seconds")
    assert len(hb) == beats["age"].notna().sum() and len(hb) >= 5
    watchdog = [v for k, v in hb.items() if dict(k)["beat"] == "watchdog"]
    assert watchdog and max(watchdog) > 10 * 365 * 86400  # the JS6 leftovers, labelled as such
    for family, counts in copies.items():
        got = {dict(k)["state"]: v for k, v in series(samples, "jsadmin_job_copies").items()
               if dict(k)["family"] == family}
        assert got == {str(s): float(n) for s, n in counts.items() if n}, family
    current, leftover = series(samples, "jsadmin_jobs"), series(samples, "jsadmin_leftover_jobs")
    assert sum(current.values()) + sum(leftover.values()) == guids[guids != ""].nunique()
    assert sum(leftover.values()) >= 10  # the demo's decade-old copies are set apart
    assert sum(series(samples, "jsadmin_ecos").values()) == len(ecos)
    assert series(samples, "jsadmin_job_run_time_seconds_count"), "no run-time histogram"


def _keyspace(client: redis.Redis) -> dict[bytes, bytes | None]:
    return {k: client.dump(k) for k in client.scan_iter(count=1000)}


def test_a_scrape_writes_nothing(seeded_url: str, served: Any) -> None:
    port = served()
    client = redis.Redis.from_url(seeded_url, protocol=2)
    before, calls_before = _keyspace(client), commandstats(client)
    scrape(port)
    scrape(port)
    calls_after = commandstats(client)
    delta = {c: n - calls_before.get(c, 0) for c, n in calls_after.items() if n != calls_before.get(c, 0)}
    assert {c: n for c, n in delta.items() if c in WRITE_COMMANDS} == {}, delta
    assert _keyspace(client) == before
    assert delta.get("scan", 0) > 0 and delta.get("llen", 0) > 0, delta  # it did read
    assert "keys" not in delta and "hgetall" not in delta
    client.close()


def test_caps_bound_a_scrape_and_say_so(r: redis.Redis, served: Any) -> None:
    now = time.time()
    for i in range(6):
        r.set(f"workers:jobs:{100 + i}", _job(f"w{i}", 100 + i, state="STARTED", create=now - 9, start=now - 8))
    r.rpush("queues:workers:work:default", *[_job(f"d{i}", 200 + i, state="STARTED", create=now - 60 + i)
                                             for i in range(12)])
    samples = scrape(served(max_keys=3, max_entries=5))
    assert value(samples, "jsadmin_scrape_keys", family="worker_jobs") == 3
    assert value(samples, "jsadmin_scrape_truncated", family="worker_jobs") == 1
    assert value(samples, "jsadmin_job_copies", family="worker_jobs", state="STARTED") == 3
    assert value(samples, "jsadmin_scrape_truncated", family="worker_queues") == 1  # 12 entries, 5 read
    # the length is LLEN, not the entries read; the oldest age is still the first entry's
    assert value(samples, "jsadmin_queue_length", key="queues:workers:work:default", kind="worker") == 12
    assert value(samples, "jsadmin_queue_oldest_age_seconds", key="queues:workers:work:default",
                 kind="worker") == pytest.approx(60, abs=3)
    assert value(samples, "jsadmin_scrape_truncated", family="jobs") == 0
    full = scrape(served())
    assert value(full, "jsadmin_scrape_keys", family="worker_jobs") == 6
    assert value(full, "jsadmin_scrape_truncated", family="worker_jobs") == 0
    assert value(full, "jsadmin_scrape_truncated", family="scan") == 0
    short = scrape(served(max_scan=4))  # the SCAN pass stops after 4 of the 7 keys
    assert value(short, "jsadmin_scrape_truncated", family="scan") == 1
    assert value(short, "jsadmin_scrape_keys", family="worker_jobs") < 6


def test_a_lost_server_scrapes_as_down_not_as_an_error(redis_factory: ServerFactory) -> None:
    server = redis_factory.start()
    admin = jsadmin.connect(server.url, readonly=True, socket_timeout=2, socket_connect_timeout=2)
    port = free_port()
    http, _thread = serve(admin, port=port)
    try:
        assert value(scrape(port), "jsadmin_up") == 1
        server.stop()
        down = scrape(port)
        assert value(down, "jsadmin_up") == 0
        assert not series(down, "jsadmin_queue_length")  # no stale numbers pretending to be current
    finally:
        http.shutdown()


PASSWORD = "s3cret-metrics-pw"


def test_cli_serves_metrics_with_the_url_from_the_environment(tmp_path: Path, redis_factory: ServerFactory) -> None:
    server = redis_factory.seeded(seed=7, password=PASSWORD)
    url = redis_factory.url(server, PASSWORD)
    port = free_port()
    log = tmp_path / "metrics.log"
    env = {**os.environ, "JSADMIN_URL": url}
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "jsadmin", "metrics", "--port", str(port)],
                                env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                samples = scrape(port)
                break
            except OSError:
                assert proc.poll() is None, log.read_text()
                assert time.monotonic() < deadline, "metrics server did not start"
                time.sleep(0.05)
        assert value(samples, "jsadmin_up") == 1
        assert sum(series(samples, "jsadmin_queue_length").values()) > 0
        cmdline = Path(f"/proc/{proc.pid}/cmdline").read_bytes()
        assert PASSWORD.encode() not in cmdline
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=30) as resp:
            assert PASSWORD not in resp.read().decode()
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
        server.stop()
    text = log.read_text()
    assert "serving http://127.0.0.1" in text and PASSWORD not in text


@pytest.mark.version_independent  # argument parsing: refused before any connection
def test_cli_without_a_url_is_a_usage_error() -> None:
    missing = subprocess.run([sys.executable, "-m", "jsadmin", "metrics"], capture_output=True, text=True,
                             env={k: v for k, v in os.environ.items() if k != "JSADMIN_URL"}, timeout=60)
    assert missing.returncode == 2 and "--url" in missing.stderr and "JSADMIN_URL" in missing.stderr
