"""Shared fixtures: the demo data set, generated once per test session (per worker)."""

from __future__ import annotations

import pytest

from geodata.demo import DemoFiles, write_demo


@pytest.fixture(scope="session")
def demo_files(tmp_path_factory: pytest.TempPathFactory) -> DemoFiles:
    """The Chengyang demo written with the default seed and its 10,000 reports."""
    return write_demo(tmp_path_factory.mktemp("demo"))
