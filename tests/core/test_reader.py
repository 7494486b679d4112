"""Loading families from exact byte forms of the spec into typed frames."""

from __future__ import annotations

import gc
import time

import pandas as pd
import pytest
import redis

import jsadmin
from jsadmin.catalog import FAMILIES
from jsadmin.frames import JOB_COLUMNS

SPEC_JOB = (
    b'{"id":1234,"sessionid":"1_5_0_0b5c9a1e-3d0f-4b8e-9a51-2f7c6d1e8a90","gid":1,"nid":5,"cmd":"echo","wait":true,'
    b'"category":"jumpscale","roles":[],"args":{"msg":"hi"},"queue":"","timeout":600,"result":null,"parent":null,'
    b'"resultcode":null,"state":"SCHEDULED","timeCreate":1539600000,"timeStart":0,"timeStop":0,"log":true,'
    b'"errorreport":false,"tags":null,"guid":"9f1c2a7b3e4d4f0a8b6c5d4e3f2a1b0c","_ckey":"","_meta":["system","job",1],'
    b'"jscriptid":null}'
)
FINAL_JOB = SPEC_JOB.replace(b'"state":"SCHEDULED"', b'"state":"OK"').replace(b'"result":null', b'"result":"hi"').replace(
    b'"resultcode":null', b'"resultcode":0'
).replace(b'"timeStart":0,"timeStop":0', b'"timeStart":1539600003.5212841034,"timeStop":1539600004').replace(
    b'"jscriptid":null}', b'"jscriptid":null,"achost":"10.0.0.1","internal":false}'
)


def hmset(client: redis.Redis, key: str, mapping: dict) -> None:
    """Several hash fields in one command that Redis 2.8 has (multi-field HSET needs 4.0)."""
    client.execute_command("HMSET", key, *[x for kv in mapping.items() for x in kv])


@pytest.fixture()
def admin(redis_url: str) -> jsadmin.Admin:
    a = jsadmin.connect(redis_url)
    yield a
    a.close()


def test_spec_example_job_types(r: redis.Redis, admin: jsadmin.Admin) -> None:
    r.hset("jobs:1", "9f1c2a7b3e4d4f0a8b6c5d4e3f2a1b0c", SPEC_JOB)
    df, df_info = admin.load_with_info("jobs")
    assert len(df) == 1 and df_info.problems.empty
    row = df.iloc[0]
    assert str(df["gid"].dtype) == "Int64" and str(df["id"].dtype) == "Int64"
    assert str(df["timeCreate"].dtype) == "datetime64[ns, UTC]"
    assert isinstance(df["state"].dtype, pd.CategoricalDtype)
    assert str(df["wait"].dtype) == "boolean"
    assert row["id"] == 1234 and row["nid"] == 5 and row["guid"] == "9f1c2a7b3e4d4f0a8b6c5d4e3f2a1b0c"
    assert row["timeCreate"] == pd.Timestamp(1539600000, unit="s", tz="UTC")
    assert pd.isna(row["timeStart"]) and pd.isna(row["timeStop"])  # 0 means missing
    assert row["args"] == {"msg": "hi"} and row["_meta"] == ["system", "job", 1]
    assert row["key"] == "jobs:1" and row["field"] == row["guid"]
    assert row["jumpscript"] == "jumpscale__echo"
    assert list(df.columns) == ["key", "field", "key_gid", *JOB_COLUMNS]


def test_final_copy_and_ttl(r: redis.Redis, admin: jsadmin.Admin) -> None:
    key = "queues:jobqueue:9f1c2a7b3e4d4f0a8b6c5d4e3f2a1b0c"
    r.rpush(key, FINAL_JOB)
    r.expire(key, 60)
    r.rpush("jobqueue:abc", FINAL_JOB)  # documented form, no TTL
    df = admin.load("job_results").sort_values("key").reset_index(drop=True)
    assert df["form"].tolist() == ["documented", "real"]
    assert df["key_guid"].tolist() == ["abc", "9f1c2a7b3e4d4f0a8b6c5d4e3f2a1b0c"]
    assert pd.isna(df.loc[0, "ttl"]) and 0 < df.loc[1, "ttl"] <= 60
    row = df.iloc[1]
    assert row["state"] == "OK" and row["result"] == "hi" and row["resultcode"] == "0"
    assert row["timeStart"] == pd.Timestamp("2018-10-15 10:40:03.521284+00:00")
    assert (row["achost"] == "10.0.0.1" and row["internal"] is False) or row["internal"] == False  # noqa: E712


def test_both_command_queue_forms(r: redis.Redis, admin: jsadmin.Admin) -> None:
    role_job = SPEC_JOB.replace(b'"nid":5', b'"nid":null').replace(b'"roles":[]', b'"roles":["node"]')
    string_ids = SPEC_JOB.replace(b'"gid":1', b'"gid":"1"').replace(b'"nid":5', b'"nid":"5"')
    r.rpush("queues:commands:queue:1:5", SPEC_JOB, string_ids)
    r.rpush("queues:commands:queue:1:node", role_job)
    r.rpush("commands:queue:1:7", SPEC_JOB)
    df, df_info = admin.load_with_info("command_queues")
    assert df_info.problems.empty
    by_key = df.groupby("key").size().to_dict()
    assert by_key == {"commands:queue:1:7": 1, "queues:commands:queue:1:5": 2, "queues:commands:queue:1:node": 1}
    node = df[df["key"] == "queues:commands:queue:1:5"]
    assert node["gid"].tolist() == [1, 1] and node["nid"].tolist() == [5, 5] and node["position"].tolist() == [0, 1]
    assert node["key_nid"].tolist() == [5, 5]
    role = df[df["key_role"] == "node"].iloc[0]
    assert pd.isna(role["nid"]) and role["role"] == "node" and role["roles"] == ["node"]
    assert df.loc[df["key"] == "commands:queue:1:7", "form"].item() == "documented"
    assert set(admin.load("command_queues", key_role="node")["key"]) == {"queues:commands:queue:1:node"}


def test_pretty_worker_queue_and_io(r: redis.Redis, admin: jsadmin.Admin) -> None:
    pretty = '{\n  "args": {\n    "msg": "héllo"\n  }, \n  "gid": 1, \n  "guid": "g1", \n  "id": 3, \n  "nid": 5, \n  "state": "STARTED", \n  "timeCreate": 1539600000\n}'
    r.rpush("queues:system", pretty.encode())
    r.rpush("queues:workers:work:default", pretty.encode())
    df = admin.load("worker_queues").sort_values("key")
    assert df["key_queue"].tolist() == ["io", "default"]
    assert df["args"].iloc[0] == {"msg": "héllo"} and (df["state"] == "STARTED").all()


def test_worker_jobs_three_forms(r: redis.Redis, admin: jsadmin.Admin) -> None:
    r.set("workers:jobs:12", SPEC_JOB, ex=60)
    r.set("workers:jobs13", SPEC_JOB.replace(b"SCHEDULED", b"TIMEOUT"))
    r.hset("workers:jobs", "14", SPEC_JOB)
    df, df_info = admin.load_with_info("worker_jobs")
    df = df.sort_values("key").reset_index(drop=True)
    assert df_info.problems.empty
    assert dict(zip(df["key"], df["form"].astype(str))) == {
        "workers:jobs": "legacy_hash", "workers:jobs13": "nocolon", "workers:jobs:12": "string"
    }
    assert df.set_index("key").loc["workers:jobs:12", "key_id"] == 12
    assert df.set_index("key").loc["workers:jobs13", "key_id"] == 13
    assert 0 < df.set_index("key").loc["workers:jobs:12", "ttl"] <= 60


def test_jumpscripts_none_field_and_forms(r: redis.Redis, admin: jsadmin.Admin) -> None:
    pm = b'{"name":"echo","organization":"jumpscale","category":"unknown","author":"unknown","license":"unknown","version":"1.0","descr":"echo","roles":[],"source":"def action(msg):\\n    return msg\\n","path":"\\/opt\\/jumpscale7\\/apps\\/processmanager\\/jumpscripts\\/echo.py","queue":"","async":false,"period":"*\\/5 * * * *","order":1,"log":true,"enable":true,"startatboot":false,"gid":1,"id":null,"timeout":null}'
    execf = b'{"_loaded":false,"name":"f","organization":"unknown","period":0,"category":"","lastrun":0,"source":"# DEBUG NOW\\ndef action():\\n    pass\\n","debug":true,"path":null,"id":1000001,"startatboot":false,"timeout":null}'
    hmset(r, "workers:jumpscripts:id", {"None": pm, "1000001": execf})
    df = admin.load("jumpscripts_by_id").sort_values("field").reset_index(drop=True)
    assert df["field"].tolist() == ["1000001", "None"]
    assert df["field_id"].tolist()[0] == 1000001 and pd.isna(df["field_id"].iloc[1])
    assert df["form"].astype(str).tolist() == ["execfunction", "pm"]
    assert df.loc[1, "path"] == "/opt/jumpscale7/apps/processmanager/jumpscripts/echo.py"
    assert df.loc[1, "period"] == "*/5 * * * *" and pd.isna(df.loc[1, "period_seconds"])
    assert bool(df.loc[0, "debug"]) is True and pd.isna(df.loc[1, "id"])
    assert df["jumpscript"].tolist() == ["unknown__f", "jumpscale__echo"]
    assert df.loc[1, "code"] == "def action(msg):\n    return msg\n" and "source" not in df.columns
    by_name = admin.load("jumpscripts_by_name")
    assert list(by_name.columns[:2]) == ["key", "jumpscript"] and "code" in by_name.columns


def test_bare_text_values(r: redis.Redis, admin: jsadmin.Admin) -> None:
    now = int(time.time())
    hmset(r, "healthcheck:status", {"disks": "True", "redis:9999": "False", "workers:w1": "1"})
    hmset(r, "healthcheck:lastcheck", {"disks": "1396000000.25"})
    hmset(r, "workers:watchdog", {"worker_default_0": "0", "worker_process_3": str(now)})
    hmset(r, "workers:heartbeat", {"default": str(now), "io": str(now - 900)})
    r.set("workers:joblastid", "17")
    r.set("logs:incr:1_5", "3")
    r.set("logs:incr:1_5_1400000000", "2")
    r.set("eco:incr:1_5", "9")
    status = admin.load("healthcheck_status").set_index("check")["ok"]
    assert status.to_dict() == {"disks": True, "redis:9999": False, "workers:w1": True}
    assert admin.load("healthcheck_lastcheck")["lastcheck"].iloc[0] == pd.Timestamp(1396000000.25, unit="s", tz="UTC")
    wd = admin.load("worker_watchdog").set_index("worker")
    assert wd.loc["worker_default_0", "queue"] == "default" and not wd.loc["worker_default_0", "looping"]
    assert pd.isna(wd.loc["worker_default_0", "heartbeat"]) and wd.loc["worker_process_3", "queue"] == "process"
    hb = admin.load("worker_heartbeat").set_index("queue")["heartbeat"]
    assert hb["default"] == pd.Timestamp(now, unit="s", tz="UTC")
    assert admin.load("worker_joblastid")["value"].tolist() == [17]
    li = admin.load("logs_incr").sort_values("key")
    assert li["gid"].tolist() == [1, 1] and li["nid"].tolist() == [5, 5] and li["value"].tolist() == [3, 2]
    assert li["epoch"].isna().tolist() == [True, False]
    assert admin.load("eco_incr")["value"].tolist() == [9]


def test_eco_full_and_stub(r: redis.Redis, admin: jsadmin.Admin) -> None:
    full = b'{"guid":"0b5c9a1e-3d0f-4b8e-9a51-2f7c6d1e8a90","uniquekey":"abc","gid":1,"nid":5,"pid":0,"jid":0,"masterjid":0,"appname":"jsagent","category":"workers.executejob","level":1,"type":"BUG","state":"NEW","errormessage":"boom \\/ x","errormessagePub":"","code":"","funcname":"","funcfilename":"","funclinenr":"","backtrace":"","backtraceDetailed":"","data":null,"tags":"","epoch":1539600000,"lasttime":1.5396000011235e+09,"closetime":0,"occurrences":3,"pushtime":1539600000,"noreraise":false}'
    stub = b'{"occurrences":0,"epoch":1539600000,"guid":"g","lasttime":1539600100,"pushtime":1539600000,"gid":1,"nid":5}'
    hmset(r, "eco:objects", {"abc": full, "def": stub})
    df, df_info = admin.load_with_info("ecos")
    df = df.set_index("field")
    assert df_info.problems.empty
    assert not df.loc["abc", "stub"] and df.loc["def", "stub"]
    assert df.loc["abc", "errormessage"] == "boom / x" and df.loc["abc", "occurrences"] == 3
    assert pd.isna(df.loc["abc", "funclinenr"]) and pd.isna(df.loc["abc", "jid"])
    assert df.loc["abc", "lasttime"] == pd.Timestamp("2018-10-15 10:40:01.1235+00:00")  # cjson: 14 digits


def test_bad_values_are_reported_not_dropped(r: redis.Redis, admin: jsadmin.Admin) -> None:
    hmset(r, "jobs:1", {"good": SPEC_JOB, "trunc": SPEC_JOB[:50], "list": b"[1,2]", "bin": b"\xff\x00\xfe"})
    r.hset("jobs:1", "noguid", SPEC_JOB.replace(b'"guid":"9f1c2a7b3e4d4f0a8b6c5d4e3f2a1b0c",', b""))
    r.hset("jobs:1", "badgid", SPEC_JOB.replace(b'"gid":1', b'"gid":"one"').replace(b"9f1c", b"aaaa"))
    r.set("workers:joblastid", "not-a-number")
    df, df_info = admin.load_with_info("jobs")
    problems = df_info.problems.set_index("field")
    assert set(problems.index) == {"trunc", "list", "bin", "noguid", "badgid"}
    assert "invalid JSON" in problems.loc["trunc", "error"] and problems.loc["trunc", "raw"] == SPEC_JOB[:50]
    assert "expected a JSON object" in problems.loc["list", "error"]
    assert "gid" in problems.loc["badgid", "error"] and "guid" in problems.loc["noguid", "error"]
    assert (problems["key"] == "jobs:1").all()
    # the good rows (and the decodable-but-flawed ones) still load
    assert sorted(df["field"]) == ["badgid", "good", "noguid"]
    assert pd.isna(df.set_index("field").loc["badgid", "gid"])
    counter, counter_info = admin.load_with_info("worker_joblastid")
    assert counter.empty and counter_info.problems["error"].str.contains("not a number").all()
    assert set(admin.problems()["family"]) == {"jobs", "worker_joblastid"}


def test_wrong_redis_type_is_reported(r: redis.Redis, admin: jsadmin.Admin) -> None:
    r.set("jobs:2", "oops")
    df, df_info = admin.load_with_info("jobs")
    assert df.empty
    assert "unexpected Redis type 'string'" in df_info.problems["error"].item()


def test_filters_expand_and_limit(r: redis.Redis, admin: jsadmin.Admin) -> None:
    r.hset("jobs:1", "a", SPEC_JOB)
    r.hset("jobs:2", "b", SPEC_JOB.replace(b'"gid":1', b'"gid":2').replace(b"9f1c", b"bbbb"))
    assert admin.load("jobs", gid=2)["key"].tolist() == ["jobs:2"]
    assert len(admin.load("jobs", state=["SCHEDULED", "OK"])) == 2
    wide = admin.load("jobs", expand="args")
    assert wide["args.msg"].tolist() == ["hi", "hi"]
    r.rpush("queues:logs", *[b'{"message":"m","level":5,"epoch":1539600000}'] * 10)
    assert len(admin.load("logs", limit=3)) == 3
    with pytest.raises(TypeError, match="unknown filter"):
        admin.load("jobs", colour="red")
    with pytest.raises(jsadmin.UnknownFamilyError, match="known families"):
        admin.load("nope")


def test_every_family_has_columns_and_loads_empty(admin: jsadmin.Admin) -> None:
    frames = admin.load_all()
    assert set(frames) == set(FAMILIES)
    for name, df in frames.items():
        assert df.empty and list(df.columns) == list(FAMILIES[name].columns), name


ISSUE_FAMILIES = ["jobs_last", "jobs", "command_queues", "job_results", "applications", "healthcheck_lastcheck", "healthcheck_monitoring", "healthcheck_status", "eco_incr", "logs_incr", "worker_joblastid", "worker_jumpscriptlastid", "jumpscripts_by_id", "jumpscripts_by_name", "worker_sessions", "worker_watchdog", "worker_heartbeat", "worker_queues", "worker_jobs", "worker_returns", "worker_inqueuetest", "jumpscript_hashes", "worker_registry", "worker_actions", "ecos", "eco_queue", "eco_secos", "logs", "health_status", "processmanager_startuptime", "alerts"]


def test_catalog_has_every_issue_family() -> None:
    assert len(ISSUE_FAMILIES) == 31
    assert set(ISSUE_FAMILIES) <= set(FAMILIES)


def test_demo_grid_every_family_has_rows() -> None:
    with jsadmin.demo() as admin:
        fams = admin.families().set_index("family")
        loaded = admin.load_all_with_info()
        frames = {name: x.frame for name, x in loaded.items()}
    for name in ISSUE_FAMILIES:
        assert fams.loc[name, "keys"] > 0, name
        assert len(frames[name]) > 0, name
        assert loaded[name].info.problems.empty, (name, loaded[name].info.problems)
    states = set(frames["jobs"]["state"].dropna()) | set(frames["job_results"]["state"].dropna())
    assert {"SCHEDULED", "STARTED", "OK", "ERROR", "TIMEOUT", "NOWORK"} <= states


def _in_generation(obj: object, generation: int) -> bool:
    return any(o is obj for o in gc.get_objects(generation=generation))


def test_a_load_leaves_its_objects_in_the_oldest_generation_unwalked(r: redis.Redis, admin: jsadmin.Admin) -> None:
    """The lists and dicts of a frame skip the young collections (each would only find them alive)."""
    hmset(r, "jobs:1", {f"g{i}": SPEC_JOB.replace(b'"id":1234', b'"id":%d' % i) for i in range(3000)})
    collections = [s["collections"] for s in gc.get_stats()]
    df = admin.load("jobs")
    meta = df["_meta"].iloc[-1]
    assert meta == ["system", "job", 1]
    assert _in_generation(meta, 2) and not _in_generation(meta, 0) and not _in_generation(meta, 1)
    assert [s["collections"] for s in gc.get_stats()][:2] == collections[:2]  # no young collection walked them


def test_objects_the_process_froze_stay_frozen_across_a_load(r: redis.Redis, admin: jsadmin.Admin) -> None:
    """A process that froze objects (e.g. before forking) keeps them frozen: the load does not move them."""
    hmset(r, "jobs:1", {"g": SPEC_JOB})
    sentinel: list[object] = [object()]
    gc.freeze()
    try:
        assert not any(_in_generation(sentinel, g) for g in range(3))  # frozen: in no generation
        df = admin.load("jobs")
        assert len(df) == 1
        assert not any(_in_generation(sentinel, g) for g in range(3))
    finally:
        gc.unfreeze()
    assert _in_generation(sentinel, 2)
