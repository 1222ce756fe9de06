"""``python -m matcalc``: the same as the ``matcalc`` command."""

import sys

from .cli import main

sys.exit(main())
