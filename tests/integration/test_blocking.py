"""A failed blocking check stops what depends on it, and `run` says so and exits non-zero."""

import dataclasses

from pipeline import reconcile
from pipeline.materialize import materialize_evaluation, print_summary
from tests.support import HOHHOT, RAW


def test_a_failed_identity_check_blocks_the_report(tmp_path, monkeypatch, capsys):
    real = reconcile.identity_checks

    def broken(rec, tables):  # as if a bug made two levels disagree
        return [
            dataclasses.replace(c, passed=False, detail="injected") if c.name == "levels_sum_to_same_totals" else c
            for c in real(rec, tables)
        ]

    monkeypatch.setattr(reconcile, "identity_checks", broken)
    outcome = materialize_evaluation(HOHHOT, raw_root=str(RAW), out_root=str(tmp_path))
    assert not outcome.success
    assert outcome.failed_checks == ["funds_by_source:levels_sum_to_same_totals"]
    assert not (outcome.out_dir / "report.html").exists()  # nothing downstream of the failed check ran
    assert not (outcome.out_dir / "summary.json").exists()
    print_summary(outcome)
    out = capsys.readouterr().out
    assert "失败 / FAILED" in out and "levels_sum_to_same_totals" in out
