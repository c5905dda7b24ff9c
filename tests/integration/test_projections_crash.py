"""A projection process killed with SIGKILL mid-batch, and restarted, applies every event exactly once.

`salur projections run` runs in a subprocess with small batches (SALUR_PROJECTION_BATCH) and is
killed twice while it works; a third run finishes. Its tables must equal a rebuild from scratch into
a fresh schema holding a copy of the same events, on PostgreSQL.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import date
from typing import Any

import psycopg
import pytest
from sqlalchemy import func, select

from salur_cases import tables as t
from salur_cases.domain.actor import Actor
from salur_cases.domain.clock import WIB
from salur_cases.domain.commands import (
    DecideVerval,
    DefineProgram,
    OpenTahap,
    ProposeHousehold,
    RecordPayment,
    RecordPopulationMatch,
)
from salur_cases.domain.vocabulary import (
    BudgetSource,
    PadanResult,
    PaymentStatus,
    ProgramGroup,
    Role,
    VervalDecision,
)
from salur_cases.processes import allocation, disbursement, padan, programs, registration, verval
from salur_cases.projections.migrate import upgrade
from salur_cases.projections.runner import catch_up, position
from salur_cases.runtime import Runtime
from salur_cases.settings import load_settings

DINSOS = Actor("officer", Role.DINSOS)
HOUSEHOLDS = 600


def kk(i: int) -> str:
    """A valid No. KK."""
    return f"327102{1 + i % 28:02d}0420{1 + i // 28:04d}"


def nik(i: int, j: int) -> str:
    """A valid NIK of member j of household i."""
    return f"327102{1 + i % 28:02d}049{j}{1 + i // 28:04d}"


def build(runtime: Runtime) -> None:
    """Some thousands of events: registrations, padan, verval, an allocation, payments."""
    app = runtime.app
    programs.define_program(
        app,
        DefineProgram("WALIKOTA", "Bantuan Walikota", BudgetSource.APBD_KOTA, ProgramGroup.NON_DTKS),
        DINSOS,
    )
    programs.open_tahap(
        app,
        "WALIKOTA",
        OpenTahap(1, date(2020, 4, 27), date(2020, 5, 26), 400, 500_000, 200_000_000, "SK-1"),
        DINSOS,
    )
    proposals = [
        ProposeHousehold.from_data(
            {
                "no_kk": kk(i),
                "source": {"kind": "KELURAHAN"},
                "address": {"kecamatan": "Bogor Timur", "kelurahan": "Baranangsiang", "rw": "1", "rt": "1"},
                "members": [
                    {
                        "nik": nik(i, j),
                        "name": f"Warga {i} {j}",
                        "relationship": "KEPALA KELUARGA" if j == 0 else "ANAK",
                    }
                    for j in range(2)
                ],
            }
        )
        for i in range(HOUSEHOLDS)
    ]
    assert not registration.register_many(app, proposals, DINSOS).rejected
    for i in range(0, HOUSEHOLDS, 3):
        padan.record_padan(app, kk(i), RecordPopulationMatch(PadanResult.MATCHED, date(2020, 4, 21)), DINSOS)
    verval.decide_verval_many(
        app,
        [
            (kk(i), DecideVerval(VervalDecision.ELIGIBLE, "layak", "Pak RW", date(2020, 4, 22)))
            for i in range(HOUSEHOLDS)
        ],
        DINSOS,
    )
    outcome = allocation.allocate(app, "WALIKOTA", 1, DINSOS)
    assert outcome.assigned > 0
    from datetime import datetime  # noqa: PLC0415

    paid_at = datetime(2020, 4, 28, 10, tzinfo=WIB)
    items = [
        RecordPayment(kk(i), 500_000, paid_at.isoformat(), PaymentStatus.PAID, f"P{i}")
        for i in range(0, HOUSEHOLDS, 3)
    ]
    disbursement.record_payments(app, "WALIKOTA", 1, items, DINSOS)


def dump(runtime: Runtime) -> dict[str, list[tuple[str, ...]]]:
    """Every row of every read-model table."""
    with runtime.engine.connect() as conn:
        return {
            table.name: sorted(tuple(str(v) for v in r) for r in conn.execute(select(table)))
            for table in t.VIEW_TABLES
        }


def _env(url: str, env_keys: dict[str, str], batch: int) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("SALUR_")}
    return {
        **base,
        **env_keys,
        "SALUR_DATABASE_URL": url,
        "SALUR_PROJECTION_BATCH": str(batch),
        "SALUR_LOG_FORMAT": "json",
    }


def _kill_while_working(runtime: Runtime, env: dict[str, str], stop_before: int) -> int:
    """Start `salur projections run`, SIGKILL it once it has moved on and before `stop_before`."""
    started = position(runtime)
    process = subprocess.Popen(
        [sys.executable, "-m", "salur_cases", "projections", "run"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while position(runtime) <= started + 50 and time.monotonic() < deadline:
            assert process.poll() is None, "the runner exited on its own"
            time.sleep(0.02)
        reached = position(runtime)
        assert reached < stop_before, "too fast to be killed mid-run: use more events or smaller batches"
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    return reached


def _committed_rows_match_position(runtime: Runtime) -> None:
    """Nothing of a killed batch is left: the timeline ends exactly at the committed position."""
    with runtime.engine.connect() as conn:
        last = conn.execute(select(func.max(t.timeline.c.position))).scalar() or 0
        count = conn.execute(select(func.count()).select_from(t.timeline)).scalar()
    assert last == count == position(runtime)


@pytest.mark.slow
def test_a_runner_killed_mid_batch_and_restarted_applies_every_event_once(
    postgres_url: Any, env_keys: dict[str, str]
) -> None:
    url = f"{postgres_url.url}?schema={postgres_url.schema}"
    runtime = Runtime(load_settings({"SALUR_DATABASE_URL": url, **env_keys}))
    upgrade(runtime)
    build(runtime)
    head = runtime.app.recorder.max_notification_id() or 0
    assert head > 2500
    env = _env(url, env_keys, batch=7)
    first = _kill_while_working(runtime, env, head)
    _committed_rows_match_position(runtime)
    second = _kill_while_working(runtime, env, head)
    assert second > first
    _committed_rows_match_position(runtime)
    finish = subprocess.run(
        [sys.executable, "-m", "salur_cases", "history", kk(0)],  # every reading command catches up first
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert finish.returncode == 0, finish.stderr[-2000:]
    assert position(runtime) == head
    _committed_rows_match_position(runtime)
    recovered = dump(runtime)

    fresh_schema = f"{postgres_url.schema}_fresh"
    fresh_url = f"{postgres_url.url}?schema={fresh_schema}"
    fresh = Runtime(load_settings({"SALUR_DATABASE_URL": fresh_url, **env_keys}))
    try:
        upgrade(fresh)
        assert (fresh.app.recorder.max_notification_id() or 0) == 0
        with psycopg.connect(postgres_url.url, autocommit=True) as conn:
            source, target = f'"{postgres_url.schema}".salur_events', f'"{fresh_schema}".salur_events'
            conn.execute(f"INSERT INTO {target} SELECT * FROM {source}")  # noqa: S608 - test schema names
        assert catch_up(fresh) == head
        assert dump(fresh) == recovered
    finally:
        fresh.close()
        runtime.close()
        with psycopg.connect(postgres_url.url, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{fresh_schema}" CASCADE')
