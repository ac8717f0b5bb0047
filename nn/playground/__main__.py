"""`python -m nn.playground`: the same as `gradwalk playground`."""

import sys

from nn.playground import main

sys.exit(main())
