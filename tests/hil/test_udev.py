"""The Linux udev rules: every Particle device in both modes, usable without root, ignored by ModemManager."""

from __future__ import annotations

import fnmatch
import re
from pathlib import Path

import pytest

from hardware.platforms import PLATFORMS
from station.host_setup.udev import RULES_NAME, UdevInstallError, install_rules, main, udev_rules

pytestmark = pytest.mark.hil

_RULE = re.compile(r'ATTRS\{idVendor\}=="([0-9a-f]{4})", ATTRS\{idProduct\}=="([^"]+)"')


def _matched(vendor: int, product: int) -> bool:
    return any(vid == f"{vendor:04x}" and fnmatch.fnmatchcase(f"{product:04x}", pattern)
               for vid, pattern in _RULE.findall(udev_rules()))


def test_rules_match_every_platform_in_normal_and_dfu_mode() -> None:
    missing = [
        (p.name, mode) for p in PLATFORMS for mode, pid in (("normal", p.usb_product_id), ("dfu", p.dfu_product_id))
        if pid is not None and not _matched(p.usb_vendor_id, pid)
    ]
    assert missing == []


def test_rules_do_not_match_other_vendors_devices() -> None:
    assert not _matched(0x1D50, 0x6089)  # another 1d50 product (not the Spark Core)
    assert not _matched(0x0483, 0xDF11)  # an STM32 in its ROM DFU bootloader


def test_every_rule_opens_the_device_to_users_and_tells_modemmanager_to_ignore_it() -> None:
    rules = [line for line in udev_rules().splitlines() if line and not line.startswith("#")]
    assert rules and all('MODE="0666"' in r and 'ENV{ID_MM_DEVICE_IGNORE}="1"' in r for r in rules)


def test_print_mode_writes_the_rules_to_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--print"]) == 0
    assert capsys.readouterr().out == udev_rules()


def test_install_writes_the_rules_file_and_reloads_udev(tmp_path: Path) -> None:
    reloads: list[str] = []
    target = install_rules(tmp_path / "rules.d", reload=lambda: reloads.append("reload"))
    assert target == tmp_path / "rules.d" / RULES_NAME
    assert target.read_text(encoding="utf-8") == udev_rules()
    assert reloads == ["reload"]


def test_install_replaces_an_outdated_rules_file(tmp_path: Path) -> None:
    (tmp_path / RULES_NAME).write_text("# old rules\n", encoding="utf-8")
    install_rules(tmp_path, reload=None)
    assert (tmp_path / RULES_NAME).read_text(encoding="utf-8") == udev_rules()


def test_install_into_an_unusable_folder_says_what_failed(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("", encoding="utf-8")
    with pytest.raises(UdevInstallError, match=rf"cannot write {re.escape(str(blocker / RULES_NAME))}"):
        install_rules(blocker, reload=None)
