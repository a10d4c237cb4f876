"""The progress display: plain lines when not on a terminal, a silent reporter when nobody installed one."""

import io

from pipeline import progress


def test_silent_without_a_reporter():
    assert type(progress.current()) is progress.Reporter
    progress.current().task("read", "x", 3, "files")  # no output, no error
    progress.current().advance("read")


def test_plain_lines_for_steps_and_tasks():
    out = io.StringIO()
    with progress.reporting(out, live=False) as r:
        assert progress.current() is r
        r.step("validated_submissions")
        r.task("read", "读取文件 read files", 3, "files")
        r.advance("read", 2)
        r.advance("read")
        r.step("validated_submissions")  # the same step again: nothing said
        r.step("fund_reconciliation")
    assert type(progress.current()) is progress.Reporter  # restored
    lines = out.getvalue().splitlines()
    assert lines[0] == "[进度 progress] validated_submissions 开始 started"
    assert lines[1].startswith("[进度 progress] 读取文件 read files: 3/3 files (")  # 2/3 came too soon to be said
    assert lines[2].startswith("[进度 progress] validated_submissions 完成 done in ")
    assert lines[3] == "[进度 progress] fund_reconciliation 开始 started"
    assert lines[4].startswith("[进度 progress] fund_reconciliation 完成 done in ")  # closed with the run
    assert len(lines) == 5


def test_live_reporter_draws_on_a_terminal_stream():
    out = io.StringIO()
    with progress.reporting(out, live=True) as r:
        r.step("validated_submissions")
        r.task("validate", "校验行 validate rows", 10, "rows")
        r.advance("validate", 10)
    text = out.getvalue()
    assert "validated_submissions" in text and "10/10" in text
