"""Composition layer: the only place modem, store and webhook meet (being built)."""
