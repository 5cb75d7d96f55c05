"""The routing catalogue: the shipped file against the shipped roster, every
refusal with its line, and the suggestions for what callers actually say."""

from __future__ import annotations

from pathlib import Path

import pytest

from common.vocabulary import Desk
from county.case_words import DemandType, Route, UnitType
from county.config_file import ConfigFileError
from county.roster import Roster, Unit, load_roster
from county.routing import (
    FALLBACK_REASON,
    RoutingCatalogue,
    Suggestion,
    UnknownCategory,
    load_routing,
)

CONFIG = Path(__file__).resolve().parents[2] / "case-config"

# Line numbers matter: the refusal tests edit one line of this and expect it named.
BASE = """\
version: "t1"
police:
  - code: crime
    name: 刑事案件
    demand: police_report
    keywords: [抢劫]
ambiguous:
  - code: quarrel
    name: 纠纷
    keywords: [吵架+动手]
exclusions:
  - code: fire
    name: 火警
    keywords: [着火]
    transfer_to: "119"
    answer: 请拨打119。
categories:
  - code: water
    name: 供水
    keywords: [停水]
    utility: true
    lead: water
    by_township:
      daying: water-res
    co_units: ["@township"]
"""
POLICE_BLOCK = BASE[BASE.index("police:") : BASE.index("ambiguous:")]


def unit(code: str, township: str | None = None) -> Unit:
    kind = UnitType.TOWNSHIP if township else UnitType.DEPARTMENT
    return Unit(code, code, kind, township, "张某某", ("1",), "办", ("2",), "李某", ("3",))


SMALL_ROSTER = Roster(
    {u.code: u for u in [unit("water"), unit("water-res"), unit("daying", "daying")]}
)


@pytest.fixture(scope="module")
def roster() -> Roster:
    return load_roster(CONFIG / "units.csv")


@pytest.fixture(scope="module")
def catalogue(roster: Roster) -> RoutingCatalogue:
    return load_routing(CONFIG / "routing.yaml", roster)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "routing.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def refusal(path: Path, roster: Roster | None = None) -> list[tuple[int | None, str]]:
    with pytest.raises(ConfigFileError) as refused:
        load_routing(path, roster)
    return [(p.line, p.message) for p in refused.value.problems]


def ask(catalogue: RoutingCatalogue, text: str, **given: object) -> Suggestion:
    given.setdefault("desk", Desk.D12345)
    return catalogue.suggest(text=text, **given)  # type: ignore[arg-type]


# --- the shipped catalogue -------------------------------------------------------


def test_the_shipped_catalogue_loads_and_names_only_units_of_the_roster(
    catalogue: RoutingCatalogue, roster: Roster
) -> None:
    assert catalogue.version and catalogue.check_against(roster) == []
    assert {"criminal", "missing-person", "police-complaint"} <= {r.code for r in catalogue.police}
    assert {"fire", "medical", "traffic", "legal-route", "out-of-area"} <= {
        e.code for e in catalogue.exclusions
    }
    utilities = {c.code for c in catalogue.categories if c.utility}
    assert utilities == {"water-supply", "power-supply", "gas-supply", "heating"}
    assert all(e.answer for e in catalogue.exclusions)
    assert {e.transfer_to for e in catalogue.exclusions} == {"119", "120", "122", None}


def test_the_shipped_catalogue_covers_the_three_kinds_of_police_demand(
    catalogue: RoutingCatalogue,
) -> None:
    kinds = {r.demand for r in catalogue.police}
    assert kinds == {DemandType.POLICE_REPORT, DemandType.POLICE_HELP, DemandType.POLICE_COMPLAINT}


@pytest.mark.parametrize(
    ("text", "route", "rule", "word"),
    [
        ("有人持刀抢劫", Route.POLICE, "criminal", "抢劫"),
        ("我家老人走失了，一上午没回来", Route.POLICE, "missing-person", "走失"),
        ("有人在河边溺水了", Route.POLICE, "rescue", "溺水"),
        ("路口电线落地了还在冒火花", Route.POLICE, "utility-hazard", "电线落地"),
        ("我要投诉民警办事拖拉", Route.POLICE, "police-complaint", "投诉民警"),
        ("楼上邻居吵架还动手了", Route.AMBIGUOUS, "neighbour-conflict", "吵架+动手"),
        ("半夜噪音太大，跟楼下打起来了", Route.AMBIGUOUS, "night-noise-fight", "噪音+打起来"),
        ("家里着火了", Route.EXCLUDED, "fire", "着火"),
        ("我妈突然晕倒了", Route.EXCLUDED, "medical", "晕倒"),
        ("十字路口两辆车追尾了", Route.EXCLUDED, "traffic", "追尾"),
        ("我要起诉我的老板，法院怎么立案", Route.EXCLUDED, "legal-route", "起诉"),
        ("我要举报村支书贪污", Route.EXCLUDED, "party-discipline", "贪污"),
        ("我在郏县买的房子漏水", Route.EXCLUDED, "out-of-area", "郏县"),
        ("小区停水三天了", Route.HOTLINE, "water-supply", "停水"),
        ("我们村停电一整天了", Route.HOTLINE, "power-supply", "停电"),
        ("老板拖欠工资半年了", Route.HOTLINE, "labour", "拖欠工资"),
        ("超市卖过期食品", Route.HOTLINE, "market", "过期食品"),
    ],
)
def test_realistic_texts(
    catalogue: RoutingCatalogue, text: str, route: Route, rule: str, word: str
) -> None:
    suggestion = ask(catalogue, text)
    assert (suggestion.route, suggestion.rule) == (route, rule)
    assert f"关键词“{word}”" in suggestion.reason


def test_a_police_matter_says_which_rule_and_word(catalogue: RoutingCatalogue) -> None:
    suggestion = ask(catalogue, "有人持刀抢劫")
    assert suggestion == Suggestion(
        Route.POLICE, "命中警务范围「刑事案件」关键词“抢劫”", "criminal"
    )


def test_no_water_in_the_estate_goes_to_the_water_company_with_the_24h_limit(
    catalogue: RoutingCatalogue,
) -> None:
    suggestion = ask(catalogue, "小区停水三天了")
    assert (suggestion.category, suggestion.lead_unit, suggestion.utility) == (
        "water-supply",
        "water",
        True,
    )
    assert suggestion.answer is None and suggestion.transfer_to is None


def test_the_legal_route_answer_is_read_to_the_caller(catalogue: RoutingCatalogue) -> None:
    suggestion = ask(catalogue, "我要起诉我的老板，法院怎么立案")
    assert suggestion.answer is not None and "诉讼、仲裁或行政复议" in suggestion.answer
    assert suggestion.transfer_to is None and suggestion.lead_unit is None


@pytest.mark.parametrize(
    ("text", "number"), [("家里着火了", "119"), ("快叫救护车", "120"), ("出车祸了", "122")]
)
def test_other_emergencies_are_transferred(
    catalogue: RoutingCatalogue, text: str, number: str
) -> None:
    suggestion = ask(catalogue, text, desk=Desk.D110)
    assert (suggestion.route, suggestion.transfer_to) == (Route.EXCLUDED, number)
    assert suggestion.answer is not None and number in suggestion.answer


def test_a_gas_smell_goes_to_110_first_with_the_gas_company_ready(
    catalogue: RoutingCatalogue,
) -> None:
    suggestion = ask(catalogue, "家里有很浓的煤气味", township="xiaoqi")
    assert (suggestion.route, suggestion.rule) == (Route.AMBIGUOUS, "gas-smell")
    assert (suggestion.category, suggestion.lead_unit, suggestion.utility) == (
        "gas-supply",
        "gas",
        True,
    )


def test_a_neighbours_fight_has_no_unit_until_the_police_feed_back(
    catalogue: RoutingCatalogue,
) -> None:
    suggestion = ask(catalogue, "楼上邻居吵架还动手了")
    assert suggestion.category is None and suggestion.lead_unit is None


def test_village_affairs_are_led_by_the_cases_township(catalogue: RoutingCatalogue) -> None:
    suggestion = ask(catalogue, "村干部不公开村务账目", township="daying")
    assert (suggestion.route, suggestion.category) == (Route.HOTLINE, "village-affairs")
    assert (suggestion.lead_unit, suggestion.co_units) == ("daying", ("agriculture",))


def test_by_township_gives_the_county_seat_to_the_city_management_bureau(
    catalogue: RoutingCatalogue,
) -> None:
    assert ask(catalogue, "路边占道经营", township="chengguan").lead_unit == "urban"
    assert ask(catalogue, "路边占道经营", township="zhouzhuang").lead_unit == "zhouzhuang"
    assert ask(catalogue, "小区停水三天了", township="daying").lead_unit == "water-resources"
    assert ask(catalogue, "小区停水三天了", township="chengguan").lead_unit == "water"


def test_a_township_lead_without_a_township_is_left_to_the_operator(
    catalogue: RoutingCatalogue,
) -> None:
    suggestion = ask(catalogue, "路边占道经营")
    assert suggestion.lead_unit is None and suggestion.reason.endswith("未给出乡镇，牵头单位待定")


def test_township_co_units_follow_the_case(catalogue: RoutingCatalogue) -> None:
    assert ask(catalogue, "工厂烟囱冒黑烟", township="shiqiao").co_units == ("shiqiao",)
    assert ask(catalogue, "工厂烟囱冒黑烟").co_units == ()


def test_an_unmatched_text_is_accepted_for_the_operator_to_judge(
    catalogue: RoutingCatalogue,
) -> None:
    for desk in Desk:
        suggestion = ask(catalogue, "我想反映一下我们这边的情况", desk=desk)
        assert suggestion == Suggestion(Route.HOTLINE, FALLBACK_REASON)
    assert FALLBACK_REASON == "未命中规则，由话务员判断"


def test_an_explicit_police_demand_type_decides_without_a_keyword(
    catalogue: RoutingCatalogue,
) -> None:
    suggestion = ask(catalogue, "我想反映一下情况", demand_type=DemandType.POLICE_HELP)
    assert (suggestion.route, suggestion.rule) == (Route.POLICE, "")
    assert suggestion.reason == "诉求类型为「求助(110)」，属110受理范围"


def test_a_police_demand_type_prefers_its_own_entries(catalogue: RoutingCatalogue) -> None:
    text = "民警态度恶劣还说要打人"
    assert ask(catalogue, text).rule == "public-order"
    complaint = ask(catalogue, text, demand_type=DemandType.POLICE_COMPLAINT)
    assert complaint.rule == "police-complaint"


def test_police_keywords_win_over_everything_else(catalogue: RoutingCatalogue) -> None:
    suggestion = ask(catalogue, "停水了去理论结果被打", category="water-supply")
    assert (suggestion.route, suggestion.rule) == (Route.POLICE, "public-order")


def test_the_operators_category_is_used_when_no_keyword_says_otherwise(
    catalogue: RoutingCatalogue,
) -> None:
    suggestion = ask(catalogue, "我想反映一下情况", category="power-supply")
    assert (suggestion.route, suggestion.lead_unit, suggestion.utility) == (
        Route.HOTLINE,
        "power",
        True,
    )
    assert suggestion.reason == "话务员选定受理类别「供电」"
    with pytest.raises(UnknownCategory):
        ask(catalogue, "我想反映一下情况", category="no-such-category")


def test_an_enquiry_is_answered_at_12345_but_passed_on_by_110(catalogue: RoutingCatalogue) -> None:
    text = "办理营业执照需要什么材料"
    assert ask(catalogue, text).route is Route.ANSWER
    assert ask(catalogue, text, demand_type=DemandType.ENQUIRY).route is Route.ANSWER
    assert ask(catalogue, text, desk=Desk.D110).route is Route.HOTLINE
    assert ask(catalogue, text, demand_type=DemandType.COMPLAINT).route is Route.HOTLINE


def test_matching_ignores_spaces_and_full_width_and_is_deterministic(
    catalogue: RoutingCatalogue,
) -> None:
    assert ask(catalogue, "小区 停 水").rule == "water-supply"
    assert ask(catalogue, "动手了，两家还在吵架").rule == "neighbour-conflict"
    assert ask(catalogue, "ＷＩＦＩ坏了，停电了").rule == "power-supply"
    texts = ["有人持刀抢劫", "小区停水三天了", "楼上邻居吵架还动手了", "随便说说"]
    assert [ask(catalogue, t) for t in texts] == [ask(catalogue, t) for t in texts]


# --- refusals, each with its line -----------------------------------------------


def test_the_base_file_loads_and_cross_checks(tmp_path: Path) -> None:
    catalogue = load_routing(write(tmp_path, BASE), SMALL_ROSTER)
    assert catalogue.version == "t1"
    suggestion = catalogue.suggest(desk=Desk.D12345, text="停水", township="daying")
    assert (suggestion.lead_unit, suggestion.co_units) == ("water-res", ("daying",))


@pytest.mark.parametrize(
    ("old", "new", "line", "fragment"),
    [
        ('version: "t1"\n', "", 1, "version: a quoted, non-empty string is required"),
        ('version: "t1"', "version: 2021.10", 1, "version: a quoted"),
        ('version: "t1"', 'version: "t1"\nowner: me', 2, "unknown key “owner”"),
        ("code: quarrel", "code: crime", 8, "duplicate code “crime” (first on line 3)"),
        ("code: fire", "code: 火警", 12, "bad code “火警”"),
        ("    name: 纠纷\n", "    name: 纠纷\n    note: x\n", 10, "ambiguous: unknown key “note”"),
        ("keywords: [抢劫]", "keywords: []", 6, "keywords: a non-empty list"),
        ("keywords: [抢劫]", "keywords:", 6, "keywords: a non-empty list"),
        ("keywords: [吵架+动手]", "keywords: [吵架+]", 10, "malformed keyword “吵架+”"),
        ("keywords: [着火]", 'keywords: [着火, " "]', 14, "empty or malformed keyword"),
        ("    answer: 请拨打119。\n", "", 12, "exclusions: entry lacks “answer”"),
        ("answer: 请拨打119。", "answer: ''", 16, "answer: non-empty text"),
        ("    name: 刑事案件\n", "", 3, "police: entry lacks “name”"),
        ("demand: police_report", "demand: robbery", 5, "demand “robbery”: one of"),
        ("demand: police_report", "demand: complaint", 5, "demand “complaint”"),
        ('transfer_to: "119"', "transfer_to: 119", 15, "transfer_to: a quoted phone"),
        ("lead: water", "lead: 自来水公司", 22, "neither a unit code nor @township"),
        ("    lead: water\n", "", 18, "lead is required unless answerable"),
        ("utility: true", "utility: yes please", 21, "utility: true or false"),
        ("      daying: water-res", "      - daying", 23, "by_township: township: unit"),
        ('co_units: ["@township"]', "co_units: water", 25, "co_units: a list"),
        ('co_units: ["@township"]', "co_units: [[x]]", 25, "neither a unit code"),
        (POLICE_BLOCK, "police: none\n", 2, "police: a list of entries"),
        ("  - code: quarrel\n", "  - just words\n  - code: quarrel\n", 8, "must be a mapping"),
        ("keywords: [停水]", "keywords: [停水", 21, "YAML:"),
    ],
)
def test_each_problem_is_reported_with_its_line(
    tmp_path: Path, old: str, new: str, line: int, fragment: str
) -> None:
    assert old in BASE
    found = refusal(write(tmp_path, BASE.replace(old, new, 1)))
    assert any(at == line and fragment in message for at, message in found), found


def test_a_file_that_is_not_a_mapping_is_refused(tmp_path: Path) -> None:
    assert refusal(write(tmp_path, "- just a list\n"))[0][0] is None


def test_every_problem_is_listed_at_once(tmp_path: Path) -> None:
    edits = [
        ('version: "t1"\n', ""),
        ("demand: police_report", "demand: x"),
        ("keywords: [着火]", "keywords: []"),
        ("    answer: 请拨打119。\n", ""),
        ("      daying: water-res", "      daying: 水利局"),
    ]
    text = BASE
    for old, new in edits:
        text = text.replace(old, new)
    with pytest.raises(ConfigFileError) as refused:
        load_routing(write(tmp_path, text))
    # Lines moved up one with the version line; an entry lacking a key still
    # has its other problems reported.
    assert [p.line for p in refused.value.problems] == [1, 4, 11, 13, 22]


def test_unknown_units_and_townships_are_refused_when_a_roster_is_given(tmp_path: Path) -> None:
    text = (
        BASE.replace("lead: water", "lead: waterworks")
        .replace("daying: water-res", "dayingzhen: water-res")
        .replace('co_units: ["@township"]', 'co_units: ["@township", health]')
    )
    path = write(tmp_path, text)
    assert load_routing(path).version == "t1"  # without a roster, codes are not checked
    assert refusal(path, SMALL_ROSTER) == [
        (22, "water: unknown unit “waterworks”"),
        (24, "water: unknown township “dayingzhen”"),
        (25, "water: unknown unit “health”"),
    ]


def test_check_against_finds_what_a_roster_reload_removed(tmp_path: Path) -> None:
    catalogue = load_routing(write(tmp_path, BASE), SMALL_ROSTER)
    smaller = Roster({"water": unit("water")})
    problems = catalogue.check_against(smaller)
    assert [(p.line, p.message) for p in problems] == [
        (24, "water: unknown township “daying”"),
        (24, "water: unknown unit “water-res”"),
    ]
