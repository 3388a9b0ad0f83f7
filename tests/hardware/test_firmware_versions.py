"""Device OS <-> module version tables and the format's named constants."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hardware.firmware import (
    DeviceOsVersion,
    ModuleFunction,
    always_reports_setup_done,
    bootloader_version_to_device_os,
    describe_system_version,
    device_os_to_bootloader_version,
    device_os_to_module_version,
    estimate_module_version,
    flag_names,
    module_version_to_device_os,
)


@pytest.mark.parametrize(
    ("device_os", "module"),
    [("6.2.0", 6200), ("3.0.0", 3005), ("3.1.0", 3103), ("1.5.2", 1512), ("0.8.0-rc.27", 326), ("5.9.0", 5901)],
)
def test_system_module_versions_come_from_the_table(device_os: str, module: int):
    assert device_os_to_module_version(device_os) == module
    assert module_version_to_device_os(module) == device_os


def test_unknown_module_version_has_no_device_os():
    assert module_version_to_device_os(6199) is None
    assert device_os_to_module_version("9.9.9") is None


def test_bootloader_versions_come_from_their_own_table():
    assert device_os_to_bootloader_version("6.2.0") == 3100
    assert bootloader_version_to_device_os(3100) == "6.2.0"
    assert bootloader_version_to_device_os(3000) == "6.0.0"


def test_estimate_uses_the_table_first_then_the_version_numbers():
    assert estimate_module_version("3.0.0") == 3005
    assert estimate_module_version("6.3.0") == 6300
    assert estimate_module_version("v6.4.1-rc.2") == 6401
    assert estimate_module_version("abc") is None


def test_a_version_parses_its_parts_and_rejects_what_is_not_one():
    assert DeviceOsVersion.parse("5.8.2-rc.1") == DeviceOsVersion(5, 8, 2, "rc.1")
    assert DeviceOsVersion.parse(" v6.2.0 ") == DeviceOsVersion(6, 2, 0)
    assert DeviceOsVersion.parse("6.2.0+build.7").build == "build.7"
    for text in ("5.8", "6.2.0-", "6.2.0-rc.01", "6.2.0-rc..1", "abc", "6.2.x"):
        assert DeviceOsVersion.parse_or_none(text) is None
        with pytest.raises(ValueError, match="not a Device OS version"):
            DeviceOsVersion.parse(text)


@pytest.mark.parametrize(
    "ascending",
    [
        # The semantic-versioning specification's own example, then Device OS-style tags.
        ["1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2", "1.0.0-beta.11",
         "1.0.0-rc.1", "1.0.0"],
        ["5.9.0", "6.0.0-alpha.1", "6.0.0-beta.1", "6.0.0-rc.1", "6.0.0-rc.2", "6.0.0-rc.10", "6.0.0", "6.0.1"],
    ],
)
def test_versions_follow_semantic_version_precedence(ascending: list[str]):
    versions = [DeviceOsVersion.parse(text) for text in ascending]
    assert sorted(reversed(versions)) == versions
    assert all(a < b for a, b in itertools.pairwise(versions))


def test_a_prerelease_sorts_before_its_release_but_reaches_its_cutoffs():
    rc = DeviceOsVersion.parse("6.0.0-rc.1")
    assert rc < DeviceOsVersion(6, 0, 0)
    assert rc.reaches((6, 0, 0)) and not rc.reaches((6, 0, 1))


def test_setup_done_is_always_reported_from_device_os_4():
    assert not always_reports_setup_done(DeviceOsVersion(3, 3, 1))
    assert always_reports_setup_done(DeviceOsVersion(4, 0, 0))
    assert always_reports_setup_done(DeviceOsVersion.parse("4.0.0-rc.1"))
    assert always_reports_setup_done(DeviceOsVersion(6, 2, 0))


_NUMBER = st.integers(min_value=0, max_value=30)
_IDENTIFIER = st.one_of(_NUMBER.map(str), st.sampled_from(["alpha", "beta", "rc", "x-1", "0a"]))
_PRERELEASE = st.one_of(st.just(""), st.lists(_IDENTIFIER, min_size=1, max_size=3).map(".".join))
_VERSIONS = st.builds(DeviceOsVersion, _NUMBER, _NUMBER, _NUMBER, _PRERELEASE)


def _precedence(v: DeviceOsVersion) -> tuple[object, ...]:
    """Semantic-versioning precedence written out independently, rule by rule (semver.org §11)."""

    def identifier(part: str) -> tuple[int, int, str]:
        return (0, int(part), "") if part.isdecimal() else (1, 0, part)

    pre = tuple(identifier(p) for p in v.prerelease.split(".")) if v.prerelease else None
    # A release has higher precedence than any of its pre-releases.
    return (v.major, v.minor, v.patch, pre is None, pre or ())


@given(_VERSIONS, _VERSIONS)
def test_ordering_is_semantic_version_precedence(a: DeviceOsVersion, b: DeviceOsVersion):
    assert (a < b) == (_precedence(a) < _precedence(b))
    assert (a == b) == (_precedence(a) == _precedence(b))
    assert (a <= b) == (a < b or a == b)
    assert (a > b) == (b < a)


@given(_VERSIONS, _VERSIONS, _VERSIONS)
def test_ordering_is_a_total_order(a: DeviceOsVersion, b: DeviceOsVersion, c: DeviceOsVersion):
    assert sum([a < b, a == b, a > b]) == 1
    if a <= b and b <= c:
        assert a <= c


@given(_VERSIONS)
def test_a_version_prints_back_and_a_prerelease_sorts_before_its_release(v: DeviceOsVersion):
    assert DeviceOsVersion.parse(str(v)) == v
    release = DeviceOsVersion(v.major, v.minor, v.patch)
    assert v <= release
    assert (v < release) == bool(v.prerelease)
    assert v.reaches(release.release) and v.release == release.release


def test_describe_system_version_says_when_it_is_unknown():
    assert describe_system_version(6200) == "Device OS 6.2.0 (module version 6200)"
    assert "does not know" in describe_system_version(1)


def test_module_function_names():
    assert [f.short_name for f in ModuleFunction] == [
        "none",
        "resource",
        "bootloader",
        "monolithic",
        "system",
        "user",
        "settings",
        "ncp",
        "radio_stack",
        "asset",
    ]
    assert ModuleFunction.NCP.letter == "c" and ModuleFunction.ASSET.letter == "t"
    assert ModuleFunction.USER_PART.description == "user part"


def test_flag_names_include_unknown_bits():
    assert flag_names(0x11) == ["drop_module_info", "prefix_extensions"]
    assert flag_names(0x40) == ["unknown_0x40"]
    assert flag_names(0) == []
