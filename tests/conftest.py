"""Shared fixtures: the demo data set (generated once per test session and worker), and apps on
a fresh database per test, on SQLite and on the machine's real PostgreSQL."""

from __future__ import annotations

import hashlib
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import astuple
from pathlib import Path

import pytest
import sqlalchemy as sa

from api import create_app
from api.auth.callers import create_token
from api.layers.live import stop_jobs
from api.persistence import make_engine, migrate
from geodata.demo import DemoFiles, write_demo


@pytest.fixture(scope="session")
def demo_files(tmp_path_factory: pytest.TempPathFactory) -> DemoFiles:
    """The Chengyang demo written with the default seed and its 10,000 reports."""
    return write_demo(tmp_path_factory.mktemp("demo"))


POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Apps run on SQLite; tests marked ``both_databases`` (where the SQL differs: queries,
    locking, retention) run on PostgreSQL too, outside the quick subset."""
    if "database_url" not in metafunc.fixturenames:
        return
    if any("database_url" in str(m.args[0]) for m in metafunc.definition.iter_markers("parametrize")):
        return  # the test names its database itself
    both = metafunc.definition.get_closest_marker("both_databases") is not None
    postgresql = pytest.param("postgresql", marks=pytest.mark.slow)  # the quick subset stays on SQLite
    metafunc.parametrize("database_url", ["sqlite", postgresql] if both else ["sqlite"], indirect=True)


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated to the newest schema, copied for each app (migrating costs more than copying)."""
    path = tmp_path_factory.mktemp("migrated") / "zonemap.sqlite"
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    engine.dispose()
    return path


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path, migrated_sqlite) -> Iterator[str]:
    """A SQLite file (already migrated), or a fresh schema in the PostgreSQL database ``test``."""
    if request.param == "sqlite":
        path = tmp_path / "zonemap.sqlite"
        shutil.copyfile(migrated_sqlite, path)
        yield f"sqlite:///{path}"
        return
    yield from _fresh_schema()


@pytest.fixture(scope="session", autouse=True)
def _layers_loaded_once() -> Iterator[None]:
    """Every app of a test session loads the same few layers: each is read and validated once
    and shared (a layer is immutable; the service's own loader, remembered by file contents)."""
    from api.layers import store

    loaded: dict[tuple, object] = {}
    load = store.load_zone_layer

    def remembered(files, *, max_vertices):
        key = (max_vertices, *(hashlib.sha1(Path(f).read_bytes()).hexdigest() if f else None for f in astuple(files)))
        if key not in loaded:
            loaded[key] = load(files, max_vertices=max_vertices)
        return loaded[key]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(store, "load_zone_layer", remembered)
        yield


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh schema in the PostgreSQL database ``test``."""
    yield from _fresh_schema()


def _fresh_schema() -> Iterator[str]:
    schema = f"t_{uuid.uuid4().hex[:12]}"
    engine = sa.create_engine(POSTGRES)
    with engine.begin() as connection:
        connection.exec_driver_sql(f"CREATE SCHEMA {schema}")
    yield f"{POSTGRES}?options=-csearch_path%3D{schema}"
    with engine.begin() as connection:
        connection.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
    engine.dispose()


@pytest.fixture
def app(database_url, demo_files, tmp_path):
    app = create_app({"DATA_DIR": str(tmp_path), "DATABASE_URL": database_url, "LAYER_DIR": str(demo_files.root), "TESTING": True,
                      "PUBLIC_SUBMIT_LIMIT": "1000 per minute", "COMPARISON_WAIT_SECONDS": 120})  # a test reads a draft's comparison at once
    yield app
    stop_jobs(app)
    app.extensions["zonemap.db"].engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def tokens(app) -> dict[str, str]:
    """Authorization headers per role: dispatcher, planner, leader, inspector, public, and two units."""
    with app.extensions["zonemap.db"].session() as session:
        made = {
            "dispatcher": create_token(session, "dispatcher"),
            "planner": create_token(session, "planner"),
            "public": create_token(session, "public"),
            "unit_a": create_token(session, "unit", "P06"),
            "unit_b": create_token(session, "unit", "HW01"),
            "leader": create_token(session, "leader"),
            "inspector": create_token(session, "inspector"),
        }
    return {role: {"Authorization": f"Bearer {value}"} for role, value in made.items()}


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--full-load", action="store_true", help="run the load test at full size (5,000 reports) instead of CI size")


@pytest.fixture
def load_size(request: pytest.FixtureRequest) -> int:
    """How many reports the load test submits."""
    return 5000 if request.config.getoption("--full-load") else 800
