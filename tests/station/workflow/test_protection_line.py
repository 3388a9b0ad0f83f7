"""Device Protection on the line, end to end: simulated devices over the real pyusb code path, the cloud emulator
over sockets. A Protected Device is refused or reworked (Service Mode through the cloud, provisioned, back to
protected before it leaves), a unit is protected at the end of the line, and the journal and workbook record each
unit's protection on arrival and on leaving."""

from __future__ import annotations

from pathlib import Path

import pytest

from hardware.firmware import parse_module
from hardware.firmware.protected_bootloader import is_protected_bootloader
from hardware.identifiers import LabelScan
from hardware.simulated import SimulatedDevice
from station.config.profile_loader import load_profile
from station.demo.simulated_line import OWNER, SimulatedLine
from station.records.reason_code import ReasonCode
from station.records.step_table import StepStatus
from station.records.unit_table import UnitRecord, UnitState
from station.workflow.line import Line
from station.workflow.lot import LotPreparationError, prepare_lot

from .conftest import make_line


def with_protection(sim: SimulatedLine, section: str) -> None:
    path = sim.workdir / "station.toml"
    path.write_text(path.read_text(encoding="utf-8") + "\n[protection]\n" + section, encoding="utf-8")
    sim.profile = load_profile(path)


def protected_in_product(sim: SimulatedLine, device: SimulatedDevice, state: str = "protected") -> None:
    """A returned unit: a Protected Device of the line's product, known so to the cloud."""
    device.protection = state
    sim.emulator.add_device(device.device_id.value, device.platform.name, serial=device.serial.value,  # type: ignore[union-attr]
                            iccid=device.iccid.value if device.iccid else None,
                            product_id=sim.profile.product_id, protected=True)


def unit_of(line: Line, device: SimulatedDevice) -> UnitRecord:
    unit = line.journal.unit_table.by_key(line.lot, device.serial.value)  # type: ignore[union-attr]
    assert unit is not None
    return unit


def steps_of(line: Line, unit: UnitRecord) -> dict[str, StepStatus]:
    return {s.step: s.status for s in line.journal.step_table.of_unit(unit.id)}


def test_an_open_unit_is_journalled_open_on_arrival_and_leaving(sim: SimulatedLine) -> None:
    device = sim.devices[0]
    with make_line(sim) as line:
        result = line.scan(device.label).result(timeout=60)
        unit = unit_of(line, device)
    assert result.state is UnitState.PASS, result.reason
    assert (unit.protection_on_arrival, unit.protection_on_leaving) == ("open", "open")


def test_a_protected_unit_is_refused_with_its_reason(sim: SimulatedLine) -> None:
    device = sim.devices[0]
    protected_in_product(sim, device)
    with make_line(sim) as line:
        result = line.scan(device.label).result(timeout=60)
        unit = unit_of(line, device)
    assert result.state is UnitState.FAIL
    assert result.reason_code == ReasonCode.DEVICE_PROTECTED.value and result.failed_step == "identify"
    assert "Protected Device" in result.reason and "protection disable" in result.action
    assert (unit.protection_on_arrival, unit.protection_on_leaving) == ("protected", "protected")
    assert device.protection == "protected"  # untouched


def test_a_protected_unit_is_reworked_through_service_mode_and_leaves_protected(sim: SimulatedLine) -> None:
    device = sim.devices[0]
    protected_in_product(sim, device)
    with_protection(sim, 'on_protected = "rework"\n')
    with make_line(sim) as line:
        result = line.scan(device.label).result(timeout=60)
        unit = unit_of(line, device)
        steps = steps_of(line, unit)
        journal = {s.step: s for s in line.journal.step_table.of_unit(unit.id)}
    assert result.state is UnitState.PASS, result.reason
    assert steps["service_mode"] is StepStatus.PASSED and steps["reprotect"] is StepStatus.PASSED
    assert journal["service_mode"].detail["after"] == "service"
    assert steps["flash"] is StepStatus.PASSED and steps["check_label"] is StepStatus.PASSED
    assert device.protection == "protected" and device.running_user_part is not None
    assert (unit.protection_on_arrival, unit.protection_on_leaving) == ("protected", "protected")
    cloud = sim.emulator.snapshot()
    [record] = [d for d in cloud["devices"] if d["id"] == device.device_id.value]
    assert record["protected"] is True and record["product_id"] == sim.profile.product_id
    assert ("PUT", f"/v1/products/{sim.profile.product_id}/devices/{device.device_id.value}/unprotect") in {
        (method, path) for method, path, _status in sim.emulator.request_log
    }


def test_a_protected_unit_not_yet_in_the_product_is_reworked_through_the_unscoped_handshake(
    sim: SimulatedLine,
) -> None:
    # A returned unit the product does not hold yet (owned by the product's owner): the product-scoped unprotect
    # answers 404, so the handshake uses /v1/devices/:id/unprotect as particle-cli does; pre-add then imports it
    # into the product, which has Device Protection (a product without it would refuse a Protected Device).
    device = sim.devices[0]
    device.protection = "protected"
    product = sim.profile.product_id
    sim.emulator.add_device(device.device_id.value, device.platform.name, serial=device.serial.value,  # type: ignore[union-attr]
                            iccid=device.iccid.value if device.iccid else None, owner=OWNER, protected=True)
    sim.emulator.set_product_device_protection(product, "active")
    with_protection(sim, 'on_protected = "rework"\n')
    with make_line(sim) as line:
        result = line.scan(device.label).result(timeout=60)
        unit = unit_of(line, device)
        journal = {s.step: s for s in line.journal.step_table.of_unit(unit.id)}
    assert result.state is UnitState.PASS, result.reason
    assert journal["service_mode"].status is StepStatus.PASSED and journal["service_mode"].detail["after"] == "service"
    assert "un-scoped" in journal["service_mode"].detail["cloud"]
    assert journal["reprotect"].status is StepStatus.PASSED
    assert device.protection == "protected" and device.running_user_part is not None
    assert (unit.protection_on_arrival, unit.protection_on_leaving) == ("protected", "protected")
    ident = device.device_id.value
    calls = [(m, p, st) for m, p, st in sim.emulator.request_log if p.endswith(f"/devices/{ident}/unprotect")]
    assert calls == [("PUT", f"/v1/products/{product}/devices/{ident}/unprotect", 404),
                     ("PUT", f"/v1/devices/{ident}/unprotect", 200), ("PUT", f"/v1/devices/{ident}/unprotect", 200)]
    assert ident not in sim.emulator.cloud.unprotect_nonces  # the nonce was spent by the confirmation
    [record] = [d for d in sim.emulator.snapshot()["devices"] if d["id"] == ident]
    assert record["protected"] is True and record["product_id"] == product


def test_a_reworked_unit_that_fails_later_still_leaves_protected(sim: SimulatedLine) -> None:
    device = sim.devices[0]
    protected_in_product(sim, device)
    with_protection(sim, 'on_protected = "rework"\n')
    with make_line(sim) as line:
        # The label of another unit: check_label fails after Service Mode was entered.
        result = line.scan(LabelScan.parse("B40TZZ000000001 ABCDEFGHJKLMNPQ")).result(timeout=60)
        unit = line.journal.unit_table.by_key(line.lot, "B40TZZ000000001")
        assert unit is not None
        steps = steps_of(line, unit)
    assert result.state is UnitState.FAIL and result.failed_step == "check_label"
    assert steps["reprotect"] is StepStatus.PASSED
    assert device.protection == "protected" and unit.protection_on_leaving == "protected"


def test_a_reworked_unit_that_fails_and_cannot_be_returned_to_protected_says_both(sim: SimulatedLine) -> None:
    from station.workflow.events import EventKind, UnitEvent

    device = sim.devices[0]
    protected_in_product(sim, device)
    with_protection(sim, 'on_protected = "rework"\n')

    def pulled_after_the_failure(event: UnitEvent) -> None:
        if event.kind is EventKind.STEP_ENDED and event.step == "check_label":
            device.unplug()  # the operator pulls the failed unit before it was returned to protected

    with make_line(sim) as line:
        line.events.subscribe(pulled_after_the_failure)
        result = line.scan(LabelScan.parse("B40TZZ000000001 ABCDEFGHJKLMNPQ")).result(timeout=60)
        unit = line.journal.unit_table.by_key(line.lot, "B40TZZ000000001")
        assert unit is not None
        steps = steps_of(line, unit)
    assert result.state is UnitState.FAIL and result.failed_step == "check_label"
    assert result.reason_code == ReasonCode.LABEL_MISMATCH.value
    assert steps["reprotect"] is StepStatus.FAILED
    assert device.protection == "service"  # still in Service Mode: the reason and the action say so
    assert "the device says" in result.reason and "may still be in Service Mode" in result.reason
    ident = device.device_id.value
    assert result.action.startswith(f"Plug the unit in and run `particle-station protection enable --device {ident}`")
    assert unit.protection_on_leaving == "service"


def test_a_reworked_unit_found_open_at_the_end_is_journalled_open_and_told_to_be_protected_with_a_bootloader(
        sim: SimulatedLine) -> None:
    from station.workflow.events import EventKind, UnitEvent

    device = sim.devices[0]
    protected_in_product(sim, device)
    with_protection(sim, 'on_protected = "rework"\n')

    def bootloader_replaced(event: UnitEvent) -> None:
        if event.kind is EventKind.STEP_ENDED and event.step == "check_label":
            device.protection = "open"  # e.g. a plain bootloader flashed during the rework

    with make_line(sim) as line:
        line.events.subscribe(bootloader_replaced)
        result = line.scan(LabelScan.parse("B40TZZ000000001 ABCDEFGHJKLMNPQ")).result(timeout=60)
        unit = line.journal.unit_table.by_key(line.lot, "B40TZZ000000001")
        assert unit is not None
    assert result.state is UnitState.FAIL and result.reason_code == ReasonCode.LABEL_MISMATCH.value
    assert "is now an Open Device" in result.reason and "Service Mode" not in result.reason
    assert f"protection enable --device {device.device_id.value} --file BOOTLOADER.bin" in result.action
    assert unit.protection_on_leaving == "open"


def test_a_unit_in_service_mode_on_arrival_is_refused_too_by_default(sim: SimulatedLine) -> None:
    device = sim.devices[0]
    protected_in_product(sim, device, "service")
    with make_line(sim) as line:
        result = line.scan(device.label).result(timeout=60)
    assert result.reason_code == ReasonCode.DEVICE_PROTECTED.value
    assert "Protected Device (Service Mode)" in result.reason


def _bootloader_file(sim: SimulatedLine) -> Path:
    """The unit's own Device OS bootloader, as a file (read from a device of the same release)."""
    donor = SimulatedDevice(sim.profile.platform, seed="bootloader-donor")
    boot = next(m for m in donor.modules if m.function.name == "BOOTLOADER" and m.index == 0)
    path = sim.workdir / "bootloader.bin"
    path.write_bytes(donor.read_flash(boot.start, boot.size))
    return path


def a_development_device_to_protect(sim: SimulatedLine, device: SimulatedDevice) -> None:
    """A product with Device Protection, a line that protects each unit at the end, and ``device`` arriving a
    development device of the product: left so, the cloud would not keep it protected."""
    _bootloader_file(sim)
    product, ident = sim.profile.product_id, device.device_id.value
    sim.emulator.set_product_device_protection(product, "active")
    sim.emulator.add_device(ident, device.platform.name, serial=device.serial.value,  # type: ignore[union-attr]
                            iccid=device.iccid.value if device.iccid else None, owner=OWNER, product_id=product)
    with sim.cloud(max_retries=1) as cloud:
        cloud.set_development(product, ident, True)
    with_protection(sim, 'protect_at_end = true\nbootloader = "bootloader.bin"\n')


def test_a_unit_is_protected_at_the_end_of_the_line(sim: SimulatedLine) -> None:
    import openpyxl

    from station.records.spreadsheet_paths import lot_workbook_path

    device = sim.devices[0]
    product, ident = sim.profile.product_id, device.device_id.value
    a_development_device_to_protect(sim, device)
    assert [d["development"] for d in sim.emulator.snapshot()["devices"] if d["id"] == ident] == [True]
    sim.emulator.clear_request_log()
    with make_line(sim) as line:
        result = line.scan(device.label).result(timeout=60)
        unit = unit_of(line, device)
        journal = {s.step: s for s in line.journal.step_table.of_unit(unit.id)}
        lot = line.lot
    assert result.state is UnitState.PASS, result.reason
    assert journal["protect"].status is StepStatus.PASSED and journal["protect"].detail["state"] == "protected"
    assert journal["protect"].detail["development"] == "cleared by the unit's update_device step"
    assert "development" in journal["update_device"].detail["changed"]
    assert device.protection == "protected"
    boot = next(m for m in device.modules if m.function.name == "BOOTLOADER" and m.index == 0)
    assert is_protected_bootloader(parse_module(device.read_flash(boot.start, boot.size)))
    assert (unit.protection_on_arrival, unit.protection_on_leaving) == ("open", "protected")
    [record] = [d for d in sim.emulator.snapshot()["devices"] if d["id"] == ident]
    assert record["development"] is False and record["product_id"] == product
    assert ("PUT", f"/v1/products/{product}/devices/{ident}") in {(m, p) for m, p, _ in sim.emulator.request_log}
    sheet = openpyxl.load_workbook(lot_workbook_path(sim.profile.log_folder, lot))["Units"]
    row = dict(zip([c.value for c in sheet[1]], [c.value for c in sheet[2]], strict=True))
    assert (row["Protection on arrival"], row["Protection on leaving"]) == ("Open Device", "Protected Device")


def test_a_unit_protected_while_the_cloud_is_down_ends_cloud_pending_and_its_flag_is_cleared_later(
        sim: SimulatedLine) -> None:
    from .test_line_cloud_outage import wait_for

    device = sim.devices[0]
    ident = device.device_id.value
    a_development_device_to_protect(sim, device)
    with make_line(sim) as line:
        sim.emulator.set_faults(error_rate=1.0, methods=("PUT",))  # the product device cannot be updated
        result = line.scan(device.label).result(timeout=60)
        unit = unit_of(line, device)
        assert result.state is UnitState.CLOUD_PENDING, result.reason  # protected, not failed for the cloud
        assert steps_of(line, unit)["protect"] is StepStatus.PASSED and device.protection == "protected"
        assert "update_device" in [i.operation for i in line.journal.outbox_table.pending_for_unit(unit.id)]
        sim.emulator.set_faults()
        wait_for(lambda: line.journal.count_pending() == 0, timeout=60)
        wait_for(lambda: line.journal.unit_table.get(unit.id).state is UnitState.PASS)  # type: ignore[union-attr]
    [record] = [d for d in sim.emulator.snapshot()["devices"] if d["id"] == ident]
    assert record["development"] is False


def test_protect_at_end_needs_a_product_with_device_protection(sim: SimulatedLine) -> None:
    _bootloader_file(sim)
    with_protection(sim, 'protect_at_end = true\nbootloader = "bootloader.bin"\n')
    with pytest.raises(LotPreparationError, match="does not have Device Protection active"):
        prepare_lot(sim.profile, sim.cloud(max_retries=1))


def test_profile_refuses_a_device_os_minimum_below_6_1_1_when_protection_is_involved(sim: SimulatedLine) -> None:
    from station.config.profile import ProfileError

    path = sim.workdir / "station.toml"
    text = path.read_text(encoding="utf-8").replace("[firmware]\n", '[firmware]\nminimum_device_os = "6.0.0"\n')
    path.write_text(text + '\n[protection]\non_protected = "rework"\n', encoding="utf-8")
    with pytest.raises(ProfileError, match="6.1.1"):
        load_profile(path)
