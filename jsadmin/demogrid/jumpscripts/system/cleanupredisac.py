descr = """
Remove finished jobs (OK/ERROR/TIMEOUT) from the agentcontroller job cache jobs:<gid>.
"""

organization = "system"
author = "deboeckj@codescalers.com"
license = "bsd"
category = "redis.cleanup"
roles = ["master"]
period = 300
log = False
timeout = 120
globals()["async"] = True

FINISHED = ("OK", "ERROR", "TIMEOUT")


def action(redis_url="redis://localhost:9999/0", dry_run=False):
    import json

    import redis

    client = redis.Redis.from_url(protocol=2, url=redis_url)
    removed = {}
    for key in client.scan_iter(match="jobs:*", count=500):
        if key == b"jobs:last":
            continue
        stale = []
        for field, raw in client.hscan_iter(key, count=500):
            try:
                job = json.loads(raw)
            except ValueError:
                continue
            if isinstance(job, dict) and job.get("state") in FINISHED:
                stale.append(field)
        if stale and not dry_run:
            client.hdel(key, *stale)
        removed[key.decode()] = len(stale)
    return removed
