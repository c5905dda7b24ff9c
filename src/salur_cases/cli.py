"""The `salur` command line (also `python -m salur_cases`).

Each command's work lives with its area (projections, api, intake, audit); this module only parses
the command line of CONTRACT.md and hands over. Exit codes: 0 success, 1 a domain refusal or a
failed check or an import with rejected rows, 2 bad usage or an unreadable file.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence
from typing import cast

from salur_cases.domain.errors import InvalidCommand, Refusal
from salur_cases.logging import configure_logging
from salur_cases.settings import ConfigError

Handler = Callable[[argparse.Namespace], int]

EXIT_OK, EXIT_REFUSED, EXIT_USAGE = 0, 1, 2


def _handler(target: str) -> Handler:
    """Resolve `module:function` at call time, so `salur --help` stays fast and light."""

    def run(args: argparse.Namespace) -> int:
        module, _, name = target.partition(":")
        return cast("Handler", getattr(importlib.import_module(module), name))(args)

    return run


def _tahap(value: str) -> int:
    from salur_cases.intake.values import parse_tahap  # noqa: PLC0415

    try:
        return parse_tahap(value)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def build_parser() -> argparse.ArgumentParser:  # noqa: PLR0915 - one block per command of the contract
    """The whole command line."""
    parser = argparse.ArgumentParser(prog="salur", description="Kota Bogor's social-aid ledger (SALUR).")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the HTTP API and the projection catch-up it needs")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument(
        "--workers", type=int, help="worker processes (default: one per CPU on PostgreSQL, 1 on SQLite)"
    )
    serve.set_defaults(run=_handler("salur_cases.api.server:serve_command"))

    demo = commands.add_parser("demo", help="build the Kota Bogor 2020 scenario and print the program table")
    demo.add_argument(
        "--scale", type=float, default=1.0, help="fraction of the city's 2020 size (default 1.0)"
    )
    demo.add_argument("--seed", type=int, default=2020)
    demo.add_argument("--serve", action="store_true", help="serve the API on the result")
    demo.add_argument("--port", type=int, default=8000)
    demo.add_argument("--host", default="127.0.0.1")
    demo.set_defaults(run=_handler("salur_cases.demo.build:demo_command"))

    imp = commands.add_parser("import", help="import a CSV or XLSX file, with a per-row report")
    imp.add_argument(
        "kind", choices=["registrations", "population", "verval", "roster", "cleansing", "payments"]
    )
    imp.add_argument("file")
    imp.add_argument("--dry-run", action="store_true", help="check every row, write nothing")
    imp.add_argument("--report", metavar="OUT.csv|OUT.json", help="also write the per-row report here")
    imp.set_defaults(run=_handler("salur_cases.intake.cli:import_command"))

    explain = commands.add_parser("explain", help="why a household's aid changed")
    explain.add_argument("identifier", metavar="NIK_OR_NO_KK")
    explain.add_argument("--program")
    explain.add_argument("--from-tahap", type=_tahap)
    explain.add_argument("--to-tahap", type=_tahap)
    explain.add_argument("--lang", choices=["id", "en"], default="id")
    explain.add_argument("--json", action="store_true", help="the API's JSON")
    explain.set_defaults(run=_handler("salur_cases.projections.cli:explain_command"))

    letter = commands.add_parser("letter", help="the explanation as a printable PDF letter")
    letter.add_argument("identifier", metavar="NIK_OR_NO_KK")
    letter.add_argument("--program")
    letter.add_argument("--from-tahap", type=_tahap)
    letter.add_argument("--to-tahap", type=_tahap)
    letter.add_argument("--lang", choices=["id", "en"], default="id")
    letter.add_argument("--out", required=True, metavar="FILE.pdf")
    letter.set_defaults(run=_handler("salur_cases.projections.cli:letter_command"))

    history = commands.add_parser("history", help="a household's events, or its state at a moment")
    history.add_argument("identifier", metavar="NIK_OR_NO_KK")
    history.add_argument(
        "--as-of", metavar="TIME", help="as recorded at this time (ISO 8601; WIB if no offset)"
    )
    history.add_argument("--effective-on", metavar="DATE", help="by effective date")
    history.add_argument("--lang", choices=["id", "en"], default="id")
    history.add_argument("--json", action="store_true")
    history.set_defaults(run=_handler("salur_cases.projections.cli:history_command"))

    report = commands.add_parser("report", help="programs, budget, anomalies, payments or padan-suggestions")
    report.add_argument("name", choices=["programs", "budget", "anomalies", "payments", "padan-suggestions"])
    report.add_argument("--format", choices=["table", "csv", "xlsx", "json", "png", "svg"], default="table")
    report.add_argument("--out", metavar="FILE")
    report.add_argument("--code", help="anomalies: one code, or several comma-separated")
    report.add_argument("--budget-source", help="anomalies: APBN, APBD_PROVINSI or APBD_KOTA")
    report.add_argument("--program", help="anomalies, payments: one program's code")
    report.add_argument("--tahap", type=_tahap, help="anomalies, payments: one tahap")
    report.add_argument(
        "--authority", help="anomalies: whose list (KEMENSOS, PROVINSI; DINSOS for the city's)"
    )
    report.set_defaults(run=_handler("salur_cases.reports:report_command"))

    audit = commands.add_parser("audit", help="tamper evidence: verify the chain, export evidence")
    audit_commands = audit.add_subparsers(dest="audit_command", required=True, metavar="ACTION")
    verify = audit_commands.add_parser("verify", help="check the hash chain and the certified rosters")
    verify.add_argument(
        "--head", metavar="POSITION:HASH", help="a remembered head: detects a store cut short"
    )
    verify.add_argument(
        "--public-key",
        metavar="FILE",
        help="Ed25519 public key (PEM, hex or base64) that signed the chain heads: check every signature "
        "(default: the key of SALUR_SIGNING_KEY, when set)",
    )
    verify.set_defaults(run=_handler("salur_cases.projections.audit.cli:verify_command"))
    export = audit_commands.add_parser("export", help="evidence as JSON Lines, verifiable offline")
    export.add_argument("no_kk", nargs="?", metavar="NO_KK")
    export.add_argument("--program")
    export.add_argument("--tahap", type=_tahap)
    export.add_argument("--out", metavar="FILE")
    export.set_defaults(run=_handler("salur_cases.projections.audit.cli:export_command"))

    projections = commands.add_parser("projections", help="read-model maintenance")
    projections.add_argument("action", choices=["run", "rebuild", "status"])
    projections.set_defaults(run=_handler("salur_cases.projections.cli:projections_command"))

    db = commands.add_parser("db", help="database schema")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    upgrade = db_commands.add_parser("upgrade", help="apply the migrations (alembic)")
    upgrade.set_defaults(run=_handler("salur_cases.projections.migrate:upgrade_command"))
    grant = db_commands.add_parser(
        "grant", help="PostgreSQL: give ROLE what the server needs (INSERT and SELECT on the event store)"
    )
    grant.add_argument("role", metavar="ROLE")
    grant.set_defaults(run=_handler("salur_cases.projections.grants:grant_command"))

    token = commands.add_parser("token", help="print a signed bearer token for the API")
    token.add_argument(
        "--role", required=True, choices=["admin", "dinsos", "kelurahan", "dukcapil", "inspector"]
    )
    token.add_argument("--kelurahan", metavar="NAME_OR_CODE", help="required for the kelurahan role")
    token.add_argument("--ttl", default="8h", help="lifetime, e.g. 30m, 8h, 7d (default 8h)")
    token.add_argument("--subject", default="officer", help="who the token is for (recorded as the actor)")
    token.set_defaults(run=_handler("salur_cases.api.auth:token_command"))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; domain refusals exit 1, bad usage 2, never a traceback for bad input."""
    args = build_parser().parse_args(argv)
    configure_logging()
    try:
        return cast("Handler", args.run)(args)
    except Refusal as refusal:
        print(f"refused: {refusal}", file=sys.stderr)
        return EXIT_REFUSED
    except InvalidCommand as error:
        print(f"error: {error.code}: {error}", file=sys.stderr)
        return EXIT_USAGE
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
