"""The Disdukcapil extract as loaded so far: the reference padan matches against."""

from __future__ import annotations

from collections.abc import Collection, Mapping

from sqlalchemy import Engine, String, any_, bindparam, exists, select
from sqlalchemy.dialects.postgresql import ARRAY

from salur_cases.domain.padan import PopulationRecord
from salur_cases.identifiers import keyed_hex
from salur_cases.intake.tables import population_extract as px

LOOKUP_CHUNK = 5000


class PopulationTable:
    """Looks members up in the `population_extract` table by the keyed hash of their NIK."""

    def __init__(self, engine: Engine, id_key: bytes) -> None:
        self.engine = engine
        self.id_key = id_key

    def after_fork(self) -> None:
        """In a forked worker: drop the parent's pooled connections without closing them."""
        self.engine.dispose(close=False)

    def nik_hash(self, nik: str) -> str:
        """The lookup key of a NIK."""
        return keyed_hex(self.id_key, "nik", nik)

    def loaded(self) -> bool:
        """Whether any extract rows exist (a database without the table has none)."""
        try:
            with self.engine.connect() as conn:
                return bool(conn.execute(select(exists().select_from(px))).scalar())
        except Exception:
            return False

    def records(self, niks: Collection[str]) -> Mapping[str, PopulationRecord]:
        """The extract's records for these NIKs."""
        wanted = {self.nik_hash(n): n for n in niks}
        found: dict[str, PopulationRecord] = {}
        keys = list(wanted)
        with self.engine.connect() as conn:
            postgres = conn.dialect.name == "postgresql"
            by_array = select(px).where(px.c.nik_hash == any_(bindparam("keys", type_=ARRAY(String))))
            for start in range(0, len(keys), LOOKUP_CHUNK):
                chunk = keys[start : start + LOOKUP_CHUNK]
                if postgres:  # one array parameter: far cheaper to send than thousands of IN parameters
                    rows = conn.execute(by_array, {"keys": chunk})
                else:
                    rows = conn.execute(select(px).where(px.c.nik_hash.in_(chunk)))
                for row in rows:
                    nik = wanted[row.nik_hash]
                    found[nik] = PopulationRecord(
                        nik, row.no_kk, row.name, row.birth_date, row.status, row.ektp, row.in_city
                    )
        return found
