"""smsgw: a self-hosted two-way SMS gateway for USB GSM modems."""

__version__ = "0.1.0"
