"""``python -m tendon_pipeline.cli``: the ``tendon`` command."""

from tendon_pipeline.cli.main import run

run()
