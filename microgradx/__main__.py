"""`python -m microgradx` runs the `microgradx` command."""

import sys

from microgradx.cli import main

sys.exit(main())
