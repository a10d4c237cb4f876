"""Tools around the pipeline, not part of it: the synthetic national evaluation, the benchmark, and the
builders of the example evaluations' raw folders.

Nothing here is imported by the pipeline. ``python -m pipeline <tool> …`` imports a tool only when it
is the command given, so the other commands never pay for pandas and the generators.
"""

# command → (module, one-line help); each module has ``main(argv) -> int`` with its own arguments.
TOOLS = {
    "bench": ("pipeline.tools.bench", "national-scale benchmark: stages, full run, DuckDB reference, nightly runs"),
    "bench-queue": (
        "pipeline.tools.bench_queue",
        "many Hohhot-sized evaluations through the Dagster run queue on PostgreSQL: wall time per evaluation",
    ),
    "synth": ("pipeline.tools.synth", "write a synthetic evaluation folder (national scale by default), deterministic"),
}
