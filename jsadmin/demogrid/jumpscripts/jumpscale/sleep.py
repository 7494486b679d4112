descr = """
Sleep for `duration` seconds, then return the time actually slept. Useful to fill worker queues.
"""

organization = "jumpscale"
author = "jsadmin demo <demo@jumpscale.org>"
license = "bsd"
version = "1.1"
category = "demo.sleep"
queue = "default"
log = False
timeout = 120
globals()["async"] = True


def action(duration=1.0):
    import time

    start = time.time()
    time.sleep(float(duration))
    return round(time.time() - start, 6)
