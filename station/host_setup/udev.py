"""Linux udev rules for Particle devices: print them, or install them so the station and the HIL tests reach devices
without root and ModemManager leaves their serial ports alone.

    python -m station.host_setup.udev --print                # show the rules
    sudo .venv/bin/python -m station.host_setup.udev --install

Facts: particle-cli 3.43.1 assets/50-particle.rules and @particle/device-constants: VID 0x2B04 with PIDs
0xC000/0xD000 plus the platform id, the Spark Core on 1D50:607D/607F, MODE 0666 and ENV{ID_MM_DEVICE_IGNORE}="1".
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from hardware.platforms import PARTICLE_VENDOR_ID, SPARK_VENDOR_ID, by_name
from station.errors import StationError

RULES_NAME = "50-particle.rules"
RULES_DIR = Path("/etc/udev/rules.d")
PARTICLE_PRODUCT_PATTERN = "[cd]0??"
"""Normal mode is 0xC000 + platform id, DFU mode 0xD000 + platform id (ids below 256): every present and future
Particle platform."""


def _rule(vendor_id: int, product_pattern: str) -> str:
    return (
        f'SUBSYSTEMS=="usb", ATTRS{{idVendor}}=="{vendor_id:04x}", ATTRS{{idProduct}}=="{product_pattern}", '
        'MODE="0666", ENV{ID_MM_DEVICE_IGNORE}="1"'
    )


def udev_rules() -> str:
    """The rules file's text."""
    core = by_name("core")
    core_ids = [core.usb_product_id] + ([core.dfu_product_id] if core.dfu_product_id is not None else [])
    lines = [
        "# Particle devices in normal and DFU mode: usable without root (MODE 0666), and ModemManager must not probe",
        "# their serial ports (ID_MM_DEVICE_IGNORE), which would disturb the listening-mode console.",
        "# Written by particle-station (python -m station.host_setup.udev).",
        _rule(PARTICLE_VENDOR_ID, PARTICLE_PRODUCT_PATTERN),
        "# Spark Core (normal and DFU mode).",
        *(_rule(SPARK_VENDOR_ID, f"{pid:04x}") for pid in core_ids),
    ]
    return "\n".join(lines) + "\n"


class UdevInstallError(StationError):
    """The rules could not be installed; the message says what to do."""


def _reload_udev() -> None:
    for command in (["udevadm", "control", "--reload-rules"], ["udevadm", "trigger"]):
        try:
            subprocess.run(command, check=True, capture_output=True, timeout=30)
        except FileNotFoundError:
            raise UdevInstallError("udevadm not found: the rules are written; reboot or reload udev by hand") from None
        except subprocess.CalledProcessError as exc:
            raise UdevInstallError(
                f"`{' '.join(command)}` failed ({exc.stderr.decode(errors='replace').strip() or exc.returncode}); "
                "the rules are written: reload udev by hand or reboot"
            ) from None


def install_rules(rules_dir: Path = RULES_DIR, *, reload: Callable[[], None] | None = _reload_udev) -> Path:
    """Write the rules to ``rules_dir``/50-particle.rules (unchanged files are left alone) and reload udev."""
    target = rules_dir / RULES_NAME
    text = udev_rules()
    try:
        current = target.read_text(encoding="utf-8") if target.exists() else None
        if current != text:
            rules_dir.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
    except PermissionError:
        raise UdevInstallError(
            f"no permission to write {target}; run the installer with sudo, e.g. "
            "`sudo .venv/bin/python -m station.host_setup.udev --install`"
        ) from None
    except OSError as exc:
        raise UdevInstallError(f"cannot write {target}: {exc}") from None
    if reload is not None:
        reload()
    return target


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m station.host_setup.udev", description=__doc__.splitlines()[0])
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--print", action="store_true", help="print the rules on stdout")
    action.add_argument("--install", action="store_true", help=f"write {RULES_DIR / RULES_NAME} and reload udev")
    parser.add_argument("--rules-dir", type=Path, default=RULES_DIR, help="where to install (default: %(default)s)")
    parser.add_argument("--no-reload", action="store_true", help="do not run udevadm after installing")
    args = parser.parse_args(argv)
    if args.print:
        sys.stdout.write(udev_rules())
        return 0
    if not sys.platform.startswith("linux"):
        print("udev rules are for Linux; on Windows the devices use WinUSB without a driver install (docs/hil.md)",
              file=sys.stderr)
        return 1
    try:
        target = install_rules(args.rules_dir, reload=None if args.no_reload else _reload_udev)
    except UdevInstallError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"installed {target}; unplug and replug the devices so the rules apply", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
