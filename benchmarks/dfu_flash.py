"""Benchmark flashing a 256 KB user part into a simulated device: host overhead alone, and against device time.

Run from the repository root: ``.venv/bin/python benchmarks/dfu_flash.py`` (``--help`` for options). Two runs of the
real ``flash_user_firmware`` through pyusb: with the simulator's zero timing model (everything the device does is
instant, so the time is host code plus the simulator's own bookkeeping), and with its realistic model (erase, write,
USB throughput, resets and re-enumeration take as long as on hardware). The device time is computed from the
realistic model for the work the flash asks of the device. Goal: host overhead <= 5 % of device time. Prints
figures only; nothing is asserted.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Python puts this script's folder first on sys.path, where a sibling module (benchmarks/logging.py) would shadow
# the standard library; import from the repository root instead.
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(ROOT))

from hardware.firmware import FirmwareModule, ModuleFunction, parse_module  # noqa: E402
from hardware.firmware_builder import build_module  # noqa: E402
from hardware.platforms import UserPartRule, parse_platform  # noqa: E402
from hardware.simulated import SimulatedDevice, Timing, usb_backend  # noqa: E402
from hardware.usb import FlashResult, HostTiming, flash_user_firmware, open_device  # noqa: E402
from hardware.usb.flashing import legacy_slot_to_invalidate  # noqa: E402

PAGE = 4096
MB = 1024 * 1024


def make_module(platform_name: str, size: int) -> FirmwareModule:
    platform = parse_platform(platform_name)
    nrf = platform.user_part.rule is UserPartRule.NRF_TWO_SLOTS
    dependency = (
        ModuleFunction.SYSTEM_PART,
        2 if platform.generation == 2 else 1,
        3302 if platform.generation == 2 else 6101,
    )
    data = build_module(platform, ModuleFunction.USER_PART, 2 if nrf else 1, 99, size=size, dependencies=[dependency])
    return parse_module(data)


def flash_once(platform: str, device_os: str, module: FirmwareModule, timing: Timing) -> tuple[float, FlashResult]:
    device = SimulatedDevice(platform, device_os=device_os, timing=timing, seed="benchmark")
    handle = open_device(device.device_id, backend=usb_backend(device))
    start = time.perf_counter()
    result = flash_user_firmware(handle, module, timing=HostTiming())
    elapsed = time.perf_counter() - start
    result.device.close()
    return elapsed, result


def device_seconds(timing: Timing, module: FirmwareModule, invalidated: bool) -> float:
    """What the device itself spends: erase, program, moving the bytes over USB, resets and re-enumeration."""
    images = [len(module.payload_for_flash)] + ([PAGE] if invalidated else [])
    erase = sum(timing.erase_seconds(math.ceil(n / PAGE) * PAGE) for n in images)
    write = sum(timing.write_seconds(n) for n in images)
    transfer = sum(timing.transfer_seconds(2 * n) for n in images)  # downloaded, then read back to verify
    enter_dfu = timing.reset_s + timing.reenumerate_s
    leave = timing.manifest_s + timing.reenumerate_s
    return erase + write + transfer + enter_dfu + leave


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--platform", default="boron", help="simulated platform (default boron)")
    parser.add_argument(
        "--device-os",
        default="6.1.1",
        help="simulated Device OS (default 6.1.1: the simulated 6.2.0 bootloader erases 0xD4000 after a write at "
        "0xB4000 even when the new app covers it, which breaks apps over 128 KB)",
    )
    parser.add_argument("--size", type=int, default=256 * 1024 - PAGE, help="user part size in bytes")
    parser.add_argument("--runs", type=int, default=3, help="zero-timing runs (the median is reported)")
    args = parser.parse_args()
    platform = parse_platform(args.platform)
    module = make_module(args.platform, args.size)
    invalidated = legacy_slot_to_invalidate(module, platform) is not None

    zero = sorted(flash_once(args.platform, args.device_os, module, Timing.zero())[0] for _ in range(args.runs))
    host = zero[len(zero) // 2]
    realistic_timing = Timing.realistic(platform.mcu)
    total, result = flash_once(args.platform, args.device_os, module, realistic_timing)
    device = device_seconds(realistic_timing, module, invalidated)
    size_mb = len(module.data) / MB

    print(
        f"platform {platform.name}, Device OS {args.device_os}, user part {len(module.data)} bytes at "
        f"0x{module.start_address:08x}{' (+ 0xD4000 invalidation)' if invalidated else ''}"
    )
    print(f"zero timing:      median {host:.3f} s of {args.runs} runs = {host / size_mb:.3f} host s/MB")
    print(f"realistic timing: total {total:.2f} s, device time {device:.2f} s, ratio {total / device:.3f}")
    print(
        f"host overhead:    {total - device:+.2f} s = {100 * (total - device) / device:+.1f} % of device time "
        "(goal <= 5 %)"
    )
    print("phases (realistic): " + ", ".join(f"{p.phase} {p.seconds:.2f}" for p in result.phases))
    return 0


if __name__ == "__main__":
    sys.exit(main())
