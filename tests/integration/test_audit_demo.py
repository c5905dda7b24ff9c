"""The anomaly report on the demo tells the story: Kemensos paid households Dinsos never proposed."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from salur_cases.demo.build import demo_command
from salur_cases.demo.scenario import PROGRAMS, plan
from salur_cases.domain.vocabulary import ProgramGroup
from salur_cases.projections.audit.triage import Filters, find_all, headline, program_scopes, summary
from salur_cases.runtime import Runtime
from salur_cases.settings import load_settings, reset_settings_cache

SCALE = 0.01
SEED = 2020


def test_the_demos_headline_is_the_unproposed_kemensos_recipients_and_no_dtks_program_is_blamed(
    tmp_path: Path, env_keys: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    env = {"SALUR_DATABASE_URL": f"sqlite:///{tmp_path / 'demo.db'}", **env_keys}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    reset_settings_cache()
    assert demo_command(argparse.Namespace(scale=SCALE, seed=SEED, serve=False, host="", port=0)) == 0
    scenario = plan(SCALE, SEED)  # the generator's own lists, never read from the database
    runtime = Runtime(load_settings(env))
    try:
        findings = find_all(runtime)
        walikota = find_all(runtime, Filters.parse(budget_source="APBD_KOTA"))
        with runtime.engine.connect() as conn:
            scopes = program_scopes(conn)
    finally:
        runtime.close()
        reset_settings_cache()

    dtks = {p.code for p in PROGRAMS if p.group is ProgramGroup.DTKS}
    blamed = {
        (f.code, f.program) for f in findings if f.code in {"NOT_PROPOSED_BY_DINSOS", "PAID_WITHOUT_VERVAL"}
    }
    assert not {program for _, program in blamed} & (dtks | {"GUBERNUR"})
    unproposed = [f for f in findings if f.code == "NOT_PROPOSED_BY_DINSOS"]
    never = {*scenario.never_proposed_5, *scenario.never_proposed_6}
    assert {f.no_kk for f in unproposed} == never
    assert {(f.program, f.tahap) for f in unproposed} == {("BST_KEMENSOS", 5), ("BST_KEMENSOS", 6)}
    assert sum(f.amount_idr for f in unproposed) == 600_000 * (
        2 * len(scenario.never_proposed_5) + len(scenario.never_proposed_6)
    )
    top = headline(summary(findings, scopes))
    assert top is not None
    assert top.startswith(f"HIGH NOT_PROPOSED_BY_DINSOS: {len(never):,} households")
    assert "BST_KEMENSOS tahap 5, 6 (KEMENSOS's roster)" in top
    assert walikota == []  # the city's own program kept every rule
