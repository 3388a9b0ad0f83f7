"""EmulatorServer: the emulated cloud on a real socket, in a background thread, with methods to seed and inspect it."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from types import TracebackType
from typing import Any

from aiohttp import web

from cloud_client.emulator import admin
from cloud_client.emulator.app import build_app
from cloud_client.emulator.cloud import EmulatedCloud, RequestRecord
from cloud_client.emulator.errors import EmulatorError
from cloud_client.emulator.factory import DeviceFactory
from cloud_client.emulator.faults import FaultSettings
from cloud_client.emulator.persistence import load_state, to_document
from cloud_client.emulator.routes_people import create_api_user
from cloud_client.emulator.seeding import Seeder
from cloud_client.emulator.state import CloudState

START_TIMEOUT_S = 30.0
SHUTDOWN_TIMEOUT_S = 2.0


async def start_site(cloud: EmulatedCloud, host: str, port: int) -> tuple[web.AppRunner, str]:
    """Serve ``cloud`` on host:port (0 = any free port); returns the runner and the base URL."""
    runner = web.AppRunner(build_app(cloud), access_log=None, shutdown_timeout=SHUTDOWN_TIMEOUT_S)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    bound_host, bound_port = runner.addresses[0][:2]
    shown = f"[{bound_host}]" if ":" in str(bound_host) else str(bound_host)
    return runner, f"http://{shown}:{bound_port}"


class EmulatorServer(Seeder):
    """The Particle Cloud API emulator for tests and the demo: seed it, start it, point a client at ``base_url``."""

    def __init__(
        self, host: str = "127.0.0.1", port: int = 0, state_file: str | Path | None = None, seed: int = 0
    ) -> None:
        path = Path(state_file) if state_file is not None else None
        state = load_state(path) if path is not None and path.exists() else CloudState()
        cloud = EmulatedCloud(state, seed=seed, state_file=path)
        super().__init__(cloud, DeviceFactory(seed))
        self.host, self.port = host, port
        self.base_url: str | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    # Lifecycle -----------------------------------------------------------------------------------------------

    def start(self) -> str:
        """Listen in a background thread with its own event loop; returns the base URL once it accepts requests."""
        if self._thread is not None:
            raise EmulatorError(f"emulator already running at {self.base_url}; stop it before starting it again")
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            try:
                runner, self.base_url = loop.run_until_complete(start_site(self.cloud, self.host, self.port))
            except BaseException as exc:  # reported to the starting thread below
                failure.append(exc)
                ready.set()
                loop.close()
                return
            self._loop = loop
            ready.set()
            try:
                loop.run_forever()
            finally:
                loop.run_until_complete(runner.cleanup())
                loop.close()

        self._thread = threading.Thread(target=run, name="particle-cloud-emulator", daemon=True)
        self._thread.start()
        if not ready.wait(START_TIMEOUT_S):
            raise EmulatorError(
                f"emulator did not start listening on {self.host}:{self.port} within {START_TIMEOUT_S} s"
            )
        if failure:
            self._thread.join()
            self._thread = None
            raise EmulatorError(f"emulator could not listen on {self.host}:{self.port}: {failure[0]}") from failure[0]
        assert self.base_url is not None
        return self.base_url

    def stop(self) -> None:
        """Stop serving, close connections and save the state file (if any). Safe to call twice."""
        thread, loop = self._thread, self._loop
        if thread is not None and loop is not None:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(START_TIMEOUT_S)
        self._thread = self._loop = None
        self.cloud.save_if_changed()

    def __enter__(self) -> EmulatorServer:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # Faults, time and inspection -------------------------------------------------------------------------------

    def set_faults(
        self,
        latency_ms: float = 0,
        error_rate: float = 0.0,
        drop_rate: float = 0.0,
        burst_429: int = 0,
        rate_limit: int | None = None,
        lost_reply_rate: float = 0.0,
        methods: tuple[str, ...] = (),
    ) -> None:
        """Replace all fault settings (fields left out go back to no fault); ``methods`` limits the drops, 5xx and
        lost replies to those HTTP methods."""
        self.cloud.configure_faults(
            FaultSettings(
                latency_ms=float(latency_ms),
                error_rate=error_rate,
                drop_rate=drop_rate,
                lost_reply_rate=lost_reply_rate,
                burst_429=burst_429,
                rate_limit=rate_limit,
                methods=tuple(m.upper() for m in methods),
            )
        )

    def set_timings(
        self,
        *,
        sim_activation_s: float | None = None,
        sim_release_s: float | None = None,
        sim_status_check_s: float | None = None,
    ) -> None:
        """Delays of asynchronous SIM work, in seconds of the emulator's clock."""
        timings = self.cloud.timings
        timings.sim_activation_s = timings.sim_activation_s if sim_activation_s is None else sim_activation_s
        timings.sim_release_s = timings.sim_release_s if sim_release_s is None else sim_release_s
        timings.sim_status_check_s = timings.sim_status_check_s if sim_status_check_s is None else sim_status_check_s

    def advance_time(self, seconds: float) -> None:
        """Move the emulator's clock forward: expires tokens, finishes SIM work, ages rate-limit windows."""
        self.cloud.clock.advance(seconds)

    def snapshot(self) -> dict[str, Any]:
        """A deep copy of the whole state as plain JSON-ready data, credentials redacted."""
        with self.cloud.state.lock:
            self.cloud.state.settle_sims(self.cloud.now())
            return to_document(self.cloud.state, redact=True)

    @property
    def request_log(self) -> list[RequestRecord]:
        """(method, path, status) of every API request so far; status 0 = dropped without a reply."""
        return self.cloud.request_log

    def clear_request_log(self) -> None:
        self.cloud.clear_request_log()

    def device_connects(
        self, device_id: str, product_id: int | None, firmware_version: int | None, system_version: str | None
    ) -> dict[str, Any]:
        """A simulated device connects: online, last handshake and firmware are recorded (see admin.device_connects)."""
        try:
            view = admin.device_connects(self.cloud, device_id, product_id, firmware_version, system_version)
        except KeyError:
            raise EmulatorError(f"device {device_id} is not known to the emulator; add it first") from None
        self.cloud.save_if_changed()
        return view

    def firmware_update_for(self, device_id: str) -> tuple[int, bytes] | None:
        """The product firmware (version, binary) the cloud sends this online device now, or None (see admin)."""
        try:
            return admin.firmware_update_for(self.cloud, device_id)
        except KeyError:
            raise EmulatorError(f"device {device_id} is not known to the emulator; add it first") from None

    def sim_status(self, iccid: str) -> str | None:
        """The SIM's status now (e.g. ``active``), finishing activations that are due; None for an unknown ICCID."""
        with self.cloud.state.lock:
            sim = self.cloud.state.sims.get(iccid)
            if sim is None:
                return None
            self.cloud.state.settle_sim(sim, self.cloud.now())
            return sim.status.value

    def device_disconnects(self, device_id: str) -> dict[str, Any]:
        """A simulated device goes offline."""
        try:
            view = admin.device_disconnects(self.cloud, device_id)
        except KeyError:
            raise EmulatorError(f"device {device_id} is not known to the emulator; add it first") from None
        self.cloud.save_if_changed()
        return view

    def add_api_user(self, product_id: int, scopes: list[str], friendly_name: str = "station") -> str:
        """A product API user with these scopes; returns its never-expiring token."""
        with self.cloud.state.lock:
            product = self._product(product_id)
            _, token = create_api_user(self.cloud, product, friendly_name, scopes)
        self.cloud.save_if_changed()
        return token
