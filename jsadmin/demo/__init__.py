"""Demo data: a seeded grid in every byte form of the spec, the demo jumpscripts, and a live grid.

Note: ``jsadmin.demo`` (the attribute) is the function :func:`jsadmin.admin.demo`; import from this
package with ``from jsadmin.demo import ...``.

>>> import redis                                     # doctest: +SKIP
>>> from jsadmin.demo import seed_demo               # doctest: +SKIP
>>> counts = seed_demo(redis.Redis(port=9999))       # doctest: +SKIP
"""

from __future__ import annotations

from .grid import Duration, LiveGrid, Scenario
from .scripts import load_demo_jumpscripts
from .seed import seed_demo

__all__ = ["Duration", "LiveGrid", "Scenario", "load_demo_jumpscripts", "seed_demo"]
