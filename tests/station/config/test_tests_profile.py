"""The profile's [tests] section: tests, measurements and limits declared in TOML; errors name the key and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from station.config.limits import KnownValue, ValidatorKind
from station.config.profile import ProfileError
from station.config.profile_loader import load_profile
from station.config.tests import OnFailure, PromptKind

SHA = "ab" * 32

BASE = f"""
[station]
name = "Line 1"

[product]
id = 12345
platform = "boron"

[firmware]
file = "fw.bin"
sha256 = "{SHA}"

[cloud]
credentials = "env:PARTICLE"
"""

TESTS = f"""
[tests]
firmware = {{ file = "test.bin", sha256 = "{SHA}" }}
on_failure = "continue"

[[tests.test]]
name = "battery"
request = {{ op = "battery" }}
timeout_s = 5
retries = 2

[[tests.test.measurement]]
name = "battery_voltage"
read = "voltage"
units = "V"
lower = 3.6
upper = 4.3
marginal_lower = 3.7

[[tests.test]]
name = "serial"
request = {{ op = "read_serial" }}

[[tests.test.measurement]]
name = "serial_number"
equals_known = "label_serial"

[[tests.test]]
name = "led"
prompt = {{ question = "Is the LED green?", kind = "yes_no", image = "led.png", timeout_s = 20 }}
"""


def load(tmp_path: Path, text: str, *, picture: bool = True) -> object:
    if picture:
        (tmp_path / "led.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    path = tmp_path / "profile.toml"
    path.write_text(text)
    return load_profile(path)


def test_a_tests_section_declares_firmware_tests_measurements_and_limits(tmp_path: Path) -> None:
    profile = load(tmp_path, BASE + TESTS)
    plan = profile.tests  # type: ignore[attr-defined]
    assert plan.firmware == (tmp_path / "test.bin").resolve() and plan.firmware_sha256 == SHA
    assert plan.on_failure is OnFailure.CONTINUE
    battery, serial, led = plan.tests
    assert battery.request == {"op": "battery"} and battery.timeout_s == 5 and battery.retries == 2
    [voltage] = battery.measurements
    assert (voltage.read, voltage.units, voltage.limit.kind) == ("voltage", "V", ValidatorKind.IN_RANGE)
    assert voltage.limit.describe() == "3.6 <= Marginal:3.7 <= x <= 4.3"
    assert serial.measurements[0].limit.known is KnownValue.LABEL_SERIAL
    assert led.prompt is not None and led.prompt.kind is PromptKind.YES_NO and led.prompt.timeout_s == 20
    assert len(plan.version) == 64


def test_tests_can_live_in_their_own_file_whose_hash_versions_them(tmp_path: Path) -> None:
    (tmp_path / "limits.toml").write_text(TESTS)
    plan = load(tmp_path, 'tests = "limits.toml"\n' + BASE).tests  # type: ignore[attr-defined]
    assert [t.name for t in plan.tests] == ["battery", "serial", "led"]
    import hashlib

    assert plan.version == hashlib.sha256(TESTS.encode()).hexdigest()
    (tmp_path / "limits.toml").write_text(TESTS.replace("upper = 4.3", "upper = 4.25"))
    assert load(tmp_path, 'tests = "limits.toml"\n' + BASE).tests.version != plan.version  # type: ignore[attr-defined]


@pytest.mark.parametrize(("change", "key", "words"), [
    (("lower = 3.6", "lower = 4.5"), "tests.test[1].measurement[1].upper", "below lower"),
    (("marginal_lower = 3.7", "marginal_lower = 3.5"), "tests.test[1].measurement[1].marginal_lower", "within"),
    (('equals_known = "label_serial"', 'equals_known = "imei"'), "tests.test[2].measurement[1].equals_known",
     "label_serial"),
    (('equals_known = "label_serial"', 'matches = "("'), "tests.test[2].measurement[1].matches", "regular"),
    (('on_failure = "continue"', 'on_failure = "later"'), "tests.on_failure", "stop"),
    (("retries = 2", "retries = -1"), "tests.test[1].retries", "0 to 10"),
    (('request = { op = "battery" }', 'request = { op = "battery" }\nconsole = "battery"'), "tests.test[1].console",
     "one of them"),
    (('units = "V"', 'units = "V"\nequals = 4'), "tests.test[1].measurement[1]", "more than one limit"),
    (('kind = "yes_no"', 'kind = "maybe"'), "tests.test[3].prompt", "yes_no"),
    (('name = "serial"', 'name = "battery"'), "tests.test[2].name", "another test"),
])
def test_a_wrong_value_names_its_key_and_line(tmp_path: Path, change: tuple[str, str], key: str, words: str) -> None:
    text = BASE + TESTS.replace(*change)
    with pytest.raises(ProfileError) as caught:
        load(tmp_path, text)
    message = str(caught.value)
    assert key in message and words in message, message
    assert ", line " in message, message


def test_the_line_named_is_the_line_of_the_key(tmp_path: Path) -> None:
    text = BASE + TESTS.replace("retries = 2", "retries = 99")
    with pytest.raises(ProfileError) as caught:
        load(tmp_path, text)
    line = next(n for n, row in enumerate(text.splitlines(), start=1) if row.startswith("retries"))
    assert f"line {line}:" in str(caught.value)


def test_a_measurement_with_no_limit_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ProfileError, match="has no limit"):
        load(tmp_path, BASE + TESTS.replace('equals_known = "label_serial"', ""))


def test_an_unknown_key_in_a_test_is_refused_with_the_known_ones(tmp_path: Path) -> None:
    with pytest.raises(ProfileError, match=r"tests.test\[1\].timeout: unknown key; known keys"):
        load(tmp_path, BASE + TESTS.replace("timeout_s = 5", "timeout = 5"))


def test_tests_without_test_firmware_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ProfileError, match="tests.firmware: missing"):
        load(tmp_path, BASE + TESTS.replace(f'firmware = {{ file = "test.bin", sha256 = "{SHA}" }}', ""))


def test_a_missing_tests_file_is_one_sentence(tmp_path: Path) -> None:
    with pytest.raises(ProfileError, match="tests file .*nope.toml does not exist"):
        load(tmp_path, 'tests = "nope.toml"\n' + BASE)


def test_the_example_profile_with_tests_loads_and_pins_the_test_firmware_it_names() -> None:
    from station.workflow.test_stage import load_test_firmware, test_firmware_manifest

    path = Path(__file__).parents[3] / "fixtures" / "profiles" / "boron-with-tests.toml"
    plan = load_profile(path).tests
    assert plan is not None and len(plan.tests) == 11 and plan.tests[-1].prompt is not None
    module = load_test_firmware(plan)
    assert test_firmware_manifest(module) is not None


def test_product_firmware_named_as_test_firmware_is_refused(tmp_path: Path) -> None:
    import hashlib
    import shutil

    from station.workflow.test_stage import TestPlanError, load_test_firmware

    product = Path(__file__).parents[3] / "fixtures" / "firmware" / "boron-user.bin"
    shutil.copy(product, tmp_path / "test.bin")
    sha = hashlib.sha256(product.read_bytes()).hexdigest()
    plan = load(tmp_path, BASE + TESTS.replace(SHA + '" }', sha + '" }')).tests  # type: ignore[attr-defined]
    with pytest.raises(TestPlanError, match="is not test firmware"):
        load_test_firmware(plan)


def test_a_prompt_picture_that_is_not_there_is_refused_at_load(tmp_path: Path) -> None:
    text = BASE + TESTS
    with pytest.raises(ProfileError) as caught:
        load(tmp_path, text, picture=False)
    message = str(caught.value)
    line = next(n for n, row in enumerate(text.splitlines(), start=1) if row.startswith("prompt"))
    assert f"line {line}: tests.test[3].prompt: image {(tmp_path / 'led.png').resolve()} is not there" in message
    assert "\n" not in message
