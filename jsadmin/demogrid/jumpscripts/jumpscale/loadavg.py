descr = """
Node load average, sampled every minute (cron-style period) into the job result.
"""

organization = "jumpscale"
author = "jsadmin demo <demo@jumpscale.org>"
license = "bsd"
category = "monitor.stats"
roles = ["node"]
queue = "default"
period = 60
order = 2
log = False
timeout = 10.0
globals()["async"] = True


def action():
    import os

    one, five, fifteen = os.getloadavg() if hasattr(os, "getloadavg") else (0.0, 0.0, 0.0)
    return {"load1": one, "load5": five, "load15": fifteen}
