"""Browser tests: Debian's chromium driven by Playwright, against ``salur demo --serve`` on a free port.

The server is the product as a user starts it: a fresh SQLite database, the demo city at a small
scale, the demo's generated sign-ins read from its terminal output. Every page a test visits is
checked with axe-core (the copy bundled with ``axe-playwright-python``) and photographed at 390 px
and 1280 px into ``build/screens/``.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = os.environ.get("SALUR_CHROMIUM", "/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]
SCREENS = ROOT / "build" / "screens"
SCALE = 0.005
SEED = 2020
HTTP_OK = 200
_ACCOUNT = re.compile(r"^\s+(\S+)\s+(dinsos|kelurahan|inspector)\s+password (\S+)(?: \((\S+)\))?$")

playwright_sync = pytest.importorskip("playwright.sync_api")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class DemoServer:
    """A running ``salur demo --serve``: its address, environment, log and the demo's accounts."""

    url: str
    env: dict[str, str]
    out: Path
    process: subprocess.Popen[bytes]
    accounts: dict[str, tuple[str, str | None]] = field(default_factory=dict)

    def read_accounts(self, timeout: float = 120) -> dict[str, tuple[str, str | None]]:
        """The sign-ins the demo printed: name -> (password, kelurahan code)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and len(self.accounts) < 3:
            for line in self.out.read_text(encoding="utf-8").splitlines():
                match = _ACCOUNT.match(line)
                if match:
                    self.accounts[match.group(1)] = (match.group(3), match.group(4))
            assert self.process.poll() is None, self.out.read_text(encoding="utf-8")
            time.sleep(0.2)
        return self.accounts

    def get(self, path: str) -> tuple[int, dict[str, str], bytes]:
        """A plain HTTP GET (no browser): status, headers (names in lower case), body."""
        request = urllib.request.Request(self.url + path)  # noqa: S310 - our own local server
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310
                return answer.status, {k.lower(): v for k, v in answer.headers.items()}, answer.read()
        except urllib.error.HTTPError as error:
            return error.code, {k.lower(): v for k, v in error.headers.items()}, error.read()

    def wait_ready(self, timeout: float = 300) -> None:
        """Until ``/health/ready`` answers 200."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.out.read_text(encoding="utf-8")
            status, _, body = self.get("/health/ready")
            if status == HTTP_OK:
                return
            assert b"BUILD_FAILED" not in body, body  # the build stopped: waiting longer cannot help
            time.sleep(0.5)
        raise AssertionError("the demo never became ready")

    def salur(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        """Run the ``salur`` command line on the server's database."""
        return subprocess.run(
            [sys.executable, "-m", "salur_cases", *args],
            input=stdin,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )


def start_demo(tmp: Path, scale: float) -> DemoServer:
    """Start ``salur demo --serve`` on a fresh SQLite database and wait until it answers."""
    port = _free_port()
    env = {
        **os.environ,
        "SALUR_DATABASE_URL": f"sqlite:///{tmp / 'salur.db'}",
        "SALUR_LOG_FORMAT": "json",
    }
    out = tmp / "demo.out"
    with out.open("wb") as handle:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "salur_cases",
                "demo",
                "--serve",
                "--scale",
                str(scale),
                "--port",
                str(port),
            ],
            env=env,
            stdout=handle,
            stderr=(tmp / "demo.err").open("wb"),
        )
    server = DemoServer(f"http://127.0.0.1:{port}", env, out, process)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, (tmp / "demo.err").read_text(encoding="utf-8")[-3000:]
        try:
            if server.get("/health/live")[0] == 200:
                return server
        except OSError:
            pass
        time.sleep(0.2)
    process.terminate()
    raise AssertionError("the demo server never answered")


def stop(server: DemoServer) -> None:
    """Stop the server (SIGTERM, then SIGKILL)."""
    server.process.terminate()
    try:
        server.process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    """One demo city for the browser tests that only need it built."""
    server = start_demo(tmp_path_factory.mktemp("demo"), SCALE)
    try:
        server.read_accounts()
        server.wait_ready()
        yield server
    finally:
        stop(server)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Headless Debian chromium (never a downloaded browser)."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium (.ci/run does)")
    with playwright_sync.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        yield browser
        browser.close()


@pytest.fixture
def new_page(browser: Any) -> Iterator[Any]:
    """``new_page(base_url)``: a page in its own browser context (its own cookies)."""
    contexts = []

    def make(base_url: str) -> Any:
        context = browser.new_context(base_url=base_url, viewport={"width": 1280, "height": 800})
        context.set_default_timeout(20_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def sign_in(page: Any, name: str, password: str) -> None:
    """Sign in through the form."""
    page.goto("/console/login")
    page.get_by_label("Nama akun").fill(name)
    page.get_by_label("Kata sandi").fill(password)
    page.get_by_role("button", name="Masuk").click()


def check_page(page: Any, name: str) -> None:
    """axe-core finds no serious or critical violation; screenshots at 390 px and 1280 px."""
    from axe_playwright_python.sync_playwright import Axe  # noqa: PLC0415 - only browser tests need it

    results = Axe().run(page)
    bad = [v for v in results.response["violations"] if v.get("impact") in ("serious", "critical")]
    assert not bad, f"{name}: " + "; ".join(f"{v['id']}: {v['help']}" for v in bad)
    SCREENS.mkdir(parents=True, exist_ok=True)
    size = page.viewport_size
    for width in (390, 1280):
        page.set_viewport_size({"width": width, "height": 844 if width == 390 else 800})
        page.screenshot(path=str(SCREENS / f"{name}-{width}.png"), full_page=True)
    page.set_viewport_size(size)
