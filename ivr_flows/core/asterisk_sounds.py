"""The sounds Asterisk itself plays in Mandarin, made from the catalogue.

app_queue tells a waiting 12345 caller their place and the expected wait
from files of its own (`queue-thereare`, `queue-holdtime`, …) and says the
numbers with Asterisk's Chinese number syntax (say.c's `zh`: `digits/0`–`9`,
`digits/10`…`digits/90` for the tens, `digits/hundred`, `digits/thousand`,
`digits/wan`). Installed in the sound folder's `zh/` under those names, they
are what the channels (language `zh`) hear instead of English.
"""

from __future__ import annotations

# Asterisk's sound name → the catalogue's prompt id.
ASTERISK_SOUNDS: dict[str, str] = {
    "queue-thereare": "queue/you_are_at",
    "queue-callswaiting": "queue/person",
    "queue-youarenext": "queue/you_are_next",
    "queue-holdtime": "queue/expected",
    "queue-less-than": "queue/less_than",
    "queue-minute": "unit/minute",
    "queue-minutes": "unit/minute",
    "queue-seconds": "unit/second",
    "queue-thankyou": "queue/thank_you",
    **{f"digits/{n}": f"digits/{n}" for n in range(10)},
    "digits/10": "number/ten",
    **{f"digits/{n}": f"number/{n}" for n in range(20, 100, 10)},
    "digits/hundred": "number/hundred",
    "digits/thousand": "number/thousand",
    "digits/wan": "number/ten_thousand",
}

ASTERISK_SOUND_IDS = frozenset(ASTERISK_SOUNDS.values())
