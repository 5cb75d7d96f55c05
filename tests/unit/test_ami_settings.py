"""AmiSettings and Secret: the secret is usable but never shown."""

from __future__ import annotations

import pickle

import pytest

from ami_client.settings import AmiSettings, Secret

SECRET = "s3cr3t-口令"


def test_secret_is_revealed_only_on_request() -> None:
    secret = Secret(SECRET)
    assert secret.reveal() == SECRET
    logged = "%s %r" % (secret, secret)  # noqa: UP031 - the way logging formats
    for shown in (repr(secret), str(secret), f"{secret}", f"{secret!r}", logged):
        assert SECRET not in shown
        assert "***" in shown


def test_settings_repr_hides_the_secret() -> None:
    settings = AmiSettings(secret=Secret(SECRET))
    assert SECRET not in repr(settings)
    assert SECRET not in str(settings)
    assert "username='liandong'" in repr(settings)


def test_settings_defaults() -> None:
    settings = AmiSettings()
    assert (settings.host, settings.port, settings.username) == ("127.0.0.1", 5038, "liandong")
    assert settings.event_mask == "on"
    assert settings.max_message_bytes == 256 * 1024
    assert (settings.backoff_initial, settings.backoff_max) == (0.5, 30.0)


def test_settings_compare_by_value_including_the_secret() -> None:
    assert AmiSettings(secret=Secret("a")) == AmiSettings(secret=Secret("a"))
    assert AmiSettings(secret=Secret("a")) != AmiSettings(secret=Secret("b"))


def test_secret_refuses_to_be_pickled() -> None:
    with pytest.raises(TypeError):
        pickle.dumps(Secret(SECRET))


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"action_timeout": 0}, "action_timeout must be > 0"),
        ({"ping_interval": -1.0}, "ping_interval must be > 0"),
        ({"backoff_initial": 5.0, "backoff_max": 1.0}, "must not exceed backoff_max"),
        ({"port": 70000}, "port must be 1..65535"),
        ({"max_message_bytes": 10}, "max_message_bytes must be at least 1024"),
        ({"username": "a\r\nAction: Originate"}, "username must be non-empty and on one line"),
    ],
)
def test_settings_refuse_nonsense_naming_the_field(
    overrides: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        AmiSettings(**overrides)  # type: ignore[arg-type]


def test_plain_string_secret_is_refused() -> None:
    with pytest.raises(TypeError, match="must be a Secret"):
        AmiSettings(secret=SECRET)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", ["a\r\nAction: Logoff", "a\nb", "a\rb"])
def test_a_secret_on_more_than_one_line_is_refused_without_showing_it(bad: str) -> None:
    with pytest.raises(ValueError, match="secret must be on one line") as caught:
        AmiSettings(secret=Secret(bad))
    assert bad not in str(caught.value)
