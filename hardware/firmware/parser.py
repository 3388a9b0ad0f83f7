"""Parse a Particle module binary (bytes or a file) into a ``FirmwareModule``; only ``FirmwareError`` escapes.

Facts: Device OS 6.2.0 dynalib/inc/module_info.h; binary-version-reader 3.1.3 lib/HalModuleParser.js. The prefix is
looked for at the well-known offsets first, then, as binary-version-reader does, at every 4-byte offset up to 8 KB.
"""

from __future__ import annotations

import hashlib
import os
import stat
import struct
import zlib
from pathlib import Path

from hardware.errors import FirmwareError, UnknownPlatformError
from hardware.firmware.extensions import ExtensionScan, ProductDataExtension, decode_extensions
from hardware.firmware.format import (
    CRC_SIZE,
    MAX_MODULE_FILE_SIZE,
    PREFIX_OFFSETS,
    PREFIX_SIZE,
    PROBE_LIMIT,
    PRODUCT_ID_FROM_END,
    PRODUCT_NOT_SET,
    PRODUCT_VERSION_FROM_END,
    RESERVED_FROM_END,
    SHA256_FROM_END,
    SUFFIX_BASE_SIZE,
    SUFFIX_SIZE_FROM_END,
    SUFFIX_WITH_PRODUCT_SIZE,
    ModuleFlag,
    ModuleFunction,
)
from hardware.firmware.module import Dependency, FirmwareModule
from hardware.platforms import by_id

_PREFIX = struct.Struct("<IIBBHHBBBBHBBH")
MIN_MODULE_SIZE = PREFIX_SIZE + SUFFIX_BASE_SIZE + CRC_SIZE
"""The smallest possible module: a prefix, the base suffix and the CRC (64 bytes)."""

_SCORE_EXACT_LENGTH = 4
_SCORE_KNOWN_PLATFORM = 2
_BEST_SCORE = _SCORE_EXACT_LENGTH + _SCORE_KNOWN_PLATFORM
_MAX_FUNCTION = max(ModuleFunction)


def load_module(path: str | os.PathLike[str]) -> FirmwareModule:
    """Read and parse the module binary at ``path``; FirmwareError names the path when it cannot."""
    try:
        name = os.fspath(path)
    except TypeError:
        raise FirmwareError(f"firmware path must be a file path, got {type(path).__name__}") from None
    if isinstance(name, bytes):
        name = os.fsdecode(name)
    file = Path(name)
    try:
        info = file.stat()
    except FileNotFoundError:
        raise FirmwareError(f"firmware file {name} does not exist; check the path and file name") from None
    except (OSError, ValueError) as exc:
        raise FirmwareError(f"cannot open firmware file {name}: {_reason(exc)}") from None
    if stat.S_ISDIR(info.st_mode):
        raise FirmwareError(f"{name} is a folder, not a firmware file; give the path of the .bin file")
    if not stat.S_ISREG(info.st_mode):
        raise FirmwareError(f"{name} is not a regular file; give the path of a .bin firmware file")
    if info.st_size > MAX_MODULE_FILE_SIZE:
        raise FirmwareError(_too_large(name, info.st_size))
    try:
        with file.open("rb") as stream:
            # Read one byte past the limit so a file that grew after stat() is still refused.
            data = stream.read(MAX_MODULE_FILE_SIZE + 1)
    except OSError as exc:
        raise FirmwareError(f"cannot read firmware file {name}: {_reason(exc)}") from None
    return parse_module(data, source=name)


def parse_module(data: bytes | bytearray | memoryview, *, source: str | None = None) -> FirmwareModule:
    """Parse a module binary held in memory. ``source`` names it in error messages (a path, or None)."""
    what = f"firmware file {source}" if source else "firmware image"
    if not isinstance(data, bytes | bytearray | memoryview):
        raise FirmwareError(f"{what}: expected bytes, got {type(data).__name__}")
    raw = bytes(data)
    if not raw:
        raise FirmwareError(f"{what} is empty (0 bytes); the download or copy failed, get the file again")
    if len(raw) > MAX_MODULE_FILE_SIZE:
        raise FirmwareError(_too_large(what, len(raw)))
    if len(raw) < MIN_MODULE_SIZE:
        raise FirmwareError(
            f"{what} is only {len(raw)} bytes; a Particle module has at least {MIN_MODULE_SIZE}. "
            "The file is cut short or is not firmware; get the file again"
        )
    offset = _find_prefix(raw)
    if offset is None:
        offset = _find_truncated_prefix(raw)
    if offset is None:
        raise FirmwareError(
            f"{what} ({len(raw)} bytes) is not a Particle module binary: no valid module header found. "
            "Check that this is the .bin built for the device (not an .elf, .hex, .zip or a damaged download)"
        )
    try:
        return _decode(raw, offset, source)
    except (struct.error, ValueError, IndexError) as exc:  # pragma: no cover - a bug guard: bounds are checked
        raise FirmwareError(f"{what} could not be decoded: {exc}") from exc


def _reason(exc: BaseException) -> str:
    if isinstance(exc, PermissionError):
        return "permission denied; check the file's permissions"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror[0].lower() + exc.strerror[1:]
    return str(exc)


def _too_large(what: str, size: int) -> str:
    return (
        f"{what} is {size} bytes, more than the {MAX_MODULE_FILE_SIZE // (1024 * 1024)} MB limit; "
        "no Particle module is this large, so this is not a firmware binary"
    )


def _prefix_fields(raw: bytes, offset: int) -> tuple[int, ...] | None:
    if offset < 0 or offset + PREFIX_SIZE > len(raw):
        return None
    return _PREFIX.unpack_from(raw, offset)


def _plausible(fields: tuple[int, ...]) -> bool:
    """The checks binary-version-reader applies: end > start, a function, and empty dependencies all zero."""
    start, end, _res, _flags, _ver, _plat, function, _idx, d1f, d1i, d1v, d2f, d2i, d2v = fields
    if end <= start or not 0 < function <= _MAX_FUNCTION:
        return False
    for dep_function, dep_index, dep_version in ((d1f, d1i, d1v), (d2f, d2i, d2v)):
        if dep_function > _MAX_FUNCTION or (dep_function == 0 and (dep_index or dep_version)):
            return False
    return True


def _known_platform(platform_id: int) -> bool:
    try:
        by_id(platform_id)
    except UnknownPlatformError:
        return False
    return True


def _score(raw: bytes, offset: int) -> int | None:
    fields = _prefix_fields(raw, offset)
    if fields is None or not _plausible(fields):
        return None
    declared = fields[1] - fields[0] + CRC_SIZE
    if len(raw) < declared:
        return None
    score = _SCORE_EXACT_LENGTH if len(raw) == declared else 0
    if _known_platform(fields[5]):
        score += _SCORE_KNOWN_PLATFORM
    return score


def _find_prefix(raw: bytes) -> int | None:
    """The most convincing prefix offset: well-known offsets first, then every 4 bytes up to 8 KB."""
    best: tuple[int, int] | None = None
    probe = range(0, min(PROBE_LIMIT, len(raw) - PREFIX_SIZE) + 1, 4)
    candidates = [*PREFIX_OFFSETS, *(o for o in probe if o not in PREFIX_OFFSETS)]
    for offset in candidates:
        score = _score(raw, offset)
        if score is None:
            continue
        if best is None or score > best[0]:
            best = (score, offset)
        if score == _BEST_SCORE:
            break
    return best[1] if best else None


def _find_truncated_prefix(raw: bytes) -> int | None:
    """A well-known offset holding a convincing prefix (known platform) that promises more bytes than exist."""
    for offset in PREFIX_OFFSETS:
        fields = _prefix_fields(raw, offset)
        if fields is None or not _plausible(fields) or not _known_platform(fields[5]):
            continue
        if len(raw) < fields[1] - fields[0] + CRC_SIZE:
            return offset
    return None


def _decode(raw: bytes, offset: int, source: str | None) -> FirmwareModule:
    start, end, reserved, flags, version, platform_id, function, index, *deps = _PREFIX.unpack_from(raw, offset)
    dependencies = (
        Dependency(ModuleFunction(deps[0]), deps[1], deps[2]),
        Dependency(ModuleFunction(deps[3]), deps[4], deps[5]),
    )
    size = len(raw)
    prefix_end = offset + PREFIX_SIZE
    problems: list[str] = []
    truncated = size < end - start + CRC_SIZE

    suffix_size: int | None = None
    product_id: int | None = None
    product_version: int | None = None
    fw_unique_id: bytes | None = None
    suffix_scan = ExtensionScan((), 0, False)
    suffix_start = size - CRC_SIZE - SUFFIX_BASE_SIZE
    if not truncated:
        suffix_size = struct.unpack_from("<H", raw, size - SUFFIX_SIZE_FROM_END)[0]
        fw_unique_id = raw[size - SHA256_FROM_END : size - SUFFIX_SIZE_FROM_END]
        problem = _suffix_size_problem(suffix_size, size, prefix_end)
        if problem:
            problems.append(problem)
        else:
            suffix_start = size - CRC_SIZE - suffix_size
        if problem is None and suffix_size == SUFFIX_WITH_PRODUCT_SIZE:
            product_id = _product_field(raw, size - PRODUCT_ID_FROM_END)
            product_version = _product_field(raw, size - PRODUCT_VERSION_FROM_END)
        elif problem is None and suffix_size > SUFFIX_WITH_PRODUCT_SIZE:
            suffix_scan = decode_extensions(raw, suffix_start, size - RESERVED_FROM_END, where="suffix")
            if suffix_scan.problem:
                problems.append(suffix_scan.problem)
            product = next((e for e in suffix_scan.extensions if isinstance(e, ProductDataExtension)), None)
            if product is not None:
                product_id = _not_set_to_none(product.product_id)
                product_version = _not_set_to_none(product.product_version)

    prefix_scan = ExtensionScan((), prefix_end, False)
    if flags & ModuleFlag.PREFIX_EXTENSIONS:
        limit = size if truncated else suffix_start
        prefix_scan = decode_extensions(raw, prefix_end, limit, where="prefix")
        if not prefix_scan.found_end:
            problems.append(prefix_scan.problem or "prefix extensions do not end with an END record")

    return FirmwareModule(
        prefix_offset=offset,
        start_address=start,
        end_address=end,
        reserved=reserved,
        flags=ModuleFlag(flags),
        version=version,
        platform_id=platform_id,
        function=ModuleFunction(function),
        index=index,
        prefix_dependencies=dependencies,
        prefix_extensions=prefix_scan.extensions,
        suffix_size=suffix_size,
        product_id=product_id,
        product_version=product_version,
        fw_unique_id=fw_unique_id,
        suffix_extensions=suffix_scan.extensions,
        crc_stored=int.from_bytes(raw[-CRC_SIZE:], "big"),
        crc_computed=zlib.crc32(raw[:-CRC_SIZE]) & 0xFFFFFFFF,
        sha256_computed=hashlib.sha256(raw[:-SHA256_FROM_END]).digest(),
        file_size=size,
        format_problems=tuple(problems),
        data=raw,
        source=source,
    )


def _suffix_size_problem(suffix_size: int, size: int, prefix_end: int) -> str | None:
    if suffix_size < SUFFIX_BASE_SIZE or size - CRC_SIZE - suffix_size < prefix_end:
        return f"suffix size {suffix_size} is impossible for a {size}-byte module"
    if SUFFIX_BASE_SIZE < suffix_size < SUFFIX_WITH_PRODUCT_SIZE:
        return f"suffix size {suffix_size} is not a valid size (36, 40 or more)"
    return None


def _product_field(raw: bytes, offset: int) -> int | None:
    value: int = struct.unpack_from("<H", raw, offset)[0]
    return _not_set_to_none(value)


def _not_set_to_none(value: int) -> int | None:
    return None if value == PRODUCT_NOT_SET else value
