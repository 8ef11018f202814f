"""`make_engine` on PostgreSQL: a pooled connection the server dropped while it rested is
replaced before a request gets it; one in steady use is handed out without a test."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import OperationalError

from api import persistence
from api.persistence import make_engine
from tests.conftest import POSTGRES

pytestmark = pytest.mark.slow


def _backend(engine: sa.Engine) -> int:
    with engine.connect() as connection:
        return int(connection.exec_driver_sql("SELECT pg_backend_pid()").scalar_one())


def _drop(pid: int) -> None:
    admin = sa.create_engine(POSTGRES)
    with admin.connect() as connection:
        assert connection.exec_driver_sql(f"SELECT pg_terminate_backend({pid})").scalar_one()
    admin.dispose()


def test_a_connection_dropped_while_resting_is_replaced(postgres_url, monkeypatch):
    monkeypatch.setattr(persistence, "PING_AFTER_IDLE_S", 0.0)  # every checkout follows a rest
    engine = make_engine(postgres_url)
    first = _backend(engine)
    _drop(first)
    assert _backend(engine) != first  # the dead connection was tested and replaced: no error
    engine.dispose()


def test_a_connection_in_steady_use_is_not_tested(postgres_url, monkeypatch):
    monkeypatch.setattr(persistence, "PING_AFTER_IDLE_S", 3600.0)
    engine = make_engine(postgres_url)
    first = _backend(engine)
    _drop(first)
    with pytest.raises(OperationalError):  # handed out as it was: no round trip spent on a test
        _backend(engine)
    assert _backend(engine) != first  # the failure discarded it
    engine.dispose()
