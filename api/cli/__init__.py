"""The ``zonemap`` command line: commands on files (`api.cli.data`) and on the service
(`api.cli.service`)."""

from api.cli import data, service  # noqa: F401  (registers the commands)
from api.cli.common import main

__all__ = ["main"]
