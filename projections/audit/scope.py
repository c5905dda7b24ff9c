"""Who is accountable for what: which anomaly rules apply to which program.

A program's group, budget source and the authority that supplies its roster decide which steps of
the process are the city's own:

- **DTKS programs** (BPNT/BSP, BLT DTKS, PKH): recipients come from the national welfare registry,
  verified through DTKS's own process and named on Kemensos's rosters. The city neither proposes
  nor verifies them.
- **Provincial programs** (budget source APBD_PROVINSI, e.g. Bantuan Gubernur): the province
  matches, deduplicates and selects its own list.
- **City-fed programs**: the other non-DTKS programs. Their recipients are meant to come from the
  city: APBD_KOTA programs by the city's own allocation rule, non-DTKS APBN programs (BST Kemensos
  for new poor households outside DTKS) on Kemensos's rosters drawn from the city's proposals. The
  city owns the proposal, the verval and the padan of these.

A seat the city allocated by its own rule (no outside authority) is the city's in any program: its
rule requires padan and verval. The lists of DTKS and provincial programs are other authorities' own
lists: findings about them are marked `outside_authority` and summarised unless asked for.
"""

from __future__ import annotations

from dataclasses import dataclass

from salur_cases.domain.vocabulary import BudgetSource, ProgramGroup

CITY = "DINSOS"
"""The `authority` filter's name for the city's own seats (allocated by its rule: no outside authority)."""


@dataclass(frozen=True)
class ProgramScope:
    """A program as the audit sees it: its group and budget source."""

    code: str
    group: str
    budget_source: str

    @property
    def city_fed(self) -> bool:
        """The city is meant to propose its recipients, after its own padan and verval."""
        return self.group == ProgramGroup.NON_DTKS and self.budget_source != BudgetSource.APBD_PROVINSI

    @property
    def outside_list(self) -> bool:
        """Its list is another authority's own (DTKS or provincial): the city reports, others answer."""
        return not self.city_fed

    def city_verifies(self, *, seated: bool, authority: str | None) -> bool:
        """Whether a payment on this program needed the city's padan and verval.

        Yes for city-fed programs, and for a seat the city allocated by its own rule in any program.
        """
        return self.city_fed or (seated and authority is None)


def outside(scope: ProgramScope | None) -> bool:
    """Whether a finding on this program concerns another authority's own list (unknown: no)."""
    return scope is not None and scope.outside_list
