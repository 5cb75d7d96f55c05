"""The in-call key codes: read from features.conf, matched as digits arrive."""

from __future__ import annotations

from pathlib import Path

import pytest

from startup.settings import DEFAULT_FEATURES_CONF
from transfer.core.key_codes import KeyCodesError, KeyDetector, KeyPress, load_key_codes


def test_the_shipped_features_conf_defines_every_key() -> None:
    codes = load_key_codes(DEFAULT_FEATURES_CONF)
    assert codes["*1"] == KeyPress("blind") and codes["*2"] == KeyPress("attended")
    assert codes["*0"] == KeyPress("cancel") and codes["*3"] == KeyPress("conference")
    assert {code: press.unit for code, press in codes.items() if press.key == "unit"} == {
        f"*4{n}": f"0{n}" for n in range(1, 10)
    }


def test_a_malformed_key_line_is_refused_with_its_line_number(tmp_path: Path) -> None:
    conf = tmp_path / "features.conf"
    conf.write_text("[applicationmap]\nld_key_blind => *1,self,Dial(12345)\n", encoding="utf-8")
    with pytest.raises(KeyCodesError, match=r"features.conf:2: not a liandong key"):
        load_key_codes(conf)


def test_no_keys_or_no_file_is_a_clear_error(tmp_path: Path) -> None:
    conf = tmp_path / "features.conf"
    conf.write_text("[featuremap]\nblindxfer = #1\n", encoding="utf-8")
    with pytest.raises(KeyCodesError, match="no ld_key_"):
        load_key_codes(conf)
    with pytest.raises(KeyCodesError, match="cannot read"):
        load_key_codes(tmp_path / "missing.conf")


def detector() -> KeyDetector:
    return KeyDetector(load_key_codes(DEFAULT_FEATURES_CONF))


def test_a_code_fires_on_its_last_digit() -> None:
    keys = detector()
    assert keys.digit("op", "*", 0.0) is None
    assert keys.digit("op", "1", 0.2) == KeyPress("blind")
    # ... and only once: the next digits start afresh.
    assert keys.digit("op", "1", 0.4) is None


def test_a_code_that_starts_longer_ones_waits_for_them() -> None:
    keys = detector()
    assert [keys.digit("op", d, t) for d, t in (("*", 0.0), ("4", 0.2))] == [None, None]
    assert keys.digit("op", "7", 0.4) == KeyPress("unit", "07")


def test_digits_too_far_apart_do_not_make_a_code() -> None:
    keys = detector()
    keys.digit("op", "*", 0.0)
    assert keys.digit("op", "1", 2.0) is None  # more than 1.5 s later


def test_talking_digits_before_a_code_do_not_hide_it() -> None:
    keys = detector()
    for n, digit in enumerate("12*"):
        assert keys.digit("op", digit, n * 0.1) is None
    assert keys.digit("op", "3", 0.4) == KeyPress("conference")


def test_each_phone_types_its_own_code() -> None:
    keys = detector()
    keys.digit("op-a", "*", 0.0)
    assert keys.digit("op-b", "1", 0.1) is None
    assert keys.digit("op-a", "2", 0.2) == KeyPress("attended")
