"""The Device Protection steps of a unit: refuse or rework a Protected Device that arrives, return a reworked one to
protected before it leaves the slot, protect a unit at the end of the line, and record the state it leaves in.

Rework is particle-cli's wrapper around local operations on Protected Devices (src/cmd/usb-util.js
executeWithUsbDevice): the Service Mode handshake with the cloud first (station.product.protection), the work, then
SetProtectedState RESET "so the device is not left in Service Mode". Protecting at the end is particle-cli's
``device-protection enable`` online mode: the bootloader of the unit's Device OS with the SECURITY_MODE extension,
flashed; the product's development flag, which would let the cloud undo it, is cleared by the unit's own cloud
update (station.workflow.cloud_ops), queued in the outbox when the cloud is down.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from cloud_client.client import ParticleCloud
from hardware.firmware import DeviceOsVersion, FirmwareModule
from hardware.identifiers import DeviceId
from hardware.progress import CancelToken, ProgressCallback, ProgressEvent
from station.config.profile import StationProfile
from station.config.protection import MIN_PROTECTED_DEVICE_OS, OnProtected
from station.records.reason_code import ReasonCode
from station.records.step_table import StepStatus
from station.records.unit_table import UnitTable
from station.workflow.device import DeviceFacts, DeviceLink
from station.workflow.events import EventKind
from station.workflow.outcome import UnitFailure
from station.workflow.unit_steps import StepRecorder, UnitContext

if TYPE_CHECKING:  # the USB stack (pyusb) loads only when a link uses it
    from hardware.usb.protection import ProtectionChannel

DISABLE_COMMAND = "particle-station protection disable --device {device}"
ENABLE_COMMAND = "particle-station protection enable --device {device}"


@runtime_checkable
class ProtectionLink(Protocol):
    """What the protection steps need of a device link beyond DeviceLink (the USB link has it)."""

    def protection_channel(self, device_id: DeviceId) -> AbstractContextManager[ProtectionChannel]: ...

    def install_protected_bootloader(
        self, device_id: DeviceId, module: FirmwareModule, progress: ProgressCallback, cancel: CancelToken
    ) -> str: ...


class ProtectionSteps:
    """Shared by every slot (no per-unit state beyond the unit's context)."""

    def __init__(
        self,
        *,
        profile: StationProfile,
        units: UnitTable,
        link: DeviceLink,
        cloud: ParticleCloud,
        recorder: StepRecorder,
        protected_bootloader: FirmwareModule | None,
    ) -> None:
        self.profile = profile
        self.settings = profile.protection
        self.units = units
        self.link = link
        self.cloud = cloud
        self.recorder = recorder
        self.protected_bootloader = protected_bootloader

    def _protection_link(self, facts: DeviceFacts) -> ProtectionLink:
        if not isinstance(self.link, ProtectionLink):
            raise UnitFailure(
                f"Device {facts.device_id} is a Protected Device, which this station's device link cannot rework.",
                "Connect the unit over USB (not the serial console) and scan its label again.",
                code=ReasonCode.DEVICE_PROTECTED,
            )
        return self.link

    # --- on arrival ------------------------------------------------------------------------------------------------

    def refuse_if_protected(self, facts: DeviceFacts) -> None:
        """With ``on_protected = "refuse"`` a Protected Device FAILs here, untouched."""
        if not facts.protected_device or self.settings.on_protected is OnProtected.REWORK:
            return
        from hardware.usb.protection import ProtectionState

        state = ProtectionState(facts.protection)
        raise UnitFailure(
            f"Device {facts.device_id} is a {state.display_name}: it refuses provisioning over USB, and this "
            "station's profile refuses Protected Devices (on_protected = \"refuse\").",
            "Set the unit aside for rework: an engineer puts it in Service Mode with `"
            + DISABLE_COMMAND.format(device=facts.device_id)
            + "`, or sets on_protected = \"rework\" in the profile's [protection] section.",
            code=ReasonCode.DEVICE_PROTECTED,
        )

    def service_mode(self, ctx: UnitContext, facts: DeviceFacts) -> dict[str, Any]:
        """Put the Protected Device in Service Mode through the cloud, then identify it fully (ctx.facts)."""
        from station.product.protection import enter_service_mode

        link = self._protection_link(facts)

        def told(step: str) -> None:
            self.recorder.emit(ctx, EventKind.STEP_PROGRESS, step="service_mode", message=step, done=0, total=0)

        with link.protection_channel(facts.device_id) as channel:
            result = enter_service_mode(
                channel, self.cloud, facts.device_id.value, product_id=self.profile.product_id, progress=told
            )
        after = self.link.identify(facts.device_id)
        ctx.facts = after
        self.units.update(
            ctx.unit.id, device_os=after.device_os, iccid=after.iccid.value if after.iccid else None,
            imei=after.imei.value if after.imei else None,
        )
        detail = {"before": result.before.value, "after": result.after.value, "note": result.message}
        if result.unscoped:
            detail["cloud"] = "device not in the product: un-scoped /v1/devices/:id/unprotect"
        return detail

    # --- before the unit leaves --------------------------------------------------------------------------------------

    def reprotect(self, ctx: UnitContext, facts: DeviceFacts) -> dict[str, Any]:
        """SetProtectedState RESET: the reworked unit leaves the slot a Protected Device, never in Service Mode."""
        from hardware.usb.protection import ProtectionState
        from station.product.protection import return_to_protected

        link = self._protection_link(facts)
        with link.protection_channel(facts.device_id) as channel:
            if channel.get_state() is ProtectionState.OPEN:  # its protected bootloader is gone (replaced in rework?)
                self.units.update(ctx.unit.id, protection_on_leaving=ProtectionState.OPEN.value)
                raise UnitFailure(
                    f"Device {facts.device_id} arrived a Protected Device but is now an Open Device, so it cannot be "
                    "returned to protected with a RESET.",
                    f"Set the unit aside: an engineer protects it with `{ENABLE_COMMAND.format(device=facts.device_id)}"
                    " --file BOOTLOADER.bin` (the bootloader of its Device OS).",
                    step="reprotect", code=ReasonCode.DEVICE_PROTECTED,
                )
            message = return_to_protected(channel, facts.device_id.value)
            state = channel.get_state()
        self.units.update(ctx.unit.id, protection_on_leaving=state.value)
        return {"note": message, "state": state.value}

    def not_returned(self, ctx: UnitContext, facts: DeviceFacts, failure: UnitFailure) -> UnitFailure:
        """``failure`` (of the reprotect step) said so that the operator knows the unit may be in Service Mode: it
        must not leave the line so. Its last known state (Service Mode) is journalled as the state it left in; a
        unit found Open (``reprotect`` journalled that and said what to do) keeps its own failure."""
        unit = self.units.get(ctx.unit.id)
        if unit is not None and unit.protection_on_leaving == "open":
            return failure
        self.units.update(ctx.unit.id, protection_on_leaving="service")
        return UnitFailure(
            f"{failure.reason} The unit was not returned to protected and may still be in Service Mode (it returns "
            "by itself after 20 resets or 24 hours).",
            f"Plug the unit in and run `{ENABLE_COMMAND.format(device=facts.device_id)}` before it leaves the line. "
            f"{failure.action}",
            step=failure.step, code=failure.code,
        )

    def protect(self, ctx: UnitContext, facts: DeviceFacts) -> dict[str, Any]:
        """Protect an Open unit: its bootloader with the SECURITY_MODE extension (the development flag is cleared by
        the unit's cloud update, see cloud_ops.plan_cloud_work)."""
        module = self.protected_bootloader
        assert module is not None, "prepare_lot loads the protected bootloader when protect_at_end is set"
        if facts.protected_device:
            return {"_status": StepStatus.SKIPPED, "note": "already a Protected Device (returned to protected)"}
        version = DeviceOsVersion.parse_or_none(facts.device_os or "")
        if version is None or version < DeviceOsVersion.parse(MIN_PROTECTED_DEVICE_OS):
            raise UnitFailure(
                f"Device {facts.device_id} runs Device OS {facts.device_os}; a Protected Device needs "
                f"{MIN_PROTECTED_DEVICE_OS} or later, so it was not protected.",
                "Set the unit aside for a Device OS update (or set firmware.minimum_device_os and a Device OS bundle "
                "in the profile).",
                code=ReasonCode.DEVICE_OS_TOO_OLD,
            )
        link = self._protection_link(facts)

        def progress(event: ProgressEvent) -> None:
            self.recorder.emit(ctx, EventKind.STEP_PROGRESS, step="protect", message=event.phase, done=event.done,
                               total=event.total)

        note = link.install_protected_bootloader(facts.device_id, module, progress, ctx.cancel)
        with link.protection_channel(facts.device_id) as channel:
            state = channel.get_state()
        self.units.update(ctx.unit.id, protection_on_leaving=state.value)
        return {"note": note, "state": state.value, "development": "cleared by the unit's update_device step"}

    def leaving_unchanged(self, ctx: UnitContext, facts: DeviceFacts | None) -> None:
        """A unit whose protection the line did not change leaves as it arrived."""
        if facts is not None and facts.protection is not None:
            self.units.update(ctx.unit.id, protection_on_leaving=facts.protection)
