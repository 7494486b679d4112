"""Demo data: a seeded grid in every byte form of the spec, and the demo jumpscripts.

>>> import redis                                     # doctest: +SKIP
>>> from jsadmin.demo import seed_demo               # doctest: +SKIP
>>> counts = seed_demo(redis.Redis(port=9999))       # doctest: +SKIP
"""

from __future__ import annotations

from .scripts import load_demo_jumpscripts
from .seed import seed_demo

__all__ = ["load_demo_jumpscripts", "seed_demo"]
