"""``python -m benchmarks --size S|M|L [--repeat N] [--scenarios a,b] [--workdir DIR] [--out DIR] [--publish]``."""

import sys

from benchmarks.harness import main

sys.exit(main())
