import sys

from lakehouse_assets.serving.cli import main

sys.exit(main())
