"""Demo data: a seeded grid in every byte form of the spec, the demo jumpscripts, and a live grid.

``jsadmin.demo()`` (the function) starts an embedded server seeded from here; this package is
named ``demogrid`` so the two never shadow each other.

>>> import redis                                     # doctest: +SKIP
>>> from jsadmin.demogrid import seed_demo               # doctest: +SKIP
>>> counts = seed_demo(redis.Redis(port=9999))       # doctest: +SKIP
"""

from __future__ import annotations

from .grid import Duration, LiveGrid, Scenario
from .scripts import load_demo_jumpscripts
from .seed import seed_demo

__all__ = ["Duration", "LiveGrid", "Scenario", "load_demo_jumpscripts", "seed_demo"]
