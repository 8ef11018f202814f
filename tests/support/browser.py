"""Browser tests' tools: Debian's Chromium driven by Playwright (never a browser a tool
downloads), every request not to the test server aborted and counted, console errors and page
errors collected, screenshots kept as test artifacts, and the real server with staff accounts
made by the command line, as an operator makes them."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.support.server import ZONEMAP

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
#: Where screenshots go (kept after the run; CI can collect them).
ARTIFACTS = Path(os.environ.get("ZONEMAP_TEST_ARTIFACTS", Path(__file__).parents[2] / "test-artifacts"))
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}
DESKTOP = {"viewport": {"width": 1440, "height": 900}}
PASSWORD = "a long demo password"


def only_local(base: str, blocked: list[str]):
    """A route handler letting requests to ``base`` through and aborting (and counting) the rest."""

    def handle(route: Any) -> None:
        if route.request.url.startswith(base):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    return handle


@dataclass
class Watch:
    """What a browser context saw that it should not have: requests off the test server, console
    errors and warnings, uncaught script errors, dialogs."""

    blocked: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def page(self, context: Any) -> Any:
        """A new page of ``context`` reporting here."""
        page = context.new_page()
        page.on("console", lambda m: self.errors.append(f"{page.url}: console {m.type}: {m.text}") if m.type in ("error", "warning") else None)
        page.on("pageerror", lambda exc: self.errors.append(f"{page.url}: {exc}"))
        page.on("dialog", lambda d: (self.errors.append(f"{page.url}: dialog {d.message}"), d.dismiss()))
        return page

    def expect_status(self, status: int) -> None:
        """A page answered ``status`` on purpose: drop the console line the browser logs for it."""
        self.errors = [e for e in self.errors if f"the server responded with a status of {status} " not in e]

    def clean(self) -> None:
        """Assert nothing left the test server and nothing went wrong in a page."""
        assert self.blocked == [], self.blocked
        assert self.errors == [], self.errors


@contextmanager
def browser_context(base: str, kind: dict[str, Any], **options: Any) -> Iterator[tuple[Any, Watch]]:
    """A fresh Chromium context (a phone or a desktop) whose requests off ``base`` are aborted."""
    from playwright.sync_api import sync_playwright

    watch = Watch()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", **kind, **options)
        context.route("**/*", only_local(base, watch.blocked))
        try:
            yield context, watch
        finally:
            context.close()
            browser.close()


#: Playwright bypasses service workers while it routes requests, unless told to route theirs too.
WORKERS_ROUTED = "PW_EXPERIMENTAL_SERVICE_WORKER_NETWORK_EVENTS"


@contextmanager
def service_workers() -> Iterator[None]:
    """Browsers started inside this block let their pages' service workers answer (and route the
    workers' own requests like the pages')."""
    before = os.environ.get(WORKERS_ROUTED)
    os.environ[WORKERS_ROUTED] = "1"
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(WORKERS_ROUTED)
        else:
            os.environ[WORKERS_ROUTED] = before


def set_offline(context: Any, offline: bool) -> None:
    """Take the pages offline, and their service workers with them (Playwright's offline mode
    leaves a worker's own requests online)."""
    if offline:
        context.route("**/*", _worker_offline)
    else:
        context.unroute("**/*", _worker_offline)
    context.set_offline(offline)


def _worker_offline(route: Any) -> None:
    if route.request.service_worker:
        route.abort("internetdisconnected")
    else:
        route.fallback()


def another_context(context: Any, base: str, kind: dict[str, Any]) -> tuple[Any, Watch]:
    """A second person's context in the same browser (another cookie jar), watched likewise."""
    watch = Watch()
    other = context.browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", **kind)
    other.route("**/*", only_local(base, watch.blocked))
    return other, watch


def screenshot(page: Any, name: str) -> Path:
    """Save a full-page screenshot as a test artifact; its path."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def create_user(env: dict[str, str], data_dir: Path, username: str, role: str, unit_id: str | None = None, password: str = PASSWORD) -> str:
    """An account made with ``zonemap user create --password-stdin``; its username."""
    command = [ZONEMAP, "user", "create", username, "--role", role, "--password-stdin", "--data-dir", str(data_dir), *(["--unit", unit_id] if unit_id else [])]
    subprocess.run(command, env=env, input=password + "\n", capture_output=True, text=True, check=True)
    return username


def sign_in(page: Any, base: str, username: str, password: str = PASSWORD) -> None:
    """Sign in through the form, as a person does."""
    page.goto(base + "/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    page.wait_for_load_state()
