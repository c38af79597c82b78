"""Structured errors that name the thing, the field and the reason.

Every domain raises these for bad input so that handlers and the CLI can turn them into
one readable line (or a 4xx response) instead of a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input: where it is and why it is wrong."""

    field: str
    reason: str

    def __str__(self) -> str:
        return f"{self.field}: {self.reason}" if self.field else self.reason


@dataclass
class InputError(ValueError):
    """Bad input: one or more problems, each naming its field and reason."""

    problems: list[Problem] = field(default_factory=list)
    source: str = ""

    @classmethod
    def single(cls, field_path: str, reason: str, source: str = "") -> InputError:
        return cls([Problem(field_path, reason)], source)

    def lines(self) -> list[str]:
        prefix = f"{self.source}: " if self.source else ""
        return [f"{prefix}{p}" for p in self.problems]

    def __str__(self) -> str:
        return "; ".join(self.lines())
