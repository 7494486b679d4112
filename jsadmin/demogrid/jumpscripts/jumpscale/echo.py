descr = """
Echo a message back to the caller (utilisé pour les tests de bout en bout / end-to-end checks).
"""

organization = "jumpscale"
author = "jsadmin demo <demo@jumpscale.org>"
license = "bsd"
category = "demo.echo"
queue = "default"
timeout = 60
globals()["async"] = True  # JumpScale 7 (Python 2) wrote `async = True`; `async` is a keyword in Python 3


def action(msg=""):
    return msg
