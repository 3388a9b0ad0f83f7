"""``python -m cloud_client.emulator``: seed the emulated cloud from flags, print its URL, serve until a signal."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from cloud_client.emulator.catalog import UnknownCloudPlatform
from cloud_client.emulator.cloud import EmulatedCloud
from cloud_client.emulator.errors import EmulatorError
from cloud_client.emulator.factory import DeviceFactory
from cloud_client.emulator.faults import FaultSettings
from cloud_client.emulator.persistence import StateFileError, load_state
from cloud_client.emulator.seeding import Seeder
from cloud_client.emulator.server import start_site
from cloud_client.emulator.state import CloudState

SAVE_INTERVAL_S = 5.0


def _parts(text: str, least: int, most: int, shape: str) -> list[str]:
    parts = text.split(":")
    if not least <= len(parts) <= most or not all(parts[:least]):
        raise EmulatorError(f"{text!r} is not {shape}")
    return parts


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m cloud_client.emulator",
        description="Particle Cloud API emulator. Prints its base URL as the first line, then serves until "
        "SIGINT/SIGTERM. Seeding flags are repeatable; with --state, records already saved are kept.",
    )
    add = parser.add_argument
    add("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    add("--port", type=int, default=0, help="port to bind; 0 picks a free one (default)")
    add("--seed", type=int, default=0, help="seed for factory devices and injected faults (default 0)")
    add("--state", type=Path, help="JSON file: loaded at start if it exists, saved on every change and on exit")
    add("--user", action="append", default=[], metavar="NAME:PASSWORD", help="a user (the first owns the products)")
    add("--access-token", action="append", default=[], metavar="TOKEN", help="a never-expiring token of the first user")
    add("--product", action="append", default=[], metavar="ID:PLATFORM", help="a product, e.g. 12345:boron")
    add("--client", action="append", default=[], metavar="ID:SECRET[:PRODUCT_ID]", help="an OAuth client")
    add("--device", action="append", default=[], metavar="ID:PLATFORM[:SERIAL[:ICCID]]", help="a manufactured device")
    add("--sim", action="append", default=[], metavar="ICCID[:OWNER]", help="a SIM Particle knows, optionally owned")
    add("--protection-product", action="append", default=[], metavar="ID",
        help="a product with Device Protection active (its device_protection is \"active\")")
    add("--protected-device", action="append", default=[], metavar="ID",
        help="a device known as a Protected Device (refused by imports into products without protection)")
    add("--factory-devices", type=int, default=0, metavar="N", help="N manufactured devices per platform")
    add("--latency-ms", type=float, default=0.0, help="added to every API request")
    add("--error-rate", type=float, default=0.0, help="share of API requests answered 503")
    add("--drop-rate", type=float, default=0.0, help="share of API requests whose connection is closed unanswered")
    add("--lost-reply-rate", type=float, default=0.0, help="share of API requests done but left unanswered")
    add("--rate-limit", type=int, default=None, help="requests per 5 minutes per IP (default 10000, as the real API)")
    add("--burst-429", type=int, default=0, metavar="N", help="refuse the first N API requests with 429")
    add("--sim-activation-s", type=float, default=1.0, help="seconds until an imported SIM is active (default 1)")
    return parser


def seed(seeder: Seeder, args: argparse.Namespace) -> None:
    """Apply the seeding flags, skipping records a loaded state file already has."""
    state = seeder.cloud.state
    for text in args.user:
        name, password = _parts(text, 2, 2, "NAME:PASSWORD")
        if name.lower() not in state.users:
            seeder.add_user(name, password)
    for token in args.access_token:
        owner = seeder.first_user()
        if owner is None:
            raise EmulatorError("--access-token needs a --user to belong to")
        if token not in state.tokens:
            seeder.add_access_token(token, owner)
    for text in args.product:
        product_id, platform = _parts(text, 2, 2, "ID:PLATFORM")
        if int(product_id) not in state.products:
            seeder.add_product(int(product_id), platform)
    for text in args.client:
        client_id, secret, *rest = _parts(text, 2, 3, "ID:SECRET[:PRODUCT_ID]")
        if client_id not in state.clients:
            seeder.add_client(client_id, secret, int(rest[0]) if rest and rest[0] else None)
    for text in args.device:
        device_id, platform, *rest = _parts(text, 2, 4, "ID:PLATFORM[:SERIAL[:ICCID]]")
        if device_id.lower() not in state.devices:
            serial_text = rest[0] if rest and rest[0] else None
            seeder.add_device(device_id, platform, serial_text, rest[1] if len(rest) > 1 and rest[1] else None)
    for text in args.sim:
        iccid, *sim_owner = _parts(text, 1, 2, "ICCID[:OWNER]")
        if iccid not in state.sims:
            seeder.add_sim(iccid, sim_owner[0] if sim_owner and sim_owner[0] else None)
    if args.factory_devices:
        seeder.add_factory_devices(args.factory_devices)
    for product_id in args.protection_product:
        seeder.set_product_device_protection(int(product_id), "active")
    for device_id in args.protected_device:
        seeder.set_device_protection(device_id, True)


async def serve(cloud: EmulatedCloud, host: str, port: int) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    runner, base_url = await start_site(cloud, host, port)
    # Printed only once the signal handlers are in place, so a caller may signal as soon as it has the URL.
    print(base_url, flush=True)
    try:
        while not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(), SAVE_INTERVAL_S)
            except TimeoutError:
                cloud.save_if_changed()
    finally:
        await runner.cleanup()
        cloud.save_if_changed()


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        state = load_state(args.state) if args.state is not None and args.state.exists() else CloudState()
        cloud = EmulatedCloud(state, seed=args.seed, state_file=args.state)
        cloud.timings.sim_activation_s = args.sim_activation_s
        cloud.configure_faults(
            FaultSettings(
                latency_ms=args.latency_ms,
                error_rate=args.error_rate,
                drop_rate=args.drop_rate,
                lost_reply_rate=args.lost_reply_rate,
                burst_429=args.burst_429,
                rate_limit=args.rate_limit,
            )
        )
        seed(Seeder(cloud, DeviceFactory(args.seed)), args)
        cloud.state.changed()  # save the seeded state at once, so a state file exists from the start
        cloud.save_if_changed()
        asyncio.run(serve(cloud, args.host, args.port))
    except (StateFileError, EmulatorError, UnknownCloudPlatform, ValueError, OSError) as exc:
        print(f"emulator: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
