"""tendon-pipeline: watch FIT files in, Achilles-tendon load, rules and plans out."""

__version__ = "0.1.0"
