"""People's accounts: who signs in to the pages, with which role, desk phone or unit."""
