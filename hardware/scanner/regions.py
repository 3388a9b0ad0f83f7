"""Find the parts of a grayscale image dense in edges, where a data-matrix symbol may sit, cheaply and before libdmtx.

libdmtx tries to trace a finder pattern from every edge pixel it meets, so a frame with long straight edges (a tray,
a PCB, a printed box) costs it seconds. A symbol is a patch where edges are dense in every direction; measuring edge
density on a reduced image takes a few milliseconds and points libdmtx at the few patches worth its time.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from PIL import Image, ImageChops, ImageFilter

Box = tuple[int, int, int, int]
"""(left, top, right, bottom) in pixels, right and bottom exclusive, as Pillow's ``crop`` takes it."""

ANALYSIS_WIDTH = 640
"""Images wider than this are reduced to about this width before edges are measured."""
CELL = 8
"""Side of the square (in analysis pixels) over which edge density is averaged."""
DENSITY_FLOOR = 6
"""Mean grey step (0-255) below which a cell is never a candidate: sensor noise (about 2) and smooth shading."""
DENSITY_RATIO = 0.3
"""A cell is a candidate when its density is at least this fraction of the image's densest cell."""
MAX_CANDIDATES = 24


@dataclass(frozen=True)
class Candidate:
    """A patch that may hold a symbol: its box in the full image and how dense its edges are (higher first)."""

    box: Box
    score: int


def find_candidates(gray: Image.Image, *, margin: int | None = None) -> list[Candidate]:
    """Boxes around edge-dense patches of ``gray`` (mode ``L``), densest first, each grown by a quiet-zone margin."""
    if gray.mode != "L":
        raise ValueError(f"find_candidates needs a grayscale (L) image, got mode {gray.mode}")
    factor = max(1, round(gray.width / ANALYSIS_WIDTH))
    small = gray.reduce(factor) if factor > 1 else gray
    density = edge_density(small)
    # Dilate by one cell so the light and dark halves of one symbol, and a symbol split across cells, join up.
    joined = density.filter(ImageFilter.MaxFilter(3))
    cols, rows = density.size
    values = density.tobytes()
    spread = joined.tobytes()
    peak = max(values, default=0)
    threshold = max(DENSITY_FLOOR, int(peak * DENSITY_RATIO))
    if peak < threshold:
        return []
    scale = factor * CELL
    # The dilation already adds a cell on each side. Half a cell more keeps a small symbol's quiet zone without
    # giving libdmtx much more to search (wider margins measured slower, not more successful); a big patch (big
    # modules) gets a twelfth of its size, at least a module of quiet zone for libdmtx to find the symbol's edge.
    cell_pad = scale // 2 if margin is None else margin
    found: list[Candidate] = []
    seen = bytearray(cols * rows)
    for start in range(cols * rows):
        if seen[start] or spread[start] < threshold or values[start] < threshold:
            continue
        cells = _component(start, cols, rows, spread, threshold, seen)
        xs = [c % cols for c in cells]
        ys = [c // cols for c in cells]
        left, top, right, bottom = min(xs) * scale, min(ys) * scale, (max(xs) + 1) * scale, (max(ys) + 1) * scale
        pad = cell_pad if margin is not None else max(cell_pad, max(right - left, bottom - top) // 12)
        box = (max(0, left - pad), max(0, top - pad), min(gray.width, right + pad), min(gray.height, bottom + pad))
        found.append(Candidate(box, sum(values[c] for c in cells)))
    found.sort(key=lambda candidate: candidate.score, reverse=True)
    return found[:MAX_CANDIDATES]


def edge_density(gray: Image.Image) -> Image.Image:
    """Per CELL x CELL block, the weaker of the mean horizontal and mean vertical grey step (0-255).

    Taking the weaker direction keeps symbols and text (edges both ways) and drops straight lines, which are what
    makes libdmtx slow. Neighbour differences cost a fraction of a convolution and are enough to rank patches.
    """
    across = ImageChops.difference(gray, ImageChops.offset(gray, 1, 0))
    down = ImageChops.difference(gray, ImageChops.offset(gray, 0, 1))
    # offset() wraps around: the first column and row compare opposite borders of the image, so blank them.
    across.paste(0, (0, 0, 1, gray.height))
    down.paste(0, (0, 0, gray.width, 1))
    return ImageChops.darker(across.reduce(CELL), down.reduce(CELL))


def _component(start: int, cols: int, rows: int, spread: bytes, threshold: int, seen: bytearray) -> list[int]:
    """The 8-connected cells at or above ``threshold`` (in the dilated map) that include ``start``."""
    cells = [start]
    seen[start] = 1
    queue = deque([start])
    while queue:
        cell = queue.popleft()
        x, y = cell % cols, cell // cols
        for ny in range(max(0, y - 1), min(rows, y + 2)):
            for nx in range(max(0, x - 1), min(cols, x + 2)):
                neighbour = ny * cols + nx
                if not seen[neighbour] and spread[neighbour] >= threshold:
                    seen[neighbour] = 1
                    cells.append(neighbour)
                    queue.append(neighbour)
    return cells
