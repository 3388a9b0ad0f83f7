"""Turn text read from a label (by a camera or a scanner) into a LabelScan or a rejection whose reason hides secrets."""

from __future__ import annotations

from dataclasses import dataclass

from hardware.errors import IdentifierError
from hardware.identifiers import LabelScan

NOT_PARTICLE = "not a Particle label"
# A token after the first space of this many letters and digits may be a (misread) mobile secret: never echo it.
_SECRET_LIKE_MIN = 8
_MASK = "***"


@dataclass(frozen=True)
class LabelRejection:
    """A code that was read but is not a Particle device label, with the parser's reason (secrets masked)."""

    reason: str

    @property
    def message(self) -> str:
        """The reason as one line that always says it is not a Particle label."""
        if NOT_PARTICLE in self.reason:
            return self.reason
        return f"{NOT_PARTICLE}: {self.reason}"

    def __str__(self) -> str:
        return self.message


def read_label(text: str) -> LabelScan | LabelRejection:
    """Parse ``text`` with ``LabelScan.parse``; a text it refuses becomes a rejection instead of an exception."""
    try:
        return LabelScan.parse(text)
    except IdentifierError as exc:
        return LabelRejection(redact(str(exc), text))


def redact(message: str, text: str) -> str:
    """Mask in ``message`` whatever of ``text`` could be a mobile secret: the token after the first space.

    The label parser quotes the payload it refuses (possibly truncated), and a label with a misread serial still
    carries a real secret after the space.
    """
    _, space, rest = text.strip(" \r\n\t").partition(" ")
    token = rest.split(" ", 1)[0]
    if not space or len(token) < _SECRET_LIKE_MIN or not (token.isascii() and token.isalnum()):
        return message
    for length in range(len(token), 3, -1):
        if token[:length] in message:
            return message.replace(token[:length], _MASK)
    return message
