"""Where a key stands in a TOML file, so that errors about profiles and rig files can name the line."""

from __future__ import annotations

import re

_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_DOTTED = re.compile(r"(\w+)(?:\[(\d+)\])?(?:\.(\w+))?")


def line_of(lines: list[str], dotted: str) -> int | None:
    """The 1-based line of ``table.key`` or ``table[n].key`` (n counts ``[[table]]`` entries from 1); the table's
    header line when the key is not written there (e.g. a missing key) or no key is given; None when neither is."""
    match = _DOTTED.fullmatch(dotted)
    if match is None:
        return None
    table, index, key = match.group(1), match.group(2), match.group(3)
    wanted = int(index) - 1 if index else 0
    seen, inside, header_line = -1, False, None
    for number, line in enumerate(lines, start=1):
        found = _HEADER.match(line)
        if found:
            inside = False
            if found.group(2) == table:
                seen += 1
                inside = seen == wanted
                header_line = number if inside else header_line
            continue
        if inside and key and re.match(rf"^\s*{re.escape(key)}\s*=", line):
            return number
    return header_line
