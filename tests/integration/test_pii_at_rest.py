"""No NIK, No. KK or name of the demo's people anywhere at rest once encryption is on.

The demo (scale 0.01) is built with an encryption secret on SQLite and on PostgreSQL; then every text,
JSON and bytes column of every table, and on SQLite every file of the database (`.db`, `-wal`,
`-shm`, `.keys`), is searched for every NIK, No. KK and full name the scenario generated.
"""

from __future__ import annotations

import json
import re
import stat
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import JSON, LargeBinary, MetaData, String, Text, inspect, select
from sqlalchemy import Table as SqlTable
from sqlalchemy.types import NullType

from salur_cases.demo.build import build
from salur_cases.demo.scenario import Scenario
from salur_cases.projections.audit import verify
from salur_cases.projections.migrate import upgrade
from salur_cases.projections.runner import catch_up
from salur_cases.runtime import Runtime
from salur_cases.store.keys import signing_key
from tests.builders import runtime_for
from tests.conftest import StoreTarget

SCALE = 0.01
SECRET = "b7cd2d54f8a9e00cdae41b89190c36971e5edafecde9db8bbb0e4e83f673889e"
_DIGITS = re.compile(rb"\d{16,}")


class Needles:
    """The scenario's NIKs, No. KK and full names, and a search for them in bytes."""

    def __init__(self, scenario: Scenario) -> None:
        self.numbers: set[bytes] = set()
        self.names: set[bytes] = set()
        families = [*scenario.everyone(), *scenario.padan_failures, *scenario.self_corrections]
        for family in families:
            self.numbers.add(family.no_kk.encode())
            for person in [*family.members, *family.listed]:
                self.numbers.add(person.nik.encode())
                self.names.add(" ".join(person.name.split()).lower().encode())
        self.numbers.update(n.encode() for n in [*scenario.never_proposed_5, *scenario.never_proposed_6])
        firsts = {name.split(b" ")[0] for name in self.names}
        rests = {name.split(b" ", 1)[1] for name in self.names if b" " in name}
        self._names = re.compile(
            rb"(?<![a-z])(?:"
            + b"|".join(map(re.escape, sorted(firsts)))
            + rb")\s+(?:"
            + b"|".join(map(re.escape, sorted(rests, key=len, reverse=True)))
            + rb")(?![a-z])"
        )

    def found(self, data: bytes) -> set[bytes]:
        """The needles `data` holds in clear."""
        hits = set()
        for run in _DIGITS.findall(data):
            hits.update(run[i : i + 16] for i in range(len(run) - 15) if run[i : i + 16] in self.numbers)
        lowered = data.lower()
        hits.update(
            m for m in (b" ".join(x.split()) for x in self._names.findall(lowered)) if m in self.names
        )
        return hits


def _as_bytes(value: Any) -> bytes:
    """A column's value as it would show: bytes as stored, text as UTF-8, JSON as its text."""
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False).encode()
    return str(value).encode()


def _values_sqlite(runtime: Runtime) -> Iterator[tuple[str, bytes]]:
    engine = runtime.engine
    with engine.connect() as conn:
        names = inspect(conn).get_table_names()
        for name in names:
            table = SqlTable(name, MetaData(), autoload_with=conn)
            kept = [c for c in table.c if isinstance(c.type, String | Text | LargeBinary | JSON | NullType)]
            if not kept:
                continue
            for row in conn.execute(select(*kept)):
                for column, value in zip(kept, row, strict=True):
                    if value is not None:
                        yield f"{name}.{column.name}", _as_bytes(value)


def _values_postgres(target: StoreTarget) -> Iterator[tuple[str, bytes]]:
    with psycopg.connect(target.url, autocommit=True) as conn:
        columns = conn.execute(
            "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = %s "
            "AND data_type IN ('text', 'character varying', 'character', 'bytea', 'json', 'jsonb')",
            [target.schema],
        ).fetchall()
        for table, column in columns:
            query = f'SELECT "{column}" FROM "{target.schema}"."{table}" WHERE "{column}" IS NOT NULL'  # noqa: S608
            for (value,) in conn.execute(query):
                yield f"{table}.{column}", _as_bytes(value)


def _files(path: Path) -> Iterable[Path]:
    return sorted(p for p in path.parent.iterdir() if p.name.startswith(path.name))


def test_with_encryption_on_no_nik_no_kk_or_name_of_the_demo_is_stored_in_clear(
    store_url: StoreTarget, env_keys: dict[str, str]
) -> None:
    keys = {k: v for k, v in env_keys.items() if k != "SALUR_ALLOW_PLAINTEXT"}
    runtime = runtime_for(store_url.url, store_url.schema, keys, SALUR_ENCRYPTION_KEY=SECRET)
    try:
        upgrade(runtime)
        scenario = build(runtime, SCALE, seed=11, say=lambda _text: None)
        catch_up(runtime)
        checked = verify(runtime, public_key=signing_key(runtime.settings.signing_key or b"").public_key())
        assert checked.ok is True, checked.first_broken  # encrypted payments still cite their rosters
        assert (checked.signatures or 0) > 5  # certifications and checkpoints
        needles = Needles(scenario)
        assert len(needles.numbers) > 1000
        assert len(needles.names) > 500
        scanned: dict[str, int] = {}
        leaks: dict[str, set[bytes]] = {}
        values = _values_postgres(store_url) if store_url.kind == "postgres" else _values_sqlite(runtime)
        for where, data in values:
            scanned[where.split(".")[0]] = scanned.get(where.split(".")[0], 0) + 1
            hits = needles.found(data)
            if hits:
                leaks.setdefault(where, set()).update(hits)
        if store_url.kind == "sqlite":
            database = runtime.settings.sqlite_path
            assert database is not None
            for file in _files(database):
                assert stat.S_IMODE(file.stat().st_mode) == 0o600, file
                hits = needles.found(file.read_bytes())
                if hits:
                    leaks.setdefault(file.name, set()).update(hits)
    finally:
        runtime.close()
    assert {"household", "timeline", "population_extract", "payment_ledger", "tahap_roster"} <= set(scanned)
    assert not leaks, {where: sorted(hits)[:3] for where, hits in leaks.items()}


def test_the_scan_finds_the_people_when_encryption_is_off(
    store_url: StoreTarget, env_keys: dict[str, str]
) -> None:
    """The control: without encryption the same scan finds NIKs, No. KK and names in the tables."""
    runtime = runtime_for(store_url.url, store_url.schema, env_keys)
    try:
        upgrade(runtime)
        scenario = build(runtime, 0.002, seed=11, say=lambda _text: None)
        catch_up(runtime)
        needles = Needles(scenario)
        values = _values_postgres(store_url) if store_url.kind == "postgres" else _values_sqlite(runtime)
        found: dict[str, set[bytes]] = {}
        for where, data in values:
            found.setdefault(where.split(".")[0], set()).update(needles.found(data))
    finally:
        runtime.close()
    assert found["population_extract"] & needles.names
    assert found["timeline"] & needles.numbers
    assert found["household"] & needles.numbers


pytestmark = pytest.mark.slow
