"""smsgw.pdu (being built; see README status)."""
