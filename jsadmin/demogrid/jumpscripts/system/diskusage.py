descr = """
Report disk usage of the given mount points (default: / and /tmp) in bytes and percent.
"""

organization = "system"
author = "deboeckj@codescalers.com"
license = "bsd"
category = "monitor.disk"
roles = ["node"]
queue = "io"
period = 3600
timeout = 60
startatboot = True
globals()["async"] = True


def action(paths=("/", "/tmp")):
    import shutil

    result = {}
    for path in paths:
        usage = shutil.disk_usage(path)
        result[path] = {
            "total": usage.total,
            "used": usage.used,
            "free": usage.free,
            "percent": round(100.0 * usage.used / usage.total, 2) if usage.total else 0.0,
        }
    return result
