descr = """
Execute a shell command on the node and return [exitcode, stdout, stderr].
"""

organization = "jumpscale"
author = "kristof@incubaid.com"
license = "bsd"
category = "system.exec"
queue = "process"
timeout = 600
globals()["async"] = True


def action(cmd, die=False, timeout=60):
    import subprocess

    proc = subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=timeout)
    if die and proc.returncode != 0:
        raise RuntimeError(f"command {cmd!r} failed with exit code {proc.returncode}: {proc.stderr}")
    return [proc.returncode, proc.stdout, proc.stderr]
