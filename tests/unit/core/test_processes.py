"""``workers_skip_main``: held by several threads at once (the sidecar starts on its own thread while the
readers start their pool), the main module's spec is replaced while any holds it and restored after the last."""

from __future__ import annotations

import sys
import threading

from pipeline.processes import workers_skip_main


def test_overlapping_holders_on_two_threads_restore_the_main_modules_spec():
    main = sys.modules["__main__"]
    original = main.__dict__.get("__spec__")
    first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()
    seen: dict[str, object] = {}

    def first() -> None:
        with workers_skip_main():
            first_in.set()
            second_in.wait(10)
        first_out.set()  # leaves while the second still holds it

    def second() -> None:
        first_in.wait(10)
        with workers_skip_main():
            second_in.set()
            first_out.wait(10)
            seen["inside"] = main.__spec__
        seen["after"] = main.__spec__

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)

    inside = seen["inside"]
    assert inside is not original and inside.name == "__main__" and inside.loader is None  # type: ignore[attr-defined]
    assert seen["after"] is original
    assert main.__dict__.get("__spec__") is original
