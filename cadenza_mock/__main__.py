"""`python -m cadenza_mock` is the same program as the `cadenza-mock` command."""

import sys

from cadenza_mock.run.cli import main

sys.exit(main())
