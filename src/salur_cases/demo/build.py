"""`salur demo`: build the Kota Bogor 2020 scenario into a new database and print the program table.

The generated story (`salur_cases.demo.scenario`) is replayed through the application with the
clock set to the story's moments (`recording_at`): the lists arrive as files through the importers
(`import_file`), the city's allocations run by its own rule (`allocate`), outside rosters and payers'
reports are recorded as facts. The program table is then computed from the read models and compared
with what the scenario intended (Table 2 at the given scale).
"""

from __future__ import annotations

import argparse
import csv
import gc
import io
import sys
import time
from collections.abc import Callable, Sequence
from datetime import date
from typing import TYPE_CHECKING

from salur_cases.collector import collector_paused
from salur_cases.demo.scenario import (
    POPULATION_HEADER,
    PROGRAMS,
    REGISTRATION_HEADER,
    SK_WALIKOTA_1,
    Family,
    Scenario,
    moment,
    plan,
    population_rows,
    registration_rows,
)
from salur_cases.domain.actor import Actor
from salur_cases.domain.clock import recording_at
from salur_cases.domain.commands import DefineProgram, OpenTahap
from salur_cases.domain.errors import InvalidCommand
from salur_cases.domain.vocabulary import Role
from salur_cases.intake.importer import import_file
from salur_cases.intake.report import ImportReport
from salur_cases.processes import allocation, programs
from salur_cases.projections.migrate import upgrade
from salur_cases.projections.reports import compare, program_table, render_table
from salur_cases.projections.runner import catch_up, following
from salur_cases.runtime import Runtime
from salur_cases.settings import get_settings

if TYPE_CHECKING:
    from salur_cases.application import SalurApplication

DINSOS = Actor("dinsos.bidang-data", Role.DINSOS)
DUKCAPIL = Actor("disdukcapil.pemadanan", Role.DUKCAPIL)

Say = Callable[[str], None]


def _csv(header: Sequence[str], rows: Sequence[Sequence[object]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode()


def _d(month: int, day: int) -> date:
    return date(2020, month, day)


class Story:
    """Replays a scenario through the application, step by step, at the story's moments."""

    def __init__(self, runtime: Runtime, scenario: Scenario, say: Say) -> None:
        self.runtime = runtime
        self.app: SalurApplication = runtime.app
        self.s = scenario
        self.say = say

    STEPS = (
        "programs",
        "population",
        "dtks",
        "city_lists",
        "province",
        "walikota_1",
        "kemensos_5",
        "self_registration",
        "walikota_2",
        "kemensos_6",
    )
    """The story's steps, in order (each a method)."""

    def run(self, on_step: Callable[[int, str], None] | None = None) -> None:
        """Every step of DOMAIN.md's story, in order; ``on_step(number, what)`` as each begins."""
        for number, name in enumerate(self.STEPS, 1):
            step = getattr(self, name)
            if on_step is not None:
                on_step(number, (step.__doc__ or name).split("\n")[0])
            step()

    # --- helpers ----------------------------------------------------------------------------------

    def _import(
        self,
        kind: str,
        name: str,
        header: Sequence[str],
        rows: Sequence[Sequence[object]],
        actor: Actor = DINSOS,
    ) -> ImportReport:
        gc.freeze()  # what is alive now (held households, ...) outlives the import: never walk it again
        report = import_file(self.runtime, kind, f"{name}.csv", _csv(header, rows), actor)
        rejected = len({p.row for p in report.rejected})
        self.say(
            f"  import {kind:<13} {name:<38} {report.rows:>7} rows, {report.accepted:>7} accepted, "
            f"{rejected:>5} rejected, {len(report.warnings):>6} warnings"
        )
        return report

    def _register(self, name: str, families: Sequence[Family], source: str) -> None:
        self._import("registrations", name, REGISTRATION_HEADER, registration_rows(families, source))

    def _verval(self, name: str, families: Sequence[Family], decision: str, day: date, reason: str) -> None:
        rows = [
            [f.no_kk, decision, reason, f"Petugas Kel. {f.kelurahan.name}", day.isoformat()] for f in families
        ]
        self._import("verval", name, ["no_kk", "keputusan", "alasan", "petugas", "tanggal"], rows)

    def _roster(self, name: str, program: str, tahap: int, authority: str, no_kks: Sequence[str]) -> None:
        rows = [[k, program, tahap, authority] for k in no_kks]
        self._import("roster", name, ["no_kk", "program", "tahap", "otoritas"], rows)

    def _pay(
        self, name: str, program: str, tahap: int, amount: int, day: date, payer: str, no_kks: Sequence[str]
    ) -> None:
        rows = [
            [
                k,
                program,
                tahap,
                amount,
                f"{day.isoformat()}T10:00:00",
                "PAID",
                f"{payer}-{program}-{tahap}-{i:06d}",
            ]
            for i, k in enumerate(no_kks, 1)
        ]
        self._import(
            "payments", name, ["no_kk", "program", "tahap", "jumlah", "tanggal", "status", "referensi"], rows
        )

    def _open(
        self, code: str, tahap: int, period: tuple[date, date], quota: int, amount: int, decree: str
    ) -> None:
        opening = OpenTahap(tahap, period[0], period[1], quota, amount, quota * amount, decree)
        programs.open_tahap(self.app, code, opening, DINSOS)

    def _allocate(self, code: str, tahap: int, candidates: Sequence[Family]) -> None:
        outcome = allocation.allocate(
            self.app, code, tahap, DINSOS, [self.app.household_id(f.no_kk) for f in candidates]
        )
        self.say(
            f"  allocate {code} tahap {tahap} by the city's rule: {outcome.assigned} assigned, "
            f"{outcome.left_out} left out (cutoff rank {outcome.cutoff})"
        )

    # --- the story --------------------------------------------------------------------------------

    def programs(self) -> None:
        """1 April: the programs of the year."""
        with recording_at(moment(_d(4, 1))):
            for spec in PROGRAMS:
                definition = DefineProgram(spec.code, spec.name, spec.budget_source, spec.group)
                programs.define_program(self.app, definition, DINSOS)

    def population(self) -> None:
        """2 April: Disdukcapil loads its extract, the reference for padan."""
        self.say("2 April: Disdukcapil's population extract")
        with recording_at(moment(_d(4, 2), 10)):
            self._import(
                "population",
                "disdukcapil-extract-2020-04",
                POPULATION_HEADER,
                population_rows(list(self.s.everyone())),
                DUKCAPIL,
            )

    def dtks(self) -> None:
        """April: DTKS households (Pusdatin Kemensos) on Kemensos rosters for BPNT/BSP, BLT and PKH, paid."""
        self.say("April: DTKS households on Kemensos's BPNT/BSP, BLT and PKH rosters")
        amounts = {"BPNT": 200_000, "BLT_DTKS": 600_000, "PKH": 250_000}
        with recording_at(moment(_d(4, 3))):
            self._register("dtks-pusdatin-2020-04", [f for fs in self.s.dtks.values() for f in fs], "DTKS")
        for code, families in self.s.dtks.items():
            with recording_at(moment(_d(4, 6))):
                self._open(
                    code,
                    1,
                    (_d(4, 1), _d(4, 30)),
                    max(1, len(families)),
                    amounts[code],
                    f"Kemensos: penyaluran {code} April 2020",
                )
                self._roster(
                    f"kemensos-{code.lower()}-tahap-1", code, 1, "KEMENSOS", [f.no_kk for f in families]
                )
            with recording_at(moment(_d(4, 20), 14)):
                self._pay(
                    f"pos-{code.lower()}-tahap-1",
                    code,
                    1,
                    amounts[code],
                    _d(4, 20),
                    "POS",
                    [f.no_kk for f in families],
                )

    def city_lists(self) -> None:
        """6-8 April: kelurahan lists by kecamatan, then the departments' lists (many households twice)."""
        f = self.s.figures
        self.say(
            f"6-8 April: kelurahan and department lists: {f['people_on_lists']} people, "
            f"{f['households_on_lists']} households, {f['department_duplicates']} listed twice"
        )
        by_kecamatan: dict[str, list[Family]] = {}
        for family in self.s.city_lists:
            by_kecamatan.setdefault(family.kelurahan.kecamatan.name, []).append(family)
        with recording_at(moment(_d(4, 6))):
            for kecamatan, families in sorted(by_kecamatan.items()):
                self._register(f"kelurahan-{kecamatan.lower().replace(' ', '-')}", families, "KELURAHAN")
        with recording_at(moment(_d(4, 8))):
            for department, families in self.s.department_lists.items():
                self._register(f"dinas-{department.split(':')[1].lower()}", families, department)

    def province(self) -> None:
        """The province's quota, its own roster after its sweep, PT Pos's payments from 15 April."""
        f = self.s.figures
        self.say(
            f"9-15 April: the province's quota {f['province_quota']}; {f['province_matched']} matched after "
            f"padan and dedup; the province's roster after its sweep: {len(self.s.gubernur)}"
        )
        with recording_at(moment(_d(4, 9))):
            self._open(
                "GUBERNUR",
                1,
                (_d(4, 15), _d(5, 14)),
                f["province_quota"],
                500_000,
                "Keputusan Gubernur Jawa Barat: bantuan sosial PSBB tahap I",
            )
        with recording_at(moment(_d(4, 12))):
            self._roster(
                "provinsi-gubernur-tahap-1", "GUBERNUR", 1, "PROVINSI", [f.no_kk for f in self.s.gubernur]
            )
        with recording_at(moment(_d(4, 15), 13)):
            self._pay(
                "pos-gubernur-tahap-1",
                "GUBERNUR",
                1,
                500_000,
                _d(4, 15),
                "POS",
                [f.no_kk for f in self.s.gubernur],
            )

    def walikota_1(self) -> None:
        """Kelurahan verval, then the city pays households the province does not cover, from 27 April."""
        s = self.s
        self.say(
            f"20-27 April: verval; Bantuan Walikota tahap 1: {len(s.walikota_1)} households ({SK_WALIKOTA_1})"
        )
        with recording_at(moment(_d(4, 20), 15)):
            self._verval(
                "verval-kelurahan-2020-04-20", s.walikota_1, "LAYAK", _d(4, 20), "terdampak, tidak mampu"
            )
        with recording_at(moment(_d(4, 22), 15)):
            self._verval(
                "verval-kelurahan-2020-04-22", s.to_kemensos, "LAYAK", _d(4, 22), "terdampak, tidak mampu"
            )
        with recording_at(moment(_d(4, 23), 15)):
            self._verval("verval-kelurahan-2020-04-23", s.spare_eligible, "LAYAK", _d(4, 23), "terdampak")
            self._verval(
                "verval-kelurahan-2020-04-23-tl",
                s.spare_ineligible,
                "TIDAK_LAYAK",
                _d(4, 23),
                "memiliki aset",
            )
        with recording_at(moment(_d(4, 26), 16)):
            self._open("WALIKOTA", 1, (_d(4, 27), _d(5, 26)), len(s.walikota_1), 500_000, SK_WALIKOTA_1)
            self._allocate(
                "WALIKOTA",
                1,
                [*s.walikota_1, *s.to_kemensos, *s.spare_eligible, *s.spare_ineligible, *s.padan_failures],
            )
        with recording_at(moment(_d(4, 27), 11)):
            self._pay(
                "bjb-walikota-tahap-1",
                "WALIKOTA",
                1,
                500_000,
                _d(4, 27),
                "BJB",
                [f.no_kk for f in s.walikota_1],
            )

    def kemensos_5(self) -> None:
        """May: households the city could not pay go to Kemensos; BST tahap V, with lists from elsewhere."""
        s = self.s
        self.say(
            f"May: Kemensos BST tahap V: {len(s.to_kemensos)} moved from the city, "
            f"{len(s.never_proposed_5)} never proposed by Dinsos"
        )
        tahap_5 = [*(f.no_kk for f in s.to_kemensos), *s.never_proposed_5]
        with recording_at(moment(_d(5, 2))):
            self._open(
                "BST_KEMENSOS", 5, (_d(5, 1), _d(5, 31)), len(tahap_5), 600_000, "Kemensos: BST tahap V"
            )
        with recording_at(moment(_d(5, 8))):
            self._roster("kemensos-bst-tahap-5", "BST_KEMENSOS", 5, "KEMENSOS", tahap_5)
        with recording_at(moment(_d(5, 12), 10)):
            self._pay("pos-bst-tahap-5", "BST_KEMENSOS", 5, 600_000, _d(5, 12), "POS", tahap_5)

    def self_registration(self) -> None:
        """1-20 May: self-registration through SALUR; verval by the kelurahan."""
        s = self.s
        self.say(
            f"1-28 May: {s.figures['self_registrations']} self-registrations through SALUR, "
            f"{s.figures['self_eligible']} eligible"
        )
        weeks = [s.self_new[i::3] for i in range(3)]
        for week, families in enumerate(weeks):
            with recording_at(moment(_d(5, 4 + 7 * week), 17)):
                self._register(f"salur-mandiri-minggu-{week + 1}", families, "SELF")
        with recording_at(moment(_d(5, 18), 17)):
            fixed = [Family(f.no_kk, f.kelurahan, f.rw, f.rt, f.members) for f in s.self_corrections]
            self._register("salur-mandiri-perbaikan", fixed, "SELF")
        with recording_at(moment(_d(5, 20), 15)):
            self._verval(
                "verval-salur-2020-05-20", s.self_winners, "LAYAK", _d(5, 20), "terdampak, tidak mampu"
            )
        with recording_at(moment(_d(5, 25), 15)):
            rest = [*s.self_to_kemensos, *s.self_eligible_rest, *s.self_corrections]
            self._verval("verval-salur-2020-05-25", rest, "LAYAK", _d(5, 25), "terdampak")
            self._verval("verval-salur-2020-05-25-tl", s.self_ineligible, "TIDAK_LAYAK", _d(5, 25), "mampu")

    def walikota_2(self) -> None:
        """June: recipients found well-off are ineligible; tahap 2 (July) by the city's rule."""
        s = self.s
        self.say(
            f"June: {len(s.walikota_dropped)} tahap 1 recipients re-verified ineligible; Bantuan Walikota "
            f"tahap 2 has {s.figures['walikota_2_quota']} seats"
        )
        with recording_at(moment(_d(6, 3), 15)):
            self._verval(
                "verval-ulang-2020-06-03",
                s.walikota_dropped,
                "TIDAK_LAYAK",
                _d(6, 3),
                "memiliki kendaraan roda empat (aduan warga)",
            )
        with recording_at(moment(_d(6, 5), 16)):
            self._open(
                "WALIKOTA",
                2,
                (_d(7, 1), _d(7, 31)),
                s.figures["walikota_2_quota"],
                500_000,
                "Keputusan Wali Kota Bogor: penerima bantuan tahap II",
            )
            self._allocate(
                "WALIKOTA",
                2,
                [
                    *s.walikota_1,
                    *s.self_winners,
                    *s.self_to_kemensos,
                    *s.self_eligible_rest,
                    *s.self_corrections,
                    *s.self_ineligible,
                ],
            )
        winners = [*s.walikota_1[len(s.walikota_dropped) :], *s.self_winners]
        with recording_at(moment(_d(7, 6), 11)):
            self._pay(
                "bjb-walikota-tahap-2", "WALIKOTA", 2, 500_000, _d(7, 6), "BJB", [f.no_kk for f in winners]
            )

    def kemensos_6(self) -> None:
        """June: Kemensos cleanses its list; tahap VI drops some, adds others, some not proposed by Dinsos."""
        s = self.s
        gone = {f.no_kk for f in [*s.kemensos_removed, *s.kemensos_missing]}
        tahap_6 = [
            *(f.no_kk for f in s.to_kemensos if f.no_kk not in gone),
            *s.never_proposed_5,
            *(f.no_kk for f in s.self_to_kemensos),
            *s.never_proposed_6,
        ]
        self.say(
            f"June: Kemensos cleansing ({len(s.kemensos_removed)} removed, "
            f"{len(s.kemensos_missing)} silently missing); BST tahap VI: {len(tahap_6)} households"
        )
        with recording_at(moment(_d(6, 2))):
            self._open(
                "BST_KEMENSOS", 6, (_d(6, 1), _d(6, 30)), len(tahap_6), 600_000, "Kemensos: BST tahap VI"
            )
        with recording_at(moment(_d(6, 8))):
            rows = [
                [
                    f.no_kk,
                    "BST_KEMENSOS",
                    "VI",
                    "KEMENSOS",
                    "data ganda / tidak memenuhi syarat",
                    "BA Pemutakhiran Data Kemensos Juni 2020",
                    "2020-06-01",
                ]
                for f in s.kemensos_removed
            ]
            self._import(
                "cleansing",
                "kemensos-cleansing-2020-06",
                ["no_kk", "program", "tahap", "otoritas", "alasan", "dokumen", "berlaku"],
                rows,
            )
        with recording_at(moment(_d(6, 10))):
            self._roster("kemensos-bst-tahap-6", "BST_KEMENSOS", 6, "KEMENSOS", tahap_6)
        with recording_at(moment(_d(6, 15), 10)):
            self._pay("pos-bst-tahap-6", "BST_KEMENSOS", 6, 600_000, _d(6, 15), "POS", tahap_6)


def build(
    runtime: Runtime,
    scale: float = 1.0,
    seed: int = 2020,
    say: Say = print,
    on_plan: Callable[[Scenario], None] | None = None,
    on_step: Callable[[int, str], None] | None = None,
) -> Scenario:
    """Generate the scenario and replay it into the runtime's (new, migrated) database.

    ``on_plan`` sees the scenario before it is written; ``on_step`` is told as each step begins.
    """
    with collector_paused():  # never collected: imports leave no garbage cycles (`intake.rows.Sheet`)
        scenario = plan(scale, seed)
        gc.freeze()  # the scenario lives to the end: never walked by the collector
        if on_plan is not None:
            on_plan(scenario)
        Story(runtime, scenario, say).run(on_step)
    return scenario


def demo_command(args: argparse.Namespace) -> int:
    """`salur demo`: migrate, build, print the program table (exit 1 if it differs from the intended one).

    With `--serve` the server answers at once: the console shows the build's progress and the data
    routes answer 503 until the city is ready (`salur_cases.demo.first_run`).
    """

    if args.scale <= 0:
        raise InvalidCommand("--scale", "must be more than 0")
    runtime = Runtime(get_settings())
    try:
        upgrade(runtime)
        if runtime.app.recorder.max_notification_id():
            raise InvalidCommand("database", "already holds events: the demo builds into a new database")
        print(f"Kota Bogor 2020 at scale {args.scale} (seed {args.seed})")
        if args.serve:
            return _serve_while_building(runtime, args)
        return build_and_report(runtime, args.scale, args.seed)
    finally:
        runtime.close()


def build_and_report(
    runtime: Runtime,
    scale: float,
    seed: int,
    on_plan: Callable[[Scenario], None] | None = None,
    on_step: Callable[[int, str], None] | None = None,
) -> int:
    """Build the city, bring the read models up to date, print the program table; 1 when it differs."""
    started = time.perf_counter()
    with following(runtime.settings) as cores, runtime.app.leaving_cores(cores):
        scenario = build(runtime, scale, seed, on_plan=on_plan, on_step=on_step)
    events = runtime.app.recorder.max_notification_id() or 0
    written = time.perf_counter() - started
    catch_up(runtime)
    table = program_table(runtime)
    print()
    print(render_table(table))
    differences = compare(table, scenario.intended)
    elapsed = time.perf_counter() - started
    print(f"\n{events} events written in {written:.1f} s; projections caught up; total {elapsed:.1f} s")
    if differences:
        print("the program table differs from the scenario's intended counts: " + "; ".join(differences))
    else:
        print(f"the program table equals Table 2 at scale {scale} (each row round(count x scale))")
    return 1 if differences else 0


def _serve_while_building(runtime: Runtime, args: argparse.Namespace) -> int:
    try:
        from salur_cases.demo.first_run import serve_while_building  # noqa: PLC0415 - the API loads only to serve
    except ImportError:
        print("the HTTP API is not available in this installation (salur_cases.api)", file=sys.stderr)
        return build_and_report(runtime, args.scale, args.seed)
    return serve_while_building(
        runtime,
        len(Story.STEPS),
        lambda on_plan, on_step: build_and_report(runtime, args.scale, args.seed, on_plan, on_step),
        args.host,
        args.port,
    )
