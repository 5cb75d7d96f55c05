"""The pages, who may open each, and where each role lands after signing in.

A page shows only what its API calls return: a role a page is closed to
would get 403 from the API anyway. This table keeps people from opening
pages that would only show refusals.
"""

from __future__ import annotations

from dataclasses import dataclass

from common.vocabulary import Role

OPERATORS = frozenset({Role.OPERATOR_110, Role.OPERATOR_12345})
BUREAU = frozenset({Role.SUPERVISOR, Role.ADMIN})


@dataclass(frozen=True)
class Page:
    name: str  # its path under /console/ and its file under static/pages/
    title: str  # as the page and the navigation show it
    roles: frozenset[Role]


PAGES: tuple[Page, ...] = (
    # An operator's phone state, the waiting line and the screen pop.
    Page("desk", "坐席台", OPERATORS),
    # A member unit's open cases with their deadlines, and the case's forms (phone-first).
    Page("unit", "本单位工单", frozenset({Role.UNIT})),
    # The supervision bureau's live wall board.
    Page("wall", "值守大屏", BUREAU),
    # The bureau's charts and tables over a period, with the CSV exports.
    Page("stats", "统计分析", BUREAU),
    # Open and overdue cases with filters, and the ladder's buttons (督办).
    Page("cases", "督办工单", BUREAU),
    # People's accounts: create, disable, enable, unlock, set a password.
    Page("people", "账号管理", frozenset({Role.ADMIN})),
    Page("home", "首页", frozenset(OPERATORS | BUREAU | {Role.UNIT})),
)
BY_NAME = {page.name: page for page in PAGES}


def page_for(name: str) -> Page | None:
    return BY_NAME.get(name)


def may_open(role: Role, page: Page) -> bool:
    return role in page.roles


def home_of(role: Role) -> Page:
    """Where a role lands after signing in: its first page in the table."""
    return next(page for page in PAGES if role in page.roles)


def nav_for(role: Role) -> list[Page]:
    """The pages a role may open, in the table's order."""
    return [page for page in PAGES if role in page.roles]
