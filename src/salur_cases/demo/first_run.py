"""`salur demo --serve`: answer at once, build the city meanwhile, and print a ready-to-use sign-in.

The server starts before the build: the console shows the build's progress (step, events written,
percent) and the API's data routes answer 503 with `Retry-After` until the city is built and the
read models caught up; `/health/ready` then turns 200. Once the scenario is planned, three console
accounts are made with generated passwords (an officer of Dinsos, an officer of the kelurahan with
the most households, an inspector) and printed on the terminal only: never logged, never stored
but as argon2 hashes.
"""

from __future__ import annotations

import secrets
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from salur_cases.api.console.accounts import add_user
from salur_cases.api.console.progress import BuildProgress
from salur_cases.api.server import serve
from salur_cases.demo.scenario import Scenario
from salur_cases.domain.vocabulary import Role
from salur_cases.logging import get_logger
from salur_cases.runtime import Runtime

log = get_logger(__name__)


@dataclass(frozen=True)
class DemoAccount:
    """A console account made for the demo, with its generated password."""

    name: str
    role: Role
    kelurahan: str | None
    password: str


def demo_accounts(runtime: Runtime, scenario: Scenario) -> list[DemoAccount]:
    """Make the demo's three accounts; the kelurahan officer serves the kelurahan with most households."""
    busiest = Counter(f.kelurahan.code for f in scenario.everyone()).most_common(1)
    kelurahan = busiest[0][0] if busiest else None
    wanted = [
        ("petugas-dinsos", Role.DINSOS, None),
        ("petugas-kelurahan", Role.KELURAHAN, kelurahan),
        ("inspektorat", Role.INSPECTOR, None),
    ]
    made = []
    for name, role, place in wanted:
        if role is Role.KELURAHAN and place is None:
            continue
        password = secrets.token_urlsafe(12)
        add_user(runtime, name, role, password, place)
        made.append(DemoAccount(name, role, place, password))
    return made


def print_accounts(accounts: list[DemoAccount], host: str, port: int) -> None:
    """The sign-in, on the terminal only."""
    print(f"\nSign in at http://{host}:{port}/console/ with one of these accounts:")
    for a in accounts:
        where = f" ({a.kelurahan})" if a.kelurahan else ""
        print(f"  {a.name:<18} {a.role:<10} password {a.password}{where}")
    print(flush=True)


Build = Callable[[Callable[[Scenario], None], Callable[[int, str], None]], int]
"""The demo's build: ``build(on_plan, on_step)`` writes the city and answers an exit code."""


def serve_while_building(runtime: Runtime, steps: int, build: Build, host: str, port: int) -> int:
    """Serve on ``host:port`` at once while ``build`` (of ``steps`` steps) writes the city; its exit code."""
    progress = BuildProgress(steps=steps + 1)
    result = {"code": 0}

    def on_plan(scenario: Scenario) -> None:
        print_accounts(demo_accounts(runtime, scenario), host, port)

    def write() -> None:
        result["code"] = build(on_plan, progress.begin)
        progress.begin(progress.steps, "the read models are up to date")

    serve(runtime, host, port, workers=1, build=write, progress=progress)
    return result["code"]


__all__ = ["DemoAccount", "demo_accounts", "print_accounts", "serve_while_building"]
