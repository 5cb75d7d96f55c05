"""Typed errors of the FastAGI protocol core (h11's split: whose fault was it?)."""

from __future__ import annotations

__all__ = ["AgiLocalProtocolError", "AgiProtocolError", "AgiRemoteProtocolError"]


class AgiProtocolError(Exception):
    """Base of the FastAGI protocol errors. Messages never carry a channel's data
    (caller numbers, names, variable values): they are safe to log."""


class AgiRemoteProtocolError(AgiProtocolError):
    """The peer broke the protocol: not an AGI environment, an endless line, a
    reply that is not an AGI reply. The session cannot go on."""


class AgiLocalProtocolError(AgiProtocolError, ValueError):
    """We were about to send something the protocol cannot carry safely: a
    variable name that is not a plain name, a value with a control character
    (a newline would start a second command), a line longer than Asterisk reads.
    Nothing was sent."""
