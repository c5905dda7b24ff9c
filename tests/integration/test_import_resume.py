"""An import killed with SIGKILL midway, then run again: nothing lost, nothing doubled (PostgreSQL)."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from salur_cases.domain.actor import Actor
from salur_cases.domain.vocabulary import Role
from salur_cases.intake.importer import import_file
from salur_cases.processes.unit_of_work import load_many
from salur_cases.projections.migrate import upgrade
from salur_cases.runtime import Runtime
from salur_cases.settings import load_settings
from salur_cases.tables import imports

HOUSEHOLDS = 3000
BATCH = 40

CHILD = """
import os, sys
from pathlib import Path
from salur_cases.domain.actor import Actor
from salur_cases.domain.vocabulary import Role
from salur_cases.intake import importer
from salur_cases.runtime import Runtime
from salur_cases.settings import load_settings

importer.BATCH = int(sys.argv[2])
runtime = Runtime(load_settings(os.environ))
path = Path(sys.argv[1])
importer.import_file(runtime, "registrations", path.name, path.read_bytes(), Actor("killed", Role.DINSOS))
"""


def _write_file(path: Path) -> None:
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["no_kk", "nik", "nama", "hubungan", "kecamatan", "kelurahan", "rw", "rt", "sumber"])
        for i in range(1, HOUSEHOLDS + 1):
            no_kk = f"32710101012{i:05d}"
            writer.writerow(
                [
                    no_kk,
                    f"327101150580{i:04d}",
                    f"Kepala {i}",
                    "KEPALA KELUARGA",
                    "Bogor Selatan",
                    "Batutulis",
                    "01",
                    "02",
                    "KELURAHAN",
                ]
            )
            writer.writerow(
                [
                    no_kk,
                    f"327101550582{i:04d}",
                    f"Istri {i}",
                    "ISTRI",
                    "Bogor Selatan",
                    "Batutulis",
                    "01",
                    "02",
                    "KELURAHAN",
                ]
            )


def _progress(runtime: Runtime) -> dict[str, Any] | None:
    with runtime.engine.connect() as conn:
        row = conn.execute(select(imports.c.steps_done, imports.c.steps, imports.c.status)).mappings().first()
    return dict(row) if row else None


def test_an_import_killed_midway_resumes_and_finishes(
    postgres_url: Any, env_keys: dict[str, str], tmp_path: Path
) -> None:
    env = {
        **os.environ,
        **env_keys,
        "SALUR_DATABASE_URL": f"{postgres_url.url}?schema={postgres_url.schema}",
        "SALUR_LOG_FORMAT": "json",
    }
    runtime = Runtime(load_settings(env))
    upgrade(runtime)
    path = tmp_path / "daftar.csv"
    _write_file(path)
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(path), str(BATCH)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            progress = _progress(runtime)
            if progress and progress["steps_done"] >= 3:
                break
            if child.poll() is not None:
                pytest.fail("the import finished before it could be killed")
            time.sleep(0.01)
        child.send_signal(signal.SIGKILL)
        child.wait(30)
    finally:
        if child.poll() is None:
            child.kill()
    killed = _progress(runtime)
    assert killed is not None
    assert killed["status"] == "RUNNING"
    assert killed["steps_done"] < killed["steps"]

    report = import_file(runtime, "registrations", path.name, path.read_bytes(), Actor("again", Role.DINSOS))
    assert (report.rows, report.accepted, report.rejected) == (2 * HOUSEHOLDS, 2 * HOUSEHOLDS, [])
    assert _progress(runtime) == {"steps_done": killed["steps"], "steps": killed["steps"], "status": "DONE"}
    app = runtime.app
    ids = [app.household_id(f"32710101012{i:05d}") for i in range(1, HOUSEHOLDS + 1)]
    assert len(app.chained.existing_originator_ids(ids)) == HOUSEHOLDS
    for household in load_many(app, ids).values():
        assert len(household.sources) == 1  # type: ignore[attr-defined]
        assert len(household.members) == 2  # type: ignore[attr-defined]
    runtime.close()
