"""``python -m tendon_pipeline.cli``: the ``tendon`` command."""

import sys

from tendon_pipeline.cli.main import main

sys.exit(main())
