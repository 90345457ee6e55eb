"""smsgw.emulator (being built; see README status)."""
