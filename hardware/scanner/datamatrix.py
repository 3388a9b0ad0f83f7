"""Decode data-matrix labels in images and camera frames with libdmtx: last hit first, then dense patches, then all.

libdmtx is slow on frames with many straight edges (a whole 1280x720 bench photo can take minutes), so a frame is
searched in stages, each bounded by what is left of the time budget:

1. ``last-region``: the box where the previous frame's label was (a label held under a camera barely moves);
2. ``candidates``: edge-dense patches found on a reduced copy of the frame (``regions.find_candidates``);
3. ``full-frame``: the whole frame, first with libdmtx's ``shrink`` 2 (big symbols), then at full resolution.

A later stage runs only when the earlier ones found nothing, so the slow full-frame search is a fallback.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable

from PIL import Image

from hardware.errors import HardwareError
from hardware.identifiers import LabelScan
from hardware.scanner.decoded import (
    NO_LABEL_FOUND,
    CodePosition,
    DecodedCode,
    DecodeStage,
    FoundLabel,
    LabelDecodeResult,
    RejectedCode,
)
from hardware.scanner.images import ImageSource, LabelImageError, load_gray
from hardware.scanner.labels import read_label
from hardware.scanner.regions import Box, find_candidates


class LibdmtxMissingError(HardwareError, ImportError):
    """Label decoding cannot work here: the libdmtx system library (or the pylibdmtx package) is not installed.

    Raised when this module is imported, so only what decodes labels (the ``decode`` command, the camera) fails;
    the message is one line that names what to install.
    """


try:
    from pylibdmtx import pylibdmtx
except ImportError as exc:  # pylibdmtx raises ImportError when it cannot load libdmtx.so
    if exc.name is not None and exc.name.split(".")[0] == "pylibdmtx":
        raise LibdmtxMissingError("label decoding needs the pylibdmtx package: pip install pylibdmtx") from exc
    raise LibdmtxMissingError("label decoding needs the libdmtx library: sudo apt-get install libdmtx0b") from exc

__all__ = [
    "LIVE_TIME_BUDGET",
    "NO_LABEL_FOUND",
    "STILL_TIME_BUDGET",
    "CodePosition",
    "DecodeStage",
    "DecodedCode",
    "FoundLabel",
    "ImageSource",
    "LabelDecodeResult",
    "LabelDecoder",
    "LabelImageError",
    "LibdmtxMissingError",
    "RejectedCode",
    "decode_labels",
    "load_gray",
]

LIVE_TIME_BUDGET = 0.1
"""Seconds a live camera frame may take: the next frame is already waiting."""
STILL_TIME_BUDGET = 3.0
"""Seconds a still photo (a file, a tray picture) may take."""
_SHRINK_ABOVE = 480
"""Crops whose long side exceeds this many pixels are tried with libdmtx's shrink 2 first (big modules)."""
_PATCH_SHARE = 0.5
"""A patch may use at most this share of the time left (but see _PATCH_MIN_TIME)."""
_PATCH_MIN_TIME = 0.03
"""Seconds a patch may always use, if the budget has them: enough to read a small symbol."""
_ROOM_FOR_ANOTHER = 2.5
"""A patch this many times the area of the symbol read in it may hold another symbol."""
_ZOOM = 1.5
_ZOOM_AT_MOST = 240
"""Patches up to this many pixels across hold small symbols, which libdmtx locks onto faster when enlarged by _ZOOM
(measured on the benchmark frames: same median, about half the slowest times)."""
_REGION_MARGIN = 0.6
"""The last hit's box grows by this fraction of the symbol's size on each side before it is searched again."""


class LabelDecoder:
    """Decodes frame after frame, searching first where the last label was found.

    ``max_labels`` stops the search once that many codes are found (1 for a live camera; None finds every code, as
    for a tray photo). ``time_budget`` bounds the seconds spent per image (None: no bound). ``clock`` is the time
    seam, in seconds. Not thread-safe: give each camera (or frame worker) its own decoder.
    """

    def __init__(
        self,
        *,
        max_labels: int | None = 1,
        time_budget: float | None = LIVE_TIME_BUDGET,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        if max_labels is not None and max_labels < 1:
            raise ValueError(f"max_labels must be at least 1 or None, got {max_labels}")
        self._max_labels = max_labels
        self._budget = time_budget
        self._clock = clock
        self._last_boxes: tuple[Box, ...] = ()

    @property
    def last_regions(self) -> tuple[Box, ...]:
        """Boxes of the codes found in the most recent image that had any; searched first next time."""
        return self._last_boxes

    def forget(self) -> None:
        """Drop the remembered region, e.g. when the camera or the fixture moved."""
        self._last_boxes = ()

    def decode(self, image: ImageSource) -> LabelDecodeResult:
        """Find and read the data-matrix codes in ``image``; raises LabelImageError when it cannot be read."""
        started = self._clock()
        search = _Search(load_gray(image), started, self._budget, self._max_labels, self._clock)
        if self._last_boxes:
            search.stage = DecodeStage.LAST_REGION
            search.patches(_grow(box, search.gray.size) for box in self._last_boxes)
        if not search.enough():
            search.stage = DecodeStage.CANDIDATES
            search.patches(candidate.box for candidate in find_candidates(search.gray))
        if not search.found:
            search.stage = DecodeStage.FULL_FRAME
            search.full_frame()
        if search.found:
            self._last_boxes = tuple(code.position.box for code in search.found)
        elapsed = self._clock() - started
        cut_short = not search.enough() and self._budget is not None and elapsed >= self._budget
        return LabelDecodeResult(tuple(search.found), search.first_stage, elapsed, cut_short)


def decode_labels(
    image: ImageSource, *, max_labels: int | None = None, time_budget: float | None = STILL_TIME_BUDGET
) -> LabelDecodeResult:
    """Find and read every data-matrix code in one image (a file path, a Pillow image or a numpy array)."""
    return LabelDecoder(max_labels=max_labels, time_budget=time_budget).decode(image)


def _grow(box: Box, size: tuple[int, int]) -> Box:
    left, top, right, bottom = box
    pad = int(max(right - left, bottom - top) * _REGION_MARGIN) + 8
    return (max(0, left - pad), max(0, top - pad), min(size[0], right + pad), min(size[1], bottom + pad))


class _Search:
    """The state of one image's search: what was found so far and how much time is left."""

    def __init__(
        self,
        gray: Image.Image,
        started: float,
        budget: float | None,
        max_labels: int | None,
        clock: Callable[[], float],
    ) -> None:
        self.gray = gray
        self.found: list[DecodedCode] = []
        self.stage = DecodeStage.NONE
        self.first_stage = DecodeStage.NONE
        """The stage that read the first code."""
        self._deadline = None if budget is None else started + budget
        self._max = max_labels
        self._clock = clock

    def enough(self) -> bool:
        return self._max is not None and len(self.found) >= self._max

    def _timeout_ms(self, share: float = 1.0) -> int | None:
        """libdmtx's timeout for the next call: None (no limit), or at least 1 ms (0 would mean no limit).

        ``share`` below 1 keeps one bad patch (dense print, no symbol) from using up the whole budget.
        """
        if self._deadline is None:
            return None
        left = self._deadline - self._clock()
        return max(1, int(min(left, max(left * share, _PATCH_MIN_TIME)) * 1000))

    def _out_of_time(self) -> bool:
        return self._deadline is not None and self._clock() >= self._deadline

    def patches(self, boxes: Iterable[Box]) -> None:
        """Read the patches in ``boxes`` one code at a time, each patch limited to a share of the time left."""
        for box in boxes:
            if self.enough() or self._out_of_time():
                return
            if any(_contains(_grow(code.position.box, self.gray.size), box) for code in self.found):
                continue  # a patch around a symbol already read
            self._read_patch(self.gray.crop(box), (box[0], box[1]))

    def full_frame(self) -> None:
        """Read the whole image: the fallback, with whatever time is left."""
        for shrink in _shrinks(self.gray):
            if self.found or self._out_of_time():
                return
            wanted = None if self._max is None else self._max - len(self.found)
            for hit in pylibdmtx.decode(self.gray, timeout=self._timeout_ms(), shrink=shrink, max_count=wanted):
                self._add(hit, (0, 0), self.gray.height)

    def _read_patch(self, patch: Image.Image, origin: tuple[int, int]) -> None:
        zoom = _ZOOM if max(patch.size) <= _ZOOM_AT_MOST else 1.0
        if zoom != 1.0:
            patch = patch.resize((round(patch.width * zoom), round(patch.height * zoom)), Image.Resampling.BILINEAR)
        for shrink in _shrinks(patch):
            while not self.enough() and not self._out_of_time():
                hits = pylibdmtx.decode(patch, timeout=self._timeout_ms(_PATCH_SHARE), shrink=shrink, max_count=1)
                if not hits:
                    break
                position = self._add(hits[0], origin, patch.height, zoom)
                symbol = _grow(_to_patch(position.box, origin, zoom), patch.size)
                if _area(symbol) * _ROOM_FOR_ANOTHER > _area((0, 0, *patch.size)):
                    return
                # Two labels side by side make one patch: blank the symbol just read and look again.
                patch = patch.copy()
                patch.paste(255, symbol)
            else:
                return

    def _add(self, hit: pylibdmtx.Decoded, origin: tuple[int, int], height: int, zoom: float = 1.0) -> CodePosition:
        position = _position(hit.rect, origin, height, zoom)
        if not self._seen(position):
            if not self.found:
                self.first_stage = self.stage
            self.found.append(_code(hit.data.decode("utf-8", errors="replace"), position))
        return position

    def _seen(self, position: CodePosition) -> bool:
        # Overlapping patches can read the same symbol twice; two symbols never share a centre.
        return any(
            math.hypot(code.position.x - position.x, code.position.y - position.y)
            < max(code.position.size, position.size) / 2
            for code in self.found
        )


def _shrinks(image: Image.Image) -> tuple[int, ...]:
    """libdmtx shrink factors to try: a big image first at half size, which finds big symbols fast."""
    return (2, 1) if max(image.size) > _SHRINK_ABOVE else (1,)


def _to_patch(box: Box, origin: tuple[int, int], zoom: float) -> Box:
    """A box in image pixels as a box in a patch cut at ``origin`` and scaled by ``zoom``."""
    left, top, right, bottom = box
    x, y = origin
    return (
        math.floor((left - x) * zoom),
        math.floor((top - y) * zoom),
        math.ceil((right - x) * zoom),
        math.ceil((bottom - y) * zoom),
    )


def _area(box: Box) -> int:
    return max(0, box[2] - box[0]) * max(0, box[3] - box[1])


def _code(text: str, position: CodePosition) -> DecodedCode:
    read = read_label(text)
    if isinstance(read, LabelScan):
        return FoundLabel(read, position)
    return RejectedCode(read, position)


def _contains(outer: Box, inner: Box) -> bool:
    return outer[0] <= inner[0] and outer[1] <= inner[1] and inner[2] <= outer[2] and inner[3] <= outer[3]


def _position(rect: pylibdmtx.Rect, origin: tuple[int, int], height: int, zoom: float = 1.0) -> CodePosition:
    """A libdmtx rect (two opposite corners of the symbol, y up from the bottom) in a patch cut at ``origin`` and
    scaled by ``zoom``, as a position in the whole image."""
    x0, y0 = rect.left, height - rect.top
    x1, y1 = rect.left + rect.width, height - (rect.top + rect.height)
    angle = round(math.degrees(math.atan2(y0 - y1, x1 - x0)) - 45.0, 6) % 360.0
    return CodePosition(
        x=origin[0] + (x0 + x1) / 2 / zoom,
        y=origin[1] + (y0 + y1) / 2 / zoom,
        size=math.hypot(x1 - x0, y1 - y0) * math.sqrt(0.5) / zoom,
        angle=angle,
    )
