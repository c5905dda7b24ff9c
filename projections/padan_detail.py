"""Padan per member: which member failed the match with Disdukcapil's data, how, and the near miss.

The household's padan event records only the first failing detail; an explanation names the
member it concerns. Each member of the household (as it stood when padan was recorded) is checked
against the population extract with padan's own rules, and a member whose NIK is not found, or whose
name differs, is looked up for a near miss (`salur report padan-suggestions`): a NIK one digit away
with the same name and birth date, or a spelling or nickname of the same name. Members are named by
masked NIK and masked name only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from salur_cases.domain.padan import PopulationRecord, fold_name
from salur_cases.domain.vocabulary import KEPALA_KELUARGA, PadanResult
from salur_cases.identifiers import Nik
from salur_cases.projections.projector import mask_name
from salur_cases.projections.reports import name_near_miss, one_digit_variants
from salur_cases.runtime import Runtime

Item = dict[str, Any]


def member_result(no_kk: str, member: Mapping[str, Any], record: PopulationRecord | None) -> str:
    """The first padan detail this member fails (CONTRACT.md's order), or MATCHED."""
    checks = (
        (record is None or record.no_kk != no_kk, PadanResult.NIK_NOT_FOUND),
        (record is not None and not record.in_city, PadanResult.OUTSIDE_CITY),
        (record is not None and record.status == "MENINGGAL", PadanResult.DECEASED),
        (record is not None and record.status == "PINDAH", PadanResult.MOVED),
        (
            record is not None and fold_name(record.name) != fold_name(str(member["name"])),
            PadanResult.NAME_MISMATCH,
        ),
        (
            record is not None and member.get("relationship") == KEPALA_KELUARGA and not record.ektp,
            PadanResult.NOT_EKTP,
        ),
    )
    for fails, result in checks:
        if fails:
            return str(result)
    return str(PadanResult.MATCHED)


def member_detail(runtime: Runtime, no_kk: str, members: Sequence[Mapping[str, Any]]) -> list[Item]:
    """Each member's padan result against the extract loaded so far, with a near miss where one exists."""
    population = runtime.app.population
    if not members or not population.loaded():
        return []
    extract = population.records([str(m["nik"]) for m in members])
    detail: list[Item] = []
    for member in members:
        nik = str(member["nik"])
        record = extract.get(nik)
        entry: Item = {
            "nik": Nik(nik).masked(),
            "name": mask_name(str(member["name"])),
            "relationship": member.get("relationship"),
            "result": member_result(no_kk, member, record),
            "suggestion": None,
            "suggested_nik": None,
            "suggested_name": None,
        }
        if entry["result"] == PadanResult.NIK_NOT_FOUND:
            near = _nik_near_miss(runtime, member)
            if near is not None:
                entry.update(suggestion="NIK_ONE_DIGIT", suggested_nik=Nik(near).masked())
        elif entry["result"] == PadanResult.NAME_MISMATCH and record is not None:
            name = name_near_miss(str(member["name"]), record.name)
            if name is not None:
                entry.update(suggestion=name[0], suggested_name=mask_name(record.name))
        detail.append(entry)
    return detail


def _nik_near_miss(runtime: Runtime, member: Mapping[str, Any]) -> str | None:
    """An extract NIK one digit away from the member's, with the same name and birth date."""
    birth = member.get("birth_date")
    if not birth:
        return None
    born = birth if isinstance(birth, date) else date.fromisoformat(str(birth))
    variants = list(one_digit_variants(str(member["nik"])))
    for nik, record in sorted(runtime.app.population.records(variants).items()):
        if fold_name(record.name) == fold_name(str(member["name"])) and record.birth_date == born:
            return nik
    return None
