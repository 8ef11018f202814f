"""Page weight and time to first paint of the pages people open first, in Debian's Chromium on
loopback, on a phone (390×844) and a desktop (1440×900), against the sign-in page of the same
server (the base layout alone: the baseline, measured in the same run).

For each page: bytes transferred on a first visit (the document and everything it loads: styles,
scripts, the streets layer, photos' small copies), the same on a second visit (the browser's
cache), first contentful paint, and the time until the page's map has drawn the streets layer
where it has a map. The public board holds a few published cases with photos.

    python bench/page_bench.py [--runs 5] [--cases 12]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from PIL import Image
from playwright.sync_api import sync_playwright

from geodata.demo import write_demo

ZONEMAP = str(Path(sys.executable).parent / "zonemap")
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
KINDS = {"phone": {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True},
         "desktop": {"viewport": {"width": 1440, "height": 900}}}
PAGES = ["/login", "/", "/report", "/public"]
MEASURE = """() => {
    const nav = performance.getEntriesByType('navigation')[0];
    const resources = performance.getEntriesByType('resource');
    const paint = performance.getEntriesByName('first-contentful-paint')[0];
    return {bytes: nav.transferSize + resources.reduce((sum, r) => sum + r.transferSize, 0),
            body: nav.encodedBodySize + resources.reduce((sum, r) => sum + r.encodedBodySize, 0),
            requests: 1 + resources.length, fcp: paint ? paint.startTime : null};
}"""


def token(env: dict[str, str], data: Path, role: str, unit: str | None = None) -> str:
    command = [ZONEMAP, "token", "create", "--role", role, "--data-dir", str(data), *(["--unit", unit] if unit else [])]
    return subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1]


def call(base: str, path: str, key: str, body: dict | None = None, data: bytes | None = None, ctype: str = "application/json") -> dict:
    payload = json.dumps(body).encode() if body is not None else data
    request = urllib.request.Request(base + path, data=payload, method="POST", headers={"Authorization": f"Bearer {key}", "Content-Type": ctype})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


def photo(base: str, key: str, colour: tuple[int, int, int]) -> str:
    """A 4000×3000 phone photo (stored at 2,560 px), uploaded; its reference."""
    out = io.BytesIO()
    Image.effect_noise((4000, 3000), 40).convert("RGB").point(lambda v: v // 2 + colour[0] // 2).save(out, "JPEG", quality=85)
    boundary = "bench"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"p.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n").encode()
    body += out.getvalue() + f"\r\n--{boundary}--\r\n".encode()
    return call(base, "/api/v1/photos", key, data=body, ctype=f"multipart/form-data; boundary={boundary}")["url"]


def publish_cases(base: str, dispatcher: str, unit: str, count: int) -> None:
    """``count`` cases at P06's block, each with a before and an after photo, published."""
    for n in range(count):
        before, after = photo(base, dispatcher, (200, 60, 40)), photo(base, unit, (60, 160, 80))
        report = call(base, "/api/v1/reports", dispatcher, {"lon": 120.40 + n * 1e-4, "lat": 36.31, "category": "litter", "photos": [before]})
        move = f"/api/v1/reports/{report['id']}/transitions"
        call(base, move, unit, {"action": "rectify", "evidence": [after]})
        call(base, move, dispatcher, {"action": "verify"})
        call(base, move, dispatcher, {"action": "publish", "public_photos": [before, after]})


def measure(base: str, path: str, kind: dict, runs: int) -> dict[str, float]:
    """Medians over ``runs`` fresh browsers: first visit (cold cache) and the second visit."""
    cold, warm, paints, drawn = [], [], [], []
    with sync_playwright() as p:
        for _ in range(runs):
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            context = browser.new_context(**kind)  # no request routing: it would turn the browser's cache off
            page = context.new_page()
            start = time.perf_counter()
            page.goto(base + path, wait_until="load")
            if page.locator(".map").count():
                page.wait_for_function("() => document.querySelectorAll('.leaflet-overlay-pane path').length > 0")
                drawn.append((time.perf_counter() - start) * 1000)
            page.wait_for_load_state("networkidle")
            first = page.evaluate(MEASURE)
            page.goto(base + path, wait_until="networkidle")
            second = page.evaluate(MEASURE)
            cold.append(first)
            warm.append(second["bytes"])
            paints.append(first["fcp"])
            browser.close()
    return {"kB": statistics.median(c["bytes"] for c in cold) / 1000, "body kB": statistics.median(c["body"] for c in cold) / 1000,
            "requests": statistics.median(c["requests"] for c in cold), "warm kB": statistics.median(warm) / 1000,
            "fcp ms": statistics.median(paints), "map ms": statistics.median(drawn) if drawn else float("nan")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--cases", type=int, default=12, help="published cases on the public board")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="zonemap-page-bench-") as tmp:
        data = Path(tmp)
        demo = write_demo(data / "demo", reports=10)
        env = {**os.environ, "ZONEMAP_LAYER_DIR": str(demo.root), "ZONEMAP_DATA_DIR": str(data), "DATABASE_URL": f"sqlite:///{data / 'z.sqlite'}",
               "ZONEMAP_PUBLIC_SUBMIT_LIMIT": "10000 per minute", "ZONEMAP_PHOTO_UPLOAD_LIMIT": "10000 per minute"}
        dispatcher, unit = token(env, data, "dispatcher"), token(env, data, "unit", "P06")
        server = subprocess.Popen([ZONEMAP, "serve", "--port", "8099", "--data-dir", str(data)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        base = "http://127.0.0.1:8099"
        try:
            for _ in range(240):
                try:
                    urllib.request.urlopen(base + "/healthz", timeout=1)
                    break
                except OSError:
                    time.sleep(0.5)
            publish_cases(base, dispatcher, unit, args.cases)
            print(f"{args.runs} fresh browsers per page on loopback; medians. kB: transferred on a first visit; body kB: its content; warm kB: "
                  f"on a second visit; fcp: first contentful paint; map: navigation until the map shows the streets layer. Baseline: /login.")
            print(f"{'page':<10} {'device':<8} {'kB':>7} {'body kB':>8} {'requests':>8} {'warm kB':>8} {'fcp ms':>7} {'map ms':>7}"
                  f"  {'kB vs /login':>12} {'fcp vs /login':>13}")
            for name, kind in KINDS.items():
                baseline = None
                for path in PAGES:
                    m = measure(base, path, kind, args.runs)
                    baseline = baseline or m
                    print(f"{path:<10} {name:<8} {m['kB']:7.1f} {m['body kB']:8.1f} {m['requests']:8.0f} {m['warm kB']:8.1f}"
                          f" {m['fcp ms']:7.0f} {m['map ms']:7.0f}"
                          f"  {m['kB'] / baseline['kB']:11.1f}x {m['fcp ms'] / baseline['fcp ms']:12.2f}x")
        finally:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
