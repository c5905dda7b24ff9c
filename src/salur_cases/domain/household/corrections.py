"""Corrections of a household's data: which fields may be corrected, their current value, and how a
`Corrected` event changes the household (on replay too)."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from salur_cases.domain.errors import InvalidCommand
from salur_cases.domain.household.values import Address, Member

if TYPE_CHECKING:
    from salur_cases.domain.household.state import HouseholdState

MEMBER_FIELDS = ("nik", "name", "relationship", "birth_date")
ADDRESS_FIELDS = ("kecamatan", "kelurahan", "rw", "rt")


def parse_field_path(path: str) -> tuple[str, int | None, str]:
    """Split `members[0].nik` or `address.rt` into (section, index, attribute); refuse anything else."""
    section, _, attribute = path.partition(".")
    if section == "address" and attribute in ADDRESS_FIELDS:
        return "address", None, attribute
    if section.startswith("members[") and section.endswith("]") and attribute in MEMBER_FIELDS:
        index = section[len("members[") : -1]
        if index.isdigit():
            return "members", int(index), attribute
    raise InvalidCommand(
        "field", "must be members[i].nik|name|relationship|birth_date or address.kecamatan|kelurahan|rw|rt"
    )


def current_value(household: HouseholdState, path: str) -> str | None:
    """The value a correction replaces (as text)."""
    section, index, attribute = parse_field_path(path)
    if section == "address":
        return getattr(household.address, attribute) if household.address else None
    if index is None or index >= len(household.members):
        raise InvalidCommand("field", f"the household has {len(household.members)} members")
    value = getattr(household.members[index], attribute)
    return value.isoformat() if isinstance(value, date) else value


def apply_correction(household: HouseholdState, path: str, new_value: str) -> None:
    """Change state as a Corrected event says (runs on replay too)."""
    section, index, attribute = parse_field_path(path)
    if section == "address":
        base = household.address.to_data() if household.address else dict.fromkeys(ADDRESS_FIELDS, "")
        household.address = Address(**{**base, attribute: new_value})
        return
    if index is None:
        raise InvalidCommand("field", "names no member")
    data = household.members[index].to_data()
    data[attribute] = new_value
    members = list(household.members)
    members[index] = Member.from_data(data)
    household.members = members
