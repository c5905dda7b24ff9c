"""Console accounts: ``salur user add|disable|list``, password checks, and the lock after ten failures.

Passwords are hashed with argon2id (argon2-cffi's defaults); a hash made with older parameters is
replaced at the next sign-in. Ten failed sign-ins for an account within 15 minutes lock it for 15
minutes from the tenth: while locked even the right password is refused. Every attempt is kept in
``console_sign_in`` and logged (the account name and the outcome, never the password).
"""

from __future__ import annotations

import argparse
import contextlib
import getpass
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import insert, select, update

from salur_cases import wilayah
from salur_cases.api.auth import API_ROLES, Principal
from salur_cases.domain.errors import InvalidCommand
from salur_cases.domain.vocabulary import Role
from salur_cases.logging import get_logger
from salur_cases.runtime import Runtime
from salur_cases.settings import get_settings
from salur_cases.tables.console import console_sign_in, console_user

__all__ = [
    "LOCK_AFTER",
    "LOCK_FOR",
    "Account",
    "SignIn",
    "add_user",
    "disable_user",
    "list_users",
    "principal_of",
    "sign_in",
    "user_command",
]

LOCK_AFTER = 10
"""Failed sign-ins within ``LOCK_FOR`` that lock an account."""
LOCK_FOR = timedelta(minutes=15)
MIN_PASSWORD = 12
NAME_MAX = 100

log = get_logger(__name__)
_hasher = PasswordHasher()
_NOT_A_HASH = _hasher.hash("no account has this password")
"""Checked against for an unknown name, so an unknown account costs as much time as a wrong password."""


@dataclass(frozen=True)
class Account:
    """A console account as listed: never its hash."""

    name: str
    role: Role
    kelurahan: str | None
    disabled: bool
    created_at: datetime

    @property
    def principal(self) -> Principal:
        """Who the account acts as: the same principal a bearer token of this role would carry."""
        return Principal(self.name, self.role, self.kelurahan)


class SignIn(StrEnum):
    """The outcome of a sign-in attempt."""

    OK = "ok"
    WRONG = "wrong"
    LOCKED = "locked"
    DISABLED = "disabled"


def _now() -> datetime:
    return datetime.now(UTC)


def _account(row: object) -> Account:
    return Account(
        row.name,  # type: ignore[attr-defined]
        Role(row.role),  # type: ignore[attr-defined]
        row.kelurahan,  # type: ignore[attr-defined]
        bool(row.disabled),  # type: ignore[attr-defined]
        row.created_at,  # type: ignore[attr-defined]
    )


def _check_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > NAME_MAX or any(c.isspace() for c in name):
        raise InvalidCommand("name", f"must be 1 to {NAME_MAX} characters without spaces")
    return name


def add_user(runtime: Runtime, name: str, role: Role, password: str, kelurahan: str | None = None) -> Account:
    """Create an account; a kelurahan officer names a kelurahan of Kota Bogor (by name or code)."""
    name = _check_name(name)
    if role not in API_ROLES:
        raise InvalidCommand("role", f"must be one of {', '.join(sorted(API_ROLES))}")
    code: str | None = None
    if role is Role.KELURAHAN:
        found = wilayah.kelurahan(kelurahan or "")
        if found is None:
            raise InvalidCommand(
                "kelurahan", "is required for the kelurahan role, as a kelurahan of Kota Bogor"
            )
        code = found.code
    elif kelurahan:
        raise InvalidCommand("kelurahan", "is only for the kelurahan role")
    if len(password) < MIN_PASSWORD:
        raise InvalidCommand("password", f"must be at least {MIN_PASSWORD} characters")
    created = _now()
    with runtime.engine.begin() as conn:
        if conn.execute(select(console_user.c.name).where(console_user.c.name == name)).first():
            raise InvalidCommand("name", "an account with this name exists")
        conn.execute(
            insert(console_user).values(
                name=name,
                role=str(role),
                kelurahan=code,
                password_hash=_hasher.hash(password),
                disabled=False,
                created_at=created,
            )
        )
    return Account(name, role, code, False, created)


def disable_user(runtime: Runtime, name: str) -> None:
    """Disable an account: it can no longer sign in, and its open sessions end at their next request."""
    with runtime.engine.begin() as conn:
        done = conn.execute(update(console_user).where(console_user.c.name == name).values(disabled=True))
    if not done.rowcount:
        raise InvalidCommand("name", "no account has this name")


def list_users(runtime: Runtime) -> list[Account]:
    """Every account, by name."""
    with runtime.engine.connect() as conn:
        return [_account(r) for r in conn.execute(select(console_user).order_by(console_user.c.name))]


def principal_of(runtime: Runtime, name: str) -> Principal | None:
    """The principal of an enabled account (None when it is unknown or disabled)."""
    with runtime.reader.connect() as conn:
        row = conn.execute(select(console_user).where(console_user.c.name == name)).first()
    return None if row is None or row.disabled else _account(row).principal


def _locked(failures: list[datetime], now: datetime) -> bool:
    """Whether ten failures within 15 minutes, the last of them less than 15 minutes ago, lock the account."""
    for i in range(len(failures) - LOCK_AFTER + 1):
        tenth = failures[i + LOCK_AFTER - 1]
        if tenth - failures[i] <= LOCK_FOR and now < tenth + LOCK_FOR:
            return True
    return False


def sign_in(runtime: Runtime, name: str, password: str) -> tuple[SignIn, Principal | None]:
    """Check a sign-in, record the attempt and log it; the principal when it succeeds."""
    now = _now()
    with runtime.engine.begin() as conn:
        row = conn.execute(select(console_user).where(console_user.c.name == name)).first()
        failures = [
            r.at
            for r in conn.execute(
                select(console_sign_in.c.at)
                .where(
                    console_sign_in.c.name == name,
                    console_sign_in.c.ok.is_(False),
                    console_sign_in.c.at > now - 2 * LOCK_FOR,
                )
                .order_by(console_sign_in.c.at)
            )
        ]
        outcome = _check(row, password, failures, now)
        if row is not None and outcome is SignIn.OK and _hasher.check_needs_rehash(row.password_hash):
            conn.execute(
                update(console_user)
                .where(console_user.c.name == name)
                .values(password_hash=_hasher.hash(password))
            )
        if row is not None and outcome is not SignIn.LOCKED:
            conn.execute(insert(console_sign_in).values(name=name, at=now, ok=outcome is SignIn.OK))
    log.info("console sign-in", account=name if row is not None else None, outcome=str(outcome))
    return outcome, (_account(row).principal if outcome is SignIn.OK else None)


def _check(row: object | None, password: str, failures: list[datetime], now: datetime) -> SignIn:
    if row is None:
        with contextlib.suppress(VerificationError):
            _hasher.verify(_NOT_A_HASH, password)
        return SignIn.WRONG
    if _locked(failures, now):
        return SignIn.LOCKED
    try:
        _hasher.verify(row.password_hash, password)  # type: ignore[attr-defined]
    except (VerificationError, InvalidHashError):
        return SignIn.WRONG
    return SignIn.DISABLED if row.disabled else SignIn.OK  # type: ignore[attr-defined]


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("password: ")
    if getpass.getpass("again: ") != first:
        raise InvalidCommand("password", "the two entries differ")
    return first


def user_command(args: argparse.Namespace) -> int:
    """``salur user add NAME --role ROLE [--kelurahan K] [--password-stdin]``, ``disable NAME``, ``list``."""
    from salur_cases.projections.migrate import SchemaOutOfDate, ensure_current  # noqa: PLC0415 - lazily

    runtime = Runtime(get_settings())
    try:
        try:
            ensure_current(runtime)
        except SchemaOutOfDate as error:
            raise InvalidCommand("database", str(error)) from None
        if args.user_command == "add":
            password = _read_password(args.password_stdin)
            account = add_user(runtime, args.name, Role(args.role), password, args.kelurahan)
            print(
                f"added {account.name} ({account.role}{' ' + account.kelurahan if account.kelurahan else ''})"
            )
        elif args.user_command == "disable":
            disable_user(runtime, args.name)
            print(f"disabled {args.name}")
        else:
            for a in list_users(runtime):
                state = "disabled" if a.disabled else "active"
                print(f"{a.name}\t{a.role}\t{a.kelurahan or '-'}\t{state}\t{a.created_at:%Y-%m-%d}")
    finally:
        runtime.close()
    return 0
