"""Configuration (being built)."""
