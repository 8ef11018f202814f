"""Who calls: the roles, and the caller of a request as the use-cases see it. No Flask."""

from __future__ import annotations

from dataclasses import dataclass

from zones.enums import StrEnumChecked


class Role(StrEnumChecked):
    """Who is calling."""

    DISPATCHER = "dispatcher"  # everything
    PLANNER = "planner"  # read all, manage zone layers
    UNIT = "unit"  # only its own zones, test points and reports
    LEADER = "leader"  # reads the figures, rankings and bulletins (read only)
    INSPECTOR = "inspector"  # inspects the test points of the rounds given to them (督查员)
    PUBLIC = "public"  # submit reports, read the public board
    ADMIN = "admin"  # manages staff accounts (an account role, with no rights over reports)


@dataclass(frozen=True)
class Caller:
    """The authenticated caller of a request."""

    role: Role
    unit_id: str | None = None
    token_id: int | None = None
    username: str | None = None  # a signed-in staff member (None for a token)

    @property
    def actor(self) -> str:
        """How the history names this caller: ``unit:P06`` (a unit's token), ``unit:P06@li``
        (a unit's member), ``dispatcher#7`` (a token), ``dispatcher@wang`` (a person)."""
        if self.username:
            return f"{self.role.value}{':' + self.unit_id if self.unit_id else ''}@{self.username}"
        return f"{self.role.value}:{self.unit_id}" if self.unit_id else f"{self.role.value}#{self.token_id}"
