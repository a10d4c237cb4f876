"""Stage 0 — the raw submission folders, observed: each evaluation's data version is its content hash."""

import warnings
from pathlib import Path

import dagster as dg

from pipeline import evaluation
from pipeline.defs.partitions import evaluations
from pipeline.defs.resources import PipelinePaths
from pipeline.fingerprint import evaluation_fingerprint

# observable_source_asset is marked beta; it is the documented way to version raw files.
warnings.filterwarnings("ignore", category=dg.BetaWarning)


@dg.observable_source_asset(
    partitions_def=evaluations,
    group_name="raw",
    description="原始报送 — the evaluation folder under the raw root (submissions and configuration); "
    "its data version is the SHA-256 over every file, so unchanged folders show as up to date.",
)
def raw_submissions(context, paths: PipelinePaths) -> dg.DataVersionsByPartition:
    known = set(context.instance.get_dynamic_partitions(evaluations.name))
    return dg.DataVersionsByPartition(
        {
            ev.id: dg.DataVersion(evaluation_fingerprint(ev.folder))
            for ev in evaluation.discover(Path(paths.raw_root))
            if ev.id in known
        }
    )
