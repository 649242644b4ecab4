"""A real headless browser for the tests: Debian's chromium driven by Selenium through chromium-driver.

Selenium's own browser download is never used (it cannot reach the internet here): the binary and
the driver are Debian's, named explicitly. A fresh profile per test, nothing in the background.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage")
SHOTS = Path(os.environ.get("BIOFEEDBACK_SCREENSHOTS") or Path(tempfile.gettempdir()) / "biofeedback-shots")
"""Where the page's pictures go: $BIOFEEDBACK_SCREENSHOTS to look at them afterwards, else a temp folder."""


def have_browser() -> bool:
    """Whether the browser tests can run; in CI (BIOFEEDBACK_REQUIRE_BROWSER=1) they must, not skip."""
    try:
        import selenium  # noqa: F401
        ok = Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()
    except ImportError:
        ok = False
    if not ok and os.environ.get("BIOFEEDBACK_REQUIRE_BROWSER"):
        raise RuntimeError("the browser tests must run here: install chromium, chromium-driver and selenium")
    return ok


def driver(profile: Path, width: int = 1366, height: int = 768) -> Any:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.add_argument(f"--window-size={width},{height}")
    options.binary_location = CHROMIUM
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    d = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    set_viewport(d, width, height)
    return d


def set_viewport(d: Any, width: int, height: int) -> None:
    """The page's own area at ``width`` x ``height`` CSS pixels (a window's size includes its frame)."""
    d.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                      {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600})


def wait_for(what: Callable[[], Any], timeout: float, message: str, every: float = 0.1) -> Any:
    """``what()``'s first truthy value, polled; a bounded wait for something that must happen (not a speed test)."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = what()
        except Exception as err:  # noqa: BLE001 - the page is still changing under us: try again
            last = err
        else:
            if last:
                return last
        time.sleep(every)
    raise AssertionError(f"{message} (last: {last!r})")


def screenshot(d: Any, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / name
    d.save_screenshot(str(path))
    return path
