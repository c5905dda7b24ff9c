"""Field types of the API's shapes: their bounds and the examples the OpenAPI document shows.

Shared by the request Structs (`salur_cases.api.schemas`) and the read side's answers
(`salur_cases.projections.schemas`); the examples are invented people, the same household throughout.
"""

from __future__ import annotations

from typing import Annotated, Any

from msgspec import Meta

EXAMPLE_NO_KK = "3271031503200001"
EXAMPLE_NIK = "3271031507750001"
EXAMPLE_NAME = "Budi Santoso"


def example(value: Any, description: str | None = None, **constraints: Any) -> Meta:
    """A field's example (and description) for the OpenAPI document, with its bounds."""
    schema: dict[str, Any] = {"examples": [value]}
    if description:
        schema["description"] = description
    return Meta(extra_json_schema=schema, **constraints)


NoKK = Annotated[str, example(EXAMPLE_NO_KK, "No. KK: 16 digits", min_length=1, max_length=32)]
Nik = Annotated[str, example(EXAMPLE_NIK, "NIK: 16 digits", min_length=1, max_length=32)]
Code = Annotated[str, example("WALIKOTA", "a program code", min_length=1, max_length=40)]
TahapNumber = Annotated[int, example(1, "a tahap number", ge=1, le=1000)]
Rupiah = Annotated[int, example(500_000, "whole Rupiah", ge=0, le=10**15)]
