"""The firmware modules a device reports (request 90) as typed records, decoded from either reply format.

Facts: device-os-protobuf 2.9.0 control/storage.proto (GetModuleInfoReply): field 2 ``modules``
(particle.cloud.FirmwareModule of cloud/describe.proto, since Device OS 5.6.0) and the deprecated field 1
(particle.ctrl Module with its own type enum); particle-usb 4.1.0 src/device.js uses field 1 whenever it is not empty.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from hardware.firmware.format import ModuleFunction, ModuleStore, ModuleValidity
from hardware.usb import protobuf as pb

log = logging.getLogger(__name__)

# particle.ctrl FirmwareModuleType of the deprecated format -> module function (device-os-protobuf storage.proto).
_DEPRECATED_TYPES = {
    1: ModuleFunction.BOOTLOADER,
    2: ModuleFunction.SYSTEM_PART,
    3: ModuleFunction.USER_PART,
    4: ModuleFunction.MONOLITHIC,
    5: ModuleFunction.NCP,
    6: ModuleFunction.RADIO_STACK,
}
# Deprecated ``validity`` bits: 1 integrity check failed, 2 dependency check failed.
_DEPRECATED_INTEGRITY_FAILED = 1
_DEPRECATED_DEPENDENCY_FAILED = 2


@dataclass(frozen=True)
class ModuleDependency:
    function: ModuleFunction
    index: int
    version: int


@dataclass(frozen=True)
class ModuleInfo:
    """One module as the device reports it."""

    function: ModuleFunction
    index: int
    version: int
    store: ModuleStore = ModuleStore.MAIN
    size: int = 0
    max_size: int = 0
    checked: ModuleValidity = ModuleValidity.NONE
    passed: ModuleValidity = ModuleValidity.NONE
    hash: bytes | None = None
    """SHA-256 of the module (the suffix's fwUniqueId); None in the deprecated format."""
    dependencies: tuple[ModuleDependency, ...] = ()

    @property
    def failed(self) -> ModuleValidity:
        """Checks the device ran that did not pass (particle-usb reports ``checked ^ passed``)."""
        return ModuleValidity(int(self.checked) ^ int(self.passed))

    @property
    def valid(self) -> bool:
        return self.failed == ModuleValidity.NONE

    def describe(self) -> str:
        return f"{self.function.description} {self.index} v{self.version}"


def _function(value: int) -> ModuleFunction:
    try:
        return ModuleFunction(value)
    except ValueError:
        log.debug("device reported unknown module function %d", value)
        return ModuleFunction.NONE


def _store(value: int) -> ModuleStore:
    try:
        return ModuleStore(value)
    except ValueError:
        return ModuleStore.MAIN


def _validity(value: int) -> ModuleValidity:
    return ModuleValidity(value & 0x7E)


def _from_firmware_module(msg: pb.Message) -> ModuleInfo:
    f = pb.CloudFirmwareModule
    deps = tuple(
        ModuleDependency(
            _function(d.uint(pb.CloudFirmwareModuleDependency.TYPE)),
            d.uint(pb.CloudFirmwareModuleDependency.INDEX),
            d.uint(pb.CloudFirmwareModuleDependency.VERSION),
        )
        for d in msg.messages(f.DEPENDENCIES)
    )
    return ModuleInfo(
        function=_function(msg.uint(f.TYPE)),
        index=msg.uint(f.INDEX),
        version=msg.uint(f.VERSION),
        store=_store(msg.uint(f.STORE)),
        size=msg.uint(f.SIZE),
        max_size=msg.uint(f.MAX_SIZE),
        checked=_validity(msg.fixed32(f.CHECKED_FLAGS)),
        passed=_validity(msg.fixed32(f.PASSED_FLAGS)),
        hash=msg.blob(f.HASH),
        dependencies=deps,
    )


def _deprecated_function(value: int) -> ModuleFunction:
    return _DEPRECATED_TYPES.get(value, ModuleFunction.NONE)


def _from_deprecated_module(msg: pb.Message) -> ModuleInfo:
    f = pb.DeprecatedModule
    validity = msg.uint(f.VALIDITY)
    checked = ModuleValidity.INTEGRITY | ModuleValidity.DEPENDENCIES
    passed = checked
    if validity & _DEPRECATED_INTEGRITY_FAILED:
        passed &= ~ModuleValidity.INTEGRITY
    if validity & _DEPRECATED_DEPENDENCY_FAILED:
        passed &= ~ModuleValidity.DEPENDENCIES
    deps = tuple(
        ModuleDependency(
            _deprecated_function(d.uint(pb.CloudFirmwareModuleDependency.TYPE)),
            d.uint(pb.CloudFirmwareModuleDependency.INDEX),
            d.uint(pb.CloudFirmwareModuleDependency.VERSION),
        )
        for d in msg.messages(f.DEPENDENCIES)
    )
    return ModuleInfo(
        function=_deprecated_function(msg.uint(f.TYPE)),
        index=msg.uint(f.INDEX),
        version=msg.uint(f.VERSION),
        size=msg.uint(f.SIZE),
        checked=checked,
        passed=passed,
        dependencies=deps,
    )


def parse_module_info_reply(data: bytes) -> list[ModuleInfo]:
    """Modules from a GetModuleInfoReply: the deprecated field 1 when it is not empty, else field 2."""
    reply = pb.Message.parse(data)
    deprecated = reply.messages(pb.GetModuleInfoReply.MODULES_DEPRECATED)
    if deprecated:
        return [_from_deprecated_module(m) for m in deprecated]
    return [_from_firmware_module(m) for m in reply.messages(pb.GetModuleInfoReply.MODULES)]


def find_module(modules: list[ModuleInfo], function: ModuleFunction, index: int | None = None) -> ModuleInfo | None:
    """The main-store module with this function (and index, when given); None when the device has none."""
    for module in modules:
        if module.store is not ModuleStore.MAIN or module.function is not function:
            continue
        if index is None or module.index == index:
            return module
    return None
