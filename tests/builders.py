"""Test data: valid NIKs and No. KK of Kota Bogor, households as the city proposes them, programs.

Household ``n`` (0 <= n < 99,000) has a No. KK and members whose NIKs no other household's share:
NIK = ``3271`` + kecamatan (01-06) + birth DDMMYY (day + 40 for women) + a serial that is never 0000;
No. KK = the kecamatan's 6-digit code + issue DDMMYY + a serial.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

import pytest

from salur_cases.domain.actor import Actor
from salur_cases.domain.commands import (
    DecideVerval,
    DefineProgram,
    OpenTahap,
    ProposeHousehold,
    RecordPayment,
    RecordPopulationMatch,
)
from salur_cases.domain.errors import Refusal, RefusalCode
from salur_cases.domain.parsing import parse_time
from salur_cases.domain.vocabulary import (
    BudgetSource,
    PadanResult,
    PaymentStatus,
    ProgramGroup,
    Role,
    VervalDecision,
)
from salur_cases.processes import padan, programs, registration, verval
from salur_cases.runtime import Runtime
from salur_cases.settings import load_settings

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from salur_cases.application import SalurApplication

KECAMATAN = {
    1: ("Bogor Selatan", "Batutulis"),
    2: ("Bogor Timur", "Baranangsiang"),
    3: ("Bogor Tengah", "Paledang"),
    4: ("Bogor Barat", "Menteng"),
    5: ("Bogor Utara", "Bantarjati"),
    6: ("Tanah Sareal", "Kebon Pedes"),
}
SERIALS = 9999
_FIRST = ("Siti", "Asep", "Dewi", "Ujang", "Euis", "Dadang", "Neneng", "Yayan", "Cucu", "Entin")
_LAST = ("Rahayu", "Suryadi", "Komariah", "Hidayat", "Nurhasanah", "Permana", "Sumarni", "Gunawan")
RELATIONSHIPS = ("KEPALA KELUARGA", "ISTRI", "ANAK", "ANAK", "ANAK", "FAMILI LAIN")

DINSOS = Actor("petugas-dinsos", Role.DINSOS)
KELURAHAN = Actor("operator-kelurahan", Role.KELURAHAN)
DUKCAPIL = Actor("petugas-dukcapil", Role.DUKCAPIL)


def make_nik(serial: int, *, kecamatan: int = 1, born: date = date(1980, 1, 15), female: bool = False) -> str:
    """A valid Kota Bogor NIK."""
    day = born.day + (40 if female else 0)
    return f"32710{kecamatan}{day:02d}{born:%m%y}{serial:04d}"


def make_no_kk(serial: int, *, kecamatan: int = 1, issued: date = date(2015, 3, 1)) -> str:
    """A valid Kota Bogor No. KK."""
    return f"32710{kecamatan}{issued:%d%m%y}{serial:04d}"


def kecamatan_of(n: int) -> int:
    """Household ``n``'s kecamatan (1-6)."""
    return n % 6 + 1


def no_kk_of(n: int) -> str:
    """Household ``n``'s No. KK."""
    return make_no_kk(n % SERIALS + 1, kecamatan=kecamatan_of(n), issued=date(2015, 1, 1 + n // SERIALS))


def nik_of(n: int, member: int = 0) -> str:
    """The NIK of member ``member`` (0-5) of household ``n``; odd members are women."""
    born = date(1960 + member * 5, 1 + n // SERIALS % 12, 1 + member)
    return make_nik(n % SERIALS + 1, kecamatan=kecamatan_of(n), born=born, female=member % 2 == 1)


def name_of(n: int, member: int = 0) -> str:
    """A person's name, distinct per household and member."""
    first, last = _FIRST[(n + member) % len(_FIRST)], _LAST[n // len(_FIRST) % len(_LAST)]
    return f"{first} {last} Bin {_code(n, member)}"


def _code(n: int, member: int) -> str:
    value, letters = n * 7 + member, ""
    for _ in range(4):
        value, digit = divmod(value, 26)
        letters += chr(ord("a") + digit)
    return letters.capitalize()


def member_data(n: int, member: int = 0) -> dict[str, Any]:
    """One member row of household ``n`` as the API takes it."""
    return {"nik": nik_of(n, member), "name": name_of(n, member), "relationship": RELATIONSHIPS[member]}


def proposal_data(
    n: int, *, members: int = 2, source: str = "KELURAHAN", reference: str = ""
) -> dict[str, Any]:
    """Household ``n`` proposed by ``source`` (``DINAS:Pertanian`` names the dinas), as the API takes it."""
    kecamatan, kelurahan = KECAMATAN[kecamatan_of(n)]
    return {
        "no_kk": no_kk_of(n),
        "source": {"kind": source, "reference": reference},
        "address": {"kecamatan": kecamatan, "kelurahan": kelurahan, "rw": "03", "rt": "07"},
        "members": [member_data(n, m) for m in range(members)],
    }


def proposal(n: int, **kwargs: Any) -> ProposeHousehold:
    """Household ``n``'s proposal, parsed as the API parses it."""
    return ProposeHousehold.from_data(proposal_data(n, **kwargs))


def define_program(
    app: SalurApplication,
    code: str,
    budget_source: BudgetSource = BudgetSource.APBD_KOTA,
    group: ProgramGroup = ProgramGroup.NON_DTKS,
) -> None:
    """Define a program named after its code."""
    programs.define_program(app, DefineProgram(code, f"Bantuan {code.title()}", budget_source, group), DINSOS)


def open_tahap(
    app: SalurApplication,
    code: str,
    number: int,
    *,
    month: int = 5,
    quota: int = 100,
    amount_idr: int = 500_000,
    ceiling_idr: int | None = None,
) -> None:
    """Open tahap ``number`` of ``code`` for one month of 2020."""
    ends = date(2020, month + 1, 1).toordinal() - 1
    programs.open_tahap(
        app,
        code,
        OpenTahap(
            number,
            date(2020, month, 1),
            date.fromordinal(ends),
            quota,
            amount_idr,
            quota * amount_idr if ceiling_idr is None else ceiling_idr,
            f"SK {code} {number}/2020",
        ),
        DINSOS,
    )


def register_eligible(
    app: SalurApplication,
    households: Iterable[int],
    *,
    source: str = "KELURAHAN",
    verval_on: date = date(2020, 5, 3),
) -> None:
    """Register households, match them with Disdukcapil and find them ELIGIBLE."""
    households = list(households)
    outcome = registration.register_many(app, [proposal(n, source=source) for n in households], KELURAHAN)
    assert not outcome.rejected
    for n in households:
        padan.record_padan(
            app, no_kk_of(n), RecordPopulationMatch(PadanResult.MATCHED, date(2020, 5, 2)), DUKCAPIL
        )
    decisions = [
        (no_kk_of(n), DecideVerval(VervalDecision.ELIGIBLE, "layak", "petugas", verval_on))
        for n in households
    ]
    assert not verval.decide_verval_many(app, decisions, DINSOS).rejected


def payment(n: int, amount_idr: int = 500_000, status: PaymentStatus = PaymentStatus.PAID) -> RecordPayment:
    """A payer's line for household ``n``."""
    return RecordPayment(
        no_kk_of(n), amount_idr, parse_time("2020-05-20T10:00", "paid_at").isoformat(), status, f"POS-{n}"
    )


def refused(app: SalurApplication, code: RefusalCode, action: Callable[[], object]) -> Refusal:
    """``action()`` is refused with ``code`` and writes no event at all."""
    before = app.recorder.max_notification_id()
    with pytest.raises(Refusal) as caught:
        action()
    assert caught.value.code is code, caught.value
    assert app.recorder.max_notification_id() == before
    return caught.value


def stored_events(app: SalurApplication, topic: str | None = None) -> list[Any]:
    """Every stored event (of ``topic``), decoded, in commit order."""
    notifications = app.recorder.select_notifications(1, 1_000_000, topics=[topic] if topic else ())
    return [app.mapper.to_domain_event(n) for n in notifications]


def stored_topics(app: SalurApplication) -> list[str]:
    """The topic strings exactly as stored."""
    return [n.topic for n in app.recorder.select_notifications(1, 1_000_000)]


def database_url(url: str, schema: str | None) -> str:
    """The project's database URL for a test target: PostgreSQL carries its schema as ``?schema=``."""
    return f"{url}?schema={schema}" if schema else url


def runtime_for(url: str, schema: str | None, env_keys: dict[str, str], **env: str) -> Runtime:
    """A Runtime on the test's own database (and schema), with the test keys and any other settings."""
    return Runtime(load_settings({"SALUR_DATABASE_URL": database_url(url, schema), **env_keys, **env}))
