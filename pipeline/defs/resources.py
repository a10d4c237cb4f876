"""Where the raw submissions are read from and the outputs are written to."""


import os
from pathlib import Path

import dagster as dg

from pipeline import evaluation


class PipelinePaths(dg.ConfigurableResource):
    """Raw root (evaluation folders) and output root (``OUT/<evaluation_id>/``)."""

    raw_root: str = os.environ.get("PIPELINE_RAW_ROOT", "raw")
    out_root: str = os.environ.get("PIPELINE_OUT_ROOT", "out")

    def evaluation(self, evaluation_id: str) -> evaluation.Evaluation:
        return evaluation.find(Path(self.raw_root), evaluation_id)

    def out_dir(self, evaluation_id: str) -> Path:
        path = Path(self.out_root) / evaluation_id
        path.mkdir(parents=True, exist_ok=True)
        return path
