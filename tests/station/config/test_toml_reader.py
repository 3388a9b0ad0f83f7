"""The typed TOML reader shared by station profiles and HIL rig files: values by type, errors with key and line."""

from __future__ import annotations

import enum
import tomllib
from pathlib import Path

import pytest

from station.config.toml_reader import TomlReader, read_toml
from station.errors import StationError

TEXT = """[station]
name = "Line 1"
slots = 2
mode = "fast"

[[devices]]
name = "a"

[[devices]]
name = "b"
id = 7
"""


class FileError(StationError):
    pass


class Mode(enum.Enum):
    FAST = "fast"
    SLOW = "slow"


def reader(text: str = TEXT) -> TomlReader:
    return TomlReader(Path("f.toml"), text, tomllib.loads(text), FileError)


def test_values_by_type_with_defaults() -> None:
    station = reader().table("station")
    assert station.text("name", required=True) == "Line 1"
    assert station.text("missing") is None and station.text("missing", "x") == "x"
    assert station.integer("slots", minimum=1) == 2 and station.integer("missing", 5) == 5
    assert station.choice("mode", Mode, Mode.SLOW) is Mode.FAST
    assert station.boolean("missing", True) is True
    assert station.text_list("missing") == ()
    assert reader().table("absent").data == {}


def test_errors_name_the_file_key_and_line() -> None:
    r = reader()
    with pytest.raises(FileError, match=r"^f.toml, line 3: station.slots: must be at least 3, got 2$"):
        r.table("station").integer("slots", minimum=3)
    with pytest.raises(FileError, match=r"line 4: station.mode: must be one of 'fast', 'slow', got 'turbo'"):
        reader(TEXT.replace('"fast"', '"turbo"')).table("station").choice("mode", Mode, Mode.SLOW)
    entry = r.table("devices[2]", r.data["devices"][1])
    with pytest.raises(FileError, match=r"line 11: devices\[2\].id: must be a non-empty text in quotes, got 7"):
        entry.text("id")
    first = r.table("devices[1]", r.data["devices"][0])
    with pytest.raises(FileError, match=r"line 6: devices\[1\].id: missing; add `id = \"...\"` under "
                                        r"\[\[devices\]\] \(devices\[1\]\)"):
        first.text("id", required=True)


def test_unknown_sections_and_keys_are_refused() -> None:
    known = {"station": {"name", "slots", "mode"}, "devices": {"name", "id"}}
    reader().check_keys(known, arrays={"devices": "device"})
    with pytest.raises(FileError, match=r"line 1: station: unknown section \[station\]; known sections: devices"):
        reader().check_keys({"devices": {"name", "id"}}, arrays={"devices": "device"})
    with pytest.raises(FileError, match=r"line 11: devices\[2\].id: unknown key; known keys in \[devices\]: name"):
        reader().check_keys({"station": {"name", "slots", "mode"}, "devices": {"name"}}, arrays={"devices": "device"})
    with pytest.raises(FileError, match=r"devices: must be \[\[devices\]\] tables, one per device"):
        reader('devices = "a"\n').check_keys(known, arrays={"devices": "device"})


def test_reading_a_file_says_what_is_wrong(tmp_path: Path) -> None:
    with pytest.raises(FileError, match=r"rig file .*nope.toml does not exist; make one"):
        read_toml(tmp_path / "nope.toml", error=FileError, what="rig file", missing_hint="; make one")
    bad = tmp_path / "bad.toml"
    bad.write_text("[station\n")
    with pytest.raises(FileError, match="bad.toml: not valid TOML"):
        read_toml(bad, error=FileError, what="rig file")
    good = tmp_path / "good.toml"
    good.write_text(TEXT)
    assert read_toml(good, error=FileError, what="rig file")[1]["station"]["slots"] == 2
