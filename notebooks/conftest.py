"""pytest runs the notebooks (``.ipynb``, through nbval) and never imports their ``.py`` pairs.

The jupytext pairs (``01_tour.py``, ...) are the notebooks' sources: importing one, as
``--doctest-modules`` or an explicit path would, would run the whole notebook.
"""

collect_ignore_glob = ["*.py"]
