"""Case records (work orders): every matter a call brings, from opening to
archive — its lifecycle, the county's rules, dispatch to member units, time
limits, the supervisor ladder and the supervision bureau's views."""
