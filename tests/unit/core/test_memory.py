"""``no_collection``: the cyclic collector paused for a block, restored after it, and nothing lost."""

import gc
import subprocess
import sys
import textwrap
import weakref

import pytest

from pipeline.memory import no_collection


class Node:
    def __init__(self) -> None:
        self.me = self  # a reference cycle: only the collector frees it


def _churn() -> None:
    """Allocate far more container objects than a young collection's threshold."""
    keep = [[i] for i in range(gc.get_threshold()[0] * 50)]
    del keep


def test_no_collection_pauses_the_collector_and_garbage_is_collected_after_it():
    assert gc.isenabled()
    with no_collection():
        assert not gc.isenabled()
        node = Node()
        ref = weakref.ref(node)
        del node
        _churn()  # would have set off collections with the collector on
        assert ref() is not None  # garbage, but not collected inside the block
    assert gc.isenabled()
    gc.collect(0)  # the block's objects are all young: one young collection finds the cycle
    assert ref() is None


def test_the_collector_is_on_again_after_an_error_inside():
    with pytest.raises(ZeroDivisionError), no_collection():
        1 / 0  # noqa: B018
    assert gc.isenabled()


def test_a_collector_that_was_off_stays_off():
    gc.disable()
    try:
        with no_collection():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()


def _in_a_fresh_process(code: str) -> str:
    """Freezing is for the whole process: it is tested in its own, not in the test runner."""
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_freeze_keeps_what_the_block_left_out_of_later_collections():
    out = _in_a_fresh_process(
        """
        import gc
        from pipeline.memory import no_collection

        before = gc.get_freeze_count()
        with no_collection(freeze=True):
            kept = [[i] for i in range(10_000)]
        print(gc.isenabled(), gc.get_freeze_count() - before >= 10_000)
        """
    )
    assert out == "True True"


def test_the_sidecar_starts_with_its_libraries_frozen():
    out = _in_a_fresh_process(
        """
        import gc, sys
        from pipeline import sidecar

        sidecar.WARM = ("json",)  # the real WARM is GX: seconds to import, and not what is tested here
        sidecar._start_up()
        print(gc.isenabled(), gc.get_freeze_count() > 0, "json" in sys.modules)
        """
    )
    assert out == "True True True"


def test_the_pdf_is_laid_out_with_the_collector_paused_and_on_again_after():
    from pipeline.report import pdf

    seen: list[bool] = []
    with pytest.MonkeyPatch.context() as mp:
        import weasyprint

        render = weasyprint.HTML.render

        def spy(self, *args, **kwargs):
            seen.append(gc.isenabled())
            return render(self, *args, **kwargs)

        mp.setattr(weasyprint.HTML, "render", spy)
        data, pages = pdf.render_pdf("<html><body><h1>一、标题</h1><p>正文</p></body></html>".encode())
    assert seen == [False]
    assert gc.isenabled()
    assert data.startswith(b"%PDF") and pages == {"一、标题": 1}
