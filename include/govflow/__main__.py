"""`python -m govflow` is the same as the `govflow` console script."""

import sys

from govflow.cli import main

sys.exit(main())
