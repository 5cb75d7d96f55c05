"""One decoded AMI message: an ordered list of headers, some of which repeat.

Pure data, no I/O. Header names are matched case-insensitively (Asterisk is not
consistent about case); values are kept exactly as sent.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

# Headers that carry who calls (CallerIDNum, ConnectedLineName,
# TransfereeCallerIDNum, ...): left out of repr(), which ends up in logs.
_PERSONAL = re.compile(r"(callerid|connectedline)(num|name)$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class AmiMessage:
    headers: tuple[tuple[str, str], ...]
    # Built once (thousands of messages a second): the lower-cased names, in
    # order, and lower-cased name -> first value.
    _names: tuple[str, ...] = field(init=False, repr=False, compare=False)
    _first: dict[str, str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not hasattr(self, "_names"):  # from_lowered() set them already
            self._index(tuple([name.lower() for name, _ in self.headers]))

    def _index(self, names: tuple[str, ...]) -> None:
        object.__setattr__(self, "_names", names)
        # Reversed, so that the first of a repeated name wins.
        values = [value for _, value in reversed(self.headers)]
        object.__setattr__(self, "_first", dict(zip(reversed(names), values, strict=True)))

    @classmethod
    def from_lowered(
        cls, headers: tuple[tuple[str, str], ...], names: tuple[str, ...]
    ) -> AmiMessage:
        """For the framer, which already knows each name's lower-case form."""
        message = cls.__new__(cls)
        object.__setattr__(message, "headers", headers)
        message._index(names)
        return message

    @classmethod
    def from_pairs(cls, pairs: Iterable[tuple[str, str]]) -> AmiMessage:
        return cls(tuple(pairs))

    @classmethod
    def build(cls, **headers: str) -> AmiMessage:
        """Convenience for tests and actions: AmiMessage.build(Event="Hangup", Uniqueid="1")."""
        return cls(tuple(headers.items()))

    def __repr__(self) -> str:
        shown = tuple((k, "…" if _PERSONAL.search(k) else v) for k, v in self.headers)
        return f"AmiMessage(headers={shown!r})"

    def get(self, name: str, default: str | None = None) -> str | None:
        return self._first.get(name.lower(), default)

    def __getitem__(self, name: str) -> str:
        try:
            return self._first[name.lower()]
        except KeyError:
            raise KeyError(name) from None

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._first

    def get_all(self, name: str) -> list[str]:
        wanted = name.lower()
        if wanted not in self._first:
            return []
        return [v for key, (_, v) in zip(self._names, self.headers, strict=True) if key == wanted]

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self.headers)

    @property
    def event(self) -> str | None:
        return self.get("Event")

    @property
    def response(self) -> str | None:
        return self.get("Response")

    @property
    def action_id(self) -> str | None:
        return self.get("ActionID")

    def channel_variables(self, header: str = "ChanVariable") -> dict[str, str]:
        """`ChanVariable: NAME=value` headers (from manager.conf channelvars) as a dict.

        Dial events carry the destination's as `DestChanVariable`.
        """
        found: dict[str, str] = {}
        for raw in self.get_all(header):
            name, sep, value = raw.partition("=")
            if sep:
                found[name] = value
        return found
