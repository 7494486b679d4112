descr = """
Check the worker heartbeats (workers:heartbeat) of the node: a queue silent for 10 minutes is an error.
"""

organization = "monitor"
author = "khamisr@codescalers.com"
license = "bsd"
category = "monitor.healthcheck"
roles = ["node"]
queue = "process"
period = 120
log = False
timeout = 30
globals()["async"] = True


def action(heartbeats=None, now=None, maxage=600):
    import time

    now = time.time() if now is None else float(now)
    messages = []
    for queue, epoch in sorted((heartbeats or {}).items()):
        age = now - float(epoch)
        state = "OK" if age < maxage else "ERROR"
        messages.append(
            {
                "category": "Workers",
                "uid": f"worker:{queue}",
                "state": state,
                "message": f"Last heartbeat of queue {queue} {int(age)}s ago",
            }
        )
    if not messages:
        messages.append({"category": "Workers", "uid": "worker", "state": "UNKNOWN", "message": "no heartbeats"})
    return messages
