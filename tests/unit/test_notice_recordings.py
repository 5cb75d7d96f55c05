"""Which file a call's recording is: only the name Asterisk was told to
record is taken (never a path), and only for the kind asked for."""

from __future__ import annotations

import pytest

from notify.core.recordings import recording_file

SPOOL = "/var/spool/asterisk/liandong-notices"


@pytest.mark.parametrize(
    ("told", "kind", "name"),
    [
        (f"{SPOOL}/notice-4-2", "notice", "notice-4-2.wav"),
        ("notice-12-1", "notice", "notice-12-1.wav"),
        (f"{SPOOL}/follow-up-7-1", "follow-up", "follow-up-7-1.wav"),
        (f"{SPOOL}/follow-up-7-1", "notice", None),  # another kind's file
        (f"{SPOOL}/notice-4-2", "follow-up", None),
        ("", "notice", None),  # no recording on that call
        (None, "notice", None),
        (f"{SPOOL}/../../../etc/passwd", "notice", None),
        (f"{SPOOL}/notice-4-2/../../secret", "notice", None),
        (f"{SPOOL}/notice-4-2.wav", "notice", None),  # told without the extension
        (f"{SPOOL}/notice-４-2", "notice", None),  # full-width digit
    ],
)
def test_only_a_recording_name_of_the_kind_is_taken(
    told: str | None, kind: str, name: str | None
) -> None:
    assert recording_file(told, kind) == name
