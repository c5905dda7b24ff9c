"""The domain's words as closed sets of values (CONTRACT.md spells every one of them)."""

from __future__ import annotations

from enum import StrEnum


class BudgetSource(StrEnum):
    """Who pays: the national, provincial or city budget."""

    APBN = "APBN"
    APBD_PROVINSI = "APBD_PROVINSI"
    APBD_KOTA = "APBD_KOTA"


class ProgramGroup(StrEnum):
    """Whether a program serves households in DTKS (the national welfare registry) or outside it."""

    DTKS = "DTKS"
    NON_DTKS = "NON_DTKS"


class SourceKind(StrEnum):
    """Who proposed a household. DINAS and DPRD carry a name after a colon (`DINAS:Pertanian`)."""

    KELURAHAN = "KELURAHAN"
    SELF = "SELF"
    DINAS = "DINAS"
    DPRD = "DPRD"
    DTKS = "DTKS"
    PROVINSI = "PROVINSI"
    KEMENSOS = "KEMENSOS"

    @property
    def is_city(self) -> bool:
        """A city proposal makes a household a candidate under the city's own allocation rule."""
        return self in {SourceKind.KELURAHAN, SourceKind.SELF, SourceKind.DINAS, SourceKind.DPRD}


class PadanResult(StrEnum):
    """Outcome of matching a household against Disdukcapil's population data, in order of checking."""

    MATCHED = "MATCHED"
    NIK_NOT_FOUND = "NIK_NOT_FOUND"
    OUTSIDE_CITY = "OUTSIDE_CITY"
    DECEASED = "DECEASED"
    MOVED = "MOVED"
    NAME_MISMATCH = "NAME_MISMATCH"
    NOT_EKTP = "NOT_EKTP"


class VervalDecision(StrEnum):
    """Officers' verification and validation decision (LAYAK / TIDAK_LAYAK)."""

    ELIGIBLE = "ELIGIBLE"
    INELIGIBLE = "INELIGIBLE"


class PaymentStatus(StrEnum):
    """What a payer reported for one attempt to pay a household in a tahap."""

    PAID = "PAID"
    FAILED = "FAILED"
    RETURNED = "RETURNED"


class Role(StrEnum):
    """Who acts: the roles of CONTRACT.md, plus `system` for the application's own bookkeeping."""

    ADMIN = "admin"
    DINSOS = "dinsos"
    KELURAHAN = "kelurahan"
    DUKCAPIL = "dukcapil"
    INSPECTOR = "inspector"
    SYSTEM = "system"


KEPALA_KELUARGA = "KEPALA KELUARGA"
