"""Headless Chromium (Debian's ``chromium``) driven by Playwright, for the page tests.

The browser is the system's: Playwright's own browser download is never used (no network here).
Every launch gets a fresh profile (``launch`` makes a new temporary user-data dir) and the flags
that keep Chromium from calling home, so any request a page makes is the page's own.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str:
    """The system Chromium, or a skip that says why (``.ci/run`` installs it where it can)."""
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        pytest.skip("chromium is not installed (apt-get install chromium; .ci/run does it as root)")
    return path


@dataclass
class Seen:
    """What the page did: console messages by type, uncaught errors, every request URL."""

    console: list[tuple[str, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    @property
    def console_errors(self) -> list[str]:
        return [text for kind, text in self.console if kind == "error"] + self.errors


@contextmanager
def page(viewport: dict[str, int] | None = None) -> Iterator[tuple[Any, Seen]]:
    sync_api = pytest.importorskip("playwright.sync_api")
    executable = chromium_path()
    seen = Seen()
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=FLAGS)
        try:
            tab = browser.new_page(viewport=viewport or {"width": 1300, "height": 900})
            tab.on("console", lambda m: seen.console.append((m.type, m.text)))
            tab.on("pageerror", lambda e: seen.errors.append(str(e)))
            tab.on("request", lambda r: seen.requests.append(r.url))
            yield tab, seen
        finally:
            browser.close()
