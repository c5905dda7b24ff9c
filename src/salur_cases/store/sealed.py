"""Personal columns of the read models, encrypted at rest with the read models' key.

An engine gets its sealer with :func:`attach_sealer` (the runtime does it); the column types below
seal on the way in and open on the way out, so queries read plain values. Without an encryption
secret values are stored marked plain (`salur_cases.store.keys.seal`).

- `SealedText`: the whole value sealed (a No. KK beside a keyed-HMAC household id; never compared
  in SQL: a sealed value differs at every write).
- `PartlySealedJSON`: a JSON document whose personal fields (`PERSONAL_FIELDS`: NIK, No. KK, names,
  members, addresses and free text) are sealed together into one `_sealed` field, while the rest
  (program, tahap, codes, decisions, amounts) stays plain, so SQL can still read those.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any, cast

import msgspec
from sqlalchemy import JSON, Dialect, LargeBinary, Table, TypeDecorator

from salur_cases.store.keys import Sealer, seal, unseal

PERSONAL_FIELDS = frozenset(
    {
        "no_kk",
        "nik",
        "name",
        "members",
        "member",
        "address",
        "to_no_kk",
        "from_no_kk",
        "old_value",
        "new_value",
        "evidence",
        "text",
        "note",
        "reason",
        "officer",
        "birth_date",
    }
)
"""Event fields that name, identify or describe a person (or may, being free text)."""
SEALED_FIELD = "_sealed"

_ENCODE = msgspec.json.Encoder()
_DECODE = msgspec.json.Decoder()


def attach_sealer(dialect: Dialect, sealer: Sealer | None) -> None:
    """Give an engine's dialect (one per engine) the sealer its sealed columns use."""
    dialect.salur_sealer = sealer  # type: ignore[attr-defined]


def sealer_of(dialect: Dialect) -> Sealer | None:
    """The sealer attached to this dialect, if any."""
    return getattr(dialect, "salur_sealer", None)


class SealedText(TypeDecorator[str]):
    """A text value stored sealed (`bytea` / BLOB)."""

    impl = LargeBinary
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> bytes | None:
        """Seal."""
        return None if value is None else seal(sealer_of(dialect), value.encode())

    def process_result_value(self, value: Any, dialect: Dialect) -> str | None:
        """Open."""
        return None if value is None else unseal(sealer_of(dialect), value).decode()


class PartlySealedJSON(TypeDecorator[dict[str, Any]]):
    """A JSON object with its personal fields sealed into `_sealed` (base64)."""

    impl = JSON
    cache_ok = True

    def process_bind_param(self, value: dict[str, Any] | None, dialect: Dialect) -> dict[str, Any] | None:
        """Move the personal fields into `_sealed`."""
        return None if value is None else split(sealer_of(dialect), value)

    def process_result_value(self, value: Any, dialect: Dialect) -> dict[str, Any] | None:
        """Put the personal fields back."""
        return None if value is None else joined(sealer_of(dialect), value)


SEALED_TYPES = (SealedText, PartlySealedJSON)


def sealing(kind: SealedText | PartlySealedJSON, dialect: Dialect) -> Callable[[Any], Any]:
    """A column's sealing as a function of one value, for bulk writes that bypass SQLAlchemy (the
    projection's COPY and executemany): bytes for `SealedText`, JSON text for `PartlySealedJSON`."""
    sealer = sealer_of(dialect)
    if isinstance(kind, SealedText):
        return lambda value: None if value is None else seal(sealer, value.encode())
    return lambda value: None if value is None else _ENCODE.encode(split(sealer, value)).decode()


def sealing_json(dialect: Dialect) -> Callable[[Any], bytes | None]:
    """`PartlySealedJSON`'s sealing giving the JSON's UTF-8 bytes (what PostgreSQL's binary COPY sends)."""
    sealer = sealer_of(dialect)
    return lambda value: None if value is None else _ENCODE.encode(split(sealer, value))


def opened(dialect: Dialect, table: Table, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows read past SQLAlchemy (plain driver rows, as dicts) with their sealed columns opened."""
    sealed = [c for c in table.c if isinstance(c.type, SEALED_TYPES)]
    if not rows or not sealed:
        return rows
    processors = {
        c.name: cast("SealedText | PartlySealedJSON", c.type).process_result_value
        for c in sealed
        if c.name in rows[0]
    }
    for row in rows:
        for name, process in processors.items():
            row[name] = process(row[name], dialect)
    return rows


def split(sealer: Sealer | None, document: dict[str, Any]) -> dict[str, Any]:
    """`document` with its personal fields sealed into `_sealed` (as it is without a sealer)."""
    if sealer is None:
        return document
    personal = {k: v for k, v in document.items() if k in PERSONAL_FIELDS}
    if not personal:
        return document
    public = {k: v for k, v in document.items() if k not in PERSONAL_FIELDS}
    public[SEALED_FIELD] = base64.b64encode(seal(sealer, _ENCODE.encode(personal))).decode("ascii")
    return public


def joined(sealer: Sealer | None, document: dict[str, Any]) -> dict[str, Any]:
    """The whole document back from what :func:`split` stored."""
    sealed = document.get(SEALED_FIELD)
    if sealed is None:
        return document
    public = {k: v for k, v in document.items() if k != SEALED_FIELD}
    public.update(_DECODE.decode(unseal(sealer, base64.b64decode(sealed))))
    return public
