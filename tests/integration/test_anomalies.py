"""The anomaly report finds every code in data that broke the rules, and nothing in clean data.

Rule-breaking data arrives as it does in life: payers' reports and outside rosters recorded as facts,
and "old" events written before a rule existed (built here on the aggregates directly and saved with
`app.save`, bypassing the application's checks).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from typing import TYPE_CHECKING, Any

import msgspec
import pytest
from sqlalchemy import select

from salur_cases import tables as t
from salur_cases.cli import main
from salur_cases.domain.actor import Actor
from salur_cases.domain.commands import (
    DecideVerval,
    ProposedMember,
    ProposedSource,
    ProposeHousehold,
    RecordPopulationMatch,
    ReinstateHousehold,
    RemoveHousehold,
)
from salur_cases.domain.errors import InvalidCommand
from salur_cases.domain.household import Household
from salur_cases.domain.vocabulary import (
    BudgetSource,
    PadanResult,
    PaymentStatus,
    ProgramGroup,
    Role,
    VervalDecision,
)
from salur_cases.processes import allocation, disbursement, padan, programs, registration, verval, withdrawal
from salur_cases.projections.audit import CODES, Filters, anomalies
from salur_cases.projections.audit.triage import find_all
from salur_cases.projections.migrate import upgrade
from salur_cases.projections.runner import catch_up
from salur_cases.projections.schemas import AnomalyPage
from salur_cases.runtime import Runtime
from salur_cases.settings import load_settings, reset_settings_cache
from tests.builders import (
    DINSOS,
    DUKCAPIL,
    KELURAHAN,
    define_program,
    nik_of,
    no_kk_of,
    open_tahap,
    payment,
    proposal,
    register_eligible,
)

if TYPE_CHECKING:
    from salur_cases.application import SalurApplication
    from tests.conftest import StoreTarget

KEMENSOS = "KEMENSOS"


def _url(target: StoreTarget) -> str:
    return f"{target.url}?schema={target.schema}" if target.schema else target.url


@pytest.fixture
def runtime(store_url: StoreTarget, env_keys: dict[str, str]) -> Iterator[Runtime]:
    """A migrated, empty store and read models."""
    rt = Runtime(load_settings({"SALUR_DATABASE_URL": _url(store_url), **env_keys}))
    upgrade(rt)
    yield rt
    rt.close()


def clean_history(app: SalurApplication) -> None:
    """A year that keeps every rule: WALIKOTA in May, GUBERNUR in July, Kemensos naming proposed ones."""
    define_program(app, "WALIKOTA")
    define_program(app, "GUBERNUR", BudgetSource.APBD_PROVINSI)
    define_program(app, "BLT", BudgetSource.APBN)
    open_tahap(app, "WALIKOTA", 1, quota=3)
    open_tahap(app, "GUBERNUR", 1, month=7, quota=3)
    open_tahap(app, "BLT", 1, month=9, quota=2, amount_idr=600_000)
    register_eligible(app, range(8))
    allocation.allocate(
        app, "WALIKOTA", 1, DINSOS, candidates=[app.household_id(no_kk_of(n)) for n in range(4)]
    )
    programs.certify(app, "WALIKOTA", 1, DINSOS)
    disbursement.record_payments(
        app, "WALIKOTA", 1, [payment(0), payment(1, status=PaymentStatus.FAILED)], DINSOS, as_fact=True
    )
    disbursement.record_payments(
        app, "WALIKOTA", 1, [payment(1), payment(2), payment(2, status=PaymentStatus.RETURNED)], DINSOS
    )
    allocation.allocate(
        app, "GUBERNUR", 1, DINSOS, candidates=[app.household_id(no_kk_of(n)) for n in (4, 5)]
    )
    allocation.allocate_roster(app, "BLT", 1, KEMENSOS, [no_kk_of(6), no_kk_of(7)], DINSOS)
    disbursement.record_payments(
        app, "BLT", 1, [payment(6, 600_000), payment(7, 600_000)], DINSOS, as_fact=True
    )
    # removed later, effective after the payment: no anomaly
    withdrawal.remove(
        app,
        no_kk_of(0),
        RemoveHousehold("WALIKOTA", 1, "DINSOS", "pindah", "SK 1", effective_on=date(2020, 5, 25)),
        DINSOS,
    )


def test_clean_data_has_no_anomalies(runtime: Runtime) -> None:
    clean_history(runtime.app)
    catch_up(runtime)

    assert find_all(runtime) == []
    assert anomalies(runtime) == AnomalyPage([], None)


def _old_seat(app: SalurApplication, n: int, program: str, tahap: int) -> None:
    """An assignment written before the rules existed (no checks, no seat commitment)."""
    household = app.household(no_kk_of(n))
    household.trigger_event(
        household.Assigned,
        program=program,
        tahap=tahap,
        starts_on=date(2020, 5, 1),
        ends_on=date(2020, 5, 31),
        amount_idr=500_000,
        budget_source="APBD_KOTA",
        authority=None,
        rank=None,
        warnings=[],
        decree_ref="SK lama",
        actor="migrasi",
        role="system",
    )
    app.save(household)


def broken_history(app: SalurApplication) -> dict[str, Any]:
    """Every anomaly at least once; returns what the findings must name."""
    define_program(app, "WALIKOTA")
    define_program(app, "BLT", BudgetSource.APBN, ProgramGroup.NON_DTKS)
    define_program(app, "PKH", BudgetSource.APBN, ProgramGroup.DTKS)
    open_tahap(app, "WALIKOTA", 1, quota=10)
    open_tahap(app, "BLT", 1, quota=2)  # May too: overlaps WALIKOTA
    open_tahap(app, "PKH", 1, month=8, quota=10, ceiling_idr=500_000)
    register_eligible(app, range(4))
    allocation.allocate(
        app, "WALIKOTA", 1, DINSOS, candidates=[app.household_id(no_kk_of(n)) for n in range(4)]
    )
    # 0: paid by WALIKOTA and, from Kemensos' roster, by BLT in the same month
    # 1: paid 400,000 of a 500,000 tahap; 2: paid, then removed retroactively
    disbursement.record_payments(app, "WALIKOTA", 1, [payment(0), payment(1, 400_000), payment(2)], DINSOS)
    withdrawal.remove(
        app,
        no_kk_of(2),
        RemoveHousehold("WALIKOTA", 1, "DINSOS", "meninggal", "SK 9", effective_on=date(2020, 5, 10)),
        DINSOS,
    )
    # 10: never proposed by the city, on Kemensos' BLT roster (with 0 and 11: over the quota of 2), paid
    allocation.allocate_roster(app, "BLT", 1, KEMENSOS, [no_kk_of(0), no_kk_of(10), no_kk_of(11)], DINSOS)
    disbursement.record_payments(app, "BLT", 1, [payment(0), payment(10)], DINSOS, as_fact=True)
    # 12, 13: Kemensos' PKH roster commits 2 x 500,000 against a ceiling of 500,000
    allocation.allocate_roster(app, "PKH", 1, KEMENSOS, [no_kk_of(12), no_kk_of(13)], DINSOS)
    # 20: a city seat from old data, padan failed; 21: old seat, verval INELIGIBLE
    registration.register_many(app, [proposal(20), proposal(21)], KELURAHAN)
    padan.record_padan(
        app, no_kk_of(20), RecordPopulationMatch(PadanResult.NIK_NOT_FOUND, date(2020, 5, 2)), DUKCAPIL
    )
    verval.decide_verval(
        app, no_kk_of(20), DecideVerval(VervalDecision.ELIGIBLE, "layak", "petugas", date(2020, 5, 3)), DINSOS
    )
    padan.record_padan(
        app, no_kk_of(21), RecordPopulationMatch(PadanResult.MATCHED, date(2020, 5, 2)), DUKCAPIL
    )
    verval.decide_verval(
        app,
        no_kk_of(21),
        DecideVerval(VervalDecision.INELIGIBLE, "mampu", "petugas", date(2020, 5, 3)),
        DINSOS,
    )
    _old_seat(app, 20, "WALIKOTA", 1)
    _old_seat(app, 21, "WALIKOTA", 1)
    disbursement.record_payments(app, "WALIKOTA", 1, [payment(20), payment(21)], DINSOS, as_fact=True)
    # 30: old data put household 3's first member into a second household too
    twin_proposal = ProposeHousehold(
        no_kk_of(30),
        ProposedSource("KELURAHAN"),
        None,
        [ProposedMember(nik_of(3, 0), "Nama Lain", "KEPALA KELUARGA")],
    )
    twin = Household.propose(app.household_id(no_kk_of(30)), twin_proposal, Actor("migrasi", Role.SYSTEM))
    app.save(twin)
    return {"ids": {n: str(app.household_id(no_kk_of(n))) for n in (0, 1, 2, 3, 10, 11, 12, 20, 21, 30)}}


def _by_code(findings: list[Any]) -> dict[str, list[Any]]:
    grouped: dict[str, list[Any]] = {code: [] for code in CODES}
    for finding in findings:
        grouped[finding.code].append(finding)
    return grouped


def test_each_anomaly_is_found_with_its_household_and_evidence(runtime: Runtime) -> None:
    ids = broken_history(runtime.app)["ids"]
    catch_up(runtime)

    found = _by_code(find_all(runtime))

    assert {code for code, items in found.items() if items} == set(CODES)
    (two,) = found["PAID_BY_TWO_PROGRAMS"]
    assert (two.no_kk, two.program, two.detail["other_program"]) == (no_kk_of(0), "BLT", "WALIKOTA")
    assert len(two.evidence) == 2
    assert {f.household_id for f in found["NIK_IN_TWO_HOUSEHOLDS"]} == {ids[3], ids[30]}
    assert found["NIK_IN_TWO_HOUSEHOLDS"][0].detail["shared_niks"] == 1
    unmatched = {f.no_kk: f.detail for f in found["PAID_WITHOUT_PADAN"]}
    assert unmatched[no_kk_of(20)]["outside_authority"] is False
    assert unmatched[no_kk_of(10)] == {
        "outside_authority": False,  # BLT (non-DTKS, APBN) is fed by the city's proposals
        "authority": KEMENSOS,
        "seated": True,
        "padan": None,
    }
    unverified = {f.no_kk: f.detail for f in found["PAID_WITHOUT_VERVAL"]}
    assert set(unverified) == {no_kk_of(10), no_kk_of(21)}
    assert unverified[no_kk_of(21)]["verval"] == "INELIGIBLE"
    (removed,) = found["PAID_AFTER_REMOVAL"]
    assert removed.no_kk == no_kk_of(2)
    assert removed.detail["recorded_after_payment"] is True
    assert removed.detail["effective_on"] == "2020-05-10"
    (mismatch,) = found["AMOUNT_MISMATCH"]
    assert (mismatch.no_kk, mismatch.detail["amount_idr"], mismatch.detail["tahap_amount_idr"]) == (
        no_kk_of(1),
        400_000,
        500_000,
    )
    not_proposed = {f.no_kk for f in found["NOT_PROPOSED_BY_DINSOS"]}
    assert not_proposed == {no_kk_of(n) for n in (10, 11)}  # 12 and 13 are on PKH, a DTKS program
    (quota,) = found["OVER_QUOTA"]
    assert (quota.program, quota.no_kk, quota.detail["assigned"], quota.detail["authorities"]) == (
        "BLT",
        None,
        3,
        [KEMENSOS],
    )
    ceilings = {f.program: f for f in found["OVER_CEILING"]}
    assert set(ceilings) == {"BLT", "PKH"}  # BLT's 3 seats also pass its ceiling of 2 x 500,000
    ceiling = ceilings["PKH"]
    assert (ceiling.no_kk, ceiling.detail["committed_idr"], ceiling.detail["ceiling_idr"]) == (
        None,
        1_000_000,
        500_000,
    )
    assert len(ceiling.evidence) == 2  # the tahap's opening and the commitment that crossed the ceiling
    assert (ceiling.detail["outside_authority"], ceiling.severity, ceiling.amount_idr) == (
        True,
        "LOW",
        500_000,
    )
    assert ceilings["BLT"].severity == "HIGH"
    assert ceilings["BLT"].amount_idr == 1_500_000 - 1_000_000
    assert quota.amount_idr == 500_000  # one seat over the quota
    assert {f.no_kk: f.amount_idr for f in found["PAID_WITHOUT_VERVAL"]} == {
        no_kk_of(10): 500_000,
        no_kk_of(21): 500_000,
    }
    assert (mismatch.amount_idr, removed.amount_idr, two.amount_idr) == (400_000, 500_000, 500_000)


def test_evidence_names_real_events(runtime: Runtime) -> None:
    broken_history(runtime.app)
    catch_up(runtime)

    cited = {event for finding in find_all(runtime) for event in finding.evidence}

    with runtime.engine.connect() as conn:
        known = set(
            conn.execute(select(t.timeline.c.event_id).where(t.timeline.c.event_id.in_(cited))).scalars()
        )
    assert cited == known


def test_paid_after_a_removal_is_judged_by_effective_date_and_reinstatement(runtime: Runtime) -> None:
    app = runtime.app
    define_program(app, "WALIKOTA")
    open_tahap(app, "WALIKOTA", 1)
    open_tahap(app, "WALIKOTA", 2, month=6)
    register_eligible(app, range(2))
    allocation.allocate(app, "WALIKOTA", 1, DINSOS)
    allocation.allocate(app, "WALIKOTA", 2, DINSOS)
    # both removed from tahap 1 on, effective 15 May; household 1 reinstated effective 18 May
    for n in (0, 1):
        withdrawal.remove(
            app,
            no_kk_of(n),
            RemoveHousehold("WALIKOTA", 1, "DINSOS", "alasan", "SK 3", effective_on=date(2020, 5, 15)),
            DINSOS,
        )
    withdrawal.reinstate(
        app,
        no_kk_of(1),
        ReinstateHousehold("WALIKOTA", 1, "DINSOS", "keliru", effective_on=date(2020, 5, 18)),
        DINSOS,
    )
    disbursement.record_payments(
        app, "WALIKOTA", 2, [payment(0), payment(1)], DINSOS, as_fact=True
    )  # paid 20 May
    catch_up(runtime)

    findings = find_all(runtime, Filters.parse(code="PAID_AFTER_REMOVAL"))

    assert [(f.no_kk, f.tahap) for f in findings] == [(no_kk_of(0), 2)]


def test_the_api_pages_through_findings_with_a_cursor_and_filters_by_code(runtime: Runtime) -> None:
    broken_history(runtime.app)
    catch_up(runtime)
    everything = [f.read() for f in find_all(runtime)]

    pages, cursor = [], None
    while True:
        page = anomalies(runtime, Filters(), limit=3, cursor=cursor)
        pages.extend(page.items)
        cursor = page.next_cursor
        if cursor is None:
            break
        assert all(c.isalnum() or c in "-_=" for c in cursor)
    assert pages == everything
    only = anomalies(runtime, Filters.parse(code="NOT_PROPOSED_BY_DINSOS"), limit=500).items
    assert {i.code for i in only} == {"NOT_PROPOSED_BY_DINSOS"}
    assert set(msgspec.to_builtins(only[0])) == {
        "code",
        "severity",
        "no_kk",
        "program",
        "tahap",
        "amount_idr",
        "evidence",
        "detail",
    }
    for bad in ({"limit": 0}, {"limit": 501}, {"cursor": "!!"}):
        with pytest.raises(InvalidCommand):
            anomalies(runtime, **bad)
    for field, value in (("code", "NOPE"), ("budget_source", "APBX"), ("tahap", 0)):
        with pytest.raises(InvalidCommand) as refused:
            Filters.parse(**{field: value})
        assert refused.value.field == field


@pytest.mark.parametrize(
    ("store_url", "fmt"),
    # The formats depend on the rows only: SQLite covers them all, PostgreSQL the JSON.
    [("sqlite", "table"), ("sqlite", "csv"), ("sqlite", "xlsx"), ("sqlite", "json"), ("postgres", "json")],
    indirect=["store_url"],
)
def test_salur_report_anomalies_writes_every_format(
    runtime: Runtime,
    store_url: StoreTarget,
    env_keys: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Any,
    fmt: str,
) -> None:
    broken_history(runtime.app)
    monkeypatch.setenv("SALUR_DATABASE_URL", _url(store_url))
    for name, value in env_keys.items():
        monkeypatch.setenv(name, value)
    reset_settings_cache()
    out = tmp_path / f"anomalies.{fmt}"

    assert main(["report", "anomalies", "--format", fmt, "--out", str(out)]) == 0

    data = out.read_bytes()
    if fmt == "xlsx":
        from openpyxl import load_workbook  # noqa: PLC0415

        sheet = load_workbook(out).active
        assert sheet is not None
        assert [c.value for c in sheet[2]][:4] == ["code", "severity", "no_kk", "program"]
        assert sheet.max_row > 10
    elif fmt == "json":
        import json  # noqa: PLC0415

        assert {i["code"] for i in json.loads(data)["items"]} == set(CODES)
    else:
        assert b"NOT_PROPOSED_BY_DINSOS" in data
        assert b"OVER_CEILING" in data
    assert main(["report", "anomalies", "--format", "png", "--out", str(out)]) == 2


def test_the_terminal_shows_a_summary_per_code_and_program_with_the_headline(
    runtime: Runtime,
    store_url: StoreTarget,
    env_keys: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    broken_history(runtime.app)
    monkeypatch.setenv("SALUR_DATABASE_URL", _url(store_url))
    for name, value in env_keys.items():
        monkeypatch.setenv(name, value)
    reset_settings_cache()

    assert main(["report", "anomalies"]) == 0

    out = capsys.readouterr().out
    assert "Headline: HIGH" in out
    assert re.search(r"NOT_PROPOSED_BY_DINSOS\s+BLT\s+KEMENSOS\s+1\s+2\s+2\s+1,000,000", out)
    assert no_kk_of(10) not in out


def outside_lists(app: SalurApplication) -> None:
    """Kemensos's DTKS roster and the province's list, neither proposed nor verified by the city; one
    DTKS household paid after Kemensos removed it; a city-fed Kemensos roster naming one unproposed."""
    define_program(app, "BPNT", BudgetSource.APBN, ProgramGroup.DTKS)
    define_program(app, "GUBERNUR", BudgetSource.APBD_PROVINSI)
    define_program(app, "BST", BudgetSource.APBN)
    open_tahap(app, "BPNT", 1, quota=10)
    open_tahap(app, "GUBERNUR", 1, month=6, quota=10)
    open_tahap(app, "BST", 5, month=7, quota=10, amount_idr=600_000)
    allocation.allocate_roster(app, "BPNT", 1, KEMENSOS, [no_kk_of(n) for n in (50, 51, 52)], DINSOS)
    withdrawal.remove(
        app,
        no_kk_of(52),
        RemoveHousehold("BPNT", 1, KEMENSOS, "ganda", "BA 1", effective_on=date(2020, 5, 1)),
        DINSOS,
    )
    disbursement.record_payments(app, "BPNT", 1, [payment(n) for n in (50, 51, 52)], DINSOS, as_fact=True)
    allocation.allocate_roster(app, "GUBERNUR", 1, "PROVINSI", [no_kk_of(n) for n in (60, 61)], DINSOS)
    disbursement.record_payments(app, "GUBERNUR", 1, [payment(n) for n in (60, 61)], DINSOS, as_fact=True)
    register_eligible(app, [70])
    allocation.allocate_roster(app, "BST", 5, KEMENSOS, [no_kk_of(70), no_kk_of(71)], DINSOS)
    disbursement.record_payments(app, "BST", 5, [payment(n, 600_000) for n in (70, 71)], DINSOS, as_fact=True)


def test_the_city_answers_only_for_the_steps_it_owns(runtime: Runtime) -> None:
    outside_lists(runtime.app)
    catch_up(runtime)

    found = find_all(runtime)

    city_steps = {"NOT_PROPOSED_BY_DINSOS", "PAID_WITHOUT_VERVAL", "PAID_WITHOUT_PADAN"}
    assert {(f.code, f.program) for f in found if f.code in city_steps} == {
        (code, "BST") for code in city_steps
    }
    assert {f.no_kk for f in found if f.code in city_steps} == {no_kk_of(71)}
    (removed,) = (f for f in found if f.code == "PAID_AFTER_REMOVAL")
    assert (removed.no_kk, removed.program, removed.outside_authority, removed.severity) == (
        no_kk_of(52),
        "BPNT",
        True,
        "LOW",
    )
    (unproposed,) = (f for f in found if f.code == "NOT_PROPOSED_BY_DINSOS")
    assert (unproposed.severity, unproposed.amount_idr, unproposed.detail) == (
        "HIGH",
        600_000,
        {"outside_authority": False, "authority": KEMENSOS},
    )


def test_other_authorities_lists_are_summarised_unless_named(runtime: Runtime) -> None:
    outside_lists(runtime.app)
    catch_up(runtime)

    listed = anomalies(runtime, Filters.parse(code="PAID_AFTER_REMOVAL"), limit=500).items
    (summarised,) = msgspec.to_builtins(listed)
    assert summarised["no_kk"] is None
    assert summarised["detail"] == {
        "outside_authority": True,
        "authority": KEMENSOS,
        "summarised": True,
        "findings": 1,
        "households": 1,
    }
    assert summarised["amount_idr"] == 500_000
    named = anomalies(runtime, Filters.parse(code="PAID_AFTER_REMOVAL", authority="kemensos"), limit=500)
    assert [i.no_kk for i in named.items] == [no_kk_of(52)]


def test_filters_by_code_budget_source_program_tahap_and_authority(runtime: Runtime) -> None:
    broken_history(runtime.app)
    outside_lists(runtime.app)
    catch_up(runtime)
    everything = find_all(runtime)

    def keys(**filters: Any) -> set[tuple[Any, ...]]:
        return {(f.code, f.program, f.tahap, f.no_kk) for f in find_all(runtime, Filters.parse(**filters))}

    def expected(keep: Any) -> set[tuple[Any, ...]]:
        return {(f.code, f.program, f.tahap, f.no_kk) for f in everything if keep(f)}

    assert keys(code="AMOUNT_MISMATCH,OVER_QUOTA") == expected(
        lambda f: f.code in {"AMOUNT_MISMATCH", "OVER_QUOTA"}
    )
    assert keys(budget_source="apbd_provinsi") == expected(lambda f: f.program == "GUBERNUR")
    assert keys(program="BST") == expected(lambda f: f.program == "BST")
    assert keys(tahap=5) == expected(lambda f: f.tahap == 5)
    assert keys(authority="PROVINSI") == expected(lambda f: f.authority == "PROVINSI")
    assert keys(authority="DINSOS") == expected(lambda f: f.authority is None)
    assert keys(program="BST", code="NOT_PROPOSED_BY_DINSOS") == {
        ("NOT_PROPOSED_BY_DINSOS", "BST", 5, no_kk_of(71))
    }
    assert keys(authority="DINSOS")  # the city's own seats have findings too
    with pytest.raises(InvalidCommand) as refused:
        find_all(runtime, Filters.parse(program="NOPE"))
    assert refused.value.field == "program"
