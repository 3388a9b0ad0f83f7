"""What decoding one image gives: each code's text as a Particle label or a rejection, and where the code is."""

from __future__ import annotations

import enum
import math
from collections.abc import Iterator
from dataclasses import dataclass

from hardware.identifiers import LabelScan
from hardware.scanner.labels import LabelRejection
from hardware.scanner.regions import Box

NO_LABEL_FOUND = "no label found"


class DecodeStage(enum.Enum):
    """The search stage that produced a frame's codes."""

    LAST_REGION = "last-region"
    CANDIDATES = "candidates"
    FULL_FRAME = "full-frame"
    NONE = "none"


@dataclass(frozen=True)
class CodePosition:
    """Where a symbol sits in its image: centre and side in pixels (origin top-left, y down), rotation in degrees.

    ``angle`` is counter-clockwise, 0 when the symbol's solid L finder has its foot along the bottom.
    """

    x: float
    y: float
    size: float
    angle: float

    @property
    def box(self) -> Box:
        """(left, top, right, bottom) that encloses the symbol at any rotation."""
        half = self.size * math.sqrt(0.5)
        return (
            math.floor(self.x - half),
            math.floor(self.y - half),
            math.ceil(self.x + half),
            math.ceil(self.y + half),
        )

    @property
    def degrees(self) -> int:
        """The angle rounded to whole degrees, 0-359."""
        return round(self.angle) % 360

    def as_dict(self) -> dict[str, float]:
        return {"x": round(self.x, 1), "y": round(self.y, 1), "size": round(self.size, 1), "angle": self.degrees}


@dataclass(frozen=True)
class FoundLabel:
    """A Particle label read from an image, and where it is."""

    label: LabelScan
    position: CodePosition


@dataclass(frozen=True)
class RejectedCode:
    """A data-matrix code that decodes but is not a Particle label, and where it is."""

    rejection: LabelRejection
    position: CodePosition

    @property
    def reason(self) -> str:
        return self.rejection.message


DecodedCode = FoundLabel | RejectedCode


@dataclass(frozen=True)
class LabelDecodeResult:
    """Everything decoded in one image: Particle labels and rejected codes in the order found."""

    codes: tuple[DecodedCode, ...]
    stage: DecodeStage
    elapsed: float
    """Seconds spent on the image."""
    cut_short: bool = False
    """True when the time budget ran out before the search was done: more codes may be in the image."""

    @property
    def labels(self) -> tuple[FoundLabel, ...]:
        return tuple(code for code in self.codes if isinstance(code, FoundLabel))

    @property
    def rejections(self) -> tuple[RejectedCode, ...]:
        return tuple(code for code in self.codes if isinstance(code, RejectedCode))

    @property
    def nothing_found(self) -> bool:
        return not self.codes

    @property
    def message(self) -> str:
        """One line for an operator: what was found, or that no label was found."""
        if self.nothing_found:
            searched = f" (gave up after {self.elapsed:.1f} s)" if self.cut_short else ""
            return (
                f"{NO_LABEL_FOUND}{searched}: no data-matrix code could be read; "
                "check the label is in view, in focus and lit"
            )
        parts = [str(code.label) if isinstance(code, FoundLabel) else code.reason for code in self.codes]
        return "; ".join(parts)

    def __iter__(self) -> Iterator[DecodedCode]:
        return iter(self.codes)

    def __len__(self) -> int:
        return len(self.codes)
