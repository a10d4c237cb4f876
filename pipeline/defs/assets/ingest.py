"""Stage 1 — raw submissions → validated tables (one per submission kind) + quarantine."""


from pathlib import Path

import dagster as dg
import pandas as pd

from pipeline.contract import KINDS
from pipeline.defs.checks import pandera_check_result, pandera_check_spec
from pipeline.defs.metadata import table_metadata
from pipeline.defs.assets.raw import raw_submissions
from pipeline.defs.partitions import evaluations
from pipeline.defs.resources import PipelinePaths
from pipeline.fingerprint import evaluation_fingerprint
from pipeline.ingest.run import Ingested, ingest

GROUP = "ingest"
CODE_VERSION = "ingest-1"

OTHER_OUTS = {
    "quarantine": "隔离记录 — one record per failing cell and rule (file, sheet, row, column, rule, value, Chinese message); file-level records have no row.",
    "submission_inventory": "报送文件清单 — every entry of the submission folders with its SHA-256, submitter, format, status (accepted / partial / rejected / unrecognised 未识别), lines, and rows read / accepted / quarantined.",
    "sheet_inventory": "工作表清单 — every sheet (or CSV) read, line by line: lines = title + header + blank + accepted + quarantined lines.",
    "missing_submissions": "未提交清单 — expected submissions (county workbooks, bureau department files) that were not received.",
    "ingest_findings": "数据质量发现 — findings from ingest: missing submissions (未提交), rejected files, quarantined rows, format warnings.",
    "ingest_checks": "校验结果 — the outcome of every ingest check (each table's pandera contract, rows accounted) as rows, for the report's data-quality appendix.",
}


OUTPUT_NAMES = [*KINDS, *OTHER_OUTS]


@dg.multi_asset(
    outs={
        **{k.name: dg.AssetOut(description=f"{k.description} Validated rows; bad rows are in quarantine.",
                               group_name=GROUP, code_version=CODE_VERSION, io_manager_key="io_manager")
           for k in KINDS.values()},
        **{name: dg.AssetOut(description=desc, group_name=GROUP, code_version=CODE_VERSION)
           for name, desc in OTHER_OUTS.items()},
    },
    check_specs=[pandera_check_spec(k) for k in KINDS.values()] + [
        dg.AssetCheckSpec("rows_accounted", asset="submission_inventory", blocking=True,
                          description="For every file: rows read = rows accepted + rows quarantined."),
        dg.AssetCheckSpec("lines_accounted", asset="sheet_inventory", blocking=True,
                          description="For every sheet: lines = title + header + blank + accepted + quarantined lines."),
    ],
    partitions_def=evaluations,
    deps=[raw_submissions],
    can_subset=False,
)
def validated_submissions(context: dg.AssetExecutionContext, paths: PipelinePaths):
    """Read every submission of the evaluation, validate it against the contract, quarantine bad rows."""
    ev = paths.evaluation(context.partition_key)
    result = ingest(ev, Path(paths.raw_root), cache_dir=paths.cache_dir(context.partition_key, "read"))
    # Record what was read as an observation of the raw folder: its data version is the content hash.
    context.log_event(dg.AssetObservation(
        asset_key=raw_submissions.key, partition=context.partition_key,
        tags={"dagster/data_version": evaluation_fingerprint(ev.folder)},
        metadata={"submission_files": len(result.inventory)},
    ))
    hashes = dict(zip(result.inventory["file"], result.inventory["sha256"]))
    checks = []
    for kind in KINDS.values():
        df = result.tables[kind.name]
        files = sorted(df["file"].unique()) if len(df) else []
        yield dg.Output(df, output_name=kind.name, metadata=table_metadata(
            df, kind.model, input_hashes={f: hashes[f] for f in files}))
        checks.append(pandera_check_result(kind, df))
    checks.append(rows_accounted(result.inventory))
    checks.append(lines_accounted(result.sheets))
    yield from checks
    yield from _other_outputs(result, hashes)
    yield dg.Output(check_rows(checks), output_name="ingest_checks")


def _other_outputs(result: Ingested, hashes: dict[str, str]):
    q = result.quarantine
    yield dg.Output(q, output_name="quarantine", metadata={
        **table_metadata(q), "rows_quarantined": dg.MetadataValue.int(result.rows["quarantined"]),
        "files_rejected": dg.MetadataValue.int(result.files["rejected"]),
    })
    inv = result.inventory
    yield dg.Output(inv, output_name="submission_inventory", metadata={
        **table_metadata(inv, input_hashes=hashes),
        "rows_read": result.rows["read"], "rows_accepted": result.rows["accepted"],
        "rows_quarantined": result.rows["quarantined"],
    })
    yield dg.Output(result.sheets, output_name="sheet_inventory", metadata={
        **table_metadata(result.sheets), "lines": int(result.sheets["lines"].sum())})
    yield dg.Output(result.missing, output_name="missing_submissions", metadata=table_metadata(result.missing))
    yield dg.Output(result.findings, output_name="ingest_findings", metadata=table_metadata(result.findings))


def check_rows(results: list[dg.AssetCheckResult]) -> pd.DataFrame:
    """Check results as table rows (check, passed, detail) for the data-quality appendix."""
    return pd.DataFrame({
        "check": [f"{r.asset_key.to_user_string()}:{r.check_name}" for r in results],
        "passed": [bool(r.passed) for r in results],
        "detail": [", ".join(f"{k}={v.value}" for k, v in r.metadata.items()
                             if isinstance(v.value, (int, str)) and len(str(v.value)) < 80) for r in results],
    })


def rows_accounted(inventory: pd.DataFrame) -> dg.AssetCheckResult:
    """Nothing lost: per file, rows read = accepted + quarantined (a rejected file's rows are all quarantined)."""
    diff = inventory[inventory["rows_read"] != inventory["rows_accepted"] + inventory["rows_quarantined"]]
    return dg.AssetCheckResult(
        check_name="rows_accounted", asset_key="submission_inventory", passed=diff.empty,
        metadata={
            "files_checked": len(inventory),
            "rows_read": int(inventory["rows_read"].sum()),
            "rows_accepted": int(inventory["rows_accepted"].sum()),
            "rows_quarantined": int(inventory["rows_quarantined"].sum()),
            "files_unbalanced": dg.MetadataValue.json(diff[["file", "rows_read", "rows_accepted", "rows_quarantined"]].to_dict("records")),
        },
    )


def lines_accounted(sheets: pd.DataFrame) -> dg.AssetCheckResult:
    """Nothing vanishes: per sheet, every physical line is a title, header, blank, accepted or quarantined line."""
    parts = sheets[["lines_title", "lines_header", "lines_blank", "lines_accepted", "lines_quarantined"]].sum(axis=1)
    diff = sheets[sheets["lines"] != parts]
    return dg.AssetCheckResult(
        check_name="lines_accounted", asset_key="sheet_inventory", passed=diff.empty,
        metadata={
            "sheets_checked": len(sheets), "lines": int(sheets["lines"].sum()),
            "lines_structural": int(sheets[["lines_title", "lines_header", "lines_blank"]].sum().sum()),
            "lines_accepted": int(sheets["lines_accepted"].sum()),
            "lines_quarantined": int(sheets["lines_quarantined"].sum()),
            "sheets_unbalanced": dg.MetadataValue.json(diff[["file", "sheet", "lines"]].to_dict("records")),
        },
    )
