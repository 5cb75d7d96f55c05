"""What the way in decides, with no I/O: flow files and their checks, the
dialplan and queue configuration generated from them, prompt texts, the
operators' state."""
