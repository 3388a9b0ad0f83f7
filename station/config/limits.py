"""A measurement's limit as the profile declares it, and how it judges a value: pass or fail, marginal or not.

The validators and their text follow OpenHTF's canned validators (google/openhtf ``openhtf/util/validators.py``:
``in_range`` with marginal limits, ``equals``, ``matches_regex``, ``within_percent``), so a record exported as
OpenHTF-style JSON lists them as OpenHTF itself would (``describe``); people read ``wording``: the limit as an engineer
writes it ("3.6 to 4.2 V", "must be true", "must be empty"). A marginal pass is a pass inside the limits but within the
marginal band next to one of them (OpenHTF: ``minimum <= x <= marginal_minimum`` or ``marginal_maximum <= x <=
maximum``). ``one_of`` and ``equals_known`` (compare with a value the station knows: "burn a serial, read it back,
compare with the scanned label", OpenHTF issues #622/#755) are this station's additions.
"""

from __future__ import annotations

import enum
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


class ValidatorKind(enum.Enum):
    IN_RANGE = "in_range"
    EQUALS = "equals"
    ONE_OF = "one_of"
    MATCHES = "matches"
    WITHIN_PERCENT = "within_percent"
    EQUALS_KNOWN = "equals_known"
    YES = "yes"
    """An operator's Yes/No prompt: passes on Yes."""


class KnownValue(enum.Enum):
    """A value the station knows about the unit before its tests run."""

    LABEL_SERIAL = "label_serial"
    """The serial number on the scanned label."""
    DEVICE_ID = "device_id"
    ICCID = "iccid"
    """Read from the modem at identify (cellular units)."""


@dataclass(frozen=True)
class Judgement:
    passed: bool
    marginal: bool = False
    why: str = ""
    """Why it failed, in words (empty on a pass)."""


@dataclass(frozen=True)
class Limit:
    """One validator with its parameters; only the fields of its kind are set."""

    kind: ValidatorKind
    lower: float | None = None
    upper: float | None = None
    marginal_lower: float | None = None
    marginal_upper: float | None = None
    expected: Any = None
    """``equals``: the value; ``within_percent``: the nominal value."""
    choices: tuple[Any, ...] = ()
    pattern: str | None = None
    percent: float | None = None
    marginal_percent: float | None = None
    known: KnownValue | None = None

    @property
    def numeric(self) -> bool:
        return self.kind in (ValidatorKind.IN_RANGE, ValidatorKind.WITHIN_PERCENT)

    def bounds(self) -> tuple[float | None, float | None, float | None, float | None]:
        """(lower, upper, marginal lower, marginal upper) of a numeric limit, as the journal and Cpk use them."""
        if self.kind is ValidatorKind.WITHIN_PERCENT:
            assert self.percent is not None
            nominal = float(self.expected)
            span = abs(nominal * self.percent / 100.0)
            inner = abs(nominal * self.marginal_percent / 100.0) if self.marginal_percent is not None else None
            return (nominal - span, nominal + span, None if inner is None else nominal - inner,
                    None if inner is None else nominal + inner)
        return self.lower, self.upper, self.marginal_lower, self.marginal_upper

    def describe(self) -> str:
        """The limit in OpenHTF's words (``3.6 <= x <= 4.3``, ``'x' matches /^P0/``)."""
        if self.kind is ValidatorKind.IN_RANGE:
            if self.lower is not None and self.lower == self.upper:
                return f"x == {_num(self.lower)}"
            text = f"{_num(self.lower)} <= " if self.lower is not None else ""
            text += f"Marginal:{_num(self.marginal_lower)} <= " if self.marginal_lower is not None else ""
            text += "x"
            text += f" <= Marginal:{_num(self.marginal_upper)}" if self.marginal_upper is not None else ""
            text += f" <= {_num(self.upper)}" if self.upper is not None else ""
            return text
        if self.kind is ValidatorKind.EQUALS:
            # OpenHTF's equals(): a number is a one-point range, a text a whole-text regex, anything else Equals.
            if isinstance(self.expected, int | float) and not isinstance(self.expected, bool):
                return f"x == {_num(self.expected)}"
            if isinstance(self.expected, str):
                return f"'x' matches /^{re.escape(self.expected)}$/"
            return f"'x' is equal to '{self.expected}'"
        if self.kind is ValidatorKind.ONE_OF:
            return "'x' is one of " + ", ".join(f"'{_text(c)}'" for c in self.choices)
        if self.kind is ValidatorKind.MATCHES:
            return f"'x' matches /{self.pattern}/"
        if self.kind is ValidatorKind.WITHIN_PERCENT:
            text = f"'x' is within {_num(self.percent)}% of {_num(self.expected)}"
            if self.marginal_percent is not None:
                text += f". Marginal: {_num(self.marginal_percent)}% of {_num(self.expected)}"
            return text
        if self.kind is ValidatorKind.EQUALS_KNOWN:
            assert self.known is not None
            return f"'x' is equal to the unit's {self.known.value}"
        return "'x' is Yes"

    def wording(self, units: str | None = None) -> str:
        """The limit as an engineer writes it on a test plan: ``3.6 to 4.2 V (marginal: 3.7 or below, 4.1 or
        above)``, ``at least -105 dBm``, ``must be true``, ``must be empty``, ``must be one of 7, 8``."""
        unit = f" {units}" if units else ""
        if self.kind is ValidatorKind.IN_RANGE:
            if self.lower is not None and self.lower == self.upper:
                return f"must equal {_num(self.lower)}{unit}"
            if self.lower is not None and self.upper is not None:
                text = f"{_num(self.lower)} to {_num(self.upper)}{unit}"
            elif self.lower is not None:
                text = f"at least {_num(self.lower)}{unit}"
            else:
                text = f"at most {_num(self.upper)}{unit}"
            return text + _marginal_wording(self.marginal_lower, self.marginal_upper)
        if self.kind is ValidatorKind.WITHIN_PERCENT:
            lower, upper, _, _ = self.bounds()
            text = f"{_num(self.expected)}{unit} ± {_num(self.percent)} % ({lower:g} to {upper:g}{unit})"
            if self.marginal_percent is not None:
                text += f", marginal beyond ± {_num(self.marginal_percent)} %"
            return text
        if self.kind is ValidatorKind.EQUALS:
            if isinstance(self.expected, bool):
                return f"must be {_text(self.expected)}"
            if self.expected in ([], {}, ""):
                return "must be empty"
            if isinstance(self.expected, int | float):
                return f"must equal {_num(self.expected)}{unit}"
            return f"must equal {_shown(self.expected)}"
        if self.kind is ValidatorKind.ONE_OF:
            if len(self.choices) == 1:
                return f"must equal {_shown(self.choices[0])}"
            return "must be one of " + ", ".join(_shown(c) for c in self.choices)
        if self.kind is ValidatorKind.MATCHES:
            return f"must match /{self.pattern}/"
        if self.kind is ValidatorKind.EQUALS_KNOWN:
            assert self.known is not None
            return f"must equal {_KNOWN_WORDING[self.known]}"
        return "the operator must answer Yes"

    def judge(self, value: Any, known: Mapping[KnownValue, str | None]) -> Judgement:
        """Whether ``value`` (as the device or the operator gave it) meets this limit."""
        if self.numeric:
            number = _number(value)
            if number is None:
                return Judgement(False, why=f"{_text(value)!r} is not a number")
            lower, upper, marginal_lower, marginal_upper = self.bounds()
            if (lower is not None and number < lower) or (upper is not None and number > upper):
                return Judgement(False, why=f"{_num(number)} is outside {self.wording()}")
            marginal = ((marginal_lower is not None and number <= marginal_lower)
                        or (marginal_upper is not None and number >= marginal_upper))
            return Judgement(True, marginal=marginal)
        if self.kind is ValidatorKind.EQUALS:
            ok = _same(value, self.expected)
        elif self.kind is ValidatorKind.ONE_OF:
            ok = any(_same(value, choice) for choice in self.choices)
        elif self.kind is ValidatorKind.MATCHES:
            assert self.pattern is not None
            ok = isinstance(value, str | int | float) and re.search(self.pattern, str(value)) is not None
        elif self.kind is ValidatorKind.EQUALS_KNOWN:
            assert self.known is not None
            wanted = known.get(self.known)
            if wanted is None:
                return Judgement(False, why=f"the station does not know this unit's {self.known.value}")
            ok = isinstance(value, str) and value.strip() == wanted
            if not ok:
                return Judgement(False, why=f"{_text(value)!r} is not the unit's {self.known.value} {wanted!r}")
        else:
            ok = value is True
        return Judgement(True) if ok else Judgement(False, why=f"got {_shown(value)}, {self.wording()}")

    def as_columns(self) -> dict[str, Any]:
        """The limit as the journal's measurement columns (lower, upper, marginal_lower, marginal_upper, validator)."""
        lower, upper, marginal_lower, marginal_upper = self.bounds() if self.numeric else (None, None, None, None)
        return {"lower": lower, "upper": upper, "marginal_lower": marginal_lower, "marginal_upper": marginal_upper,
                "validator": self.describe()}


_KNOWN_WORDING = {
    KnownValue.LABEL_SERIAL: "the serial on the scanned label",
    KnownValue.DEVICE_ID: "the unit's device ID",
    KnownValue.ICCID: "the unit's ICCID",
}


def _marginal_wording(lower: float | None, upper: float | None) -> str:
    bands = ([f"{_num(lower)} or below"] if lower is not None else []) + \
        ([f"{_num(upper)} or above"] if upper is not None else [])
    return f" (marginal: {', '.join(bands)})" if bands else ""


def _shown(value: Any) -> str:
    """A value as a person reads it: true/false, text in quotes, lists and objects as JSON."""
    if isinstance(value, bool):
        return _text(value)
    if isinstance(value, str):
        return repr(value[:200])
    if isinstance(value, list | dict):
        return json.dumps(value)[:200]
    return _text(value)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return None if math.isnan(number) or math.isinf(number) else number


def _same(value: Any, expected: Any) -> bool:
    """JSON equality, with 1 == 1.0 but never True == 1."""
    if isinstance(value, bool) or isinstance(expected, bool):
        return value is expected
    if isinstance(value, int | float) and isinstance(expected, int | float):
        return float(value) == float(expected)
    return bool(value == expected)


def _num(value: float | None) -> str:
    """A number as Python (and so OpenHTF's validator text) prints it: as the profile wrote it, 3 or 3.0."""
    return str(value)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)[:200]
