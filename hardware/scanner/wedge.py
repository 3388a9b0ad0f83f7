"""Assemble keyboard-wedge key presses into label scans and typed text, telling a scanner from a person by key timing.

A USB scanner in keyboard mode "types" a whole label in a burst, a few milliseconds between keys, often behind an
AIM symbology prefix (``]d2`` = Data Matrix) and followed by a terminator (CR, LF, CRLF or TAB). A person types
tens to hundreds of milliseconds apart. Key presses are held only until the gap after them shows which they were.

The GUI feeds every key press with the time it happened (the event's own timestamp: the clock is the caller's), and
calls ``poll`` from a timer (``deadline`` says when) so a burst without terminator, or a lone typed key, is released.
Pure Python; no Qt.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from hardware.identifiers import LabelScan
from hardware.scanner.labels import read_label

MAX_SCAN_GAP = 0.05
"""Seconds: keys closer than this are one burst. Scanners send a key every few ms; people rarely type 6 this fast."""
MIN_SCAN_LENGTH = 6
"""A burst needs this many characters to count as a scan (a person's key rollover gives two or three)."""
TERMINATORS = {"\r": "Enter", "\n": "Enter", "\t": "Tab"}
"""Characters that end a scan, and the key a person pressed when they come slowly."""
TERMINATOR_KEYS = {"Enter": "\r", "Return": "\r", "Tab": "\t"}
MODIFIER_KEYS = frozenset({"Shift", "Control", "Alt", "AltGr", "Meta", "CapsLock", "NumLock", "Super"})
"""Keys a scanner presses itself (Shift for capitals); they neither end nor interrupt a burst."""
_AIM = re.compile(r"\]([A-Za-z][0-9A-Za-z])")


@dataclass(frozen=True)
class ScannedLabel:
    """A burst that held a Particle label."""

    label: LabelScan
    at: float
    aim: str | None = None
    """The AIM symbology identifier the scanner sent (``d2`` for Data Matrix), if any."""


@dataclass(frozen=True)
class RejectedScan:
    """A burst that was a scan but not a usable Particle label: the reason says why and what to do."""

    reason: str
    at: float


@dataclass(frozen=True)
class TypedText:
    """Printable characters a person typed, in order."""

    text: str
    at: float


@dataclass(frozen=True)
class TypedKey:
    """A key a person pressed that is not text: ``Enter``, ``Tab``, ``Backspace``, ``Escape``, arrows, ..."""

    key: str
    at: float


WedgeEvent = ScannedLabel | RejectedScan | TypedText | TypedKey


class WedgeAssembler:
    """Turns timed key presses into ScannedLabel / RejectedScan events (bursts) and TypedText / TypedKey (a person)."""

    def __init__(self, *, max_scan_gap: float = MAX_SCAN_GAP, min_scan_length: int = MIN_SCAN_LENGTH) -> None:
        if max_scan_gap <= 0 or min_scan_length < 2:
            raise ValueError("max_scan_gap must be positive and min_scan_length at least 2")
        self._gap = max_scan_gap
        self._min = min_scan_length
        self._run: list[str] = []
        """Characters whose gaps so far are all burst-like, not yet known to be a scan or typing."""
        self._last_at: float | None = None
        self._suffix_open = False
        """True right after a scan ended at a terminator: a second terminator (the LF of CRLF) belongs to it."""

    @property
    def pending(self) -> str:
        """Characters held back until the next gap shows whether a scanner or a person sent them."""
        return "".join(self._run)

    def deadline(self) -> float | None:
        """When ``poll`` will release the held characters; None when nothing is held."""
        if not self._run or self._last_at is None:
            return None
        return self._last_at + self._gap

    def char(self, char: str, at: float) -> list[WedgeEvent]:
        """A key press that produced the text ``char`` (one character) at time ``at`` (seconds)."""
        if len(char) != 1:
            raise ValueError(f"char() takes one character, got {char!r}; use key() for named keys")
        events = self._after_gap(at)
        continuing = self._last_at is not None and 0 <= at - self._last_at <= self._gap
        self._last_at = at
        if char not in TERMINATORS:
            self._suffix_open = False
            self._run.append(char)
            return events
        if self._suffix_open and continuing:
            self._suffix_open = False
            return events
        if len(self._run) >= self._min and continuing:
            events.append(self._scan(at))
            self._suffix_open = True
            return events
        events.extend(self._typed(at))
        events.append(TypedKey(TERMINATORS[char], at))
        return events

    def key(self, name: str, at: float) -> list[WedgeEvent]:
        """A key press without text (Qt key name such as ``Backspace``, ``Escape``, ``Enter``, ``Left``)."""
        if name in MODIFIER_KEYS:
            return []
        if name in TERMINATOR_KEYS:
            return self.char(TERMINATOR_KEYS[name], at)
        events = self._after_gap(at)
        self._suffix_open = False
        self._last_at = at
        if len(self._run) >= self._min:
            count = len(self._run)
            self._run.clear()
            events.append(
                RejectedScan(f"scan interrupted by the {name} key after {count} characters; scan the label again", at)
            )
        else:
            events.extend(self._typed(at))
        events.append(TypedKey(name, at))
        return events

    def poll(self, now: float) -> list[WedgeEvent]:
        """Release what the silence since the last key has decided: a burst without terminator, or typed text."""
        return self._after_gap(now)

    def _after_gap(self, now: float) -> list[WedgeEvent]:
        if self._last_at is None or 0 <= now - self._last_at <= self._gap:
            return []
        self._suffix_open = False
        if not self._run:
            return []
        if len(self._run) >= self._min:
            return [self._scan(self._last_at)]
        return self._typed(self._last_at)

    def _scan(self, at: float) -> ScannedLabel | RejectedScan:
        text = "".join(self._run)
        self._run.clear()
        aim = _AIM.match(text)
        payload = text[aim.end():] if aim else text
        read = read_label(payload)
        if isinstance(read, LabelScan):
            return ScannedLabel(read, at, aim.group(1) if aim else None)
        return RejectedScan(f"{read.message}; scan a Particle device label", at)

    def _typed(self, at: float) -> list[WedgeEvent]:
        if not self._run:
            return []
        text = "".join(self._run)
        self._run.clear()
        return [TypedText(text, at)]
