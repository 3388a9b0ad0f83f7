"""Rig files: the shipped ones load, and every mistake is reported with its key and line."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hardware.identifiers import DeviceId
from tests.hil.harness.rig import EMULATOR, RigError, load_rig, parse_rig

from .rigs import EXAMPLE_REAL_RIG, REAL_RIG, SIMULATED_RIG, SMALL_SIMULATED_RIG, rig_from, write_rig

pytestmark = pytest.mark.hil


def test_simulated_rig_describes_a_boron_a_p2_and_a_photon_on_the_emulator() -> None:
    rig = load_rig(SIMULATED_RIG)
    assert rig.simulated and rig.cloud.base_url == EMULATOR
    assert [(d.name, d.platform.name) for d in rig.devices] == [
        ("boron-1", "boron"), ("p2-1", "p2"), ("photon-1", "photon"), ("electron-4ff", "electron")]
    assert rig.product is not None and rig.product.sandbox


def test_example_real_rig_uses_the_real_cloud_through_a_sandbox_product() -> None:
    rig = load_rig(EXAMPLE_REAL_RIG)
    assert not rig.simulated and rig.touches_real_cloud
    assert rig.product is not None and rig.product.sandbox
    assert all(d.device_id is not None and d.slot is not None for d in rig.devices)


def test_real_rig_device_without_an_id_is_reported_with_its_key_and_line(tmp_path: Path) -> None:
    text = REAL_RIG.replace('id = "0a10aced2021bbbbbbbbbbbb"\n', "")
    expected = r"rig.toml, line 20: devices\[2\].id: missing; add `id = \"...\"` under \[\[devices\]\] \(devices\[2\]\)"
    with pytest.raises(RigError, match=expected):
        rig_from(tmp_path, text)


def test_unknown_key_is_reported_with_its_line_and_the_known_keys(tmp_path: Path) -> None:
    text = REAL_RIG.replace("slot = 2\n", "slot = 2\ncolour = \"red\"\n")
    expected = r"line 25: devices\[2\].colour: unknown key; known keys in \[devices\]: .*serial"
    with pytest.raises(RigError, match=expected):
        rig_from(tmp_path, text)


def test_malformed_device_id_is_reported_with_its_line(tmp_path: Path) -> None:
    text = REAL_RIG.replace("e00fce68aaaaaaaaaaaaaaaa", "e00fce68-not-hex")
    with pytest.raises(RigError, match=r"line 16: devices\[1\].id: device id 'e00fce68-not-hex' has 16 characters"):
        rig_from(tmp_path, text)


def test_two_devices_in_one_slot_are_refused(tmp_path: Path) -> None:
    text = REAL_RIG.replace("slot = 2", "slot = 1")
    with pytest.raises(RigError, match=r"line 24: devices\[2\].slot: 1 is already used by devices\[1\]"):
        rig_from(tmp_path, text)


def test_seed_on_a_real_rig_is_refused(tmp_path: Path) -> None:
    text = REAL_RIG.replace("slot = 2", 'slot = 2\nseed = "x"')
    with pytest.raises(RigError, match=r"devices\[2\].seed: only a simulated rig"):
        rig_from(tmp_path, text)


def test_real_cloud_without_a_product_is_refused(tmp_path: Path) -> None:
    start, end = REAL_RIG.index("[product]"), REAL_RIG.index("[[devices]]")
    with pytest.raises(RigError, match=r"product: missing; a rig using the cloud at https://api.particle.io"):
        rig_from(tmp_path, REAL_RIG[:start] + REAL_RIG[end:])


def test_secret_in_place_of_a_credential_reference_is_refused(tmp_path: Path) -> None:
    text = REAL_RIG.replace('"env:PARTICLE_HIL_TEST"', '"0123456789abcdef0123456789abcdef01234567"')
    with pytest.raises(RigError, match=r"line 6: cloud.credentials: must be a credential reference") as caught:
        rig_from(tmp_path, text)
    assert "0123456789abcdef0123456789abcdef01234567" not in str(caught.value).split("credential reference", 1)[0]


def test_missing_firmware_file_is_refused_naming_the_path(tmp_path: Path) -> None:
    text = REAL_RIG.replace("slot = 1", 'slot = 1\nfirmware = "apps/tinker.bin"')
    with pytest.raises(RigError, match=r"devices\[1\].firmware: file .*apps/tinker.bin does not exist"):
        rig_from(tmp_path, text)


def test_firmware_path_is_relative_to_the_rig_file(tmp_path: Path) -> None:
    (tmp_path / "apps").mkdir()
    (tmp_path / "apps" / "tinker.bin").write_bytes(b"\0" * 64)
    rig = rig_from(tmp_path, REAL_RIG.replace("slot = 1", 'slot = 1\nfirmware = "apps/tinker.bin"'))
    assert rig.devices[0].firmware == (tmp_path / "apps" / "tinker.bin").resolve()


def test_simulated_scanner_on_a_real_rig_is_refused(tmp_path: Path) -> None:
    text = REAL_RIG + '\n[scanner]\nport = "simulated"\n'
    with pytest.raises(RigError, match=r"scanner.port: \"simulated\" is only for a simulated rig"):
        rig_from(tmp_path, text)


def test_simulated_rig_may_leave_ids_to_the_seeds(tmp_path: Path) -> None:
    rig = rig_from(tmp_path, SMALL_SIMULATED_RIG)
    assert rig.devices[0].device_id is None and rig.devices[0].seed == "small-rig-boron"
    assert not rig.touches_real_cloud


def test_missing_rig_file_says_how_to_make_one(tmp_path: Path) -> None:
    with pytest.raises(RigError, match=r"does not exist; copy fixtures/rigs/example-real.toml"):
        load_rig(tmp_path / "nope.toml")


def test_invalid_toml_is_reported_as_such(tmp_path: Path) -> None:
    with pytest.raises(RigError, match="not valid TOML"):
        load_rig(write_rig(tmp_path, "[rig\nname = 1\n"))


_VALUES = st.one_of(st.none(), st.booleans(), st.integers(-3, 70000), st.text(max_size=30),
                    st.lists(st.integers(), max_size=2))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(section=st.sampled_from(["rig", "cloud", "product", "scanner", "devices"]),
       key=st.sampled_from(["name", "platform", "id", "serial", "slot", "base_url", "credentials", "sandbox",
                            "port", "simulated", "seed", "terminator", "baudrate", "claim", "sim_activation",
                            "usb_port", "device_os", "firmware", "serial_port"]),
       value=_VALUES)
def test_any_wrong_value_is_a_rig_error_never_a_crash(section: str, key: str, value: object) -> None:
    data: dict[str, object] = {
        "rig": {"name": "p"},
        "product": {"id": 1, "platform": "boron", "sandbox": True},
        "cloud": {"base_url": "https://example.com", "credentials": "env:X"},
        "devices": [{"name": "d", "platform": "boron", "id": "e00fce68aaaaaaaaaaaaaaaa"}],
    }
    table = data.setdefault(section, {})
    target = table[0] if isinstance(table, list) else table
    if value is None:
        target.pop(key, None)  # type: ignore[union-attr]
    else:
        target[key] = value  # type: ignore[index]
    try:
        rig = parse_rig(data, path=Path("rig.toml"))
    except RigError as exc:
        assert str(exc).startswith("rig.toml: ")
    else:
        assert all(isinstance(d.device_id, DeviceId) for d in rig.devices)
