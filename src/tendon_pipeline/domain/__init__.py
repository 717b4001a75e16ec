"""Pure domain core: thresholds, models, load model, rules and plan (no I/O)."""
