"""Device group names from the profile: date tokens, validation, and creating missing groups in the product."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from pathlib import Path

import pytest

from cloud_client.client import ParticleCloud
from station.demo.simulated_line import SimulatedLine, build_simulated_line
from station.product.groups import GroupNameError, ensure_groups, expand_groups, next_sequence

DAY = datetime.date(2026, 3, 9)
PRODUCT = 12345


def test_date_token_becomes_yyyymmdd() -> None:
    assert expand_groups(["{date}"], DAY) == ["20260309"]


def test_date_seq_starts_at_one_on_a_new_day() -> None:
    assert expand_groups(["{date_seq}"], DAY, ["20260308_004", "line-a"]) == ["20260309_001"]


def test_date_seq_takes_the_next_free_number_of_the_day() -> None:
    existing = ["20260309_001", "20260309_002", "20260308_007", "20260309"]
    assert expand_groups(["{date_seq}"], DAY, existing) == ["20260309_003"]


def test_given_sequence_is_used_as_the_lots_choice() -> None:
    assert expand_groups(["{date_seq}"], DAY, ["20260309_001"], seq=12) == ["20260309_012"]


def test_fixed_names_are_kept_and_repeats_dropped() -> None:
    assert expand_groups(["line-a", "{DATE}", "line-a", "20260309"], DAY) == ["line-a", "20260309"]


def test_tokens_inside_a_name_are_expanded() -> None:
    assert expand_groups(["line-a_{date}"], DAY) == ["line-a_20260309"]


def test_invalid_fixed_name_is_an_error_naming_it() -> None:
    with pytest.raises(GroupNameError, match=r"steps.groups entry 'Line A' is not a valid device group name"):
        expand_groups(["Line A"], DAY)


def test_invalid_name_after_expansion_names_the_entry_and_the_result() -> None:
    with pytest.raises(GroupNameError, match=r"entry 'Line-\{date\}' gives 'Line-20260309'"):
        expand_groups(["Line-{date}"], DAY)


def test_a_day_with_every_sequence_used_is_an_error() -> None:
    existing = [f"20260309_{n:03d}" for n in range(1, 1000)]
    assert next_sequence(DAY, existing) == 1000
    with pytest.raises(GroupNameError, match="used every YYYYMMDD_nnn name of the day"):
        expand_groups(["{date_seq}"], DAY, existing)


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[SimulatedLine]:
    line = build_simulated_line(tmp_path / "line", devices=0, product_id=PRODUCT, connect_delay=None)
    try:
        yield line
    finally:
        line.close()


@pytest.fixture
def cloud(sim: SimulatedLine) -> Iterator[ParticleCloud]:
    with sim.cloud(max_retries=0) as client:
        yield client


def test_ensure_groups_creates_only_the_missing_ones(cloud: ParticleCloud) -> None:
    cloud.create_group(PRODUCT, "line-a")
    result = ensure_groups(cloud, PRODUCT, ["line-a", "20260309_001"])
    assert (result.created, result.existing) == (("20260309_001",), ("line-a",))
    assert sorted(g.name for g in cloud.list_groups(PRODUCT)) == ["20260309_001", "line-a"]


def test_ensure_groups_twice_creates_nothing_the_second_time(cloud: ParticleCloud) -> None:
    ensure_groups(cloud, PRODUCT, ["line-a"])
    again = ensure_groups(cloud, PRODUCT, ["line-a"])
    assert (again.created, again.existing) == ((), ("line-a",))


def test_date_seq_against_the_products_groups_picks_a_new_group_per_lot(cloud: ParticleCloud) -> None:
    first = expand_groups(["{date_seq}"], DAY, [g.name for g in cloud.list_groups(PRODUCT)])
    ensure_groups(cloud, PRODUCT, first)
    second = expand_groups(["{date_seq}"], DAY, [g.name for g in cloud.list_groups(PRODUCT)])
    assert (first, second) == (["20260309_001"], ["20260309_002"])
