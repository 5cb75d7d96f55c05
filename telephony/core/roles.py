"""Who a channel is: its endpoint, role and trunk. Pure functions.

Asterisk attaches `LD_ROLE` / `LD_TRUNK` (set by pjsip.conf `set_var`) only
after the channel exists, so a channel's first event (Newchannel) carries them
empty. Until they appear, the endpoint name decides, by the naming rules of
asterisk-config/pjsip.conf.
"""

from __future__ import annotations

from dataclasses import dataclass

from common.vocabulary import Desk
from telephony.core.events import LegRole

# Channels that are Asterisk's own plumbing, never a person on the line.
PLUMBING_PREFIXES = ("Local/", "CBAnn/", "CBRec/", "Announcer/", "Recorder/", "Snoop/", "Message/")


@dataclass(frozen=True, slots=True)
class EndpointRules:
    """Endpoint-name prefix → role, and trunk endpoint → trunk."""

    role_prefixes: tuple[tuple[str, LegRole], ...] = (
        ("trunk-", LegRole.CITIZEN),
        ("op110-", LegRole.OPERATOR_110),
        ("op12345-", LegRole.OPERATOR_12345),
        ("unit-", LegRole.UNIT),
    )
    trunks: tuple[tuple[str, Desk], ...] = (
        ("trunk-110", Desk.D110),
        ("trunk-12345", Desk.D12345),
    )

    def role_of(self, endpoint: str | None) -> LegRole:
        if endpoint:
            for prefix, role in self.role_prefixes:
                if endpoint.startswith(prefix):
                    return role
        return LegRole.UNKNOWN

    def trunk_of(self, endpoint: str | None) -> Desk | None:
        return dict(self.trunks).get(endpoint or "")


def is_plumbing(channel: str) -> bool:
    return channel.startswith(PLUMBING_PREFIXES)


def endpoint_of(channel: str) -> str | None:
    """`PJSIP/op110-1-0000000a` → `op110-1` (the tech's unique suffix removed)."""
    _tech, sep, rest = channel.partition("/")
    if not sep or not rest:
        return None
    name, dash, suffix = rest.rpartition("-")
    if dash and suffix and all(c in "0123456789abcdef" for c in suffix.lower()):
        return name
    return rest


def parse_role(value: str | None) -> LegRole | None:
    try:
        return LegRole(value) if value else None
    except ValueError:
        return None


def parse_trunk(value: str | None) -> Desk | None:
    try:
        return Desk(value) if value else None
    except ValueError:
        return None
