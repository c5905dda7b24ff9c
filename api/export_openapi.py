"""Write the served OpenAPI document to api/openapi.json: ``python -m salur_cases.api.export_openapi [OUT]``.

The committed file is what API clients read without running the server; a test fails when the
served schema drifts from it, and this regenerates it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from salur_cases.api.app import create_app
from salur_cases.keys import KEY_VARIABLES, generate_key_set
from salur_cases.runtime import Runtime
from salur_cases.settings import load_settings

DEFAULT_OUT = Path(__file__).with_name("openapi.json")


def openapi_document() -> dict[str, Any]:
    """The OpenAPI document the app serves (built without touching a database)."""
    keys = {KEY_VARIABLES[name]: value for name, value in generate_key_set().items()}
    settings = load_settings({"SALUR_DATABASE_URL": "sqlite:///:memory:", **keys})
    runtime = Runtime(settings)
    try:
        return create_app(runtime).openapi_schema.to_schema()
    finally:
        runtime.close()


def render(document: dict[str, Any]) -> str:
    """Stable text: sorted keys, two-space indent, a final newline."""
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Write the document (default ``api/openapi.json``)."""
    args = sys.argv[1:] if argv is None else argv
    out = Path(args[0]) if args else DEFAULT_OUT
    out.write_text(render(openapi_document()), encoding="utf-8")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
