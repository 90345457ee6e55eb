"""smsgw.at.transport (being built)."""
