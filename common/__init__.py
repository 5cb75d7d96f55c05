"""Words and readers every part of the server shares. Pure: no I/O."""
