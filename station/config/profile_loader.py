"""Reading a station profile: the TOML file checked key by key into a ``StationProfile``.

Every error names the key and, where the file has it, the line, so an engineer can fix the file at once.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from cloud_client.credentials import CredentialRef
from cloud_client.errors import AuthError
from hardware.firmware.versions import DeviceOsVersion
from hardware.platforms import Platform
from station.config.line_db import parse_line_section
from station.config.profile import (
    DEVICE_NAME_FIELDS,
    LOT_NAME_FIELDS,
    ClaimMode,
    CloudSettings,
    ConfirmFailure,
    DeviceLinkKind,
    FirmwareSpec,
    FirmwareVersionPolicy,
    OnlineConfirmation,
    OperatorLock,
    ProfileError,
    SimActivationPolicy,
    SlotSettings,
    StationProfile,
    StepOptions,
    WorkbookScope,
    render_template,
    validate_group_name,
)
from station.config.protection import KNOWN_KEYS as PROTECTION_KEYS
from station.config.protection import parse_protection
from station.config.tests import parse_tests
from station.config.toml_reader import TomlReader, TomlTable, read_toml

_DATE_TOKENS = ("{date}", "{date_seq}")
_SAMPLE_UNIT = {"serial": "P046AB1234567890", "device_id": "e00fce68ffffffffffffffff", "short_id": "ffffff",
                "product": 12345, "platform": "boron", "lot": "12345-20260101-001", "station": "Line 1",
                "date": "20260101"}
"""A unit to fill the rename pattern with when the profile is loaded."""
MAX_PRODUCT_ID = 2**31 - 1
MAX_SLOTS = 64

_KNOWN_KEYS = {
    "station": {"name", "log_folder", "lot_naming", "workbook"},
    "product": {"id", "platform"},
    "firmware": {"file", "sha256", "product_version", "minimum_device_os", "version_policy", "device_os_bundle"},
    "steps": {
        "identify", "check_label", "flash", "pre_add", "sim_activation", "claim", "claim_account", "customer_email",
        "development", "rename", "groups", "firmware_lock", "device_os_update", "setup_done",
    },
    "confirm": {"online", "timeout_s", "on_timeout"},
    "wifi": {"ssid", "security", "password_ref", "hidden", "cipher", "password"},
    "cloud": {"base_url", "credentials", "batch_size"},
    "slots": {"count", "ports", "link"},
    "operator": {"engineer_pin_hash", "ask_name"},
    "protection": PROTECTION_KEYS,
    "line": {"database", "on_duplicate", "password"},
}
_OWN_CHECKS = {"tests"}
"""Sections whose keys their own reader checks (station.config.tests: nested tables, or a file name)."""


def load_profile(path: str | Path) -> StationProfile:
    """Read and validate a station profile; raise ProfileError naming the key and line of the first problem."""
    path = Path(path)
    text, data = read_toml(path, error=ProfileError, what="station profile")
    return parse_profile(data, path=path, text=text)


def parse_profile(data: dict[str, Any], *, path: Path, text: str = "") -> StationProfile:
    r = TomlReader(path, text, data, ProfileError)
    others = {key: value for key, value in data.items() if key not in _OWN_CHECKS}
    TomlReader(path, text, others, ProfileError).check_keys({**_KNOWN_KEYS, **{k: set() for k in _OWN_CHECKS}})
    base = path.parent
    station, product = r.table("station"), r.table("product")
    platform = product.platform()
    firmware = _firmware(r.table("firmware"), base)
    steps = _steps(r.table("steps"), firmware, platform)
    cloud = _cloud(r.table("cloud"))
    slots = _slots(r.table("slots"))
    operator = r.table("operator")
    pin_hash = operator.text("engineer_pin_hash")
    if pin_hash is not None and not pin_hash.startswith("pbkdf2_sha256$"):
        raise operator.fail(
            "engineer_pin_hash",
            "must be a PIN hash made with `particle-station profile hash-pin`, never the PIN itself",
        )
    lot_naming = station.text("lot_naming", "{product}-{date}-{seq:03d}")
    try:
        render_template(lot_naming, "lot_naming", LOT_NAME_FIELDS, product=1, date="20260101", seq=1, station="s")
    except ProfileError as exc:
        raise station.fail("lot_naming", str(exc).partition(": ")[2]) from None
    confirm = _confirm(r.table("confirm"))
    wifi = _wifi(r.table("wifi"), platform) if "wifi" in data else None
    protection = parse_protection(
        r.table("protection"), base, minimum_device_os=firmware.minimum_device_os, bundle=firmware.device_os_bundle
    )
    if protection.protect_at_end and steps.development is True:
        # Particle's CLI clears the development flag after protecting a unit: a development device may be given
        # unprotected firmware by the cloud (particle-cli src/cmd/device-protection.js, enable).
        raise r.table("steps").fail("development", "cannot be true with [protection] protect_at_end = true: a "
                                    "protected unit must leave the line with its development flag cleared")
    tests = parse_tests(data["tests"], path=path, lines=r.lines) if "tests" in data else None
    line = parse_line_section(r.table("line")) if "line" in data else None
    console = next((t.name for t in tests.tests if t.console is not None), None) if tests is not None else None
    if console is not None and slots.link is DeviceLinkKind.USB:
        raise r.table("slots").fail("link", f"test {console!r} is sent on the serial console, which needs "
                                    "link = \"serial\" here (the USB link sends request 10: use request = "
                                    "{ op = ... } for it)")
    request = next((t.name for t in tests.tests if t.request is not None), None) if tests is not None else None
    if request is not None and slots.link is DeviceLinkKind.SERIAL:
        raise r.table("slots").fail("link", f"is \"serial\", which cannot send test {request!r} (request 10 goes "
                                    "over USB): send it as a console line, console = '{\"op\": ...}'")

    return StationProfile(
        path=path.resolve(),
        station_name=station.text("name", required=True),
        product_id=product.integer("id", required=True, minimum=1, maximum=MAX_PRODUCT_ID),
        platform=platform,
        firmware=firmware,
        steps=steps,
        cloud=cloud,
        slots=slots,
        log_folder=(base / (station.path_text("log_folder") or "station-data")).resolve(),
        lot_naming=lot_naming,
        workbook=station.choice("workbook", WorkbookScope, WorkbookScope.PER_LOT),
        operator=OperatorLock(pin_hash, ask_name=operator.boolean("ask_name", False)),
        confirm=confirm,
        wifi=wifi,
        protection=protection,
        tests=tests,
        line=line,
    )


def _firmware(table: TomlTable, base: Path) -> FirmwareSpec:
    fw_file = table.path_text("file")
    fw_version = table.integer("product_version", minimum=1)
    if fw_file is None and fw_version is None:
        raise table.fail("file", "missing; name the firmware `file` (and its `sha256`) or a `product_version`")
    if fw_file is not None and fw_version is not None:
        raise table.fail("product_version", "give either `file` or `product_version`, not both")
    sha256 = table.text("sha256")
    if sha256 is not None:
        sha256 = sha256.lower()
        if not re.fullmatch(r"[0-9a-f]{64}", sha256):
            raise table.fail("sha256", "must be the 64 hex characters of the file's SHA-256")
    if fw_file is not None and sha256 is None:
        raise table.fail("sha256", "missing; the station refuses a firmware file whose SHA-256 is not pinned")
    min_os = table.text("minimum_device_os")
    if min_os is not None and DeviceOsVersion.parse_or_none(min_os) is None:
        raise table.fail("minimum_device_os", f"must be a version such as \"6.2.0\", got {min_os!r}")
    return FirmwareSpec(
        file=(base / fw_file).resolve() if fw_file else None,
        sha256=sha256,
        product_version=fw_version,
        minimum_device_os=min_os,
        version_policy=table.choice("version_policy", FirmwareVersionPolicy, FirmwareVersionPolicy.WARN),
        device_os_bundle=tuple((base / name).resolve() for name in table.text_list("device_os_bundle")),
    )


def _steps(table: TomlTable, firmware: FirmwareSpec, platform: Platform) -> StepOptions:
    claim = table.choice("claim", ClaimMode, ClaimMode.OFF)
    claim_account = table.text("claim_account")
    if claim is ClaimMode.ACCOUNT and claim_account is None:
        raise table.fail("claim_account", "missing; claim = \"account\" needs the account's e-mail")
    customer_email = table.text("customer_email")
    if claim is ClaimMode.CLAIM_CODE and customer_email is None:
        raise table.fail("customer_email", "missing; claim = \"claim-code\" needs the customer's e-mail")
    rename = table.text("rename")
    if rename is not None:
        try:  # rendered for a sample unit, so a pattern that cannot name every unit is refused here
            render_template(rename, "rename", DEVICE_NAME_FIELDS, **_SAMPLE_UNIT)
        except ProfileError as exc:
            raise table.fail("rename", str(exc).partition(": ")[2]) from None
    groups = table.text_list("groups")
    for group in groups:
        if group.lower() in _DATE_TOKENS:
            continue
        try:
            validate_group_name(group, where="group")
        except ProfileError as exc:
            raise table.fail("groups", str(exc)) from None
    development = table.get("development", None)
    if development is not None and not isinstance(development, bool):
        raise table.fail("development", f"must be true or false, got {development!r}")
    steps = StepOptions(
        identify=table.boolean("identify", True),
        check_label=table.boolean("check_label", True),
        flash=table.boolean("flash", True),
        pre_add=table.boolean("pre_add", True),
        sim_activation=table.choice("sim_activation", SimActivationPolicy, SimActivationPolicy.AUTO),
        claim=claim,
        claim_account=claim_account,
        customer_email=customer_email,
        development=development,
        rename=rename,
        groups=groups,
        firmware_lock=table.boolean("firmware_lock", False),
        device_os_update=table.boolean("device_os_update", False),
        setup_done=table.boolean("setup_done", True),
    )
    if steps.device_os_update and not (firmware.device_os_bundle and firmware.minimum_device_os):
        raise table.fail("device_os_update", "needs firmware.minimum_device_os and firmware.device_os_bundle")
    if steps.sim_activation is SimActivationPolicy.ALWAYS and not platform.is_cellular:
        raise table.fail("sim_activation", f"is \"always\" but {platform} has no cellular modem")
    return steps


def _cloud(table: TomlTable) -> CloudSettings:
    base_url = table.text("base_url", "https://api.particle.io")
    if not re.match(r"^https?://[^\s/]+", base_url):
        raise table.fail("base_url", f"must be an http(s) URL, got {base_url!r}")
    credentials = table.text("credentials", required=True)
    try:
        CredentialRef.parse(credentials)
    except AuthError as exc:
        raise table.fail("credentials", f"must be a credential reference, never a secret: {exc}") from None
    return CloudSettings(base_url=base_url.rstrip("/"), credentials=credentials,
                         batch_size=table.integer("batch_size", 100, minimum=1))


def _slots(table: TomlTable) -> SlotSettings:
    count = table.integer("count", 1, minimum=1, maximum=MAX_SLOTS)
    ports = table.text_list("ports")
    if ports and len(ports) != count:
        raise table.fail("ports", f"lists {len(ports)} ports but slots.count is {count}")
    return SlotSettings(count=count, ports=ports, link=table.choice("link", DeviceLinkKind, DeviceLinkKind.USB))


def _confirm(table: TomlTable) -> OnlineConfirmation:
    timeout = table.get("timeout_s", 120)
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
        raise table.fail("timeout_s", f"must be a number of seconds above 0, got {timeout!r}")
    return OnlineConfirmation(
        enabled=table.boolean("online", False),
        timeout_s=float(timeout),
        on_timeout=table.choice("on_timeout", ConfirmFailure, ConfirmFailure.NOT_CONFIRMED),
    )


def _wifi(table: TomlTable, platform: Platform) -> dict[str, Any]:
    """The raw [wifi] section, once it is known to describe a network the platform can join."""
    if "password" in table.data:
        raise table.fail("password", "never put a Wi-Fi password in the profile; use password_ref")
    table.text("ssid", required=True)
    from station.config.wifi import WifiProfile, WifiSettingsError

    try:
        WifiProfile.parse(table.data)
    except WifiSettingsError as exc:
        raise table.reader.fail("wifi", str(exc)) from None
    if not platform.is_wifi:
        raise table.fail("ssid", f"{platform} has no Wi-Fi; remove the [wifi] section")
    return dict(table.data)
