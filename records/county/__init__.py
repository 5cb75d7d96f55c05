"""The county's rule files and their loaders: the member-unit roster, the
routing catalogue, working-day calendars and time limits."""
