"""Which report of an operator's key code is acted on: the first report of
the last key for a code after which the operator leaves (one-key hand-overs);
for the others Asterisk's own detection in a two-party bridge (it has taken
the whole code), the release of the last key elsewhere (a ringing
consultation, a three-way room)."""

from __future__ import annotations

from transfer_shell_kit import OPERATOR, OPERATOR_CHAN, ami, legs_of, operator_leg

from startup.settings import DEFAULT_FEATURES_CONF
from transfer.core.key_codes import KeyDetector, KeyPress, load_key_codes
from transfer.core.keys import OperatorKeys


def keys() -> OperatorKeys:
    return OperatorKeys(KeyDetector(load_key_codes(DEFAULT_FEATURES_CONF)))


def press(
    pressing: OperatorKeys, code: str, *, bridges: tuple[str, ...], in_room: bool = False
) -> list[KeyPress | None]:
    """Every DTMF event of `code` as an RTP phone reports it (begin, end)."""
    legs = legs_of(operator_leg(bridges))
    out = []
    for n, digit in enumerate(code):
        for event in ("DTMFBegin", "DTMFEnd"):
            headers = {"Channel": OPERATOR_CHAN, "Digit": digit, "Direction": "Received"}
            msg = ami(event, Uniqueid=OPERATOR, **headers)
            out.append(pressing.digit(msg, legs, n * 0.2, lambda _: in_room))
    return out


def test_in_a_two_party_bridge_the_digits_wait_for_asterisks_detection() -> None:
    pressing = keys()
    assert press(pressing, "*2", bridges=("talk",)) == [None, None, None, None]
    # ... and its LdKey is then acted on, not taken for an echo.
    assert not pressing.is_echo(ami("UserEvent", Uniqueid=OPERATOR, Key="attended"), 0.5)


def test_outside_a_bridge_a_code_counts_on_the_release_of_its_last_digit() -> None:
    pressing = keys()
    assert press(pressing, "*0", bridges=()) == [None, None, None, KeyPress("cancel")]
    # Asterisk's report of the same code, should it come, is its echo.
    assert pressing.is_echo(ami("UserEvent", Uniqueid=OPERATOR, Key="cancel"), 0.5)


def test_in_a_three_way_room_the_digits_are_matched() -> None:
    pressing = keys()
    found = press(pressing, "*2", bridges=("room",), in_room=True)
    assert found == [None, None, None, KeyPress("attended")]


def test_a_one_key_hand_over_goes_at_once_even_in_a_bridge() -> None:
    """The operator leaves with it: nobody is left to hear the key's release."""
    pressing = keys()
    assert press(pressing, "*1", bridges=("talk",)) == [None, None, KeyPress("blind"), None]
    assert pressing.is_echo(ami("UserEvent", Uniqueid=OPERATOR, Key="blind"), 0.5)
    assert press(keys(), "*47", bridges=("talk",))[4] == KeyPress("unit", "07")


def test_a_sip_info_key_reported_by_its_end_alone_counts_once() -> None:
    pressing = keys()
    legs = legs_of(operator_leg(()))
    found = []
    for n, digit in enumerate("*0"):
        headers = {"Channel": OPERATOR_CHAN, "Digit": digit, "Direction": "Received"}
        msg = ami("DTMFEnd", Uniqueid=OPERATOR, **headers)
        found.append(pressing.digit(msg, legs, n * 0.2, lambda _: False))
    assert found == [None, KeyPress("cancel")]
