"""Which pages there are and who may open them (pure)."""
