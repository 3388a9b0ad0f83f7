"""Particle devices over USB serial (CDC): port discovery, the listening-mode console and YMODEM flashing."""

from __future__ import annotations

from hardware.serial.console import ConsoleTimeouts, ListeningConsole, ListeningEntry
from hardware.serial.errors import (
    ClaimCodeError,
    ListeningModeError,
    SerialConsoleError,
    SerialDisconnectedError,
    SerialFlashingUnsupportedError,
    SerialPortError,
    SerialReplyError,
    SerialTimeoutError,
    WifiSetupError,
    YmodemError,
)
from hardware.serial.operations import SerialDeviceReport, flash_over_serial, identify_over_serial
from hardware.serial.ports import ParticleSerialPort, find_port, list_particle_ports, open_port
from hardware.serial.replies import ConsoleModuleInfo, MacAddress, SerialIdentity, SystemInfo
from hardware.serial.wifi import ConsoleWifiCredentials
from hardware.serial.ymodem import YmodemSender, YmodemTimeouts

__all__ = [
    "ClaimCodeError",
    "ConsoleModuleInfo",
    "ConsoleTimeouts",
    "ConsoleWifiCredentials",
    "ListeningConsole",
    "ListeningEntry",
    "ListeningModeError",
    "MacAddress",
    "ParticleSerialPort",
    "SerialConsoleError",
    "SerialDeviceReport",
    "SerialDisconnectedError",
    "SerialFlashingUnsupportedError",
    "SerialIdentity",
    "SerialPortError",
    "SerialReplyError",
    "SerialTimeoutError",
    "SystemInfo",
    "WifiSetupError",
    "YmodemError",
    "YmodemSender",
    "YmodemTimeouts",
    "find_port",
    "flash_over_serial",
    "identify_over_serial",
    "list_particle_ports",
    "open_port",
]
