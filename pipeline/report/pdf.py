"""report.pdf: report.html laid out on A4 by WeasyPrint, for publication.

WeasyPrint (not Chromium's print-to-PDF) because its output is a pure function of the page: no
creation date from the clock (the page's ``dcterms.created`` meta is the report date), a fixed
document identifier, fonts subset the same way every time — two runs give the same bytes. It
fetches nothing: every URL is refused, and the page holds none. Fonts come from fontconfig (Noto
Sans CJK on this machine, installed by ``.ci/run``).

It also returns the page each heading landed on, which the DOCX writes as the cached value of its
table of contents (Word recomputes the PAGEREF fields when the document is opened).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NoReturn

# WeasyPrint's bookmark subtree: (label, (page index, x, y), children, "open" or "closed").
Bookmark = tuple[str, tuple[int, float, float], list["Bookmark"], str]


class FetchRefused(ValueError):
    """The report page asked for an external resource; it must be self-contained."""


def _no_fetch(url: str, *args: object, **kwargs: object) -> NoReturn:
    raise FetchRefused(f"report.pdf fetches nothing, refused {url!r}")


def render_pdf(html: bytes) -> tuple[bytes, dict[str, int]]:
    """The PDF bytes and {heading text: page number} for the headings the PDF bookmarks."""
    import weasyprint

    from pipeline.memory import no_collection

    with no_collection():  # the layout's boxes live until the PDF is written (pipeline.memory)
        document = weasyprint.HTML(string=html.decode("utf-8"), url_fetcher=_no_fetch).render()
        pages = dict(_headings(document.make_bookmark_tree()))
        pdf: bytes = document.write_pdf(pdf_identifier=b"pes-evaluation-report")
        # Let go of the layout before the collector resumes, so that its first pass does not look at it
        # alive: that pass took 0.85 s over the national report's boxes, 0.47 s once they are let go.
        del document
    return pdf, pages


def _headings(tree: Iterable[Bookmark]) -> Iterable[tuple[str, int]]:
    for label, (page, _x, _y), children, _state in tree:
        yield label, page + 1
        yield from _headings(children)


def page_count(pdf: bytes) -> int:
    import io

    from pypdf import PdfReader

    return len(PdfReader(io.BytesIO(pdf)).pages)
