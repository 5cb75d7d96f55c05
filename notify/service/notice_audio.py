"""The spoken part of a notice that changes with every case — category,
township, address, summary — rendered when the notice is made, the way the
prompts are (espeak-ng's pinyin voice, ffmpeg, pydub: 8 kHz mono WAV).

The server writes `notice-<id>.wav` into LIANDONG_NOTICE_AUDIO_DIR, a folder
Asterisk reads; Asterisk plays it under the same folder as it sees it
(LIANDONG_NOTICE_AUDIO_PBX_DIR: a container's or a chroot's path). Without
the folder, or when rendering fails, the notice says the fixed parts and the
case number and asks the unit to read the rest in the system: a notice is
never held back for its audio.
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

from ivr_flows.core.pinyin import to_pinyin
from ivr_flows.core.prompt_render import ASTERISK_FORMAT, PINYIN_VOICE, SPEED_WPM, Toolchain
from ivr_flows.service import audio

log = logging.getLogger(__name__)


class NoticeAudio:
    def __init__(self, out_dir: Path, pbx_dir: str | None = None) -> None:
        self.out_dir = out_dir
        self.pbx_dir = (pbx_dir or str(out_dir)).rstrip("/")
        self._tools: Toolchain | None = None

    def render(self, notice_id: int, text: str) -> str | None:
        """The file Asterisk plays (no extension), or None (logged). Blocking:
        run it in a worker thread."""
        try:
            if self._tools is None:
                self._tools = audio.toolchain(PINYIN_VOICE, SPEED_WPM)
            self.out_dir.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryDirectory() as tmp:
                raw = Path(tmp) / "raw.wav"
                audio.synthesize(to_pinyin(text), self._tools, raw)
                segment = audio.normalise(audio.decode(raw, ASTERISK_FORMAT), ASTERISK_FORMAT)
            name = f"notice-{notice_id}"
            part = self.out_dir / f".{name}.wav"
            audio.write_wav(segment, part)
            part.replace(self.out_dir / f"{name}.wav")  # never a half-written file played
        except (audio.AudioError, OSError) as exc:
            log.error(
                "notice %d: its audio could not be made (%s): said without it", notice_id, exc
            )
            return None
        return f"{self.pbx_dir}/{name}"

    def forget(self, notice_id: int) -> None:
        """A notice over needs its words no more (a call still playing them
        keeps its open file)."""
        (self.out_dir / f"notice-{notice_id}.wav").unlink(missing_ok=True)
