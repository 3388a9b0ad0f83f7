"""How each limit judges a value, its text as OpenHTF writes it (the journal's validator, the OpenHTF export) and
as an engineer writes it (profile check, failure reasons)."""

from __future__ import annotations

from station.config.limits import KnownValue, Limit, ValidatorKind

KNOWN = {KnownValue.LABEL_SERIAL: "P046AB1234567890", KnownValue.DEVICE_ID: None, KnownValue.ICCID: None}


def test_in_range_passes_inside_fails_outside_and_marks_the_marginal_band() -> None:
    limit = Limit(ValidatorKind.IN_RANGE, lower=3.6, upper=4.3, marginal_lower=3.7, marginal_upper=4.2)
    assert limit.judge(3.9, KNOWN).passed and not limit.judge(3.9, KNOWN).marginal
    assert limit.judge(3.65, KNOWN).marginal and limit.judge(4.25, KNOWN).passed
    failed = limit.judge(3.5, KNOWN)
    assert not failed.passed and failed.why == "3.5 is outside 3.6 to 4.3 (marginal: 3.7 or below, 4.2 or above)"
    assert not limit.judge("3.9", KNOWN).passed and not limit.judge(True, KNOWN).passed
    assert limit.describe() == "3.6 <= Marginal:3.7 <= x <= Marginal:4.2 <= 4.3"


def test_within_percent_uses_the_nominal_value() -> None:
    limit = Limit(ValidatorKind.WITHIN_PERCENT, expected=5.0, percent=10, marginal_percent=8)
    assert limit.judge(5.4, KNOWN).passed and limit.judge(5.45, KNOWN).marginal
    assert not limit.judge(5.6, KNOWN).passed
    assert limit.describe() == "'x' is within 10% of 5.0. Marginal: 8% of 5.0"
    assert limit.bounds()[:2] == (4.5, 5.5)


def test_equals_one_of_and_matches() -> None:
    assert Limit(ValidatorKind.EQUALS, expected=[]).judge([], KNOWN).passed
    assert not Limit(ValidatorKind.EQUALS, expected=1).judge(True, KNOWN).passed
    assert Limit(ValidatorKind.ONE_OF, choices=(7, 8)).judge(8, KNOWN).passed
    assert Limit(ValidatorKind.MATCHES, pattern="^P0").judge("P046", KNOWN).passed
    assert Limit(ValidatorKind.MATCHES, pattern="^P0").describe() == "'x' matches /^P0/"


def test_equals_known_compares_with_what_the_station_knows() -> None:
    limit = Limit(ValidatorKind.EQUALS_KNOWN, known=KnownValue.LABEL_SERIAL)
    assert limit.judge("P046AB1234567890", KNOWN).passed
    wrong = limit.judge("P046AB0000000000", KNOWN)
    assert not wrong.passed and "P046AB1234567890" in wrong.why
    assert not Limit(ValidatorKind.EQUALS_KNOWN, known=KnownValue.ICCID).judge("89", KNOWN).passed


def test_equals_is_described_as_openhtf_describes_it() -> None:
    assert Limit(ValidatorKind.EQUALS, expected=[]).describe() == "'x' is equal to '[]'"
    assert Limit(ValidatorKind.EQUALS, expected=7).describe() == "x == 7"
    assert Limit(ValidatorKind.EQUALS, expected="P0.1").describe() == "'x' matches /^P0\\.1$/"
    assert Limit(ValidatorKind.EQUALS, expected=True).describe() == "'x' is equal to 'True'"


def test_ranges_read_as_an_engineer_writes_them() -> None:
    assert Limit(ValidatorKind.IN_RANGE, lower=10, upper=40).wording("mA") == "10 to 40 mA"
    assert (Limit(ValidatorKind.IN_RANGE, lower=3.6, upper=4.2, marginal_lower=3.7, marginal_upper=4.1).wording("V")
            == "3.6 to 4.2 V (marginal: 3.7 or below, 4.1 or above)")
    assert Limit(ValidatorKind.IN_RANGE, lower=-105, marginal_lower=-95).wording("dBm") == \
        "at least -105 dBm (marginal: -95 or below)"
    assert Limit(ValidatorKind.IN_RANGE, upper=40).wording() == "at most 40"
    assert Limit(ValidatorKind.IN_RANGE, lower=5, upper=5).wording("V") == "must equal 5 V"
    assert (Limit(ValidatorKind.WITHIN_PERCENT, expected=5.0, percent=10, marginal_percent=8).wording("V")
            == "5.0 V ± 10 % (4.5 to 5.5 V), marginal beyond ± 8 %")


def test_equality_limits_read_as_an_engineer_writes_them() -> None:
    assert Limit(ValidatorKind.EQUALS, expected=True).wording() == "must be true"
    assert Limit(ValidatorKind.EQUALS, expected=[]).wording() == "must be empty"
    assert Limit(ValidatorKind.EQUALS, expected=[1, 2]).wording() == "must equal [1, 2]"
    assert Limit(ValidatorKind.EQUALS, expected="P0.1").wording() == "must equal 'P0.1'"
    assert Limit(ValidatorKind.EQUALS, expected=7).wording() == "must equal 7"
    assert Limit(ValidatorKind.ONE_OF, choices=(7,)).wording() == "must equal 7"
    assert Limit(ValidatorKind.ONE_OF, choices=(7, 8)).wording() == "must be one of 7, 8"
    assert Limit(ValidatorKind.MATCHES, pattern="^P0").wording() == "must match /^P0/"
    assert (Limit(ValidatorKind.EQUALS_KNOWN, known=KnownValue.LABEL_SERIAL).wording()
            == "must equal the serial on the scanned label")
    assert Limit(ValidatorKind.YES).wording() == "the operator must answer Yes"


def test_a_failed_value_says_what_came_and_what_was_wanted() -> None:
    assert Limit(ValidatorKind.EQUALS, expected=[]).judge([3, 5], KNOWN).why == "got [3, 5], must be empty"
    assert Limit(ValidatorKind.EQUALS, expected=True).judge(False, KNOWN).why == "got false, must be true"
