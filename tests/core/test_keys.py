"""Golden tests: the literal key strings of spec §3 and §8.4."""

from __future__ import annotations

from jsadmin import keys


def test_agentcontroller_keys() -> None:
    assert keys.JOBS_LAST == "jobs:last"
    assert keys.jobs(1) == "jobs:1"
    assert keys.command_queue(1, 5) == "queues:commands:queue:1:5"
    assert keys.command_queue("1", "node") == "queues:commands:queue:1:node"
    assert len(keys.COMMAND_QUEUE_PREFIX) == 22  # getActiveJobs strips 22 chars (§3.1)
    assert keys.jobqueue("9f1c2a7b3e4d4f0a8b6c5d4e3f2a1b0c") == "queues:jobqueue:9f1c2a7b3e4d4f0a8b6c5d4e3f2a1b0c"
    assert keys.HEALTH_STATUS == "health.status"
    assert keys.ALERTS == "queues:alerts"


def test_worker_queue_names() -> None:
    assert keys.worker_queue("") == "queues:workers:work:default"
    assert keys.worker_queue("default") == "queues:workers:work:default"
    assert keys.worker_queue("io") == "queues:system"
    assert keys.worker_queue("hypervisor") == "queues:workers:work:hypervisor"
    assert keys.worker_queue("custom") == "queues:workers:work:custom"


def test_node_keys() -> None:
    assert keys.worker_job(12) == "workers:jobs:12"
    assert keys.worker_return(12) == "workers:return:12"
    assert keys.worker_registry("default", "abc") == "workers:worker:default:abc"
    assert keys.worker_action("io", "abc") == "workers:action:io:abc"
    assert keys.logs_incr(1, 5) == "logs:incr:1_5"
    assert keys.eco_incr(1, 5) == "eco:incr:1_5"
    assert keys.jumpscript_name_field("jumpscale", "echo") == "jumpscale__echo"
    assert keys.inqueuetest_field("jumpscale", "echo") == "jumpscale_echo"
    assert (keys.JUMPSCRIPTS_BY_NAME, keys.JUMPSCRIPTS_BY_ID) == ("workers:jumpscripts:name", "workers:jumpscripts:id")
    assert keys.JUMPSCRIPT_LASTID == "workers:jumpscriptlastid"
    assert keys.JUMPSCRIPT_HASHES == "workers:jumpscripthashes"
    assert keys.WORKER_HEARTBEAT == "workers:heartbeat"
    assert keys.ECO_OBJECTS == "eco:objects" and keys.ECO_QUEUE == "queues:eco" and keys.ECO_SECOS == "eco:secos"
    assert keys.LOGS_QUEUE == "queues:logs"
    assert keys.PROCESSMANAGER_STARTUPTIME == "processmanager:startuptime"
    assert keys.APPLICATION == "application"
