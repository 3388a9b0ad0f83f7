"""The operator window's keys: which open engineer mode, and the help text (F1) that names them all."""

from __future__ import annotations

ENGINEER_KEYS = ("F9", "Ctrl+E")
"""Keys that open engineer mode. F9 is no text field's key anywhere; Ctrl+E is also "end of line" in a line edit
under Linux desktops' key bindings, so the scan field lets it through to the window (ScanField.window_keys)."""

HELP = (
    "<b>Scanning</b>: scan the unit's label; the first free slot takes it. Typing a label and pressing Enter works"
    " too.<br><b>F2</b> simulate a scan · <b>Shift+F2</b> simulate a wrong label (demo, run --simulate)"
    " · <b>F3</b> camera on/off · <b>F4</b> operator (who is scanning)"
    "<br><b>Ctrl+1 … Ctrl+9</b> stop the unit in that slot (scan its label again to resume it)"
    "<br><b>F9</b> (or <b>Ctrl+E</b>) engineer mode (asks for the PIN) · <b>Esc</b> clear the scan field"
    " · <b>Ctrl+Q</b> quit"
    "<br>Closing the station stops running units; scanning them again resumes where they stopped."
)
