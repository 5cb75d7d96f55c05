"""The county's case rules, loaded together from one directory
(`LIANDONG_CASE_CONFIG`, default `case-config/` of the checkout):

    routing.yaml       the routing catalogue (what goes where, scripted answers)
    units.csv          the member-unit roster
    time-limits.yaml   time limits per demand type and urgency, the ladder
    calendar/<year>.yaml   public holidays and make-up working days
    outbound.yaml      calls the server makes itself: linkage notices, follow-ups
                       (optional: without it, none)

Every file is checked, and the catalogue is checked against the roster; any
problem refuses the whole set (the server does not start on half a rule book).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from county.calendar import WorkCalendar, load_calendar
from county.config_file import ConfigFileError
from county.outbound import OFF, OutboundRules, load_outbound
from county.roster import Roster, load_roster
from county.routing import RoutingCatalogue, load_routing
from county.time_limits import TimeLimits, load_time_limits


@dataclass(frozen=True)
class CaseRules:
    routing: RoutingCatalogue
    roster: Roster
    time_limits: TimeLimits
    calendar: WorkCalendar
    # Default OFF: rules built without the file (older folders, tests) make no calls.
    outbound: OutboundRules = OFF

    def is_utility(self, category: str | None) -> bool:
        found = self.routing.category(category) if category else None
        return bool(found and found.utility)


def load_rules(directory: Path | str) -> CaseRules:
    """All of them, or a ConfigFileError naming every problem of the first bad file."""
    directory = Path(directory)
    roster = load_roster(directory / "units.csv")
    routing_path = directory / "routing.yaml"
    routing = load_routing(routing_path, roster)
    problems = routing.check_against(roster)
    if problems:
        raise ConfigFileError(routing_path, problems)
    time_limits = load_time_limits(directory / "time-limits.yaml")
    calendar = load_calendar(directory / "calendar")
    outbound_path = directory / "outbound.yaml"
    codes = [category.code for category in routing.categories]
    outbound = load_outbound(outbound_path, categories=codes) if outbound_path.exists() else OFF
    return CaseRules(routing, roster, time_limits, calendar, outbound)
