"""smsgw.api (being built; see README status)."""
