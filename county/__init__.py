"""The county's rule files and their loaders, shared by every feature: the
member-unit roster, the routing catalogue, working-day calendars, time limits.
Each bad file is refused whole with every problem named by file and line."""
