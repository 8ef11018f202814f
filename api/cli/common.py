"""What every command shares: the ``zonemap`` group, the data folder, failing with a message."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import click

DATA_DIR_ENV = "ZONEMAP_DATA_DIR"


def default_data_dir() -> Path:
    """``$ZONEMAP_DATA_DIR``, or ``./zonemap-data``."""
    return Path(os.environ.get(DATA_DIR_ENV, "zonemap-data"))


def fail(message: str, code: int) -> None:
    """Print ``error: message`` and exit with ``code``."""
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def service_app(data_dir: Path | None) -> Any:
    """The service's app as configured (environment, ``--data-dir``), for commands on its
    database; its connections are closed when the command ends."""
    from api import create_app

    app = create_app({"DATA_DIR": str(data_dir)} if data_dir else None)
    click.get_current_context().call_on_close(app.extensions["zonemap.db"].engine.dispose)
    return app


def service_database(data_dir: Path | None) -> Any:
    """The service's database as configured (environment, ``--data-dir``), migrated, for the
    commands that need nothing else (accounts, tokens): they answer in a second, without loading
    and indexing the zone layer. Its connections are closed when the command ends."""
    from flask import Flask

    from api.persistence import Database, migrate
    from api.web.config import configure

    settings = Flask("zonemap")
    configure(settings, {"DATA_DIR": str(data_dir)} if data_dir else None)
    database = Database(settings.config["DATABASE_URL"])
    migrate(database.engine)
    click.get_current_context().call_on_close(database.engine.dispose)
    return database


@click.group()
@click.version_option(package_name="zonemap")
def main() -> None:
    """zonemap: responsibility zones (三定三包), test points and citizen reports for a district."""
