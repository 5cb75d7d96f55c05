"""What a linkage notice says: who is calling and that a matter needs
people on the scene now, the case number digit by digit (fixed prompts), then
the case's own words — category, township, address, summary — as one piece
of generated speech (`notice_text`), and the keys. Pure: no I/O."""

from __future__ import annotations

from ivr_flows.core.spoken import digits_of

PROMPT_DIR = "liandong"
INTRO, CASE_NUMBER, SEE_SYSTEM = "notice/intro", "notice/case_number", "notice/see_system"
NOTICE_PROMPTS = frozenset(
    {
        INTRO,
        CASE_NUMBER,
        SEE_SYSTEM,
        "notice/keys",
        "notice/accepted",
        "notice/reason",
        "notice/declined",
        "notice/goodbye",
    }
)
SUMMARY_CHARS = 120  # a phone message, not the case file: the rest is in the system
REASON_KEYS = {"1": "不属于本单位职责", "2": "不在本单位辖区"}


def notice_text(
    category: str | None, township: str | None, address: str | None, summary: str | None
) -> str:
    """The case's own words, as they are said ("" if it has none)."""
    parts = []
    if category:
        parts.append(f"事项类别，{category}。")
    if township:
        parts.append(f"所属乡镇，{township}。")
    if address:
        parts.append(f"地址，{address}。")
    if summary:
        text = " ".join(summary.split())
        if len(text) > SUMMARY_CHARS:
            text = text[:SUMMARY_CHARS] + "，等"
        parts.append(f"内容，{text}。")
    return "".join(parts)


def message(case_number: str, spoken: str | None) -> list[str]:
    """The files played, in order: the intro, the case number, then the
    case's words (`spoken`, a rendered file) or a word to read it in the system."""
    digits = "".join(c for c in case_number if c.isdigit())
    ids = [INTRO, CASE_NUMBER, *digits_of(digits)]
    files = [f"{PROMPT_DIR}/{i}" for i in ids]
    files.append(spoken if spoken else f"{PROMPT_DIR}/{SEE_SYSTEM}")
    return files


def reason_words(key: str, recording: str) -> str:
    """A decline's reason, as the person gave it."""
    if key in REASON_KEYS:
        return REASON_KEYS[key]
    return "原因见录音" if recording else "未说明原因"


def reason_text(key: str, recording: str) -> str:
    """A decline's reason as the return request says it."""
    return f"电话通知按键退单：{reason_words(key, recording)}"
