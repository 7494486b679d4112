descr = """
Return basic facts about the node (hostname, platform, python, load average).
Not async and no queue: the processmanager runs it in-process.
"""

organization = "jumpscale"
author = "jsadmin demo <demo@jumpscale.org>"
license = "bsd"
category = "system.info"


def action():
    import os
    import platform
    import socket

    load = os.getloadavg() if hasattr(os, "getloadavg") else (0.0, 0.0, 0.0)
    return {
        "hostname": socket.gethostname(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "load": [round(x, 2) for x in load],
    }
