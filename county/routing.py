"""The routing catalogue: which desk a matter belongs to, and which member unit
leads it, as a suggestion the operator confirms (seed §二(二)(三), §三(一)).

`suggest` applies these rules in this order; the first that matches decides:

1. an explicit police demand type, or a police keyword → POLICE (110 takes it;
   from 12345 that means notify 110 at once);
2. an ambiguous keyword → AMBIGUOUS (110 goes first; if the police find it is
   not theirs they feed back and 12345 dispatches — so the category and lead
   unit are filled in too, when one matches);
3. an exclusion keyword → EXCLUDED, with the scripted answer and, for the other
   emergency numbers, the number to transfer to;
4. the category the operator chose, else a category keyword → HOTLINE with the
   lead unit for the case's township (ANSWER for an answerable enquiry taken at
   the 12345 desk: the 110 desk cannot answer it, it passes it to 12345);
5. nothing → HOTLINE without a category: 12345 accepts everything else
   (seed §二(二)2(6)) and the operator decides.

Police come first because a danger to people or property must never wait for
a category. Within a section entries are tried in file order and, within an
entry, keywords in list order: the catalogue puts the more specific first.
Matching is plain substring search on the normalized text (see `normalize`),
so the same text always gives the same suggestion.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, TypeVar

from common.vocabulary import Desk
from county.case_words import DemandType, Route
from county.config_file import Problem, Problems, read_yaml
from county.roster import Roster
from county.routing_load import (
    TOWNSHIP_LEAD,
    AmbiguousRule,
    Category,
    Exclusion,
    Keyword,
    PoliceRule,
    normalize,
    parse_entries,
)

__all__ = [
    "FALLBACK_REASON",
    "TOWNSHIP_LEAD",
    "AmbiguousRule",
    "Category",
    "Exclusion",
    "Keyword",
    "PoliceRule",
    "RoutingCatalogue",
    "Suggestion",
    "UnknownCategory",
    "load_routing",
]

FALLBACK_REASON = "未命中规则，由话务员判断"


class UnknownCategory(ValueError):
    """The operator named a category code the catalogue does not have."""


@dataclass(frozen=True)
class Suggestion:
    route: Route
    reason: str  # Chinese, for the operator: which rule matched, on which word
    rule: str = ""  # the matched entry's code; "" when no entry matched
    category: str | None = None
    lead_unit: str | None = None
    co_units: tuple[str, ...] = ()
    answer: str | None = None  # 话术 for an excluded matter
    transfer_to: str | None = None  # the emergency number an excluded matter goes to
    utility: bool = False  # water / power / gas / heating: the 24 h feedback limit


class _HasKeywords(Protocol):
    @property
    def keywords(self) -> tuple[Keyword, ...]: ...


_E = TypeVar("_E", bound=_HasKeywords)


def _first_hit(entries: Iterable[_E], words: str) -> tuple[_E, Keyword] | None:
    for entry in entries:
        for keyword in entry.keywords:
            if keyword.found_in(words):
                return entry, keyword
    return None


@dataclass(frozen=True)
class RoutingCatalogue:
    version: str
    police: tuple[PoliceRule, ...]
    exclusions: tuple[Exclusion, ...]
    categories: tuple[Category, ...]
    ambiguous: tuple[AmbiguousRule, ...]

    def category(self, code: str) -> Category | None:
        return next((c for c in self.categories if c.code == code), None)

    def name_of(self, code: str) -> str | None:
        """The Chinese name of any entry (codes are unique across the file)."""
        entries: tuple[PoliceRule | AmbiguousRule | Exclusion | Category, ...] = (
            *self.police,
            *self.ambiguous,
            *self.exclusions,
            *self.categories,
        )
        return next((e.name for e in entries if e.code == code), None)

    def check_against(self, roster: Roster) -> list[Problem]:
        """Unit and township codes the categories name that `roster` lacks
        (lines are the catalogue's); run again after every roster reload."""
        townships = roster.townships()
        found: list[Problem] = []
        for category in self.categories:
            for ref in category.refs:
                known = townships if ref.township else roster.units
                if ref.code not in known:
                    what = "township" if ref.township else "unit"
                    found.append(Problem(ref.line, f"{category.code}: unknown {what} “{ref.code}”"))
        return found

    def suggest(
        self,
        *,
        desk: Desk,
        text: str,
        demand_type: DemandType | None = None,
        category: str | None = None,
        township: str | None = None,
    ) -> Suggestion:
        """Where the matter should go (rules in the module docstring).

        Raises `UnknownCategory` when `category` is not in the catalogue."""
        chosen = self.category(category) if category is not None else None
        if category is not None and chosen is None:
            raise UnknownCategory(f"unknown category {category!r}")
        words = normalize(text)
        police = self._police(words, demand_type)
        if police is not None:
            return police
        if hit := _first_hit(self.ambiguous, words):
            rule, keyword = hit
            reason = f"命中难以界定事项「{rule.name}」关键词“{keyword.text}”"
            base = Suggestion(Route.AMBIGUOUS, reason, rule.code)
            found = self._category(words, chosen)
            return base if found is None else _dispatch(base, found[0], township)
        if excluded_hit := _first_hit(self.exclusions, words):
            excluded, keyword = excluded_hit
            reason = f"命中不予受理事项「{excluded.name}」关键词“{keyword.text}”"
            return Suggestion(
                Route.EXCLUDED,
                reason,
                excluded.code,
                answer=excluded.answer,
                transfer_to=excluded.transfer_to,
            )
        found = self._category(words, chosen)
        if found is None:
            return Suggestion(Route.HOTLINE, FALLBACK_REASON)
        matched, reason = found
        answers = desk is Desk.D12345 and demand_type in (None, DemandType.ENQUIRY)
        route = Route.ANSWER if matched.answerable and answers else Route.HOTLINE
        return _dispatch(Suggestion(route, reason, matched.code), matched, township)

    def _police(self, words: str, demand_type: DemandType | None) -> Suggestion | None:
        police = demand_type is not None and demand_type.is_police
        # An explicit police demand type looks at its own entries first, so the
        # reason names the right kind (a complaint about officers, not a crime).
        same = [r for r in self.police if police and r.demand == demand_type]
        if hit := _first_hit([*same, *self.police], words):
            rule, keyword = hit
            reason = f"命中警务范围「{rule.name}」关键词“{keyword.text}”"
            return Suggestion(Route.POLICE, reason, rule.code)
        if demand_type is not None and police:
            return Suggestion(Route.POLICE, f"诉求类型为「{demand_type.label}」，属110受理范围")
        return None

    def _category(self, words: str, chosen: Category | None) -> tuple[Category, str] | None:
        if chosen is not None:
            return chosen, f"话务员选定受理类别「{chosen.name}」"
        if hit := _first_hit(self.categories, words):
            matched, keyword = hit
            return matched, f"命中受理类别「{matched.name}」关键词“{keyword.text}”"
        return None


def _dispatch(base: Suggestion, category: Category, township: str | None) -> Suggestion:
    """`base` with the category's units resolved for the case's township.

    A township unit's code is its township code (a roster rule), so
    TOWNSHIP_LEAD resolves to the township itself."""
    lead = category.by_township.get(township, category.lead) if township else category.lead
    reason = base.reason
    if lead == TOWNSHIP_LEAD:
        lead = township
        if township is None:
            reason += "；未给出乡镇，牵头单位待定"
    co_units = [township if u == TOWNSHIP_LEAD else u for u in category.co_units]
    co = tuple(dict.fromkeys(u for u in co_units if u is not None and u != lead))
    return Suggestion(
        base.route, reason, base.rule, category.code, lead, co, utility=category.utility
    )


def load_routing(path: Path | str, roster: Roster | None = None) -> RoutingCatalogue:
    """The catalogue at `path`, checked against `roster` when one is given.

    A bad file raises `ConfigFileError` listing every problem with its line."""
    problems = Problems(path)
    entries = parse_entries(read_yaml(path), problems)
    problems.raise_if_any()
    assert entries is not None  # parse_entries returns None only with problems
    catalogue = RoutingCatalogue(
        entries.version, entries.police, entries.exclusions, entries.categories, entries.ambiguous
    )
    if roster is not None:
        problems.found.extend(catalogue.check_against(roster))
        problems.raise_if_any()
    return catalogue
