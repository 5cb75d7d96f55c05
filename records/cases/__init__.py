"""Cases (work orders): the lifecycle table, routing rules, member units,
time limits and supervision, and the services that keep them in the records."""
