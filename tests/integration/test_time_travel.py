"""What did we know on date D? Households and rosters as recorded at past moments, and by effective date.

The story: Bantuan Walikota tahap 1 runs in June 2020. H1 is paid on 10 June; on 21 June a KEMENSOS
decree removes it with effect from 1 June, so that payment was made after an effective removal,
although as recorded on 15 June it was valid. H2 is paid and the money comes back. H3 is removed
and reinstated. H4 is never allocated (left out by quota).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

import msgspec
import pytest

from salur_cases.domain.actor import Actor
from salur_cases.domain.clock import WIB, recording_at
from salur_cases.domain.commands import (
    DecideVerval,
    DefineProgram,
    OpenTahap,
    ProposeHousehold,
    RecordPayment,
    RecordPopulationMatch,
    ReinstateHousehold,
    RemoveHousehold,
)
from salur_cases.domain.vocabulary import (
    BudgetSource,
    PadanResult,
    PaymentStatus,
    ProgramGroup,
    Role,
    VervalDecision,
)
from salur_cases.processes import allocation, disbursement, padan, programs, registration, verval, withdrawal
from salur_cases.projections.migrate import upgrade
from salur_cases.projections.queries import (
    NOT_FOUND,
    feed,
    household_events,
    household_read,
    lookup_nik,
    payments,
    projection_lag,
    public_status,
    roster,
    wait_for_position,
)
from salur_cases.projections.runner import catch_up
from salur_cases.projections.schemas import HouseholdRead, PublicStatusRead
from salur_cases.runtime import Runtime
from salur_cases.settings import load_settings
from tests.conftest import fresh_pg_schema

DINSOS = Actor("officer", Role.DINSOS)
KEYS = {
    "SALUR_ID_KEY": "6a6d52fc1a9e1eb62d1346ebec44cf9f3d6b78c450d30a6968a607622ab871cf",
    "SALUR_SECRET_KEY": "033711f17a4e56759d12c3eedca9435d71e002ce0d5eb1b434ec2669c95b0fab",
    "SALUR_SIGNING_KEY": "cc1dca7c518d23fea39fabe758a7f562ee401a1f46eb883aeb90a4771b828d39",
    "SALUR_ALLOW_PLAINTEXT": "1",
}


def kk(i: int) -> str:
    """The No. KK of household Hi."""
    return f"327101150420{i:04d}"


def nik(i: int) -> str:
    """The NIK of household Hi's head."""
    return f"327101150490{i:04d}"


def at(month: int, day: int, hour: int = 9) -> datetime:
    """A story moment in WIB."""
    return datetime(2020, month, day, hour, tzinfo=WIB)


def build_story(runtime: Runtime) -> None:
    """The June story of the module docstring."""
    app = runtime.app
    with recording_at(at(4, 20)):
        programs.define_program(
            app,
            DefineProgram("WALIKOTA", "Bantuan Walikota", BudgetSource.APBD_KOTA, ProgramGroup.NON_DTKS),
            DINSOS,
        )
        programs.open_tahap(
            app,
            "WALIKOTA",
            OpenTahap(1, date(2020, 6, 1), date(2020, 6, 30), 3, 500_000, 1_500_000, "027.45-312"),
            DINSOS,
        )
        registration.register_many(
            app,
            [
                ProposeHousehold.from_data(
                    {
                        "no_kk": kk(i),
                        "source": {"kind": "KELURAHAN"},
                        "address": {
                            "kecamatan": "Bogor Tengah",
                            "kelurahan": "Paledang",
                            "rw": "1",
                            "rt": "1",
                        },
                        "members": [
                            {"nik": nik(i), "name": f"Kepala Keluarga {i}", "relationship": "KEPALA KELUARGA"}
                        ],
                    }
                )
                for i in (1, 2, 3, 4)
            ],
            DINSOS,
        )
    with recording_at(at(4, 21)):
        for i in (1, 2, 3, 4):
            padan.record_padan(
                app, kk(i), RecordPopulationMatch(PadanResult.MATCHED, date(2020, 4, 21)), DINSOS
            )
            verval.decide_verval(
                app,
                kk(i),
                DecideVerval(VervalDecision.ELIGIBLE, "layak", "Pak RW", date(2020, 4, 20 + i)),
                DINSOS,
            )
    with recording_at(at(5, 31)):
        allocation.allocate(app, "WALIKOTA", 1, DINSOS)
    with recording_at(at(6, 5)):
        withdrawal.remove(
            app,
            kk(3),
            RemoveHousehold(
                "WALIKOTA", 1, "DINSOS", "data ganda", "SK-DINSOS-7", effective_on=date(2020, 6, 5)
            ),
            DINSOS,
        )
    with recording_at(at(6, 10)):
        disbursement.record_payments(
            app,
            "WALIKOTA",
            1,
            [
                RecordPayment(kk(i), 500_000, at(6, 10).isoformat(), PaymentStatus.PAID, f"POS-{i}")
                for i in (1, 2)
            ],
            DINSOS,
        )
    with recording_at(at(6, 20)):
        disbursement.record_payments(
            app,
            "WALIKOTA",
            1,
            [RecordPayment(kk(2), 500_000, at(6, 20).isoformat(), PaymentStatus.RETURNED, "POS-2R")],
            DINSOS,
        )
    with recording_at(at(6, 21)):
        withdrawal.remove(
            app,
            kk(1),
            RemoveHousehold(
                "WALIKOTA", 1, "KEMENSOS", "cleansing", "KEP-KEMENSOS-146", effective_on=date(2020, 6, 1)
            ),
            DINSOS,
        )
    with recording_at(at(6, 25)):
        withdrawal.reinstate(
            app,
            kk(3),
            ReinstateHousehold("WALIKOTA", 1, "DINSOS", "aduan diterima", effective_on=date(2020, 6, 25)),
            DINSOS,
        )
    catch_up(runtime)


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    """The story, once per backend."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('tt') / 'tt.db'}"
        runtime = Runtime(load_settings({"SALUR_DATABASE_URL": url, **KEYS}))
        upgrade(runtime)
        build_story(runtime)
        yield runtime
        runtime.close()
        return
    with fresh_pg_schema() as pg:
        runtime = Runtime(load_settings({"SALUR_DATABASE_URL": f"{pg.url}?schema={pg.schema}", **KEYS}))
        try:
            upgrade(runtime)
            build_story(runtime)
            yield runtime
        finally:
            runtime.close()


def states(view: HouseholdRead | None) -> dict[tuple[str, int], str]:
    """program, tahap -> state of a household view."""
    assert view is not None
    return {(p.program, p.tahap): p.state for p in view.programs}


def whole_roster(world: Runtime, as_of: datetime | None = None, limit: int = 50) -> dict[str, str]:
    """no_kk -> state of WALIKOTA tahap 1, following cursors."""
    found: dict[str, str] = {}
    cursor = None
    while True:
        page = roster(world, "WALIKOTA", 1, as_of=as_of, limit=limit, cursor=cursor)
        for item in page.items:
            assert item.no_kk not in found
            assert item.amount_idr == 500_000
            found[item.no_kk] = item.state
        cursor = page.next_cursor
        if cursor is None:
            return found


# --- households --------------------------------------------------------------------------------


def test_a_household_as_recorded_at_several_moments(world: Runtime) -> None:
    assert household_read(world, kk(1), as_of=at(4, 19)) is None
    registered = household_read(world, kk(1), as_of=at(4, 20, 12))
    assert registered is not None
    assert (registered.padan, registered.verval, registered.programs) == (None, None, [])
    assert states(household_read(world, kk(1), as_of=at(6, 1))) == {("WALIKOTA", 1): "ASSIGNED"}
    on_15_june = household_read(world, kk(1), as_of=at(6, 15))
    assert states(on_15_june) == {("WALIKOTA", 1): "PAID"}
    assert on_15_june is not None
    assert on_15_june.removals == []
    later = household_read(world, kk(1), as_of=at(6, 22))
    assert states(later) == {("WALIKOTA", 1): "REMOVED"}
    assert later is not None
    assert later.removals[0].effective_on == date(2020, 6, 1)
    assert household_read(world, kk(1)) == later


def test_by_effective_date_a_late_decree_counts_from_its_effective_date(world: Runtime) -> None:
    # Everything recorded so far, counting decisions and payments effective by the date.
    assert states(household_read(world, kk(1), effective_on=date(2020, 5, 31))) == {
        ("WALIKOTA", 1): "ASSIGNED"
    }
    assert states(household_read(world, kk(1), effective_on=date(2020, 6, 5))) == {("WALIKOTA", 1): "REMOVED"}
    # As recorded on 15 June, by the 15 June effective date: the removal was not known yet.
    assert states(household_read(world, kk(1), as_of=at(6, 15), effective_on=date(2020, 6, 15))) == {
        ("WALIKOTA", 1): "PAID"
    }


def test_a_reinstated_household_is_removed_only_in_between(world: Runtime) -> None:
    assert states(household_read(world, kk(3), as_of=at(6, 10))) == {("WALIKOTA", 1): "REMOVED"}
    assert states(household_read(world, kk(3), as_of=at(6, 26))) == {("WALIKOTA", 1): "ASSIGNED"}


# --- rosters and the ledger ----------------------------------------------------------------------


def test_the_roster_as_recorded_at_several_moments(world: Runtime) -> None:
    assert whole_roster(world, at(5, 30)) == {}
    assert whole_roster(world, at(5, 31, 12)) == {kk(1): "ASSIGNED", kk(2): "ASSIGNED", kk(3): "ASSIGNED"}
    assert whole_roster(world, at(6, 15)) == {kk(1): "PAID", kk(2): "PAID", kk(3): "REMOVED"}
    assert whole_roster(world, at(6, 20, 12)) == {kk(1): "PAID", kk(2): "RETURNED", kk(3): "REMOVED"}
    assert whole_roster(world, at(6, 22)) == {kk(1): "REMOVED", kk(2): "RETURNED", kk(3): "REMOVED"}
    now = {kk(1): "REMOVED", kk(2): "RETURNED", kk(3): "ASSIGNED"}
    assert whole_roster(world) == now
    assert whole_roster(world, limit=1) == now
    assert whole_roster(world, at(12, 31)) == now


def test_a_payment_after_an_effective_removal_is_flagged_but_was_valid_as_recorded_on_15_june(
    world: Runtime,
) -> None:
    now = {p["reference"]: p for p in payments(world, "WALIKOTA", 1)}
    assert now["POS-1"]["after_removal"] is True
    assert now["POS-1"]["budget_source"] == "APBD_KOTA"
    assert now["POS-2"]["after_removal"] is False
    assert now["POS-2R"]["status"] == "RETURNED"
    then = {p["reference"]: p for p in payments(world, "WALIKOTA", 1, as_of=at(6, 15))}
    assert set(then) == {"POS-1", "POS-2"}
    assert then["POS-1"]["after_removal"] is False


# --- events, feed, lookups -----------------------------------------------------------------------


def test_household_events_page_in_order(world: Runtime) -> None:
    seen: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = household_events(world, kk(1), 2, cursor)
        seen.extend(msgspec.to_builtins(page.items))  # as the API serves them
        cursor = page.next_cursor
        if cursor is None:
            break
    assert [e["type"] for e in seen] == [
        "household.Proposed",
        "household.PopulationMatched",
        "household.VervalDecided",
        "household.Assigned",
        "household.PaymentRecorded",
        "household.Removed",
    ]
    assert [e["position"] for e in seen] == sorted(e["position"] for e in seen)
    removed = seen[-1]
    assert (removed["recorded_at"], removed["effective_on"], removed["actor"], removed["role"]) == (
        "2020-06-21T09:00:00+07:00",
        "2020-06-01",
        "officer",
        "dinsos",
    )
    assert removed["data"]["decree_ref"] == "KEP-KEMENSOS-146"


def test_the_feed_has_every_event_in_commit_order(world: Runtime) -> None:
    head = world.app.recorder.max_notification_id()
    positions: list[int] = []
    after = 0
    while True:
        page = feed(world, after, 7)
        items, after = page.items, page.next_after
        if not items:
            break
        positions.extend(i.position for i in items)
        types = {i.type for i in items}
        assert all("." in kind for kind in types)
    assert positions == list(range(1, (head or 0) + 1))
    assert feed(world, 0, 1).items[0].type == "program.Defined"
    assert projection_lag(world) == 0
    assert wait_for_position(world, head or 0, timeout=0.1)
    assert not wait_for_position(world, (head or 0) + 1, timeout=0.1)


def test_lookups_by_nik_and_the_public_status(world: Runtime) -> None:
    assert lookup_nik(world, nik(2)) == kk(2)
    assert lookup_nik(world, "3271011504909999") is None
    assert public_status(world, nik(3), "kepala  KELUARGA 3") == PublicStatusRead(
        status="RECEIVING", masked_name="K***** K******* 3", program="WALIKOTA", tahap=1
    )
    assert public_status(world, nik(1), "Kepala Keluarga 1").status == "NOT_RECEIVING"
    assert public_status(world, nik(2), "Kepala Keluarga 2").status == "NOT_RECEIVING"
    assert public_status(world, nik(1), "Orang Lain") == NOT_FOUND
    assert public_status(world, "3271011504909999", "Kepala Keluarga 1") == NOT_FOUND
    assert public_status(world, "12", "x") == NOT_FOUND
