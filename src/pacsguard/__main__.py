"""``python -m pacsguard``."""

import sys

from pacsguard.cli import main

sys.exit(main())
