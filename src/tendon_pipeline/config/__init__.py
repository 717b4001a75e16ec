"""Configuration: the one Settings class (settings) and its generated reference (doc)."""
