"""Device group names from the profile: fixed names and date tokens expanded for a lot, created in the product.

``{date}`` becomes ``YYYYMMDD``. ``{date_seq}`` becomes ``YYYYMMDD_nnn``: by default the next sequence number of that
day not yet used by the product's groups, so each lot that expands it gets a group of its own; pass ``seq`` (e.g. the
lot's own sequence number) for a per-lot choice that stays the same when the station restarts in the middle of a lot.
Expand once per lot and keep the names for its units: expanding again after the group exists picks the next number.
Names follow the API's rule for groups (docs.particle.io, 'Create device group'): lowercase letters, digits, ``-`` and
``_``.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from cloud_client.calls import ProductRef
from cloud_client.client import ParticleCloud
from cloud_client.errors import CloudError, InvalidInputError
from station.config.profile import ProfileError, validate_group_name
from station.errors import StationError

DATE_TOKEN = "{date}"
DATE_SEQ_TOKEN = "{date_seq}"
MAX_DAILY_SEQUENCE = 999
_TOKEN = re.compile(r"\{(date|date_seq)\}", re.IGNORECASE)


class GroupNameError(StationError):
    """A group name from the profile is not one the API accepts, even after its date tokens are expanded."""


@dataclass(frozen=True)
class EnsuredGroups:
    """What ``ensure_groups`` did: the groups it created and those that were already there."""

    created: tuple[str, ...]
    existing: tuple[str, ...]


def date_group(today: datetime.date) -> str:
    return today.strftime("%Y%m%d")


def next_sequence(today: datetime.date, existing: Iterable[str]) -> int:
    """One more than the highest ``YYYYMMDD_nnn`` sequence of ``today`` among ``existing`` names (1 if none)."""
    pattern = re.compile(rf"{date_group(today)}_(\d{{3}})")
    used = [int(m.group(1)) for name in existing if (m := pattern.fullmatch(name))]
    return max(used, default=0) + 1


def expand_groups(
    names: Sequence[str], today: datetime.date, existing: Iterable[str] = (), *, seq: int | None = None
) -> list[str]:
    """The profile's group names for a lot started ``today``: tokens expanded, each name checked, duplicates dropped.

    ``existing`` are the product's group names (``cloud.list_groups``), used to find the next free ``{date_seq}``
    number unless ``seq`` is given. Raises GroupNameError naming the profile entry that gives an invalid name.
    """
    known = list(existing)
    sequence = seq if seq is not None else next_sequence(today, known)
    if not 1 <= sequence <= MAX_DAILY_SEQUENCE:
        raise GroupNameError(
            f"group sequence {sequence} for {date_group(today)} is outside 1-{MAX_DAILY_SEQUENCE}; the product has "
            "used every YYYYMMDD_nnn name of the day: delete old groups or use a fixed group name"
        )
    expanded: list[str] = []
    for name in names:
        text = _TOKEN.sub(lambda m: _token_value(m.group(1).lower(), today, sequence), name.strip())
        try:
            validate_group_name(text)
        except ProfileError:
            gives = "" if text == name else f" gives {text!r}, which"
            raise GroupNameError(
                f"steps.groups entry {name!r}{gives} is not a valid device group name: use lowercase letters, "
                "digits, '-' and '_' (1-64 characters), or the tokens {date} and {date_seq}"
            ) from None
        if text not in expanded:
            expanded.append(text)
    return expanded


def _token_value(token: str, today: datetime.date, sequence: int) -> str:
    return date_group(today) if token == "date" else f"{date_group(today)}_{sequence:03d}"


def ensure_groups(cloud: ParticleCloud, product: ProductRef, names: Sequence[str]) -> EnsuredGroups:
    """Create the groups of ``names`` the product does not have yet; a group created meanwhile counts as existing."""
    try:
        present = {g.name for g in cloud.list_groups(product)}
    except CloudError as exc:
        raise StationError(f"cannot list the device groups of product {product}: {exc}") from exc
    created: list[str] = []
    existing: list[str] = []
    for name in dict.fromkeys(names):
        if name in present:
            existing.append(name)
            continue
        try:
            cloud.create_group(product, name, description="created by the provisioning station")
        except InvalidInputError as exc:
            # The API answers 400 "already exists" when another station created it first: that is success.
            if name not in {g.name for g in cloud.list_groups(product, name=name)}:
                raise StationError(f"cannot create device group {name!r} in product {product}: {exc}") from exc
            existing.append(name)
            continue
        except CloudError as exc:
            raise StationError(f"cannot create device group {name!r} in product {product}: {exc}") from exc
        created.append(name)
    return EnsuredGroups(tuple(created), tuple(existing))
