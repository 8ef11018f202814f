"""The domain's exception hierarchy.

Every error carries a ``user_msg`` that is safe to show to a user; the API maps each class
to one HTTP status in a single table.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self

from zones.findings import finding_message, shown

if TYPE_CHECKING:
    from zones.schema import ValidationReport


class ZonemapError(Exception):
    """Base class of every error the domain raises on purpose: its English text, and, for a
    finding about a file or a layer, its code and values (`zones.findings`)."""

    def __init__(self, msg: str, *, code: str = "as_written", params: Mapping[str, str] | None = None) -> None:
        super().__init__(msg)
        self.user_msg = msg
        self.code = code
        self.params = dict(params) if params is not None else {"text": msg}

    @classmethod
    def of(cls, code: str, **params: Any) -> Self:
        """The error of a finding: its code and the values found (shown as text)."""
        values = shown(params)
        return cls(finding_message(code, values), code=code, params=values)


class SchemaError(ZonemapError, ValueError):
    """A layer or a request does not meet its column contract.

    ``report`` holds every problem found, each naming its row and field.
    """

    def __init__(self, msg: str, report: ValidationReport | None = None) -> None:
        super().__init__(msg)
        self.report = report


class LayerReadError(ZonemapError, OSError):
    """A layer file cannot be read: missing, unknown format, bad encoding, corrupt."""


class CRSError(ZonemapError, ValueError):
    """An unknown coordinate system, or two layers combined in different ones."""


class UnknownCategoryError(ZonemapError, KeyError):
    """A report names a category the categories table does not hold."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return self.user_msg


class IllegalTransitionError(ZonemapError, ValueError):
    """A workflow transition that the current state does not allow."""


class InvalidInputError(ZonemapError, ValueError):
    """A value a use-case refuses, naming its field and what is wrong with each value found."""

    def __init__(self, msg: str, *, field: str, problems: list[str] | None = None) -> None:
        super().__init__(msg)
        self.field = field
        self.problems = problems or ["is invalid"]


class NotAllowedError(ZonemapError, PermissionError):
    """The caller's role may not do this."""


class ConflictError(ZonemapError):
    """The request conflicts with what is stored (a key reused with another body), naming the field."""

    def __init__(self, msg: str, *, field: str, problem: str) -> None:
        super().__init__(msg)
        self.field = field
        self.problem = problem


class BusyError(ZonemapError):
    """The work asked for cannot start now (every decoder busy, an analysis still running): try again later."""

    def __init__(self, msg: str, *, retry_after_s: int) -> None:
        super().__init__(msg)
        self.retry_after_s = retry_after_s
