"""Example data and the demo: not production code (bin/demo, tests, benchmarks)."""
