"""The [wifi] profile section: parsed with errors naming the key, password read from env/keyring only, always masked."""

from __future__ import annotations

import pickle

import keyring
import keyring.backend
import keyring.errors
import pytest

from hardware.serial.protocol import ConsoleWifiCipher, ConsoleWifiSecurity
from hardware.usb.requests import WifiSecurity
from station.config.wifi import (
    Cipher,
    PasswordRef,
    Security,
    WifiProfile,
    WifiSettings,
    WifiSettingsError,
    wifi_settings,
)

PASSWORD = "Sh0p-Floor-Passphrase"
ENV = {"LINE_WIFI_PASSWORD": PASSWORD}


def section(**overrides: object) -> dict[str, object]:
    base: dict[str, object] = {"ssid": "factory-line", "security": "wpa2", "password_ref": "env:LINE_WIFI_PASSWORD"}
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def test_a_full_section_resolves_to_typed_settings() -> None:
    settings = wifi_settings(section(hidden=True), environ=ENV)
    assert (settings.ssid, settings.security, settings.hidden) == ("factory-line", Security.WPA2, True)
    assert settings.password is not None and settings.password.reveal() == PASSWORD


@pytest.mark.parametrize(("name", "number"), [
    ("open", 0), ("wep", 1), ("wpa", 2), ("wpa2", 3), ("wpa_wpa2", 4), ("wpa3", 5), ("wpa2_wpa3", 6),
])
def test_each_security_name_maps_to_its_wifi_security_number(name: str, number: int) -> None:
    assert Security.parse(name).control_value == WifiSecurity(number)


def test_security_names_accept_upper_case_and_dashes() -> None:
    assert Security.parse("WPA2-WPA3") is Security.WPA2_WPA3


def test_unknown_security_names_the_key_and_the_choices() -> None:
    with pytest.raises(WifiSettingsError, match=r"\[wifi\] security = 'wpa4'.*wpa2_wpa3"):
        WifiProfile.parse(section(security="wpa4"))


def test_security_defaults_to_wpa2() -> None:
    assert WifiProfile.parse(section(security=None)).security is Security.WPA2


def test_missing_ssid_names_the_key() -> None:
    with pytest.raises(WifiSettingsError, match=r"\[wifi\] ssid is required"):
        WifiProfile.parse(section(ssid=None))


def test_ssid_longer_than_32_bytes_is_refused() -> None:
    with pytest.raises(WifiSettingsError, match="32 bytes"):
        WifiProfile.parse(section(ssid="x" * 33))


def test_a_password_in_the_profile_is_refused_without_echoing_it() -> None:
    with pytest.raises(WifiSettingsError, match=r"\[wifi\] password: never") as caught:
        WifiProfile.parse(section(password=PASSWORD))
    assert PASSWORD not in str(caught.value)


def test_a_password_typed_into_password_ref_is_not_echoed() -> None:
    with pytest.raises(WifiSettingsError, match="password_ref is not a password reference") as caught:
        WifiProfile.parse(section(password_ref=PASSWORD))
    assert PASSWORD not in str(caught.value)


def test_secured_network_without_password_ref_names_the_key() -> None:
    with pytest.raises(WifiSettingsError, match="password_ref is required for wpa2"):
        WifiProfile.parse(section(password_ref=None))


def test_open_network_with_a_password_ref_is_refused() -> None:
    with pytest.raises(WifiSettingsError, match="open"):
        WifiProfile.parse(section(security="open"))


def test_open_network_needs_no_password() -> None:
    settings = wifi_settings(section(security="open", password_ref=None), environ={})
    assert settings.password is None


def test_hidden_must_be_a_boolean() -> None:
    with pytest.raises(WifiSettingsError, match=r"\[wifi\] hidden must be true or false"):
        WifiProfile.parse(section(hidden="yes"))


def test_unknown_key_is_named() -> None:
    with pytest.raises(WifiSettingsError, match=r"\[wifi\] channel is not a Wi-Fi setting"):
        WifiProfile.parse(section(channel=6))


def test_unknown_cipher_is_named() -> None:
    with pytest.raises(WifiSettingsError, match=r"cipher = 'des'"):
        WifiProfile.parse(section(cipher="des"))


def test_parsing_reads_no_password() -> None:
    profile = WifiProfile.parse(section())
    assert profile.password_ref == PasswordRef("env", "LINE_WIFI_PASSWORD")


def test_missing_environment_variable_names_it_and_says_what_to_do() -> None:
    with pytest.raises(WifiSettingsError, match="LINE_WIFI_PASSWORD is not set; set it"):
        wifi_settings(section(), environ={})


def test_password_comes_from_the_keyring(memory_keyring: keyring.backend.KeyringBackend) -> None:
    memory_keyring.set_password("particle-station", "line-wifi", PASSWORD)
    settings = wifi_settings(section(password_ref="keyring:particle-station/line-wifi"))
    assert settings.password is not None and settings.password.reveal() == PASSWORD


def test_empty_keyring_entry_names_service_and_name(memory_keyring: keyring.backend.KeyringBackend) -> None:
    with pytest.raises(WifiSettingsError, match="service 'particle-station', name 'line-wifi'"):
        wifi_settings(section(password_ref="keyring:particle-station/line-wifi"))


def test_locked_keyring_is_a_clear_error(failing_keyring: keyring.backend.KeyringBackend) -> None:
    with pytest.raises(WifiSettingsError, match="could not be read"):
        wifi_settings(section(password_ref="keyring:particle-station/line-wifi"))


def test_keyring_ref_needs_service_and_name() -> None:
    with pytest.raises(WifiSettingsError, match="keyring:SERVICE/NAME"):
        PasswordRef.parse("keyring:particle-station")


def test_wpa_passphrase_shorter_than_8_is_refused_with_its_length_only() -> None:
    with pytest.raises(WifiSettingsError, match="has 7 characters; a WPA passphrase has 8 to 63") as caught:
        wifi_settings(section(), environ={"LINE_WIFI_PASSWORD": "short77"})
    assert "short77" not in str(caught.value)


def test_64_hex_digits_are_a_valid_wpa_key() -> None:
    key = "ab" * 32
    assert wifi_settings(section(), environ={"LINE_WIFI_PASSWORD": key}).password is not None


def test_wep_key_length_is_checked() -> None:
    with pytest.raises(WifiSettingsError, match="WEP key"):
        wifi_settings(section(security="wep"), environ={"LINE_WIFI_PASSWORD": "abcdef"})


def test_password_with_a_line_break_is_refused() -> None:
    with pytest.raises(WifiSettingsError, match="line break"):
        wifi_settings(section(), environ={"LINE_WIFI_PASSWORD": "first-line\nsecond"})


def test_repr_and_str_of_settings_never_show_the_password() -> None:
    settings = wifi_settings(section(), environ=ENV)
    shown = f"{settings!r} {settings} {settings.control_credentials()!r} {settings.console_credentials()!r}"
    assert PASSWORD not in shown
    assert "factory-line" in shown


def test_settings_cannot_be_pickled_into_a_queue_or_file() -> None:
    with pytest.raises(TypeError):
        pickle.dumps(wifi_settings(section(), environ=ENV))


def test_console_credentials_answer_the_serial_prompts() -> None:
    settings = wifi_settings(section(security="wpa_wpa2", cipher="aes"), environ=ENV)
    console = settings.console_credentials()
    assert (console.security, console.cipher, console.password) == (
        ConsoleWifiSecurity.WPA2, ConsoleWifiCipher.AES, PASSWORD
    )


def test_settings_built_in_code_are_checked_too() -> None:
    with pytest.raises(WifiSettingsError, match="no password"):
        WifiSettings("factory-line", Security.WPA2)


def test_cipher_names_map_to_the_legacy_request_values() -> None:
    assert [int(c.legacy_value) for c in Cipher] == [1, 2, 3]
