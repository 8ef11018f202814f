"""The bundled Chengyang District demo data set: writing it, and finding it on disk."""

from __future__ import annotations

import fcntl
import json
import shutil
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from geodata.calendar import national_calendar
from geodata.demo.generate import DEFAULT_SEED, generate
from geodata.demo.reports import generate_reports
from geodata.io import write_layer

DEMO_GPKG = "chengyang.gpkg"
MANIFEST = "manifest.json"
#: Bumped whenever the generator's output changes, so stale copies are rebuilt.
GENERATOR_VERSION = 6
#: The demo's inspection checklists, written from the evaluation's public examples.
CHECKLISTS_FILE = Path(__file__).parent / "checklists.csv"
DEFAULT_REPORTS = 10_000
#: Who made what the demo's maps draw (sources/PROVENANCE.md), written beside its layers for the maps' attribution.
ATTRIBUTION = "站点 © OpenStreetMap 贡献者 · 区界 © 高德 · 其余为演示数据"


@dataclass(frozen=True)
class DemoFiles:
    """Paths of a written demo data set."""

    root: Path

    @property
    def gpkg(self) -> Path:
        """The GeoPackage holding zones, test_points, areas, scope (the built-up areas) and streets."""
        return self.root / DEMO_GPKG

    @property
    def categories(self) -> Path:
        """The report categories table."""
        return self.root / "categories.csv"

    @property
    def units(self) -> Path:
        """The responsible units table."""
        return self.root / "units.csv"

    @property
    def calendar(self) -> Path:
        """The working calendar: holidays and make-up working days (`geodata.calendar`)."""
        return self.root / "calendar.csv"

    @property
    def checklists(self) -> Path:
        """The inspection checklists per test point type (`zones.checklists`), loaded on the first start."""
        return self.root / "checklists.csv"

    @property
    def attribution(self) -> Path:
        """Who made the layers' data, one line of text the maps show (optional in a layer folder)."""
        return self.root / "attribution.txt"

    @property
    def reports(self) -> Path:
        """A batch of generated reports."""
        return self.root / "reports.csv"


def write_demo(out_dir: str | Path, *, seed: int | None = None, reports: int = DEFAULT_REPORTS) -> DemoFiles:
    """Generate the demo for ``seed`` and write it to ``out_dir``; return the paths."""
    seed = DEFAULT_SEED if seed is None else seed
    files = DemoFiles(Path(out_dir))
    files.root.mkdir(parents=True, exist_ok=True)
    files.gpkg.unlink(missing_ok=True)
    layers = generate(seed)
    for name in ("zones", "test_points", "areas", "streets"):
        write_layer(getattr(layers, name), files.gpkg, layer=name)
    write_layer(layers.builtup.assign(scope_id=layers.builtup["area_id"]), files.gpkg, layer="scope")  # zones are required in the towns
    layers.categories.to_csv(files.categories, index=False)
    layers.units.to_csv(files.units, index=False)
    files.attribution.write_text(ATTRIBUTION + "\n", encoding="utf-8")
    shutil.copyfile(CHECKLISTS_FILE, files.checklists)
    this_year = date.today().year
    national_calendar(range(this_year, this_year + 2)).to_csv(files.calendar, index=False)
    generate_reports(layers, reports, seed).to_csv(files.reports, index=False)
    manifest = {
        "seed": seed,
        "generator_version": GENERATOR_VERSION,
        "reports": reports,
        "counts": {name: len(getattr(layers, name)) for name in ("zones", "test_points", "areas", "streets", "units", "categories")},
    }
    (files.root / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
    return files


def ensure_demo(out_dir: str | Path, *, seed: int | None = None) -> DemoFiles:
    """Return the demo in ``out_dir``, generating it first if it is missing or stale. Processes
    that start together (a server's workers) generate it once: the others wait for it."""
    files = DemoFiles(Path(out_dir))
    want_seed = DEFAULT_SEED if seed is None else seed
    if _current(files, want_seed):
        return files
    files.root.parent.mkdir(parents=True, exist_ok=True)
    with (files.root.parent / f".{files.root.name}.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if _current(files, want_seed):  # made by another process meanwhile
            return files
        return write_demo(out_dir, seed=want_seed)


def _current(files: DemoFiles, seed: int) -> bool:
    """Whether ``files`` hold a complete demo of ``seed`` (the manifest is written last)."""
    manifest_path = files.root / MANIFEST
    if not (manifest_path.exists() and files.gpkg.exists()):
        return False
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    return bool(manifest.get("seed") == seed and manifest.get("generator_version") == GENERATOR_VERSION)
