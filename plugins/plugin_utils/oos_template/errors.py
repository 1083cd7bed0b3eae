"""The single error a conversion raises: every problem found, listed at once."""
from __future__ import annotations


class ConversionError(Exception):
    """A template cannot be converted. ``problems`` lists each problem as one line."""

    def __init__(self, problems):
        self.problems = list(problems)
        super().__init__("; ".join(self.problems))

    def __str__(self) -> str:
        if len(self.problems) == 1:
            return self.problems[0]
        return f"{len(self.problems)} problems:\n" + "\n".join(f"  - {p}" for p in self.problems)
