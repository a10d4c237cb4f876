"""Stage 1 — raw submissions → validated tables (one per submission kind) + quarantine."""

from pathlib import Path

import dagster as dg

from pipeline import progress, sidecar
from pipeline.checks import rows
from pipeline.contract import KINDS
from pipeline.defs.assets.raw import raw_submissions
from pipeline.defs.checks import check_result, pandera_check_spec, schema_check_result, schema_check_spec
from pipeline.defs.io_manager import CONTENT_KEY
from pipeline.defs.metadata import input_metadata, table_metadata
from pipeline.defs.partitions import evaluations
from pipeline.defs.quality import advance_suites
from pipeline.defs.resources import PipelinePaths
from pipeline.fingerprint import evaluation_fingerprint
from pipeline.ingest import checks
from pipeline.ingest.stage import ingest
from pipeline.tables import TABLES

GROUP = "ingest"

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
        **{
            k.name: dg.AssetOut(
                description=f"{k.description} Validated rows; bad rows are in quarantine.",
                group_name=GROUP,
                io_manager_key="io_manager",
            )
            for k in KINDS.values()
        },
        **{name: dg.AssetOut(description=desc, group_name=GROUP) for name, desc in OTHER_OUTS.items()},
    },
    check_specs=[pandera_check_spec(k) for k in KINDS.values()]
    + [
        dg.AssetCheckSpec(
            "rows_accounted",
            asset="submission_inventory",
            blocking=True,
            description="For every file: rows read = rows accepted + rows quarantined.",
        ),
        dg.AssetCheckSpec(
            "lines_accounted",
            asset="sheet_inventory",
            blocking=True,
            description="For every sheet: lines = title + header + blank + accepted + quarantined lines.",
        ),
    ]
    + [schema_check_spec(name) for name in OTHER_OUTS if name in TABLES],
    partitions_def=evaluations,
    deps=[raw_submissions],
    can_subset=False,
)
def validated_submissions(context: dg.AssetExecutionContext, paths: PipelinePaths):
    """Read every submission of the evaluation, validate it against the contract, quarantine bad rows."""
    progress.current().step("validated_submissions")
    sidecar.start()  # imports GX on the other core while this step reads and validates
    ev = paths.evaluation(context.partition_key)
    result = ingest(
        ev,
        Path(paths.raw_root),
        cache_dir=paths.cache_dir(context.partition_key, "read"),
        partials_dir=paths.cache_dir(context.partition_key, "validated"),
    )
    # Record what was read as an observation of the raw folder: its data version is the content hash.
    context.log_event(
        dg.AssetObservation(
            asset_key=raw_submissions.key,
            partition=context.partition_key,
            tags={"dagster/data_version": evaluation_fingerprint(ev.folder)},
            metadata={"submission_files": len(result.inventory)},
        )
    )
    hashes = dict(zip(result.inventory["file"], result.inventory["sha256"]))
    for kind in KINDS.values():
        df = result.tables[kind.name]
        files = sorted(df["file"].unique()) if len(df) else []
        metadata = table_metadata(df, model=kind.model, input_hashes={f: hashes[f] for f in files})
        if kind.name in result.contents:  # the same key, the same rows: the I/O manager may link the published file
            metadata[CONTENT_KEY] = dg.MetadataValue.text(result.contents[kind.name])
        yield dg.Output(df, output_name=kind.name, metadata=metadata)
    # The submission tables are stored: their GX suites can start in the sidecar while the funds are reconciled.
    advance_suites(context, paths, ev, None)
    found = [checks.contract(kind, result.tables[kind.name]) for kind in KINDS.values()]
    found += [checks.rows_accounted(result.inventory), checks.lines_accounted(result.sheets)]
    yield from (check_result(c) for c in found)
    tables = {
        "quarantine": result.quarantine,
        "submission_inventory": result.inventory,
        "sheet_inventory": result.sheets,
        "missing_submissions": result.missing,
        "ingest_findings": result.findings,
        "ingest_checks": rows(found),
    }
    extra: dict[str, dict[str, dg.MetadataValue | int]] = {
        "quarantine": {
            "rows_quarantined": dg.MetadataValue.int(result.rows["quarantined"]),
            "files_rejected": dg.MetadataValue.int(result.files["rejected"]),
        },
        "submission_inventory": {
            "rows_read": result.rows["read"],
            "rows_accepted": result.rows["accepted"],
            "rows_quarantined": result.rows["quarantined"],
            "partials_reused": dg.MetadataValue.int(result.partials["reused"]),
            "partials_computed": dg.MetadataValue.int(result.partials["computed"]),
            **input_metadata(hashes),
        },
        "sheet_inventory": {"lines": int(result.sheets["lines"].sum())},
    }
    for name, df in tables.items():
        yield dg.Output(df, output_name=name, metadata={**table_metadata(df, name), **extra.get(name, {})})
        yield schema_check_result(name, df)
