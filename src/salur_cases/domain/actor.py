"""Who gives a command: every event records the actor's name and the role it acts in."""

from __future__ import annotations

from dataclasses import dataclass

from salur_cases.domain.vocabulary import Role


@dataclass(frozen=True)
class Actor:
    """Who gives a command: an officer's or a system's name, and the role it acts in."""

    name: str
    role: Role

    @classmethod
    def system(cls, name: str = "salur") -> Actor:
        """The application itself (imports, the demo's story)."""
        return cls(name, Role.SYSTEM)
