"""smsgw.store (being built; see README status)."""
