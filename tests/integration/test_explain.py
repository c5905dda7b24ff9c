"""Why was I dropped? Every reason code and every outcome, from a story built through the commands.

Kota Bogor, 2020, in miniature: Bantuan Walikota (APBD Kota) with small quotas, BLT Kemensos (APBN)
by outside rosters, Bantuan Gubernur (APBD Provinsi) by the province's roster; a KEMENSOS cleansing,
a transfer to BLT, failed and missing payments. Checked in Indonesian and English, on SQLite and
PostgreSQL.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

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
    RemoveHousehold,
    TransferHousehold,
)
from salur_cases.domain.errors import Refusal, RefusalCode
from salur_cases.domain.vocabulary import (
    BudgetSource,
    PadanResult,
    PaymentStatus,
    ProgramGroup,
    Role,
    VervalDecision,
)
from salur_cases.processes import allocation, disbursement, padan, programs, registration, verval, withdrawal
from salur_cases.projections.explain import explain
from salur_cases.projections.migrate import upgrade
from salur_cases.projections.queries import household_events
from salur_cases.projections.runner import catch_up
from salur_cases.projections.schemas import EventRead
from salur_cases.runtime import Runtime
from salur_cases.settings import load_settings
from tests.conftest import fresh_pg_schema

DINSOS = Actor("Ibu Rina (Dinsos)", Role.DINSOS)
KEYS = {
    "SALUR_ID_KEY": "6a6d52fc1a9e1eb62d1346ebec44cf9f3d6b78c450d30a6968a607622ab871cf",
    "SALUR_SECRET_KEY": "033711f17a4e56759d12c3eedca9435d71e002ce0d5eb1b434ec2669c95b0fab",
    "SALUR_SIGNING_KEY": "cc1dca7c518d23fea39fabe758a7f562ee401a1f46eb883aeb90a4771b828d39",
    "SALUR_ALLOW_PLAINTEXT": "1",
}
CLEANSING_DECREE = "KEP-KEMENSOS 146/HUK/2020"
NAMES = {i: f"Warga Nomor {i}" for i in range(1, 12)}


def kk(i: int) -> str:
    """The No. KK of household Hi."""
    return f"327101150420{i:04d}"


def nik(i: int) -> str:
    """The NIK of household Hi's head."""
    return f"327101150490{i:04d}"


def at(month: int, day: int) -> datetime:
    """A story moment (09:00 WIB)."""
    return datetime(2020, month, day, 9, tzinfo=WIB)


def _proposal(i: int, source: str) -> Any:
    return ProposeHousehold.from_data(
        {
            "no_kk": kk(i),
            "source": {"kind": source},
            "address": {"kecamatan": "Bogor Selatan", "kelurahan": "Batutulis", "rw": "2", "rt": "3"},
            "members": [{"nik": nik(i), "name": NAMES[i], "relationship": "KEPALA KELUARGA"}],
        }
    )


ROSTER_BERLAKU = date(2020, 5, 30)
"""The date Kemensos' tahap 2 list takes effect (its `berlaku`), before it was recorded on 1 June."""


def build_story(runtime: Runtime) -> None:
    """H1 removed by a cleansing, H2 still paid, H3 waits then starts, H4 already in the province's aid,
    H5 ineligible, H6 mismatched, H7 transferred to BLT, H9 payment failed, H10 pending, H11 off a roster."""
    app = runtime.app
    with recording_at(at(4, 14)):
        programs.define_program(
            app,
            DefineProgram("WALIKOTA", "Bantuan Walikota", BudgetSource.APBD_KOTA, ProgramGroup.NON_DTKS),
            DINSOS,
        )
        programs.define_program(
            app, DefineProgram("BLT", "BLT Kemensos", BudgetSource.APBN, ProgramGroup.NON_DTKS), DINSOS
        )
        programs.define_program(
            app,
            DefineProgram("GUBERNUR", "Bantuan Gubernur", BudgetSource.APBD_PROVINSI, ProgramGroup.NON_DTKS),
            DINSOS,
        )
        programs.open_tahap(
            app,
            "GUBERNUR",
            OpenTahap(1, date(2020, 4, 15), date(2020, 5, 14), 10, 500_000, 5_000_000, "PERGUB 1"),
            DINSOS,
        )
        programs.open_tahap(
            app,
            "WALIKOTA",
            OpenTahap(1, date(2020, 4, 27), date(2020, 5, 26), 3, 500_000, 1_500_000, "027.45-312"),
            DINSOS,
        )
        programs.open_tahap(
            app,
            "WALIKOTA",
            OpenTahap(2, date(2020, 5, 27), date(2020, 6, 26), 4, 500_000, 2_000_000, "027.45-400"),
            DINSOS,
        )
        programs.open_tahap(
            app,
            "BLT",
            OpenTahap(1, date(2020, 5, 1), date(2020, 5, 31), 10, 600_000, 6_000_000, "KEMENSOS-V"),
            DINSOS,
        )
        programs.open_tahap(
            app,
            "BLT",
            OpenTahap(2, date(2020, 6, 1), date(2020, 6, 30), 10, 600_000, 6_000_000, "KEMENSOS-VI"),
            DINSOS,
        )
    with recording_at(at(4, 20)):
        registration.register_many(app, [_proposal(i, "KELURAHAN") for i in (1, 2, 3, 4, 5, 6, 7, 9)], DINSOS)
        registration.register_many(app, [_proposal(i, "DTKS") for i in (10, 11)], DINSOS)
        for i in (1, 2, 3, 4, 5, 7, 9, 10, 11):
            padan.record_padan(
                app, kk(i), RecordPopulationMatch(PadanResult.MATCHED, date(2020, 4, 20)), DINSOS
            )
        padan.record_padan(
            app, kk(6), RecordPopulationMatch(PadanResult.NAME_MISMATCH, date(2020, 4, 20)), DINSOS
        )
        for i, day in ((1, 21), (2, 22), (7, 23), (3, 24), (9, 25), (4, 21), (6, 21)):
            verval.decide_verval(
                app,
                kk(i),
                DecideVerval(VervalDecision.ELIGIBLE, "layak", "Pak RW", date(2020, 4, day)),
                DINSOS,
            )
        verval.decide_verval(
            app,
            kk(5),
            DecideVerval(VervalDecision.INELIGIBLE, "punya mobil", "Pak RW", date(2020, 4, 21)),
            DINSOS,
        )
    with recording_at(at(4, 22)):
        allocation.allocate_roster(app, "GUBERNUR", 1, "PROVINSI", [kk(4)], DINSOS)
    with recording_at(at(4, 26)):
        allocation.allocate(app, "WALIKOTA", 1, DINSOS)
    with recording_at(at(4, 28)):
        disbursement.record_payments(app, "WALIKOTA", 1, [_paid(i, 4, 28) for i in (1, 2, 7)], DINSOS)
    with recording_at(at(5, 1)):
        allocation.allocate_roster(app, "BLT", 1, "KEMENSOS", [kk(10), kk(11)], DINSOS)
    with recording_at(at(5, 5)):
        disbursement.record_payments(app, "BLT", 1, [_paid(11, 5, 5, 600_000)], DINSOS)
    with recording_at(at(5, 20)):
        withdrawal.remove(
            app,
            kk(1),
            RemoveHousehold(
                "WALIKOTA", 2, "KEMENSOS", "cleansing DTKS", CLEANSING_DECREE, effective_on=date(2020, 5, 25)
            ),
            DINSOS,
        )
    with recording_at(at(5, 21)):
        withdrawal.transfer(
            app, kk(7), TransferHousehold("WALIKOTA", 2, "BLT", "DINSOS", "dialihkan ke BLT Kemensos"), DINSOS
        )
    with recording_at(at(5, 26)):
        allocation.allocate(app, "WALIKOTA", 2, DINSOS)
    with recording_at(at(6, 1)):
        allocation.allocate_roster(app, "BLT", 2, "KEMENSOS", [kk(10)], DINSOS, effective_on=ROSTER_BERLAKU)
    with recording_at(at(6, 2)):
        failed = RecordPayment(kk(9), 500_000, at(6, 2).isoformat(), PaymentStatus.FAILED, "POS-9-2")
        disbursement.record_payments(app, "WALIKOTA", 2, [_paid(2, 6, 2), _paid(3, 6, 2), failed], DINSOS)
    catch_up(runtime)


def _paid(i: int, month: int, day: int, amount: int = 500_000) -> RecordPayment:
    return RecordPayment(
        kk(i), amount, at(month, day).isoformat(), PaymentStatus.PAID, f"POS-{i}-{month}{day}"
    )


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    """The story, once per backend."""
    if request.param == "sqlite":
        runtime = Runtime(
            load_settings(
                {"SALUR_DATABASE_URL": f"sqlite:///{tmp_path_factory.mktemp('x') / 'x.db'}", **KEYS}
            )
        )
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


def both(world: Runtime, i: int, *args: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """The explanation in Indonesian and in English; the same facts in both."""
    indonesian = explain(world, kk(i), *args, lang="id")
    english = explain(world, kk(i), *args, lang="en")
    strip = [{k: v for k, v in r.items() if k != "text"} for r in indonesian["reasons"]]
    assert strip == [{k: v for k, v in r.items() if k != "text"} for r in english["reasons"]]
    for answer in (indonesian, english):
        assert set(answer) == {
            "no_kk",
            "program",
            "program_name",
            "from_tahap",
            "to_tahap",
            "outcome",
            "reasons",
            "next_steps",
            "payments",
            "summary",
        }
        _plain(answer["summary"])
        assert answer["no_kk"] == kk(i)
        for reason in answer["reasons"]:
            assert {
                "code",
                "at",
                "effective_on",
                "authority",
                "actor",
                "decree_ref",
                "event_id",
                "text",
                "reason",
                "officer",
            } <= set(reason)
            assert reason["event_id"], reason
            _no_pii(reason["text"])
            _plain(reason["text"])
            if reason["reason"]:
                assert reason["reason"] in reason["text"]
        for step in answer["next_steps"]:
            _no_pii(step)
            _plain(step)
    for a, b in zip(indonesian["reasons"], english["reasons"], strict=True):
        assert a["text"] != b["text"]
    return indonesian, english


CODES = re.compile(
    r"\b(REMOVED_BY_AUTHORITY|VERVAL_INELIGIBLE|POPULATION_MISMATCH|DUPLICATE_RECIPIENT|QUOTA_EXHAUSTED|"
    r"TRANSFERRED|PROGRAM_ENDED|NOT_IN_SOURCE_LIST|PAYMENT_FAILED|PAYMENT_PENDING|STILL_RECEIVING|DROPPED|"
    r"STARTED|NEVER_RECEIVED|AWAITING_PAYMENT|NOT_CONSIDERED|NOT_CITY_PROPOSED|NAME_MISMATCH|NIK_NOT_FOUND|DECEASED|MOVED|INELIGIBLE|FAILED|"
    r"RETURNED|WALIKOTA|GUBERNUR)\b"
)


def _plain(text: str) -> None:
    """A whole sentence: no code, no placeholder dash, no ISO time, no program code (names instead)."""
    assert not CODES.search(text), text
    assert not re.search(r"(^|\s)-(\s|[.,;)]|$)", text), text
    assert not re.search(r"\d{4}-\d{2}-\d{2}", text), text
    assert text.rstrip().endswith((".", ":")), text


def _no_pii(text: str) -> None:
    assert text.strip()
    assert not re.search(r"\d{16}", text)
    assert not any(name in text for name in NAMES.values())
    assert "{" not in text
    assert "}" not in text


def event_of(world: Runtime, i: int, kind: str) -> EventRead:
    """The household's last event of a type."""
    items = household_events(world, kk(i), 500).items
    return [e for e in items if e.type == f"household.{kind}"][-1]


def first_event(world: Runtime, i: int, kind: str) -> EventRead:
    """The household's first event of a type."""
    items = household_events(world, kk(i), 500).items
    return next(e for e in items if e.type == f"household.{kind}")


def only(answer: dict[str, Any], code: str) -> dict[str, Any]:
    """The one reason of the answer, which must have `code`."""
    assert [r["code"] for r in answer["reasons"]] == [code], answer
    assert answer["next_steps"]
    return answer["reasons"][0]


# --- outcomes and reasons ----------------------------------------------------------------------


def test_paid_in_tahap_1_then_removed_by_a_kemensos_cleansing_is_dropped_citing_the_decree(
    world: Runtime,
) -> None:
    indonesian, english = both(world, 1, "WALIKOTA", 1, 2)
    assert indonesian["outcome"] == "DROPPED"
    reason = only(indonesian, "REMOVED_BY_AUTHORITY")
    removed = event_of(world, 1, "Removed")
    assert reason["event_id"] == removed.event_id
    assert reason["authority"] == "KEMENSOS"
    assert reason["decree_ref"] == CLEANSING_DECREE
    assert reason["effective_on"] == "2020-05-25"
    assert reason["at"] == "2020-05-20T09:00:00+07:00"
    assert reason["actor"] == DINSOS.name
    assert CLEANSING_DECREE in reason["text"]
    assert "KEMENSOS" in reason["text"]
    assert reason["reason"] == "cleansing DTKS"
    assert "menghapus rumah tangga ini dari Bantuan Walikota mulai tahap 2" in reason["text"]
    assert "berlaku sejak 25 Mei 2020" in reason["text"]
    assert "20 Mei 2020 pukul 09.00 WIB" in reason["text"]
    assert english["reasons"][0]["text"].startswith("KEMENSOS removed the household from Bantuan Walikota")
    assert "effective 25 May 2020" in english["reasons"][0]["text"]
    words = ("keberatan", "KEMENSOS", "KTP", CLEANSING_DECREE, "25 Mei 2020")
    assert any(all(w in s for w in words) for s in indonesian["next_steps"])
    assert any(all(w in s for w in ("Object to KEMENSOS", CLEANSING_DECREE)) for s in english["next_steps"])


def test_paid_in_both_tahap_is_still_receiving(world: Runtime) -> None:
    answer, english = both(world, 2, "WALIKOTA", 1, 2)
    assert answer["outcome"] == "STILL_RECEIVING"
    assert answer["reasons"] == []
    assert [(p["tahap"], p["amount_idr"], p["reference"], p["paid_on"]) for p in answer["payments"]] == [
        (1, 500_000, "POS-2-428", "2020-04-28"),
        (2, 500_000, "POS-2-62", "2020-06-02"),
    ]
    assert answer["summary"] == "Masih menerima: Bantuan Walikota, tahap 1 ke tahap 2."
    assert english["summary"] == "Still receiving: Bantuan Walikota, tahap 1 to tahap 2."


def test_ranked_below_the_cutoff_is_quota_exhausted_with_rank_and_cutoff(world: Runtime) -> None:
    indonesian, english = both(world, 3, "WALIKOTA", 1, 1)
    assert indonesian["outcome"] == "NEVER_RECEIVED"
    reason = only(indonesian, "QUOTA_EXHAUSTED")
    assert (reason["rank"], reason["cutoff"]) == (4, 3)
    assert reason["event_id"] == first_event(world, 3, "LeftOut").event_id
    assert "peringkat 4" in reason["text"]
    assert "ranked 4" in english["reasons"][0]["text"]


def test_left_out_of_tahap_1_and_paid_in_tahap_2_started(world: Runtime) -> None:
    answer, _ = both(world, 3, "WALIKOTA", 1, 2)
    assert answer["outcome"] == "STARTED"
    assert answer["reasons"] == []


def test_a_household_already_in_the_provinces_aid_is_a_duplicate_recipient_naming_it(world: Runtime) -> None:
    answer, english = both(world, 4, "WALIKOTA", 1, 1)
    assert answer["outcome"] == "NEVER_RECEIVED"
    reason = only(answer, "DUPLICATE_RECIPIENT")
    assert reason["other_program"] == "GUBERNUR"
    assert reason["event_id"] == first_event(world, 4, "Assigned").event_id
    assert "Bantuan Gubernur tahap 1" in reason["text"]
    assert "Bantuan Gubernur tahap 1" in english["reasons"][0]["text"]


def test_an_ineligible_verval_is_cited(world: Runtime) -> None:
    answer, _ = both(world, 5, "WALIKOTA", 1, 1)
    reason = only(answer, "VERVAL_INELIGIBLE")
    assert reason["event_id"] == event_of(world, 5, "VervalDecided").event_id
    assert reason["effective_on"] == "2020-04-21"
    assert (reason["officer"], reason["reason"], reason["result"]) == ("Pak RW", "punya mobil", "INELIGIBLE")
    assert "oleh Pak RW pada 21 April 2020" in reason["text"]
    assert any("punya mobil" in step for step in answer["next_steps"])


def test_a_city_program_never_blames_a_source_list(world: Runtime) -> None:
    answer, english = both(world, 10, "WALIKOTA", 1, 1)
    assert answer["outcome"] == "NEVER_RECEIVED"
    reason = only(answer, "VERVAL_INELIGIBLE")
    assert reason["result"] is None
    assert reason["event_id"] == first_event(world, 10, "Proposed").event_id
    assert "not been verified" in english["reasons"][0]["text"]


def test_a_failed_padan_is_a_population_mismatch_with_its_detail(world: Runtime) -> None:
    answer, english = both(world, 6, "WALIKOTA", 1, 1)
    reason = only(answer, "POPULATION_MISMATCH")
    assert reason["result"] == "NAME_MISMATCH"
    assert reason["event_id"] == event_of(world, 6, "PopulationMatched").event_id
    assert "name differs from the population record" in english["reasons"][0]["text"]


def test_moved_to_kemensos_blt_is_transferred_naming_blt(world: Runtime) -> None:
    answer, english = both(world, 7, "WALIKOTA", 1, 2)
    assert answer["outcome"] == "DROPPED"
    reason = only(answer, "TRANSFERRED")
    assert reason["to_program"] == "BLT"
    assert reason["authority"] == "DINSOS"
    assert reason["event_id"] == event_of(world, 7, "Transferred").event_id
    assert "BLT" in reason["text"]
    assert "BLT" in english["reasons"][0]["text"]


def test_a_failed_payment_is_not_receiving(world: Runtime) -> None:
    answer, _ = both(world, 9, "WALIKOTA", 2, 2)
    assert answer["outcome"] == "NEVER_RECEIVED"
    reason = only(answer, "PAYMENT_FAILED")
    assert reason["event_id"] == event_of(world, 9, "PaymentRecorded").event_id
    assert "POS-9-2" in reason["text"]


def test_a_seat_without_a_payment_is_pending(world: Runtime) -> None:
    answer, english = both(world, 10, "BLT", 1, 1)
    assert answer["outcome"] == "AWAITING_PAYMENT"
    assert "Rp600.000" in answer["reasons"][0]["text"]
    assert "IDR 600,000" in english["reasons"][0]["text"]
    reason = only(answer, "PAYMENT_PENDING")
    assert reason["event_id"] == first_event(world, 10, "Assigned").event_id


def test_absent_from_the_next_kemensos_roster_is_not_in_source_list_naming_kemensos(world: Runtime) -> None:
    answer, english = both(world, 11, "BLT", 1, 2)
    assert answer["outcome"] == "DROPPED"
    reason = only(answer, "NOT_IN_SOURCE_LIST")
    assert reason["authority"] == "KEMENSOS"
    assert reason["effective_on"] == ROSTER_BERLAKU.isoformat()
    assert reason["event_id"] == event_of(world, 11, "LeftOut").event_id
    assert "KEMENSOS" in reason["text"]
    assert "KEMENSOS" in english["reasons"][0]["text"]


def test_a_tahap_the_program_never_opened_is_answered_as_program_ended(world: Runtime) -> None:
    answer, english = both(world, 2, "WALIKOTA", 2, 3)
    assert answer["outcome"] == "DROPPED"
    reason = only(answer, "PROGRAM_ENDED")
    assert reason["decree_ref"] == "027.45-400"
    assert "tahap 3" in reason["text"]
    assert "tahap 3" in english["reasons"][0]["text"]


def test_without_tahap_numbers_the_latest_change_is_explained(world: Runtime) -> None:
    for args in ((), ("WALIKOTA",)):
        answer, _ = both(world, 1, *args)
        assert (answer["program"], answer["from_tahap"], answer["to_tahap"], answer["outcome"]) == (
            "WALIKOTA",
            1,
            2,
            "DROPPED",
        )
    answer, _ = both(world, 11)
    assert (answer["program"], answer["from_tahap"], answer["to_tahap"], answer["outcome"]) == (
        "BLT",
        1,
        2,
        "DROPPED",
    )
    answer, _ = both(world, 3, "WALIKOTA")
    assert (answer["from_tahap"], answer["to_tahap"], answer["outcome"]) == (1, 2, "STARTED")


def test_unknown_households_and_programs_are_refused(world: Runtime) -> None:
    with pytest.raises(Refusal) as refused:
        explain(world, kk(99))
    assert refused.value.code is RefusalCode.UNKNOWN_HOUSEHOLD
    with pytest.raises(Refusal) as refused:
        explain(world, kk(1), "NOPE", 1, 2)
    assert refused.value.code is RefusalCode.UNKNOWN_PROGRAM


def test_the_cli_explains_by_nik_in_json_and_text(
    world: Runtime, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import json  # noqa: PLC0415

    from salur_cases.cli import main  # noqa: PLC0415
    from salur_cases.settings import reset_settings_cache  # noqa: PLC0415

    monkeypatch.setenv("SALUR_DATABASE_URL", world.settings.database_url)
    for name, value in KEYS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    reset_settings_cache()
    try:
        assert (
            main(
                [
                    "explain",
                    nik(1),
                    "--program",
                    "WALIKOTA",
                    "--from-tahap",
                    "I",
                    "--to-tahap",
                    "II",
                    "--json",
                ]
            )
            == 0
        )
        answer = json.loads(capsys.readouterr().out)
        assert answer == explain(world, kk(1), "WALIKOTA", 1, 2)
        assert main(["explain", kk(7), "--lang", "en"]) == 0
        out = capsys.readouterr().out
        assert "transferred the household from Bantuan Walikota from tahap 2 on to BLT Kemensos" in out
        assert "TRANSFERRED" not in out
        assert "Next steps" in out
        assert main(["history", kk(1)]) == 0
        lines = capsys.readouterr().out.strip().splitlines()
        assert len(lines) == len(household_events(world, kk(1), 500).items)
        for line in lines:
            _plain(line)
            _no_pii(line)
        assert lines[0].startswith(
            "20 April 2020 pukul 09.00 WIB: Rumah tangga di RT 3 RW 2, Kelurahan Batutulis"
        )
        assert any(
            "Dihapus dari Bantuan Walikota mulai tahap 2 oleh KEMENSOS, keputusan KEP-KEMENSOS 146/HUK/2020 "
            'dengan alasan "cleansing DTKS", berlaku sejak 25 Mei 2020.' in line
            for line in lines
        )
        assert main(["history", kk(1), "--lang", "en"]) == 0
        assert "was reported paid on 28 April 2020" in capsys.readouterr().out
    finally:
        reset_settings_cache()
