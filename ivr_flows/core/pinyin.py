"""Mandarin prompt text to what espeak-ng's pinyin voice reads: pinyin with tone
numbers, one syllable a word, digits read the way a hotline says them.

Why pinyin and not the characters: espeak-ng's `cmn` voice turns characters
into pinyin itself and then reads the tone numbers aloud in English (您好
comes out as "nin two hao three": `espeak-ng -v cmn -x 您好` switches to
English phonemes, and the audio is longer — 1.14 s against 0.90 s for the
pinyin voice, both at the default speed). The `cmn-latn-pinyin` voice (the
name `espeak-ng --voices` lists) reads pinyin written with tone numbers
right, space-separated syllables as "nin2 hao3" (seen on espeak-ng 1.51: ma1
ma2 ma3 ma4 ma5 get the contours 55, 35, 21, 51 and 11, i.e. the four tones
and the neutral one; tone marks as in "nín hǎo" work too, but numbers are
what pypinyin writes plainly; ü must be written v — "nü3" is misread with a
rising tone, "nv3" is not).
pypinyin knows which reading of a character a word needs (银行 yin2 hang2,
重新 chong2 xin1) and the tone changes of 一, 不 and two third tones in a row.

Digits are never left to espeak-ng: it reads "110" as a quantity (一百一十).
A run of digits is read digit by digit, 1 as yao1 (幺, as phone numbers are
said: 110 is yao1 yao1 ling2); a lone digit (请按1) as the plain digit, and a
few service numbers as the public says them (12345 is yi1 er4 san1 si4 wu3).
Punctuation becomes espeak-ng's pauses: a comma for a short one, a full stop
for the end of a sentence.
"""

from __future__ import annotations

import re
import unicodedata

from pypinyin import Style, lazy_pinyin

DIGITS = ("ling2", "yi1", "er4", "san1", "si4", "wu3", "liu4", "qi1", "ba1", "jiu3")
YAO = "yao1"  # 幺: 1 in a number read digit by digit
# Numbers the public says their own way rather than digit by digit with yao.
SPOKEN_NUMBERS = {"12345": "yi1 er4 san1 si4 wu3"}
SYMBOLS = {"#": "jing3 hao4", "*": "xing1 hao4"}  # the phone keys 井号 and 星号
SHORT_PAUSE = set("，、；：,;:…—～~")
LONG_PAUSE = set("。！？.!?")
SILENT = set("“”‘’\"'《》〈〉「」『』（）()【】[]·")

_HAN = r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]"
_TOKEN = re.compile(rf"(?P<han>{_HAN}+)|(?P<digits>[0-9]+)|(?P<latin>[A-Za-z]+)|(?P<space>\s+)|.")
_SYLLABLE = re.compile(r"[a-z]+[1-5]")


class UnreadableText(ValueError):
    """Text with characters the pinyin voice cannot be given."""

    def __init__(self, characters: list[str]) -> None:
        self.characters = characters
        shown = " ".join(f"{c!r} (U+{ord(c):04X})" for c in characters)
        super().__init__(f"cannot be read aloud: {shown}")


def to_pinyin(text: str) -> str:
    """`text` as espeak-ng's cmn-latn-pinyin voice should be given it.

    >>> to_pinyin("您好，请拨打110")
    'nin2 hao3, qing3 bo1 da3 yao1 yao1 ling2'

    Raises `UnreadableText` naming every character it cannot read.
    """
    words: list[str] = []
    unreadable: list[str] = []
    for token in _TOKEN.finditer(unicodedata.normalize("NFKC", text)):
        kind, value = token.lastgroup, token.group()
        if kind == "han":
            syllables = lazy_pinyin(
                value, style=Style.TONE3, neutral_tone_with_five=True, tone_sandhi=True
            )
            for char, syllable in zip(value, syllables, strict=True):
                if _SYLLABLE.fullmatch(syllable):
                    words.append(syllable)
                else:
                    unreadable.append(char)
        elif kind == "digits":
            words.append(spoken_digits(value))
        elif kind == "latin":
            words.extend(value.lower())  # spelt letter by letter, as an acronym is
        elif kind == "space":
            continue
        elif value in SYMBOLS:
            words.append(SYMBOLS[value])
        elif value in SHORT_PAUSE or value in LONG_PAUSE:
            _pause(words, "." if value in LONG_PAUSE else ",")
        elif value not in SILENT:
            unreadable.append(value)
    if unreadable:
        raise UnreadableText(list(dict.fromkeys(unreadable)))
    return " ".join(words)


def spoken_digits(digits: str) -> str:
    """A run of ASCII digits as a hotline reads it (see the module's docstring)."""
    if digits in SPOKEN_NUMBERS:
        return SPOKEN_NUMBERS[digits]
    if len(digits) == 1:
        return DIGITS[int(digits)]
    return " ".join(YAO if d == "1" else DIGITS[int(d)] for d in digits)


def _pause(words: list[str], mark: str) -> None:
    """Attach a pause to the last word; a longer pause wins over a shorter one."""
    if not words:
        return
    last = words[-1]
    if last[-1] in ",.":
        if mark == "." and last[-1] == ",":
            words[-1] = last[:-1] + "."
        return
    words[-1] = last + mark
