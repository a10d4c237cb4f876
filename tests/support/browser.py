"""Headless Chromium for the tests that look at a page as a reader does."""

from __future__ import annotations

import subprocess

from tests.support import require_program


def chromium() -> str:
    """Path of Chromium, once a Chinese font is known to be installed."""
    browser = require_program("chromium")
    # Without a CJK font the screenshot shows boxes where the Chinese should be.
    fonts = subprocess.run([require_program("fc-list"), ":lang=zh", "family"], capture_output=True, text=True)
    assert fonts.stdout.strip(), "no Chinese font is installed: apt-get install fonts-noto-cjk"
    return browser
