"""One error hierarchy for tariffs.

Every error a user can cause (a bad file, a bad option, a missing series) is a
:class:`TariffsError`; each also subclasses the matching built-in, so callers
using plain ``except ValueError`` keep working. The CLI turns them into
``path[:line]: key.path: message`` lines and exit code 1, never a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One located problem in an input: file, optional line, key path, message.

    ``severity`` is ``"error"`` or ``"warning"``.
    """

    path: str
    key: str
    message: str
    line: int | None = None
    severity: str = "error"

    def __str__(self) -> str:
        where = self.path if self.line is None else f"{self.path}:{self.line}"
        parts = [where]
        if self.key:
            parts.append(self.key)
        if self.severity == "warning":
            parts.append("warning: " + self.message)
        else:
            parts.append(self.message)
        return ": ".join(parts)


class TariffsError(Exception):
    """Base of every error a user can cause. Carries one or more problems."""

    def __init__(self, message: str = "", problems: list[Problem] | None = None):
        self.problems = list(problems or [])
        if not message and self.problems:
            message = "\n".join(str(p) for p in self.problems)
        super().__init__(message)

    def lines(self) -> list[str]:
        """The messages to print, one per problem (or the message itself)."""
        if self.problems:
            return [str(p) for p in self.problems if p.severity == "error"] or [str(self)]
        return [str(self)]


class ContractError(TariffsError, ValueError):
    """A contract file is malformed or inconsistent."""


class CatalogError(TariffsError, ValueError):
    """The index catalog or a series file is malformed."""


class ImportFormatError(TariffsError, ValueError):
    """A publisher file cannot be read (wrong format, truncated, HTML page...)."""


class MissingIndexError(TariffsError, LookupError):
    """An index value needed for a computation is not in the store."""


class UnitError(TariffsError, ValueError):
    """A unit is unknown, or a conversion lacks the parameter it depends on."""


class InvoiceError(TariffsError, ValueError):
    """An invoice file cannot be read at all (per-line problems are findings)."""


class OptionError(TariffsError, ValueError):
    """A command-line option value is malformed (e.g. ``--shock FOD=fifty``)."""
