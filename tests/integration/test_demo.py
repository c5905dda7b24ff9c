"""`salur demo` at a small scale: the program table, computed from the read models, is Table 2 scaled."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from salur_cases.demo.build import demo_command
from salur_cases.demo.scenario import TABLE_2, plan
from salur_cases.domain.errors import InvalidCommand
from salur_cases.projections.reports import program_table
from salur_cases.projections.runner import catch_up
from salur_cases.runtime import Runtime
from salur_cases.settings import load_settings, reset_settings_cache

SCALE = 0.005
SEED = 7


def test_the_demo_builds_kota_bogor_2020_and_its_table_is_table_2_scaled(
    tmp_path: Path,
    env_keys: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    env = {"SALUR_DATABASE_URL": f"sqlite:///{tmp_path / 'demo.db'}", **env_keys}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    reset_settings_cache()
    args = argparse.Namespace(scale=SCALE, seed=SEED, serve=False, host="127.0.0.1", port=8000)

    assert demo_command(args) == 0
    printed = capsys.readouterr().out
    assert "equals Table 2" in printed
    assert "Bantuan Walikota" in printed

    runtime = Runtime(load_settings(env))
    try:
        catch_up(runtime)
        table = program_table(runtime)
    finally:
        runtime.close()
    intended = plan(SCALE, SEED).intended  # the generator's own counts, never read from the database
    assert table.counts() == intended == {code: round(count * SCALE) for code, count in TABLE_2.items()}
    rows = {(r.group, r.code): r for r in table.rows}
    dtks = sum(intended[c] for c in ("BPNT", "BLT_DTKS", "PKH"))
    assert rows["DTKS", None].households == dtks
    assert table.total == sum(intended.values()) == rows[None, None].households
    total_2020 = sum(TABLE_2.values())
    for code, count in TABLE_2.items():
        assert rows[next(r.group for r in table.rows if r.code == code), code].share == pytest.approx(
            100 * count / total_2020, abs=0.5
        )
    assert rows["DTKS", None].share == pytest.approx(42.71, abs=0.5)

    with pytest.raises(InvalidCommand):  # the demo builds into a new database only
        demo_command(args)
    reset_settings_cache()
