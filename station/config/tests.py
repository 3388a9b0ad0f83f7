"""The tests a unit runs on the fixture, as the profile's ``[tests]`` section (or the file it names) declares them.

Limits live beside the test in a file non-programmers can change, and the file is versioned: its SHA-256 is recorded
with every unit, so yield before and after a limit change can be compared (the practice of TofuPilot's YAML and TMI's
JSON limit files). Syntax (README, "Testing each unit on the fixture")::

    [tests]
    firmware = { file = "boron-test.bin", sha256 = "..." }
    on_failure = "stop"            # or "continue": run every test, then fail

    [[tests.test]]
    name = "battery"
    request = { op = "battery" }   # sent as JSON over USB control request 10
    timeout_s = 5
    retries = 1
      [[tests.test.measurement]]
      name = "battery_voltage"
      read = "voltage"             # the reply's key
      units = "V"
      lower = 3.6
      upper = 4.3
      marginal_lower = 3.7

    [[tests.test]]
    name = "led"
    prompt = { question = "Is the LED green?", kind = "yes_no", image = "led.png", timeout_s = 30 }

Every error names the key and its line, like the rest of the profile.
"""

from __future__ import annotations

import enum
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from station.config.limits import KnownValue, Limit, ValidatorKind
from station.config.profile_error import ProfileError
from station.config.toml_reader import read_toml

MAX_TESTS = 200
MAX_REQUEST_BYTES = 65_535
"""A control request's payload travels with its size in wValue (device-os system/src/usb_control_request_channel.h)."""
DEFAULT_TIMEOUT_S = 10.0
DEFAULT_PROMPT_TIMEOUT_S = 60.0
_NAME = re.compile(r"[A-Za-z0-9_.-]{1,64}")

_TESTS_KEYS = {"firmware", "on_failure", "test"}
_FIRMWARE_KEYS = {"file", "sha256"}
_TEST_KEYS = {"name", "request", "console", "timeout_s", "retries", "measurement", "prompt"}
_PROMPT_KEYS = {"question", "kind", "image", "timeout_s"}
_RANGE_KEYS = ("lower", "upper", "marginal_lower", "marginal_upper")
_PERCENT_KEYS = ("expected", "percent", "marginal_percent")
_MEASUREMENT_KEYS = {"name", "read", "units", *_RANGE_KEYS, *_PERCENT_KEYS, "equals", "one_of", "matches",
                     "equals_known"}


class OnFailure(enum.Enum):
    STOP = "stop"
    """Stop at the first failed test (OpenHTF ``stop_on_first_failure``)."""
    CONTINUE = "continue"
    """Run every test, then fail the unit (the test executives' default)."""


class PromptKind(enum.Enum):
    YES_NO = "yes_no"
    NUMBER = "number"


@dataclass(frozen=True)
class Measurement:
    name: str
    read: str
    """The key of the device's JSON reply holding the value (a number prompt: the typed number)."""
    units: str | None
    limit: Limit


@dataclass(frozen=True)
class PromptSpec:
    question: str
    kind: PromptKind
    image: Path | None
    timeout_s: float


@dataclass(frozen=True)
class TestSpec:
    name: str
    request: dict[str, Any] | None
    """The JSON object sent over request 10 (``None`` for an operator prompt)."""
    timeout_s: float
    retries: int
    measurements: tuple[Measurement, ...]
    prompt: PromptSpec | None = None
    console: str | None = None
    """The line sent on the unit's serial console instead of a request 10 (units reached over serial)."""


@dataclass(frozen=True)
class TestPlan:
    firmware: Path
    firmware_sha256: str
    on_failure: OnFailure
    tests: tuple[TestSpec, ...]
    version: str
    """SHA-256 of the file that declares the tests (or of the ``[tests]`` section as canonical JSON)."""


def parse_tests(value: Any, *, path: Path, lines: list[str]) -> TestPlan:
    """The profile's ``tests`` value: a ``[tests]`` section, or the name of a file holding one."""
    if isinstance(value, str):
        file = (path.parent / value).resolve()
        text, data = read_toml(file, error=ProfileError, what="tests file")
        section = data.get("tests")
        if not isinstance(section, dict) or set(data) != {"tests"}:
            raise ProfileError(f"{file}: a tests file holds one [tests] section (as in a profile) and nothing else")
        version = hashlib.sha256(text.encode("utf-8")).hexdigest()
        return _Reader(file, text.splitlines()).plan(section, version)
    if not isinstance(value, dict):
        raise _Reader(path, lines).fail((), "tests", "must be a [tests] section or the name of a tests file")
    version = hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode("utf-8")).hexdigest()
    return _Reader(path, lines).plan(value, version)


class _Reader:
    """Reads ``[tests]``, ``[[tests.test]]`` and ``[[tests.test.measurement]]``; errors name the key and its line."""

    def __init__(self, path: Path, lines: list[str]) -> None:
        self.path = path
        self.lines = lines

    def fail(self, where: tuple[int, ...], key: str, message: str) -> ProfileError:
        line = _line_of(self.lines, where, key)
        dotted = "tests" + "".join(f".{part}[{n}]" for part, n in zip(("test", "measurement"), where, strict=False))
        at = f"{self.path}, line {line}" if line else str(self.path)
        return ProfileError(f"{at}: {dotted}.{key}: {message}")

    def plan(self, section: Mapping[str, Any], version: str) -> TestPlan:
        self._known(section, _TESTS_KEYS, (), "[tests]")
        firmware = section.get("firmware")
        if not isinstance(firmware, dict):
            raise self.fail((), "firmware", 'missing; add `firmware = { file = "...", sha256 = "..." }` (the test '
                            "firmware) under [tests]")
        self._known(firmware, _FIRMWARE_KEYS, (), "tests.firmware", prefix="firmware.")
        file = firmware.get("file")
        if not isinstance(file, str) or not file.strip() or "\x00" in file:
            raise self.fail((), "firmware", "needs `file`, the test firmware's file name")
        sha256 = firmware.get("sha256")
        if not isinstance(sha256, str) or not re.fullmatch(r"[0-9a-fA-F]{64}", sha256):
            raise self.fail((), "firmware", "needs `sha256`, the 64 hex characters of the test firmware file's "
                            "SHA-256; the station refuses a firmware file whose SHA-256 is not pinned")
        on_failure = section.get("on_failure", OnFailure.STOP.value)
        try:
            policy = OnFailure(on_failure)
        except ValueError:
            raise self.fail((), "on_failure", f'must be "stop" or "continue", got {on_failure!r}') from None
        entries = section.get("test")
        if not isinstance(entries, list) or not entries or not all(isinstance(e, dict) for e in entries):
            raise self.fail((), "test", "missing; declare each test as a [[tests.test]] table")
        if len(entries) > MAX_TESTS:
            raise self.fail((), "test", f"{len(entries)} tests; at most {MAX_TESTS}")
        tests = tuple(self._test(entry, n) for n, entry in enumerate(entries, start=1))
        seen: set[str] = set()
        for n, test in enumerate(tests, start=1):
            if test.name in seen:
                raise self.fail((n,), "name", f"{test.name!r} names another test too; each test needs its own name")
            seen.add(test.name)
        return TestPlan(firmware=(self.path.parent / file.strip()).resolve(), firmware_sha256=sha256.lower(),
                        on_failure=policy, tests=tests, version=version)

    def _known(self, table: Mapping[str, Any], known: set[str], where: tuple[int, ...], header: str,
               prefix: str = "") -> None:
        for key in table:
            if key not in known:
                raise self.fail(where, prefix + str(key),
                                f"unknown key; known keys in {header}: {', '.join(sorted(known))}")

    def _name(self, table: Mapping[str, Any], where: tuple[int, ...]) -> str:
        name = table.get("name")
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            raise self.fail(where, "name", "must be a name of 1-64 letters, digits, '_', '-' or '.', got "
                            f"{name!r}")
        return name

    def _console_test(self, table: Mapping[str, Any], name: str, where: tuple[int, ...], timeout: float,
                      retries: int, measurements: tuple[Measurement, ...]) -> TestSpec:
        line = table["console"]
        if (not isinstance(line, str) or not line.strip() or any(c in line for c in "\r\n\x00")
                or len(line.encode("utf-8")) > MAX_REQUEST_BYTES):
            raise self.fail(where, "console", "must be one line of text (at most "
                            f"{MAX_REQUEST_BYTES} bytes) the test firmware reads on its serial console, e.g. "
                            "'{\"op\": \"battery\"}'")
        if not measurements:  # the device's own verdict is then the measurement
            measurements = (Measurement(name=name, read="pass", units=None,
                                        limit=Limit(ValidatorKind.EQUALS, expected=True)),)
        return TestSpec(name=name, request=None, timeout_s=timeout, retries=retries, measurements=measurements,
                        console=line.strip())

    def _seconds(self, table: Mapping[str, Any], where: tuple[int, ...], key: str, default: float) -> float:
        value = table.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 3600:
            raise self.fail(where, key, f"must be a number of seconds above 0 (at most 3600), got {value!r}")
        return float(value)

    def _test(self, table: Mapping[str, Any], n: int) -> TestSpec:
        where = (n,)
        self._known(table, _TEST_KEYS, where, "[[tests.test]]")
        name = self._name(table, where)
        retries = table.get("retries", 0)
        if isinstance(retries, bool) or not isinstance(retries, int) or not 0 <= retries <= 10:
            raise self.fail(where, "retries", f"must be a whole number from 0 to 10, got {retries!r}")
        timeout = self._seconds(table, where, "timeout_s", DEFAULT_TIMEOUT_S)
        raw = table.get("measurement", [])
        if not isinstance(raw, list) or not all(isinstance(m, dict) for m in raw):
            raise self.fail(where, "measurement", "must be [[tests.test.measurement]] tables")
        measurements = tuple(self._measurement(m, (n, k)) for k, m in enumerate(raw, start=1))
        if len({m.name for m in measurements}) != len(measurements):
            raise self.fail(where, "measurement", "two measurements of this test share a name")
        if sum(key in table for key in ("prompt", "request", "console")) > 1:
            raise self.fail(where, "prompt" if "prompt" in table else "console", "a test either asks the operator "
                            "(`prompt`) or the device, over USB (`request`) or its serial console (`console`): "
                            "one of them")
        if "prompt" in table:
            return self._prompt_test(table, name, where, timeout, retries, measurements)
        if "console" in table:
            return self._console_test(table, name, where, timeout, retries, measurements)
        request = table.get("request")
        if not isinstance(request, dict) or not isinstance(request.get("op"), str) or not request["op"]:
            raise self.fail(where, "request", 'missing; add e.g. `request = { op = "battery" }` (a table with an '
                            '"op"), or a `prompt`')
        if len(json.dumps(request, default=str).encode("utf-8")) > MAX_REQUEST_BYTES:
            raise self.fail(where, "request", f"is more than {MAX_REQUEST_BYTES} bytes as JSON")
        try:
            json.dumps(request, allow_nan=False)
        except (TypeError, ValueError):
            raise self.fail(where, "request", "holds a value JSON cannot carry (a date or time, nan or inf); "
                            "write it as text") from None
        if not measurements:  # the device's own verdict is then the measurement
            measurements = (Measurement(name=name, read="pass", units=None,
                                        limit=Limit(ValidatorKind.EQUALS, expected=True)),)
        return TestSpec(name=name, request=dict(request), timeout_s=timeout, retries=retries,
                        measurements=measurements)

    def _prompt_test(self, table: Mapping[str, Any], name: str, where: tuple[int, ...], timeout: float,
                     retries: int, measurements: tuple[Measurement, ...]) -> TestSpec:
        raw = table["prompt"]
        if not isinstance(raw, dict):
            raise self.fail(where, "prompt", 'must be a table, e.g. { question = "Is the LED green?", kind = '
                            '"yes_no" }')
        self._known(raw, _PROMPT_KEYS, where, "tests.test.prompt", prefix="prompt.")
        question = raw.get("question")
        if not isinstance(question, str) or not question.strip():
            raise self.fail(where, "prompt", "needs `question`, the words the operator reads")
        try:
            kind = PromptKind(raw.get("kind", PromptKind.YES_NO.value))
        except ValueError:
            raise self.fail(where, "prompt", f'kind must be "yes_no" or "number", got {raw.get("kind")!r}') from None
        image = raw.get("image")
        if image is not None and (not isinstance(image, str) or not image.strip() or "\x00" in image):
            raise self.fail(where, "prompt", "image must be the name of a picture file")
        picture = (self.path.parent / image).resolve() if image else None
        if picture is not None and not picture.is_file():
            raise self.fail(where, "prompt", f"image {picture} is not there (named relative to {self.path.name}); "
                            "put the picture there or fix its name")
        prompt = PromptSpec(question=question.strip(), kind=kind, image=picture,
                        timeout_s=self._seconds(raw, where, "timeout_s", DEFAULT_PROMPT_TIMEOUT_S)
                        if "timeout_s" in raw else DEFAULT_PROMPT_TIMEOUT_S)
        if kind is PromptKind.YES_NO:
            if measurements:
                raise self.fail(where, "measurement", "a yes_no prompt is its own measurement (Yes passes); "
                                "remove the [[tests.test.measurement]] tables")
            measurements = (Measurement(name=name, read="answer", units=None, limit=Limit(ValidatorKind.YES)),)
        elif len(measurements) != 1:
            raise self.fail(where, "measurement", "a number prompt needs exactly one [[tests.test.measurement]] "
                            "with the limit the typed number must meet")
        return TestSpec(name=name, request=None, timeout_s=timeout, retries=retries, measurements=measurements,
                        prompt=prompt)

    def _measurement(self, table: Mapping[str, Any], where: tuple[int, ...]) -> Measurement:
        self._known(table, _MEASUREMENT_KEYS, where, "[[tests.test.measurement]]")
        name = self._name(table, where)
        read = table.get("read", name)
        if not isinstance(read, str) or not read:
            raise self.fail(where, "read", f"must be the reply's key as text, got {read!r}")
        units = table.get("units")
        if units is not None and (not isinstance(units, str) or not units.strip()):
            raise self.fail(where, "units", f"must be a text such as \"V\", got {units!r}")
        return Measurement(name=name, read=read, units=units.strip() if units else None,
                           limit=self._limit(table, where))

    def _limit(self, table: Mapping[str, Any], where: tuple[int, ...]) -> Limit:
        groups = {"in_range": [k for k in _RANGE_KEYS if k in table],
                  "within_percent": [k for k in _PERCENT_KEYS if k in table],
                  **{k: [k] for k in ("equals", "one_of", "matches", "equals_known") if k in table}}
        given = [(kind, keys) for kind, keys in groups.items() if keys]
        if len(given) != 1:
            listed = "lower/upper (in range), equals, one_of, matches, expected + percent (within percent), " \
                     "equals_known"
            problem = "has no limit" if not given else "has more than one limit (" + ", ".join(
                keys[0] for _, keys in given) + ")"
            raise self.fail(where, given[1][1][0] if len(given) > 1 else "name", f"{problem}; give exactly one of "
                            f"{listed}")
        kind, _ = given[0]
        if kind == "in_range":
            return self._in_range(table, where)
        if kind == "within_percent":
            return self._within_percent(table, where)
        if kind == "equals":
            value = table["equals"]
            if not isinstance(value, str | int | float | bool | list):
                raise self.fail(where, "equals", f"must be a text, number, true/false or list, got {value!r}")
            return Limit(ValidatorKind.EQUALS, expected=value)
        if kind == "one_of":
            choices = table["one_of"]
            if not isinstance(choices, list) or not choices:
                raise self.fail(where, "one_of", f"must be a list of the accepted values, got {choices!r}")
            return Limit(ValidatorKind.ONE_OF, choices=tuple(choices))
        if kind == "matches":
            pattern = table["matches"]
            try:
                re.compile(pattern if isinstance(pattern, str) else "(")
            except re.error as exc:
                raise self.fail(where, "matches", f"must be a regular expression as text ({exc})") from None
            return Limit(ValidatorKind.MATCHES, pattern=pattern)
        try:
            known = KnownValue(table["equals_known"])
        except ValueError:
            options = ", ".join(f'"{k.value}"' for k in KnownValue)
            raise self.fail(where, "equals_known", f"must be one of {options}, got "
                            f"{table['equals_known']!r}") from None
        return Limit(ValidatorKind.EQUALS_KNOWN, known=known)

    def _number(self, table: Mapping[str, Any], where: tuple[int, ...], key: str) -> float | None:
        value = table.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float) or value != value or abs(value) == float(
                "inf"):
            raise self.fail(where, key, f"must be a number, got {value!r}")
        return value

    def _in_range(self, table: Mapping[str, Any], where: tuple[int, ...]) -> Limit:
        lower, upper, m_lower, m_upper = (self._number(table, where, k) for k in _RANGE_KEYS)
        if lower is None and upper is None:
            raise self.fail(where, "lower", "missing; a range needs `lower`, `upper` or both")
        if lower is not None and upper is not None and lower > upper:
            raise self.fail(where, "upper", f"{upper} is below lower {lower}")
        for key, marginal, bound in (("marginal_lower", m_lower, lower), ("marginal_upper", m_upper, upper)):
            if marginal is None:
                continue
            if bound is None:
                raise self.fail(where, key, f"needs `{key.removeprefix('marginal_')}` too")
            if lower is not None and upper is not None and not lower <= marginal <= upper:
                raise self.fail(where, key, f"{marginal} must lie within lower {lower} and upper {upper} (the "
                                "marginal band is inside the limits)")
        if m_lower is not None and m_upper is not None and m_lower > m_upper:
            raise self.fail(where, "marginal_upper", f"{m_upper} is below marginal_lower {m_lower}")
        return Limit(ValidatorKind.IN_RANGE, lower=lower, upper=upper, marginal_lower=m_lower, marginal_upper=m_upper)

    def _within_percent(self, table: Mapping[str, Any], where: tuple[int, ...]) -> Limit:
        expected, percent, marginal = (self._number(table, where, k) for k in _PERCENT_KEYS)
        if expected is None:
            raise self.fail(where, "expected", "missing; within a percent needs `expected` and `percent`")
        if percent is None or percent <= 0:
            raise self.fail(where, "percent", f"must be a percentage above 0, got {table.get('percent')!r}")
        if marginal is not None and not 0 <= marginal < percent:
            raise self.fail(where, "marginal_percent", f"must be at least 0 and below percent {percent}, got "
                            f"{marginal}")
        return Limit(ValidatorKind.WITHIN_PERCENT, expected=expected, percent=percent, marginal_percent=marginal)


_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")


def _line_of(lines: list[str], where: tuple[int, ...], key: str) -> int | None:
    """The line of ``key`` in ``[tests]``, the n-th ``[[tests.test]]`` or its k-th ``[[tests.test.measurement]]``
    (the header's line when the key is not written there, e.g. a missing key or one inside an inline table)."""
    key = key.partition(".")[0]
    headers = ("tests", "tests.test", "tests.test.measurement")
    wanted = headers[len(where)]
    counts = [0, 0]
    inside, header_line = False, None
    for number, line in enumerate(lines, start=1):
        found = _HEADER.match(line)
        if found:
            name = found.group(2)
            if name == "tests.test":
                counts = [counts[0] + 1, 0]
            elif name == "tests.test.measurement":
                counts[1] += 1
            inside = name == wanted and tuple(counts[:len(where)]) == where
            if inside:
                header_line = number
            continue
        if inside and re.match(rf"^\s*{re.escape(key)}\s*=", line):
            return number
    return header_line
