"""Where the raw submissions are read from and the outputs are written to."""

import os
from pathlib import Path

import dagster as dg

from pipeline import evaluation, outputs
from pipeline.defs.instance import hold_connections, remember_yes
from pipeline.defs.interrupts import keep_interrupts


class PipelinePaths(dg.ConfigurableResource):
    """Raw root (evaluation folders) and output root (``OUT/<evaluation_id>/``, a published output set)."""

    raw_root: str = os.environ.get("PIPELINE_RAW_ROOT", "raw")
    out_root: str = os.environ.get("PIPELINE_OUT_ROOT", "out")

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        # Every asset takes this resource, so a run sets it up before its first step: the run's instance
        # keeps its PostgreSQL connections from here on (pipeline.defs.instance). A sensor's or a schedule's
        # tick (no run) keeps Dagster's behaviour. The run's instance also remembers the tables and the
        # partition it was told exist, instead of asking again for every step input and output. An interrupt
        # (the UI's Terminate) that lands in a finalizer is kept for the next step boundary (pipeline.defs.interrupts).
        if context.run is not None:
            hold_connections(context.instance)
            remember_yes(context.instance)
            keep_interrupts()

    def evaluation(self, evaluation_id: str) -> evaluation.Evaluation:
        return evaluation.find(Path(self.raw_root), evaluation_id)

    def out_dir(self, evaluation_id: str) -> Path:
        """The evaluation's published outputs (``OUT/<evaluation_id>``, a link to the last complete set)."""
        return Path(self.out_root) / evaluation_id

    def run_dir(self, evaluation_id: str, run_id: str) -> Path:
        """The run's own output set, where every step of the run writes (taking the evaluation's lock)."""
        return outputs.staging(Path(self.out_root), evaluation_id, run_id)

    def cache_dir(self, evaluation_id: str, name: str) -> Path:
        return outputs.cache_dir(Path(self.out_root), evaluation_id, name)
