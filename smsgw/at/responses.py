"""smsgw.at.responses (being built)."""
