"""The `population` kind: a Disdukcapil extract, the reference padan matches households against.

Its rows need no registered household: they are upserted into `population_extract` (keyed by the
NIK's keyed hash) batch by batch, then a last step matches every registered household the extract
concerns (by No. KK, or holding one of its NIKs).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Any

from salur_cases import wilayah
from salur_cases.identifiers import keyed_hex
from salur_cases.intake import sql
from salur_cases.intake.population import extract_rows
from salur_cases.intake.report import RowProblem
from salur_cases.intake.rows import Row, RowError, Sheet, batches
from salur_cases.intake.steps import Context, Outcome, Step
from salur_cases.processes import padan
from salur_cases.projections.runner import catch_up
from salur_cases.tables import population_extract
from salur_cases.tables.bulk import upsert

POPULATION_STATUS = {
    "HIDUP": "HIDUP",
    "ALIVE": "HIDUP",
    "MENINGGAL": "MENINGGAL",
    "DECEASED": "MENINGGAL",
    "MATI": "MENINGGAL",
    "PINDAH": "PINDAH",
    "MOVED": "PINDAH",
}
YES_NO = {
    "Y": "Y",
    "YA": "Y",
    "YES": "Y",
    "1": "Y",
    "TRUE": "Y",
    "ADA": "Y",
    "N": "N",
    "T": "N",
    "TIDAK": "N",
    "NO": "N",
    "0": "N",
    "FALSE": "N",
    "BELUM": "N",
}


class Population:
    """A Disdukcapil extract: rows go to `population_extract`; then every household it concerns is matched."""

    def plan(self, sheet: Sheet, import_id: str, size: int) -> tuple[list[RowProblem], list[Step]]:  # noqa: ARG002
        """Check each person; a step of upserts per `size` rows, then one matching step."""
        problems: list[RowProblem] = []
        records: list[tuple[int, dict[str, Any]]] = []
        seen: set[str] = set()
        for row in sheet.rows:
            try:
                record = self._record(row)
            except RowError as e:
                problems.append(row.problem(e))
                continue
            if record["nik"] in seen:
                problems.append(
                    RowProblem(
                        row.number,
                        row.header("nik"),
                        "DUPLICATE_ROW",
                        "the NIK appears on an earlier row of the file",
                    )
                )
                continue
            seen.add(record["nik"])
            records.append((row.number, record))
        steps = [
            Step([n for n, _ in batch], partial(self._load, records=[r for _, r in batch]))
            for batch in batches(records, size)
        ]
        steps.append(Step([], partial(self._match, records=[r for _, r in records])))
        return problems, steps

    @staticmethod
    def _record(row: Row) -> dict[str, Any]:
        nik = row.nik()
        no_kk = row.no_kk()
        name = row.required("name")
        birth = row.day("birth_date", required=False)
        status = row.choice("status", POPULATION_STATUS)
        ektp = row.choice("ektp", YES_NO) == "Y"
        place = (row.text("kecamatan"), row.text("kelurahan"))
        code = None
        if place[1] and place[1] != "-":
            if place not in row.layout.places:
                found = wilayah.kelurahan(place[1], place[0] or None)
                if found is None:
                    raise row.fail(
                        "kelurahan", "UNKNOWN_KELURAHAN", "kelurahan is not a kelurahan of Kota Bogor"
                    )
                row.layout.places[place] = found
            code = row.layout.places[place].code
        return {
            "nik": nik,
            "no_kk": no_kk,
            "name": name,
            "birth_date": birth,
            "status": status,
            "ektp": ektp,
            "kelurahan": code,
            "in_city": code is not None,
        }

    @staticmethod
    def _load(ctx: Context, records: Sequence[dict[str, Any]]) -> Outcome:
        if not ctx.dry_run:
            rows = extract_rows(ctx.runtime.settings.id_key, records)
            with ctx.runtime.engine.begin() as conn:
                upsert(conn, population_extract, rows)
        return Outcome(accepted=len(records))

    @staticmethod
    def _match(ctx: Context, records: Sequence[dict[str, Any]]) -> Outcome:
        if not ctx.dry_run:
            sql.analyze(ctx.runtime.engine, population_extract)  # fresh statistics for padan's lookups
            key = ctx.runtime.settings.id_key
            hashes = [keyed_hex(key, "nik", r["nik"]) for r in records]
            catch_up(ctx.runtime)  # the read models answer which households hold these NIKs
            concerned = {r["no_kk"] for r in records} | sql.households_holding(ctx.runtime.engine, hashes)
            padan.match_population(ctx.app, sorted(concerned), ctx.actor)
        return Outcome()
