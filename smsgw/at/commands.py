"""smsgw.at.commands (being built)."""
