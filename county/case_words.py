"""The words cases are made of: demand types, urgency, routes, unit types.
Values are stored and sent over the API; labels are what operators read. The
desks (and who acts) are every part's words: `common.vocabulary`."""

from __future__ import annotations

from enum import StrEnum


class DemandType(StrEnum):
    """12345's five kinds of demand and 110's three (seed §二(二)(三))."""

    ENQUIRY = "enquiry"  # 咨询
    HELP = "help"  # 求助 (non-urgent)
    COMPLAINT = "complaint"  # 投诉
    REPORT = "report"  # 举报
    SUGGESTION = "suggestion"  # 意见建议
    POLICE_REPORT = "police_report"  # 报警
    POLICE_HELP = "police_help"  # 紧急求助 (110)
    POLICE_COMPLAINT = "police_complaint"  # 投诉 (about the police)

    @property
    def label(self) -> str:
        return DEMAND_LABELS[self]

    @property
    def is_police(self) -> bool:
        return self.value.startswith("police_")


DEMAND_LABELS = {
    DemandType.ENQUIRY: "咨询",
    DemandType.HELP: "求助",
    DemandType.COMPLAINT: "投诉",
    DemandType.REPORT: "举报",
    DemandType.SUGGESTION: "建议",
    DemandType.POLICE_REPORT: "报警",
    DemandType.POLICE_HELP: "求助(110)",
    DemandType.POLICE_COMPLAINT: "投诉(110)",
}


class Urgency(StrEnum):
    NORMAL = "normal"  # 一般
    URGENT = "urgent"  # 紧急


class Route(StrEnum):
    """Where a matter goes, as the routing catalogue suggests and the operator decides."""

    POLICE = "police"  # 110 takes it (from 12345: notify 110 at once)
    HOTLINE = "hotline"  # 12345 accepts it and dispatches to a member unit
    ANSWER = "answer"  # 12345 answers it at the desk (enquiry) and closes
    EXCLUDED = "excluded"  # outside 12345's scope: scripted answer / other number
    AMBIGUOUS = "ambiguous"  # police or not unclear: 110 first, police feed back


class UnitType(StrEnum):
    TOWNSHIP = "township"  # 乡镇
    DEPARTMENT = "department"  # 县直部门
    OTHER = "other"  # 有关单位
