"""Reruns are byte-identical; the manifest, trace, what-if and template commands work on the real data."""

import json
import subprocess
import sys

import openpyxl
import pandas as pd

from pipeline.manifest import HISTORY, MANIFEST
from pipeline.store import DB_RECORD
from tests.support import HOHHOT, RAW, ROOT

# Not byte-identical by nature: the database, GX's Data Docs, logs, and what describes them (which asset wrote
# which file; the database's SHA-256, which the next run checks before it starts from that database).
UNHASHED_TOPS = {"pipeline.duckdb", DB_RECORD, "data_docs", "logs", ".assets", HISTORY, MANIFEST}


def _deterministic_files(out_dir):
    return sorted(
        p.relative_to(out_dir).as_posix()
        for p in out_dir.rglob("*")
        if p.is_file() and p.relative_to(out_dir).parts[0] not in UNHASHED_TOPS
    )


def test_a_rerun_gives_byte_identical_outputs_and_manifest(hohhot_run, tmp_path):
    from pipeline.materialize import materialize_evaluation

    again = materialize_evaluation(HOHHOT, raw_root=str(RAW), out_root=str(tmp_path))
    first, second = hohhot_run.out_dir, again.out_dir
    files = _deterministic_files(first)
    assert files == _deterministic_files(second)
    assert {
        "report.html",
        "report.docx",
        "scored_tables.xlsx",
        "summary.json",
        "lineage.parquet",
        "lineage.csv",
        "quarantine.csv",
    } <= set(files)
    different = [f for f in files if (first / f).read_bytes() != (second / f).read_bytes()]
    assert different == []
    assert (first / MANIFEST).read_bytes() == (second / MANIFEST).read_bytes()


def test_manifest_records_inputs_configuration_code_and_outputs(hohhot_run, hohhot_summary):
    m = json.loads((hohhot_run.out_dir / MANIFEST).read_text(encoding="utf-8"))
    inventory = pd.read_csv(hohhot_run.out_dir / "submission_inventory.csv", encoding="utf-8-sig")
    assert m["inputs"] == dict(zip(inventory["file"], inventory["sha256"]))
    assert "frameworks/third_party.yaml" in m["configuration"]["files"] and len(m["configuration"]["sha256"]) == 64
    assert m["code_version"].startswith(("git:", "package:"))
    assert {"python", "dagster", "pandas", "pandera", "great-expectations"} <= set(m["versions"])
    for key, art in hohhot_summary["artifacts"].items():
        assert m["outputs"][art["path"]] == art["sha256"], key
    assert m["outputs_not_hashed"] == ["data_docs/", "pipeline.duckdb"]
    history = list((hohhot_run.out_dir / HISTORY).glob("manifest-*.json"))
    assert any(h.read_bytes() == (hohhot_run.out_dir / MANIFEST).read_bytes() for h in history)


def _cli(*args):
    return subprocess.run(
        [sys.executable, "-m", "pipeline", *args], cwd=ROOT, capture_output=True, text=True, timeout=600
    )


def test_trace_county_received_lists_the_county_rows_and_files(hohhot_run):
    proc = _cli("trace", "--out", str(hohhot_run.out_dir.parent), "--json", "funds.by_source.county.received")
    assert proc.returncode == 0, proc.stderr
    t = json.loads(proc.stdout)
    assert t["value"] == "500.00"
    assert sorted(r["file"] for r in t["rows"]) == [
        f"raw/{HOHHOT}/county/{c}.xlsx" for c in ("150105", "150121", "150122", "150123", "150125")
    ]
    assert {(r["sheet"], r["row"], r["kind"]) for r in t["rows"]} == {("资金到位", 4, "county_receipts")}
    inventory = pd.read_csv(hohhot_run.out_dir / "submission_inventory.csv", encoding="utf-8-sig")
    sha = dict(zip("raw/" + inventory["file"], inventory["sha256"]))
    assert all(r["sha256"] == sha[r["file"]] for r in t["rows"])


def test_trace_of_an_indicator_computed_from_the_reconciliation_reaches_fund_rows(hohhot_run, hohhot_summary):
    code = next(c for c, v in hohhot_summary["indicators"]["by_code"].items() if v["name"] == "资金到位率")
    proc = _cli("trace", "--out", str(hohhot_run.out_dir.parent), "--json", f"indicators.by_code.{code}.score")
    assert proc.returncode == 0, proc.stderr
    kinds = {r["kind"] for r in json.loads(proc.stdout)["rows"]}
    assert {"fund_plan", "receipts", "county_receipts"} <= kinds


def test_trace_text_and_a_path_that_is_not_in_the_summary(hohhot_run):
    out = str(hohhot_run.out_dir.parent)
    text = _cli("trace", "--out", out, "score.total")
    assert text.returncode == 0 and text.stdout.startswith('score.total = "84.88"') and "sha256" in text.stdout
    bad = _cli("trace", "--out", out, "funds.by_source.nowhere.received")
    assert bad.returncode == 2 and "nowhere" in bad.stderr


def test_what_if_moves_the_total_and_writes_nothing(tmp_path):
    before = sorted(p for p in (ROOT / "raw").rglob("*"))
    proc = _cli("score", "--evaluation", HOHHOT, "--set", "certificate_rate=60")
    assert proc.returncode == 0, proc.stderr
    assert "总分 / total: 84.88 → 85.23" in proc.stdout and "等级 / grade: 良 → 良" in proc.stdout
    assert sorted(p for p in (ROOT / "raw").rglob("*")) == before
    assert _cli("score", "--evaluation", HOHHOT, "--set", "no_such_code=1").returncode == 2


def test_templates_have_chinese_headers_notes_and_registry_dropdowns(tmp_path):
    proc = _cli("templates", "--evaluation", HOHHOT, str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    wb = openpyxl.load_workbook(tmp_path / "county" / "旗县区编码.xlsx")
    assert {"配套计划", "资金到位", "资金支出", "指标完成值", "档案清单"} <= set(wb.sheetnames)
    ws = wb["资金支出"]
    assert [c.value for c in ws[3]][:3] == ["支付单号", "支付日期", "资金来源"]
    assert "单位：万元" in " ".join(str(c.value) for c in ws[2] if c.value)
    lists = [dv.formula1 for dv in ws.data_validations.dataValidation]
    assert any(f.startswith('"1,2,3,') and f.endswith(',19"') for f in lists)  # sub-project codes from the registry
    assert any("中央资金" in f for f in lists)  # funding sources
    # A template filled in is read back by the pipeline as it is.
    assert _cli("check", "--evaluation", HOHHOT, str(tmp_path / "bureau" / "payments.xlsx")).returncode == 0
