"""Mandarin text to what espeak-ng's pinyin voice is given: tone numbers,
readings chosen by word, the tone changes, digits as a hotline reads them,
punctuation as pauses, and characters it cannot read refused by name."""

from __future__ import annotations

import re

import pytest

from ivr_flows.core.pinyin import UnreadableText, spoken_digits, to_pinyin


@pytest.mark.parametrize(
    ("text", "spoken"),
    [
        ("您好", "nin2 hao3"),
        ("你好", "ni2 hao3"),  # two third tones: the first is said rising
        ("不要挂机", "bu2 yao4 gua4 ji1"),  # 不 before a fourth tone
        ("一个", "yi2 ge4"),
        ("银行", "yin2 hang2"),  # 行 by the word: not xing2
        ("重新选择", "chong2 xin1 xuan3 ze2"),  # 重 by the word: not zhong4
        ("您的工单", "nin2 de5 gong1 dan1"),  # the neutral tone written 5
        ("女士", "nv3 shi4"),  # ü as v: the voice misreads "nü3"
    ],
)
def test_characters_become_pinyin_with_tone_numbers(text: str, spoken: str) -> None:
    assert to_pinyin(text) == spoken


@pytest.mark.parametrize(
    ("text", "spoken"),
    [
        ("110", "yao1 yao1 ling2"),
        ("12345", "yi1 er4 san1 si4 wu3"),
        ("119", "yao1 yao1 jiu3"),
        ("2026000123", "er4 ling2 er4 liu4 ling2 ling2 ling2 yao1 er4 san1"),
        ("请按1", "qing3 an4 yi1"),  # a lone digit, a key: 按一, not 按幺
        ("请按0", "qing3 an4 ling2"),
        ("１１０", "yao1 yao1 ling2"),  # full-width digits
        ("转接110报警服务台", "zhuan3 jie1 yao1 yao1 ling2 bao4 jing3 fu2 wu4 tai2"),
    ],
)
def test_digits_are_read_one_by_one_as_a_hotline_does(text: str, spoken: str) -> None:
    assert to_pinyin(text) == spoken


def test_no_number_is_left_to_the_voice() -> None:
    # espeak-ng would read 110 as 一百一十: no digit reaches it.
    spoken = to_pinyin("您好，这里是宝丰县12345政务服务便民热线，报警请拨110。")
    for word in spoken.replace(",", " ").replace(".", " ").split():
        assert re.fullmatch(r"[a-z]+[1-5]", word), word
    assert "yi1 er4 san1 si4 wu3" in spoken and "yao1 yao1 ling2" in spoken


@pytest.mark.parametrize(
    ("text", "spoken"),
    [
        ("您好，请稍候。", "nin2 hao3, qing3 shao1 hou4."),
        ("您好、请稍候；再见：", "nin2 hao3, qing3 shao1 hou4, zai4 jian4,"),
        ("您好！请稍候？", "nin2 hao3. qing3 shao1 hou4."),
        ("您好，。请稍候", "nin2 hao3. qing3 shao1 hou4"),  # the longer pause wins
        ("，您好", "nin2 hao3"),  # nothing to pause after
        ("“您好”（请稍候）", "nin2 hao3 qing3 shao1 hou4"),  # quotes and brackets are silent
        ("您 好", "nin2 hao3"),
    ],
)
def test_punctuation_becomes_pauses(text: str, spoken: str) -> None:
    assert to_pinyin(text) == spoken


def test_phone_keys_and_latin_letters() -> None:
    assert to_pinyin("按#结束") == "an4 jing3 hao4 jie2 shu4"
    assert to_pinyin("按*号") == "an4 xing1 hao4 hao4"
    assert to_pinyin("APP") == "a p p"  # spelt, as an acronym is


def test_unreadable_characters_are_named() -> None:
    with pytest.raises(UnreadableText) as caught:
        to_pinyin("您好😀，请按@键😀")
    assert caught.value.characters == ["😀", "@"]
    assert "U+1F600" in str(caught.value)


@pytest.mark.parametrize(
    ("digits", "spoken"),
    [("7", "qi1"), ("1", "yi1"), ("10", "yao1 ling2"), ("12345", "yi1 er4 san1 si4 wu3")],
)
def test_spoken_digits(digits: str, spoken: str) -> None:
    assert spoken_digits(digits) == spoken
