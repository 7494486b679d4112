"""``python -m jsadmin``: the same as the ``jsadmin`` console script."""

import sys

from .cli import main

sys.exit(main())
