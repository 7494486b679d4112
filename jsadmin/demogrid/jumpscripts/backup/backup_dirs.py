descr = """
Long-running backup: archive the given directory into a .tar.gz, pausing between chunks
to mimic a slow disk. Returns the archive path, file count and size.
"""

organization = "backup"
author = "jsadmin demo <demo@jumpscale.org>"
license = "bsd"
version = "2.0"
category = "backup.files"
roles = ["storagenode"]
queue = "hypervisor"
period = "0 2 * * *"
timeout = 3600
globals()["async"] = True


def action(source="/etc/jumpscale", target=None, duration=5.0, chunks=10):
    import os
    import tarfile
    import tempfile
    import time

    if target is None:
        fd, target = tempfile.mkstemp(prefix="backup-", suffix=".tar.gz")
        os.close(fd)
    files = []
    if os.path.isdir(source):
        for root, _dirs, names in os.walk(source):
            files.extend(os.path.join(root, name) for name in names)
    step = max(1, len(files) // max(1, int(chunks)))
    pause = float(duration) / max(1, int(chunks))
    with tarfile.open(target, "w:gz") as tar:
        for start in range(0, len(files), step):
            for path in files[start : start + step]:
                try:
                    tar.add(path, recursive=False)
                except OSError:
                    continue
            time.sleep(pause)
        if not files:
            time.sleep(float(duration))
    return {"archive": target, "files": len(files), "size": os.path.getsize(target)}
