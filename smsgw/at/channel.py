"""smsgw.at.channel (being built)."""
