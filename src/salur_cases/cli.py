"""The `salur` command line (also `python -m salur_cases`).

Each command's work lives with its area (projections, api, intake, audit); this module only parses
the command line and hands over. Exit codes: 0 success, 1 a domain refusal or a failed check or an
import with rejected rows, 2 bad usage, an unreadable file, or a database or keys that are not there.

Commands that only read (explain, history, report, audit, token, letter, projections status) first
check, creating nothing, that the database exists, holds an event store and matches the configured
keys: run in the wrong directory they exit 2 naming SALUR_DATABASE_URL instead of making an empty
database and new keys.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence
from typing import cast

from salur_cases.domain.errors import InvalidCommand, Refusal
from salur_cases.logging import configure_logging
from salur_cases.settings import ConfigError, load_settings, log_format_from_env

Handler = Callable[[argparse.Namespace], int]

EXIT_OK, EXIT_REFUSED, EXIT_USAGE = 0, 1, 2
READ_ONLY = frozenset({"explain", "history", "report", "audit", "token", "letter"})
"""Commands that never create a database or keys."""


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

    token = commands.add_parser("token", help="print a signed bearer token for the API, or revoke one")
    token.add_argument("--role", choices=["admin", "dinsos", "kelurahan", "dukcapil", "inspector"])
    token.add_argument("--kelurahan", metavar="NAME_OR_CODE", help="required for the kelurahan role")
    token.add_argument("--ttl", default="8h", help="lifetime, e.g. 30m, 8h, 7d (default 8h)")
    token.add_argument("--subject", default="officer", help="who the token is for (recorded as the actor)")
    token.set_defaults(run=_handler("salur_cases.api.auth:token_command"))
    token_commands = token.add_subparsers(dest="token_command", required=False, metavar="[revoke JTI]")
    revoke = token_commands.add_parser("revoke", help="refuse that token (401) from now on, in every worker")
    revoke.add_argument("jti", metavar="JTI", help="the token id printed when it was made")
    revoke.set_defaults(run=_handler("salur_cases.api.revocation:revoke_command"))

    keys = commands.add_parser("keys", help="secrets: generate a fresh set")
    keys_commands = keys.add_subparsers(dest="keys_command", required=True, metavar="ACTION")
    generate = keys_commands.add_parser(
        "generate", help="print a fresh set of secrets (id, secret, encryption, signing) and the public key"
    )
    generate.set_defaults(run=_handler("salur_cases.keys:keys_command"))

    user = commands.add_parser("user", help="console accounts (passwords hashed with argon2)")
    user_commands = user.add_subparsers(dest="user_command", required=True, metavar="ACTION")
    add = user_commands.add_parser("add", help="add an account (password from a prompt or stdin)")
    add.add_argument("name", metavar="NAME")
    add.add_argument(
        "--role", required=True, choices=["admin", "dinsos", "kelurahan", "dukcapil", "inspector"]
    )
    add.add_argument("--kelurahan", metavar="NAME_OR_CODE", help="required for the kelurahan role")
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    disable = user_commands.add_parser("disable", help="disable an account (its sessions end too)")
    disable.add_argument("name", metavar="NAME")
    user_commands.add_parser("list", help="list the accounts")
    user.set_defaults(run=_handler("salur_cases.api.console.accounts:user_command"))
    return parser


def _reads_only(args: argparse.Namespace) -> bool:
    return args.command in READ_ONLY or (args.command, getattr(args, "action", None)) == (
        "projections",
        "status",
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; domain refusals exit 1, bad usage 2, never a traceback for bad input."""
    args = build_parser().parse_args(argv)
    try:
        configure_logging(log_format_from_env())
        if _reads_only(args):
            from salur_cases.runtime import require_database  # noqa: PLC0415 - keeps `salur --help` light

            require_database(
                load_settings(create=False),
                needs_events=(args.command, getattr(args, "audit_command", None)) == ("audit", "verify"),
            )
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
