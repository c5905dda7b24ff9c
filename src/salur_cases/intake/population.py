"""The Disdukcapil extract as loaded so far: the reference padan matches against.

A row keeps the keyed HMAC of the NIK (the lookup key), the facts padan compares that identify nobody
(status, e-KTP, kelurahan), and the person's record (NIK, No. KK, name, birth date) in a
`PartlySealedJSON` column: encrypted at rest when an encryption secret is set.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import date
from typing import Any

from sqlalchemy import Engine, exists, select

from salur_cases.domain.padan import PopulationRecord
from salur_cases.identifiers import keyed_hex
from salur_cases.store.pglist import SPLIT, joined
from salur_cases.store.sealed import joined as opened
from salur_cases.store.sealed import sealer_of
from salur_cases.tables import population_extract as px

LOOKUP_CHUNK = 5000
_BY_HASHES = (
    f"SELECT p.* FROM unnest({SPLIT}) AS wanted(nik_hash), LATERAL "  # noqa: S608
    "(SELECT nik_hash, record, status, ektp, in_city FROM population_extract AS x "
    "WHERE x.nik_hash = wanted.nik_hash OFFSET 0) AS p"
)
"""One index probe per NIK (OFFSET 0 keeps the planner from turning it into a join): with `= ANY`,
PostgreSQL scans the whole extract for a few thousand NIKs once it has hundreds of thousands of rows."""


def extract_rows(id_key: bytes, records: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Rows of `population_extract` for parsed extract records (`nik`, `no_kk`, `name`, `birth_date`,
    `status`, `ektp`, `kelurahan`, `in_city`)."""
    return [
        {
            "nik_hash": keyed_hex(id_key, "nik", r["nik"]),
            "record": {
                "nik": r["nik"],
                "no_kk": r["no_kk"],
                "name": r["name"],
                "birth_date": r["birth_date"].isoformat() if r["birth_date"] else None,
            },
            "status": r["status"],
            "ektp": r["ektp"],
            "kelurahan": r["kelurahan"],
            "in_city": r["in_city"],
        }
        for r in records
    ]


class PopulationTable:
    """Looks members up in the `population_extract` table by the keyed hash of their NIK."""

    def __init__(self, engine: Engine, id_key: bytes) -> None:
        self.engine = engine
        self.id_key = id_key
        self._loaded = False

    def after_fork(self) -> None:
        """In a forked worker: drop the parent's pooled connections without closing them."""
        self.engine.dispose(close=False)

    def nik_hash(self, nik: str) -> str:
        """The lookup key of a NIK."""
        return keyed_hex(self.id_key, "nik", nik)

    def loaded(self) -> bool:
        """Whether any extract rows exist (a database without the table has none); once there, the
        extract stays (imports only add to it), so that is asked no more."""
        if not self._loaded:
            try:
                with self.engine.connect() as conn:
                    self._loaded = bool(conn.execute(select(exists().select_from(px))).scalar())
            except Exception:
                return False
        return self._loaded

    def records(self, niks: Collection[str]) -> Mapping[str, PopulationRecord]:
        """The extract's records for these NIKs."""
        found = self.records_by_hash([self.nik_hash(n) for n in niks])
        return {record.nik: record for record in found.values()}

    def records_by_hash(self, nik_hashes: Sequence[str]) -> dict[str, PopulationRecord]:
        """The extract's records whose NIK has one of these keyed hashes, by hash."""
        found: dict[str, PopulationRecord] = {}
        keys = list(dict.fromkeys(nik_hashes))
        with self.engine.connect() as conn:
            postgres = conn.dialect.name == "postgresql"
            sealer = sealer_of(conn.dialect)
            for start in range(0, len(keys), LOOKUP_CHUNK):
                chunk = keys[start : start + LOOKUP_CHUNK]
                rows: Sequence[Sequence[Any]]
                if postgres:  # one text parameter: far cheaper to send than thousands of values
                    driver: Any = conn.connection.driver_connection
                    with driver.cursor(binary=True) as cursor:
                        rows = cursor.execute(_BY_HASHES, [joined(chunk)], prepare=True).fetchall()
                    rows = [(h, opened(sealer, record), *rest) for h, record, *rest in rows]
                else:
                    columns = (px.c.nik_hash, px.c.record, px.c.status, px.c.ektp, px.c.in_city)
                    rows = conn.execute(select(*columns).where(px.c.nik_hash.in_(chunk))).all()
                for nik_hash, record, status, ektp, in_city in rows:
                    birth = record["birth_date"]
                    found[nik_hash] = PopulationRecord(
                        record["nik"],
                        record["no_kk"],
                        record["name"],
                        date.fromisoformat(birth) if birth else None,
                        status,
                        ektp,
                        in_city,
                    )
        return found
