"""report.html in headless Chromium: the rendered DOM holds the figures and headings, and a screenshot is taken.

Skips with its reason when Chromium is absent, unless PIPELINE_REQUIRE_SYSTEM_DEPS=1 (CI), where
a missing browser is a failure.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from pipeline.report import render_html
from tests.support.browser import chromium
from tests.support.report_example import COMPLETED, NOT_COLLECTED, UNMET, example_inputs, seed_figures

HEADINGS = [
    "一、基本情况",
    "二、绩效评价工作开展情况",
    "三、综合评价情况及评价结论",
    "四、主要经验及做法、存在的问题及原因分析",
    "五、相关建议",
    "附件一：绩效指标评分表",
]


def _run(browser: str, profile: Path, *args: str) -> subprocess.CompletedProcess:
    # Offline and quiet: no first-run pages, no background fetches, a throwaway profile.
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
    ]
    return subprocess.run([browser, *flags, *args], capture_output=True, text=True, timeout=120)


def test_report_renders_in_chromium(tmp_path):
    browser = chromium()
    page = tmp_path / "report.html"
    page.write_bytes(render_html(example_inputs()))
    dom = _run(browser, tmp_path / "profile", "--dump-dom", page.as_uri())
    assert dom.returncode == 0, dom.stderr[-2000:]
    for text in [*seed_figures(), "84.88", "良", *HEADINGS, *UNMET, *NOT_COLLECTED]:
        assert text in dom.stdout, text
    for code in COMPLETED:
        assert f"<td>{code}--" in dom.stdout
    assert dom.stdout.count("<svg") == 3

    png = tmp_path / "report.png"
    shot = _run(
        browser,
        tmp_path / "profile",
        f"--screenshot={png}",
        "--window-size=1240,1754",
        "--hide-scrollbars",
        page.as_uri(),
    )
    assert shot.returncode == 0, shot.stderr[-2000:]
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert png.stat().st_size > 20_000  # a blank or error page compresses far smaller


OFFLINE = [
    "--proxy-server=127.0.0.1:9",
    "--proxy-bypass-list=<-loopback>",
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--virtual-time-budget=5000",
]


def test_data_docs_render_offline_and_name_no_remote_resource(hohhot_run, tmp_path):
    """Every Data Docs page is self-contained; with the network blocked the index lists the validations and a
    suite page shows its expectations."""
    import re

    docs = hohhot_run.out_dir / "data_docs"
    pages = sorted(docs.rglob("*.html"))
    assert len(pages) > 10
    remote = re.compile(
        r"""(?:\b(?:src|href|action)\s*=\s*["']?\s*|url\(\s*["']?|@import\s+["']?)(?:https?:)?//""", re.I
    )
    for p in pages:
        assert not remote.search(p.read_text(encoding="utf-8")), p
    browser = chromium()
    index = _run(browser, tmp_path / "profile", *OFFLINE, "--dump-dom", (docs / "index.html").as_uri())
    assert index.returncode == 0, index.stderr[-2000:]
    rows = re.findall(r'<tr class="clickable-row" data-href="([^"]+)"', index.stdout)
    assert len(rows) >= 14  # every validation and every suite of the run: the seven result tables
    suite = docs / next(r for r in rows if r.startswith("validations/"))
    page = _run(browser, tmp_path / "profile", *OFFLINE, "--dump-dom", suite.as_uri())
    assert page.returncode == 0, page.stderr[-2000:]
    text = re.sub(r"<[^>]+>", " ", re.sub(r"<(script|style)\b.*?</\1>", " ", page.stdout, flags=re.S))
    assert "Expectation" in text and len(text.split()) > 100
