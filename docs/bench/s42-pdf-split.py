"""What laying the report's PDF out in two processes would save: the whole page against two parts at once.

python docs/bench/s42-pdf-split.py OUT/<evaluation>/report.html '<h1 id="s10">'

The page is cut before the given marker (a heading that starts on a new page, so each part paginates as
in the whole); both parts keep the page's head and CSS. Three rounds in two warm forkserver processes: the
whole page in one, then the two parts at once, then pypdf's merge of the two PDFs (page numbers, the
contents' links and the bookmarks of a real merge are not fixed up here: this measures the ceiling only).
Stop 42, national report: whole 5.6–6.6 s; parts at once 4.4–5.2 s whichever annex is cut at (附件二,
the 300-row findings list in landscape, alone takes about 3 s); merge 0.05–0.11 s.
"""

from __future__ import annotations

import io
import multiprocessing
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path


def render(html: bytes) -> tuple[bytes, float]:
    from pipeline.report.pdf import render_pdf

    t = time.perf_counter()
    pdf, _ = render_pdf(html)
    return pdf, time.perf_counter() - t


def warm() -> None:
    import weasyprint  # noqa: F401  (imported before any clock starts, as in the sidecar)


def main(page: Path, marker: str) -> None:
    from pypdf import PdfReader, PdfWriter

    html = page.read_bytes()
    start, end = html.index(b"<body>") + len(b"<body>"), html.index(b"</body>")
    cut = html.index(marker.encode(), start)
    parts = (html[:cut] + html[end:], html[:start] + html[cut:])
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("forkserver")) as pool:
        for f in [pool.submit(warm), pool.submit(warm)]:
            f.result()
        for _ in range(3):
            t = time.perf_counter()
            whole = pool.submit(render, html).result()
            t_whole = time.perf_counter() - t
            t = time.perf_counter()
            a, b = (f.result() for f in [pool.submit(render, p) for p in parts])
            t_parts = time.perf_counter() - t
            t = time.perf_counter()
            writer = PdfWriter()
            for pdf, _ in (a, b):
                writer.append(PdfReader(io.BytesIO(pdf)))
            writer.write(io.BytesIO())
            t_merge = time.perf_counter() - t
            print(
                f"whole {t_whole:.2f} s ({len(whole[0]):,} B); parts at once {t_parts:.2f} s "
                f"(first {a[1]:.2f} s, second {b[1]:.2f} s); merge {t_merge:.2f} s",
                flush=True,
            )


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2])
