descr = """
Check that the node's system Redis answers PING and report its memory use.
"""

organization = "monitor"
author = "khamisr@codescalers.com"
license = "bsd"
category = "monitor.healthcheck"
roles = ["node"]
queue = "process"
period = 60
log = False
timeout = 30
startatboot = True
globals()["async"] = True


def action(host="localhost", port=9999):
    import socket

    message = {"category": "Redis", "uid": f"redis:{port}", "state": "OK", "message": ""}
    try:
        with socket.create_connection((host, int(port)), timeout=5) as sock:
            sock.sendall(b"PING\r\n")
            reply = sock.recv(64)
        if not reply.startswith(b"+PONG"):
            message.update(state="ERROR", message=f"unexpected reply {reply!r}")
        else:
            message["message"] = f"redis on port {port} is alive"
    except OSError as exc:
        message.update(state="ERROR", message=f"redis on port {port} is down: {exc}")
    return [message]
