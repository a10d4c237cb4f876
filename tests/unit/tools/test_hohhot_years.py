"""The Hohhot raw folders are rebuilt by their tools byte for byte: the 2023 reconstruction and its illustrative
second year (pipeline/tools/hohhot_raw.py, pipeline/tools/hohhot_2024.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

from pipeline.tools import hohhot_2024, hohhot_raw
from tests.support import HOHHOT, RAW

SECOND_YEAR = "2024-hohhot-pes"


def files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_the_2023_builder_writes_the_committed_submissions(tmp_path):
    hohhot_raw.main(tmp_path / HOHHOT)
    written = files(tmp_path / HOHHOT)
    committed = files(RAW / HOHHOT)
    assert len(written) == 21 and all(committed[rel] == data for rel, data in written.items())  # every submission


def test_the_2024_tool_rebuilds_the_committed_folder(tmp_path, monkeypatch):
    source = tmp_path / "raw" / HOHHOT
    for rel in ("evaluation.yaml", *hohhot_2024.COPIED):
        (source / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(RAW / HOHHOT / rel, source / rel)
    monkeypatch.chdir(tmp_path)
    hohhot_2024.main()
    assert files(tmp_path / "raw" / SECOND_YEAR) == files(RAW / SECOND_YEAR)


def test_the_second_year_is_the_same_programme_with_some_indicators_met():
    rows = {r["indicator_code"]: r for dept in hohhot_2024.bureau_indicators().values() for r in dept}
    assert {c: rows[c]["actual"] for c in hohhot_2024.ACTUALS_2024} == hohhot_2024.ACTUALS_2024
    assert all(rows[c]["data_status"] == "已采集" and not rows[c]["deviation_reason"] for c in hohhot_2024.ACTUALS_2024)
    text = (RAW / SECOND_YEAR / "evaluation.yaml").read_text(encoding="utf-8")
    assert "programme_id: hohhot-pes" in text and "start: 2024-01-01" in text
    assert "示例" in (RAW / SECOND_YEAR / "README.md").read_text(encoding="utf-8")
