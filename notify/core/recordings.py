"""Which file on disk a call's recording is: a unit's spoken reason for
declining a notice (`notice-<notice>-<try>`), a citizen's comment after a
follow-up rating (`follow-up-<follow-up>-<try>`). The dialplan tells the
recording as Asterisk's path without the extension; the server serves it
from its own view of that folder, so only the file's name is taken from what
was told — never a path. Pure: no I/O.
"""

from __future__ import annotations

import re

_NAME = re.compile(r"^(notice|follow-up)-[0-9]+-[0-9]+$")


def recording_file(told: str | None, kind: str) -> str | None:
    """The file's name (`notice-4-2.wav`) for a recording told as `told`
    (`/var/spool/asterisk/liandong-notices/notice-4-2`); None if there is
    none or it is not a recording of that kind."""
    name = (told or "").rstrip("/").rsplit("/", 1)[-1]
    if not _NAME.match(name) or not name.startswith(f"{kind}-"):
        return None
    return f"{name}.wav"
