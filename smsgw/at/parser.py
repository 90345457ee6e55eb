"""smsgw.at.parser (being built)."""
