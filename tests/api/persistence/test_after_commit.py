"""A published layer is installed after its commit, never after a rollback: `after_commit`."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from api.persistence import after_commit


def test_the_action_runs_once_after_the_commit_and_never_after_a_rollback(tmp_path):
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'x.sqlite'}")
    ran: list[str] = []
    with Session(engine) as session:
        session.execute(sa.text("CREATE TABLE t (x INTEGER)"))
        after_commit(session, lambda: ran.append("installed"))
        assert ran == []  # not before the commit
        session.commit()
        assert ran == ["installed"]
        session.execute(sa.text("INSERT INTO t VALUES (1)"))
        session.commit()
        assert ran == ["installed"]  # once
        after_commit(session, lambda: ran.append("rolled back"))
        session.rollback()
        session.execute(sa.text("INSERT INTO t VALUES (2)"))
        session.commit()
        assert ran == ["installed"]  # a rolled-back publication is never installed
    engine.dispose()
