"""smsgw.webhook (being built; see README status)."""
