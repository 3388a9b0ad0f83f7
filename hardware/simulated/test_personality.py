"""The test-firmware personality of a simulated device: control request 10 (APP_CUSTOM) carries a JSON op, the reply
is a JSON object modelled on Particle's mfg-test firmware (``{"pass": bool, ...}``, on failure ``"errors": [{"field",
"message", "code"}]`` with a Device OS system_error code) — Device OS user/applications/mfg-test/ and
system/inc/system_control.h; the ops are the fixture protocol's (docs/fixture-protocol.md).

Measurements are drawn once per device and field from a normal distribution seeded by the device id (the same
device always gives the same values, clipped to ±3 sigma), and an op can be made to misbehave through
``device.test_faults``. The op's measuring time is spent on the device's timing model (``Timing.test_op_s``).
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from hardware.errors import IdentifierError
from hardware.identifiers import DeviceId, SerialNumber
from hardware.simulated.control_facts import ResultCode
from hardware.simulated.control_reply import Reply
from hardware.simulated.faults import Faults, TestFault, TestFaultKind
from hardware.simulated.platform_facts import Board
from hardware.simulated.timing import Timing

NEVER = math.inf
HW_VERSION = 7
"""The hardware version every simulated board reports (Particle's mfg-test keeps ``hw_version`` in OTP)."""
GARBLED_REPLY = b'{"pass": tru\xff\x00,"volt'
FAILED_PINS = (3, 7)
"""The pins a GPIO loopback reports broken under the out_of_range fault."""


@dataclass(frozen=True)
class Spread:
    """How one measured field is distributed, and the values the marginal / out_of_range faults give."""

    mean: float
    sigma: float
    marginal: float
    out_of_range: float
    decimals: int

    def draw(self, rng: random.Random) -> float:
        value = min(max(rng.gauss(self.mean, self.sigma), self.mean - 3 * self.sigma), self.mean + 3 * self.sigma)
        return round(value, self.decimals)


SPREADS: dict[str, Spread] = {
    "battery.voltage": Spread(3.9, 0.05, 4.15, 3.2, 3),
    "vin.voltage": Spread(5.0, 0.05, 5.25, 4.2, 3),
    "cellular_signal.rssi": Spread(-70.0, 6.0, -98.0, -115.0, 0),
    "cellular_signal.quality": Spread(55.0, 8.0, 20.0, 2.0, 0),
    "temperature.celsius": Spread(25.0, 2.0, 33.0, 85.0, 1),
    "accel_selftest.x": Spread(0.0, 0.01, 0.045, 0.4, 3),
    "accel_selftest.y": Spread(0.0, 0.01, -0.045, -0.4, 3),
    "accel_selftest.z": Spread(1.0, 0.01, 1.045, 0.3, 3),
}
"""Per field: battery 3.9 ± 0.05 V, VIN 5.0 ± 0.05 V, RSSI −70 ± 6 dBm, temperature 25 ± 2 °C, accelerometer
z 1.0 ± 0.01 g. Marginal values sit between the recommended marginal and hard limits of docs/fixture-protocol.md;
out_of_range values are far outside them."""

OP_WEIGHTS: dict[str, float] = {
    "is_ready": 0.67,
    "battery": 1.0,
    "vin": 1.0,
    "cellular_signal": 1.67,
    "temperature": 0.67,
    "accel_selftest": 1.33,
    "gpio_loopback": 1.33,
    "read_serial": 0.67,
    "hw_version": 0.67,
    "burn_serial": 1.67,
    "echo": 0.0,
}
"""Share of ``Timing.test_op_s`` each op takes (0.2 to 0.5 s with the realistic 0.3 s)."""

_INTEGER_FIELDS = {"cellular_signal.rssi", "cellular_signal.quality"}


def _error(field: str, message: str, code: int) -> dict[str, Any]:
    return {"field": field, "message": message, "code": code}


def _failed(*errors: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {"pass": False, **fields, "errors": list(errors)}


class TestDevice(Protocol):
    """What the test personality needs of its device (``SimulatedDevice`` is one; a protocol, so that the device
    can answer its serial console through a personality without an import cycle)."""

    device_id: DeviceId
    serial: SerialNumber | None
    timing: Timing
    faults: Faults

    @property
    def board(self) -> Board: ...

    def reset(self, delay: float | None = None) -> None: ...


class TestPersonality:
    """Answers request 10 for a device whose running user part is test firmware."""

    __test__ = False

    def __init__(self, device: TestDevice) -> None:
        self._device = device
        self._ops: dict[str, Callable[[dict[str, Any], TestFaultKind | None], dict[str, Any]]] = {
            "is_ready": self._is_ready,
            "battery": self._measured("battery", "voltage"),
            "vin": self._measured("vin", "voltage"),
            "cellular_signal": self._cellular_signal,
            "temperature": self._measured("temperature", "celsius"),
            "accel_selftest": self._measured("accel_selftest", "x", "y", "z"),
            "gpio_loopback": self._gpio_loopback,
            "read_serial": self._read_serial,
            "hw_version": self._hw_version,
            "burn_serial": self._burn_serial,
            "echo": self._echo,
        }

    def handle(self, payload: bytes) -> Reply:
        try:
            request = json.loads(payload.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            request = None
        if not isinstance(request, dict) or not isinstance(request.get("op"), str):
            return _json(_failed(_error("op", "request is not a JSON object with an op", ResultCode.BAD_DATA)))
        op: str = request["op"]
        handler = self._ops.get(op)
        if handler is None:
            return _json(_failed(_error("op", "unknown op", ResultCode.NOT_SUPPORTED)))
        fault = self._device.faults.test_fault(op)
        seconds = self._device.timing.test_op_s * OP_WEIGHTS[op]
        return self._answer(handler, request, fault, seconds)

    def _answer(
        self,
        handler: Callable[[dict[str, Any], TestFaultKind | None], dict[str, Any]],
        request: dict[str, Any],
        fault: TestFault | None,
        seconds: float,
    ) -> Reply:
        kind = fault.kind if fault is not None else None
        if kind is TestFaultKind.NO_REPLY:
            return Reply(delay_s=NEVER)
        if kind is TestFaultKind.RESET:
            # The device resets half way through the measurement; the request dies with it.
            self._device.reset(seconds / 2)
            return Reply(delay_s=NEVER)
        if kind is TestFaultKind.GARBLED:
            return Reply(data=GARBLED_REPLY, delay_s=seconds)
        if kind is TestFaultKind.SLOW:
            assert fault is not None
            seconds = fault.seconds
        return Reply(data=_encode(handler(request, kind)), delay_s=seconds)

    # --- ops -----------------------------------------------------------------------------------------------------

    def _value(self, key: str, kind: TestFaultKind | None) -> float | int:
        spread = SPREADS[key]
        if kind is TestFaultKind.OUT_OF_RANGE:
            value = spread.out_of_range
        elif kind is TestFaultKind.MARGINAL:
            value = spread.marginal
        else:
            value = spread.draw(random.Random(f"{self._device.device_id}/{key}"))
        return int(value) if key in _INTEGER_FIELDS else value

    def _measured(self, op: str, *names: str) -> Callable[[dict[str, Any], TestFaultKind | None], dict[str, Any]]:
        def measure(request: dict[str, Any], kind: TestFaultKind | None) -> dict[str, Any]:
            reply: dict[str, Any] = {"pass": True}
            for name in names:
                # The accelerometer fault shows on the z axis only (gravity), as a broken part would.
                axis_kind = kind if op != "accel_selftest" or name == "z" else None
                reply[name] = self._value(f"{op}.{name}", axis_kind)
            return reply

        return measure

    def _is_ready(self, request: dict[str, Any], kind: TestFaultKind | None) -> dict[str, Any]:
        if kind is TestFaultKind.OUT_OF_RANGE:
            return _failed(_error("is_ready", "peripherals did not start", ResultCode.INVALID_STATE))
        return {"pass": True}

    def _cellular_signal(self, request: dict[str, Any], kind: TestFaultKind | None) -> dict[str, Any]:
        if not self._device.board.cellular:
            return _failed(_error("op", "this device has no cellular modem", ResultCode.NOT_SUPPORTED))
        return {
            "pass": True,
            "rssi": self._value("cellular_signal.rssi", kind),
            "quality": max(0, min(100, int(self._value("cellular_signal.quality", kind)))),
        }

    def _gpio_loopback(self, request: dict[str, Any], kind: TestFaultKind | None) -> dict[str, Any]:
        if kind is TestFaultKind.OUT_OF_RANGE:
            pins = ", ".join(str(p) for p in FAILED_PINS)
            return _failed(
                _error("failed_pins", f"pins {pins} did not loop back", ResultCode.IO), failed_pins=list(FAILED_PINS)
            )
        return {"pass": True, "failed_pins": []}

    def _read_serial(self, request: dict[str, Any], kind: TestFaultKind | None) -> dict[str, Any]:
        serial = self._device.serial
        if serial is None:
            return _failed(_error("serial_number", "no serial number burned", ResultCode.NOT_FOUND))
        text = serial.value
        if kind is TestFaultKind.OUT_OF_RANGE:
            # A wrong serial read back: the last character changed (a mis-burned or swapped unit).
            text = text[:-1] + ("0" if text[-1] != "0" else "1")
        return {"pass": True, "serial_number": text}

    def _hw_version(self, request: dict[str, Any], kind: TestFaultKind | None) -> dict[str, Any]:
        return {"pass": True, "hw_version": 0 if kind is TestFaultKind.OUT_OF_RANGE else HW_VERSION}

    def _burn_serial(self, request: dict[str, Any], kind: TestFaultKind | None) -> dict[str, Any]:
        text = request.get("serial_number")
        if not isinstance(text, str):
            return _failed(_error("serial_number", "serial_number (a string) is missing", ResultCode.INVALID_ARGUMENT))
        try:
            serial = SerialNumber.parse(text)
        except IdentifierError:
            return _failed(_error("serial_number", "not a valid serial number", ResultCode.INVALID_ARGUMENT))
        if kind is TestFaultKind.OUT_OF_RANGE:
            return _failed(_error("serial_number", "OTP write failed", ResultCode.IO))
        held = self._device.serial
        if held is not None and held.value != serial.value:
            # OTP is written once (Particle's mfg-test BURN_DATA): a different serial cannot replace it.
            message = f"serial number {held.value} already burned"
            return _failed(_error("serial_number", message, ResultCode.ALREADY_EXISTS))
        self._device.serial = serial
        return {"pass": True}

    def _echo(self, request: dict[str, Any], kind: TestFaultKind | None) -> dict[str, Any]:
        return {"pass": True, "data": request.get("data", "")}


def _encode(reply: dict[str, Any]) -> bytes:
    return json.dumps(reply, separators=(",", ":")).encode("utf-8")


def _json(reply: dict[str, Any]) -> Reply:
    return Reply(data=_encode(reply))
