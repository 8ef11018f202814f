"""The domain's exception hierarchy.

Every error carries a ``user_msg`` that is safe to show to a user; the API maps each class
to one HTTP status in a single table.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from zones.schema import ValidationReport


class ZonemapError(Exception):
    """Base class of every error the domain raises on purpose."""

    def __init__(self, msg: str) -> None:
        super().__init__(msg)
        self.user_msg = msg


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
