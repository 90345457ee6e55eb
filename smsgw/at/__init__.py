"""smsgw.at (being built; see README status)."""
