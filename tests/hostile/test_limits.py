"""The default limits leave at least 4× headroom for the largest legitimate files of a national evaluation.

The national synthetic evaluation (`python -m pipeline synth`, 2,850 county workbooks, the same
generator `make bench` measures) is read with every size limit at a quarter of its default: if
every file is still accepted, each legitimate file uses at most a quarter of each limit.
"""

from __future__ import annotations

import subprocess
import sys

import yaml

from pipeline.limits import Limits

SIZE_LIMITS = (
    "max_file_mb",
    "max_inflated_mb",
    "max_rows",
    "max_columns",
    "max_cells",
    "max_line_kb",
    "max_cell_chars",
)


def test_every_national_file_passes_a_quarter_of_each_default_limit(tmp_path):
    from pipeline import evaluation
    from pipeline.ingest.stage import ingest

    raw = tmp_path / "raw"
    # As documented, in its own process: one with no other thread writes the workbooks on every core.
    subprocess.run([sys.executable, "-m", "pipeline", "synth", "--out", str(raw / "national")], check=True)
    defaults = Limits()
    quarter = {name: getattr(defaults, name) // 4 for name in SIZE_LIMITS}
    path = raw / "national" / "evaluation.yaml"
    meta = yaml.safe_load(path.read_text(encoding="utf-8"))
    meta.setdefault("settings", {})["limits"] = quarter
    path.write_text(yaml.safe_dump(meta, allow_unicode=True, sort_keys=False), encoding="utf-8")
    ev = evaluation.find(raw, "national")
    assert ev.limits == defaults.model_copy(update=quarter)
    result = ingest(ev, raw)
    assert len(result.inventory) == 2850 + 11
    assert (result.inventory["status"] == "accepted").all(), result.quarantine.head(20).to_dict("records")
    assert result.rows["read"] == result.rows["accepted"] > 2_000_000
