"""smsgw.modem (being built; see README status)."""
