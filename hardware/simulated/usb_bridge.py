"""Serves the simulated devices of a ``SimulatedUsbBackend`` over a local TCP socket, so programs that are not
Python (Particle's own ``particle-usb`` and ``particle-cli`` through a node ``usb`` shim) reach them through exactly
the backend calls pyusb makes: ``enumerate_devices``, the descriptor getters, ``open_device``, ``claim_interface``,
``set_interface_altsetting`` and ``ctrl_transfer``.

Protocol: JSON lines on 127.0.0.1, one request per line, one reply per line, in order. Every request carries an
``id`` that its reply repeats, and an ``op``:

- ``list`` → ``devices``: per present device ``key``, ``busNumber``, ``deviceAddress``, ``portNumbers``,
  ``deviceDescriptor`` and ``configDescriptor`` (node-usb's field names; ``extra`` bytes in base64)
- ``open`` {device: key} → ``handle``; ``close`` {handle}
- ``claim`` / ``release`` {handle, interface}; ``set_alt`` {handle, interface, alt}
- ``control`` {handle, bmRequestType, bRequest, wValue, wIndex, timeout, and ``length`` (IN) or ``data`` (OUT,
  base64)} → ``data`` (IN, base64) or ``length`` (OUT)
- ``serial_ports`` → ``ports``: the CDC serial console of every present device that has one (not in DFU mode), as
  node's ``serialport`` lists a port on Linux: ``path`` (the simulator's pty), ``manufacturer``, ``serialNumber``,
  ``vendorId`` / ``productId`` (4 lowercase hex digits), ``pnpId`` (the /dev/serial/by-id name)

A failure replies ``ok: false`` with libusb's error name and code (``LIBUSB_ERROR_PIPE`` -9 for a stall,
``LIBUSB_ERROR_TIMEOUT`` -7, ``LIBUSB_ERROR_NO_DEVICE`` -4, ``LIBUSB_ERROR_NOT_FOUND`` -5,
``LIBUSB_ERROR_INVALID_PARAM`` -2 for a request the bridge cannot read) and a message. Run it with
``python -m hardware.simulated.usb_bridge --devices boron,argon``: it prints its address first.
"""

from __future__ import annotations

import argparse
import array
import base64
import itertools
import json
import socketserver
import sys
import threading
from collections.abc import Callable, Sequence
from typing import Any

import usb.core

from hardware.errors import HardwareError
from hardware.simulated.backend import SimulatedUsbBackend
from hardware.simulated.device import SimulatedDevice
from hardware.simulated.usb_bridge_views import b64, device_view, serial_port_view

LIBUSB_ERROR_NAMES = {
    -1: "LIBUSB_ERROR_IO",
    -2: "LIBUSB_ERROR_INVALID_PARAM",
    -3: "LIBUSB_ERROR_ACCESS",
    -4: "LIBUSB_ERROR_NO_DEVICE",
    -5: "LIBUSB_ERROR_NOT_FOUND",
    -6: "LIBUSB_ERROR_BUSY",
    -7: "LIBUSB_ERROR_TIMEOUT",
    -8: "LIBUSB_ERROR_OVERFLOW",
    -9: "LIBUSB_ERROR_PIPE",
    -12: "LIBUSB_ERROR_NOT_SUPPORTED",
    -99: "LIBUSB_ERROR_OTHER",
}
"""libusb ``libusb_error`` codes and names (libusb ``libusb.h``), as node-usb reports them."""
LIBUSB_ERROR_IO = -1
LIBUSB_ERROR_INVALID_PARAM = -2
LIBUSB_ERROR_NOT_FOUND = -5
LIBUSB_ERROR_OTHER = -99
MAX_CONTROL_LENGTH = 0xFFFF
"""wLength is 16 bits (USB 2.0 §9.3)."""
MAX_PORT = 65535
ENVIRONMENT_VARIABLE = "PARTICLE_USB_BRIDGE"
"""Where the node ``usb`` shim (tests/compat/node) looks for the bridge's address."""


class BridgeRequestError(Exception):
    """A request the bridge answers with a libusb error: ``code`` is the libusb error code."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


class _Session:
    """One client connection: its open handles, numbered from 1."""

    def __init__(self, bridge: UsbBridge) -> None:
        self.bridge = bridge
        self.handles: dict[int, Any] = {}
        self._numbers = itertools.count(1)

    def close_all(self) -> None:
        for handle in self.handles.values():
            self.bridge.backend.close_device(handle)
        self.handles.clear()

    def answer(self, line: bytes) -> dict[str, Any]:
        request_id: Any = None
        try:
            request = json.loads(line)
            if not isinstance(request, dict):
                raise BridgeRequestError(LIBUSB_ERROR_INVALID_PARAM, "a request is a JSON object")
            request_id = request.get("id")
            operation = self._operations().get(str(request.get("op")))
            if operation is None:
                raise BridgeRequestError(LIBUSB_ERROR_INVALID_PARAM, f"unknown op {request.get('op')!r}")
            reply = operation(request)
        except BridgeRequestError as error:
            return _failure(request_id, error.code, str(error))
        except usb.core.USBError as error:
            code = error.backend_error_code if error.backend_error_code is not None else LIBUSB_ERROR_OTHER
            return _failure(request_id, code, str(error.strerror))
        except (ValueError, KeyError, TypeError, IndexError) as error:
            return _failure(request_id, LIBUSB_ERROR_INVALID_PARAM, f"malformed request: {error!r}")
        except OSError as error:  # e.g. no pty left for a serial console
            return _failure(request_id, LIBUSB_ERROR_IO, f"the simulator could not serve it: {error}")
        except HardwareError as error:
            return _failure(request_id, LIBUSB_ERROR_OTHER, str(error))
        return {"id": request_id, "ok": True, **reply}

    def _operations(self) -> dict[str, Callable[[dict[str, Any]], dict[str, Any]]]:
        return {
            "list": self._list,
            "open": self._open,
            "close": self._close,
            "claim": self._claim,
            "release": self._release,
            "set_alt": self._set_alt,
            "control": self._control,
            "serial_ports": self._serial_ports,
        }

    def _list(self, request: dict[str, Any]) -> dict[str, Any]:
        return {"devices": self.bridge.describe_devices()}

    def _serial_ports(self, request: dict[str, Any]) -> dict[str, Any]:
        return {"ports": self.bridge.describe_serial_ports()}

    def _open(self, request: dict[str, Any]) -> dict[str, Any]:
        ref = self.bridge.device_ref(str(request["device"]))
        handle = self.bridge.backend.open_device(ref)
        number = next(self._numbers)
        self.handles[number] = handle
        return {"handle": number}

    def _handle(self, request: dict[str, Any]) -> Any:
        handle = self.handles.get(int(request["handle"]))
        if handle is None:
            raise BridgeRequestError(LIBUSB_ERROR_NOT_FOUND, f"no open handle {request['handle']}")
        return handle

    def _close(self, request: dict[str, Any]) -> dict[str, Any]:
        self.bridge.backend.close_device(self._handle(request))
        del self.handles[int(request["handle"])]
        return {}

    def _claim(self, request: dict[str, Any]) -> dict[str, Any]:
        self.bridge.backend.claim_interface(self._handle(request), int(request["interface"]))
        return {}

    def _release(self, request: dict[str, Any]) -> dict[str, Any]:
        self.bridge.backend.release_interface(self._handle(request), int(request["interface"]))
        return {}

    def _set_alt(self, request: dict[str, Any]) -> dict[str, Any]:
        handle = self._handle(request)
        self.bridge.backend.set_interface_altsetting(handle, int(request["interface"]), int(request["alt"]))
        return {}

    def _control(self, request: dict[str, Any]) -> dict[str, Any]:
        handle = self._handle(request)
        request_type = int(request["bmRequestType"])
        direction_in = bool(request_type & 0x80)
        if direction_in:
            length = int(request["length"])
            if not 0 <= length <= MAX_CONTROL_LENGTH:
                raise BridgeRequestError(LIBUSB_ERROR_INVALID_PARAM, f"wLength {length} is out of range")
            buffer = array.array("B", bytes(length))
        else:
            buffer = array.array("B", base64.b64decode(str(request.get("data", "")), validate=True))
        count = self.bridge.backend.ctrl_transfer(
            handle,
            request_type,
            int(request["bRequest"]),
            int(request["wValue"]),
            int(request["wIndex"]),
            buffer,
            int(request.get("timeout", 1000)),
        )
        if direction_in:
            return {"data": b64(buffer.tobytes()[:count])}
        return {"length": count}


def _failure(request_id: Any, code: int, message: str) -> dict[str, Any]:
    name = LIBUSB_ERROR_NAMES.get(code, "LIBUSB_ERROR_OTHER")
    return {"id": request_id, "ok": False, "error": name, "code": code, "message": message}


class _Handler(socketserver.StreamRequestHandler):
    server: _Server

    def handle(self) -> None:
        session = _Session(self.server.bridge)
        try:
            for line in self.rfile:
                if not line.strip():
                    continue
                reply = session.answer(line)
                self.wfile.write(json.dumps(reply).encode("utf-8") + b"\n")
                self.wfile.flush()
        except (ConnectionError, OSError):
            pass  # the client went away; its handles are closed below
        finally:
            session.close_all()


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], bridge: UsbBridge) -> None:
        self.bridge = bridge
        super().__init__(address, _Handler)


class UsbBridge:
    """The bridge for one backend. ``start()`` listens on 127.0.0.1 (port 0 = any free port) in a thread;
    ``address`` is ``host:port``; use it as a context manager to stop it."""

    def __init__(self, backend: SimulatedUsbBackend, port: int = 0) -> None:
        self.backend = backend
        self._refs: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", port), self)
        self._thread = threading.Thread(target=self._server.serve_forever, name="usb-bridge", daemon=True)

    @property
    def address(self) -> str:
        host, port = self._server.server_address[:2]
        return f"{host!s}:{port}"

    def start(self) -> UsbBridge:
        self._thread.start()
        return self

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> UsbBridge:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def device_ref(self, key: str) -> Any:
        with self._lock:
            ref = self._refs.get(key)
        if ref is None:
            raise BridgeRequestError(LIBUSB_ERROR_NOT_FOUND, f"no device {key!r} was listed")
        return ref

    def describe_devices(self) -> list[dict[str, Any]]:
        """Every present device as node-usb shows it; a device's key is stable for one USB session."""
        described = []
        for ref in self.backend.enumerate_devices():
            key = f"{ref.port}:{ref.session}"
            with self._lock:
                self._refs[key] = ref
            described.append(device_view(self.backend, ref, key))
        return described

    def describe_serial_ports(self) -> list[dict[str, str]]:
        """The CDC consoles of the present devices (normal mode), as node's serialport lists them."""
        ports = (serial_port_view(ref) for ref in self.backend.enumerate_devices())
        return [port for port in ports if port is not None]


def _devices(text: str, seed: str) -> tuple[SimulatedDevice, ...]:
    names = [name.strip() for name in text.split(",") if name.strip()]
    if not names:
        raise HardwareError("--devices names no platform: give e.g. --devices boron,argon")
    return tuple(SimulatedDevice(name, seed=f"{seed}/{n}") for n, name in enumerate(names))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m hardware.simulated.usb_bridge",
        description="Serve simulated Particle devices to particle-usb / particle-cli (see docs/particle-tools.md).",
    )
    parser.add_argument("--devices", default="boron", help="comma-separated platforms, e.g. boron,argon,p2")
    parser.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1 (default: any free port)")
    parser.add_argument("--seed", default="bridge", help="makes the devices' identities repeatable")
    args = parser.parse_args(argv)
    if not 0 <= args.port <= MAX_PORT:
        message = f"--port {args.port} is not a TCP port: give 1-{MAX_PORT}, or 0 for any free port"
        print(f"usb_bridge: {message}", file=sys.stderr)
        return 2
    try:
        devices = _devices(args.devices, args.seed)
        bridge = UsbBridge(SimulatedUsbBackend(devices), port=args.port)
    except HardwareError as error:
        print(f"usb_bridge: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        print(f"usb_bridge: cannot listen on 127.0.0.1:{args.port}: {error.strerror}", file=sys.stderr)
        return 2
    print(bridge.address, flush=True)
    for device in devices:
        print(f"{device.platform.name} {device.device_id} serial {device.serial or '-'}", flush=True)
    print(f"export {ENVIRONMENT_VARIABLE}={bridge.address}; stop with Ctrl-C", flush=True)
    bridge.start()
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        bridge.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
