"""Load time and memory of zone layers: the demo layer and a generated 100k-zone layer.

Each measurement runs in a fresh Python process, so peak resident memory (ru_maxrss) is the
load's own. The baseline, measured in the same run on the same file, is a bare
``pyogrio.read_dataframe`` (read only, no checks, no CRS conversion, no validation).

    python bench/load_bench.py [--zones 100000] [--out bench/out]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

CHILD = r"""
import json, sys, time
import pyogrio
import geopandas  # noqa: F401  (import cost is not part of the load)
from geodata.load import load_layer

def status(key):
    # /proc, not ru_maxrss: the latter carries the parent's peak across fork and exec
    for line in open("/proc/self/status"):
        if line.startswith(key):
            return int(line.split()[1]) / 1024
base_rss = status("VmRSS")
path, mode = sys.argv[1], sys.argv[2]
t1 = time.perf_counter()
if mode == "bare":
    frame = pyogrio.read_dataframe(path, layer="zones")
    rows, problems = len(frame), 0
else:
    loaded = load_layer(path, "zones")
    rows, problems = len(loaded.frame), len(loaded.report.problems)
elapsed = time.perf_counter() - t1
print(json.dumps({"rows": rows, "problems": problems, "seconds": elapsed, "peak_mb": status("VmHWM"), "import_mb": base_rss, "after_mb": status("VmRSS")}))
"""


def measure(path: Path, mode: str) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD, str(path), mode], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--zones", type=int, default=100_000)
    parser.add_argument("--out", type=Path, default=Path("bench/out"))
    args = parser.parse_args()
    from geodata.demo import write_demo
    from geodata.demo.generate import load_district
    from geodata.demo.synthetic import synthetic_zones
    from geodata.io import write_layer

    args.out.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    demo = write_demo(args.out / "demo", reports=100)
    print(f"generated demo in {time.perf_counter() - t:.1f} s")
    big = args.out / f"zones_{args.zones}.gpkg"
    big.unlink(missing_ok=True)
    t = time.perf_counter()
    write_layer(synthetic_zones(args.zones, load_district().geometry.union_all(), seed=1), big, layer="zones")
    print(f"generated {big.name} in {time.perf_counter() - t:.1f} s")
    print("peak MB: the process's high-water mark during the load; held MB: resident after it, less the imports")
    print(f"{'layer':<22}{'rows':>9}{'bare read s':>13}{'load s':>9}{'ratio':>7}{'peak MB':>9}{'held MB':>9}{'imports MB':>12}{'problems':>10}")
    for label, path in (("demo zones", demo.gpkg), (f"generated {args.zones}", big)):
        bare = min((measure(path, "bare") for _ in range(2)), key=lambda r: r["seconds"])
        full = min((measure(path, "full") for _ in range(2)), key=lambda r: r["seconds"])
        print(
            f"{label:<22}{full['rows']:>9}{bare['seconds']:>13.2f}{full['seconds']:>9.2f}{full['seconds'] / bare['seconds']:>7.1f}"
            f"{full['peak_mb']:>9.0f}{full['after_mb'] - full['import_mb']:>9.0f}{full['import_mb']:>12.0f}{full['problems']:>10}"
        )


if __name__ == "__main__":
    main()
