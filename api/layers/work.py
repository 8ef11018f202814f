"""What the layer's use-cases need from the worker they run in, handed to them as one value: no
use-case reaches for Flask's app to find its settings, its analysis thread or its live layer."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from api.layers.analysis import Analyses
from zones.config import RoutingConfig
from zones.coverage import Coverage
from zones.layer import ZoneLayer

if TYPE_CHECKING:
    from api.layers.job_runner import Comparisons


@dataclass(frozen=True)
class LayerWork:
    """A worker's settings and services for the layer's use-cases."""

    max_vertices: int  # the most vertices one geometry may have
    routing: RoutingConfig
    analyses: Analyses  # the analysis thread
    wait_s: float  # how long a request waits for an analysis before it is told to retry
    compare_wait_s: float  # how long a request waits for a draft's comparison before it is told to retry
    kept_drafts: dict[str, ZoneLayer]  # the draft layers this worker has loaded, by version
    comparisons: Comparisons  # drafts compared with the current version, in child processes
    install: Callable[[ZoneLayer], None]  # makes a layer the one this worker routes with

    def coverage(self, layer: ZoneLayer) -> Coverage:
        """The coverage analysis of ``layer``, from the analysis thread."""
        return self.analyses.coverage_now(layer, self.wait_s)
