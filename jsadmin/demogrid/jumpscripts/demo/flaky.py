descr = """
A deliberately unreliable jumpscript: fails with probability `failrate` (default 30%).
"""

organization = "demo"
author = "jsadmin demo <demo@jumpscale.org>"
license = "bsd"
version = "0.3"
category = "demo.flaky"
queue = "default"
timeout = 60
globals()["async"] = True


class FlakyError(RuntimeError):
    pass


def action(failrate=0.3, seed=None):
    import random

    rng = random.Random(seed)
    draw = rng.random()
    if draw < float(failrate):
        raise FlakyError(f"flaky failure (draw {draw:.3f} < failrate {float(failrate):.3f})")
    return {"draw": round(draw, 6), "failrate": float(failrate)}
