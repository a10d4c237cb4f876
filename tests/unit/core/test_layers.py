"""The package's rooms: imports only run downward. The domain (stages and shared core) knows nothing of
Dagster or of the wiring in ``pipeline/defs``; the wiring knows nothing of the entry points; nothing in
the product imports the tools (only the command line, which runs them). Imports are read from the source (lazy imports inside functions count).
"""

import ast
from pathlib import Path

from pipeline import codeversion

PACKAGE = Path(codeversion.__file__).resolve().parent

# Top to bottom; a module may import its own layer and the layers below it.
COMMAND = {"pipeline.__main__", "pipeline.cli"}
ENTRY = {  # Dagster: the code location, runs, and how runs start
    "pipeline.materialize",
    "pipeline.definitions",
    "pipeline.health",
    "pipeline.launcher",
    "pipeline.zygote",
}


def layer(module: str) -> str:
    if module in COMMAND:
        return "command"
    if module.startswith("pipeline.tools"):
        return "tools"
    if module in ENTRY:
        return "entry"
    if module == "pipeline.defs" or module.startswith("pipeline.defs."):
        return "wiring"
    return "domain"


RANK = {"command": 4, "tools": 3, "entry": 2, "wiring": 1, "domain": 0}


def modules() -> list[str]:
    out = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        out.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return out


def third_party(module: str) -> set[str]:
    """Top-level names of the non-pipeline modules ``module`` imports (anywhere in it)."""
    tree = ast.parse(codeversion.module_file(module).read_bytes())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            names.add(node.module.split(".")[0])
    return names - {"pipeline"}


def upward(graph: dict[str, frozenset[str]]) -> list[str]:
    return [
        f"{m} ({layer(m)}) imports {d} ({layer(d)})"
        for m, deps in sorted(graph.items())
        for d in sorted(deps)
        if RANK[layer(d)] > RANK[layer(m)]
    ]


def test_imports_never_run_up_a_layer():
    graph = {m: codeversion.imports(m) for m in modules()}
    assert {layer(m) for m in graph} == set(RANK)
    assert "pipeline.tables" in graph["pipeline.reconcile"]  # the walk sees real edges
    assert not upward(graph), "\n".join(upward(graph))


def test_an_upward_import_is_caught_even_inside_a_function():
    # A domain module importing the wiring lazily, as pipeline/scoring/x.py with
    # ``def f(): from pipeline.defs.partitions import evaluations`` would be read:
    graph = {
        "pipeline.scoring.x": frozenset({"pipeline.defs.partitions", "pipeline.tables"}),
        "pipeline.defs.assets.scoring": frozenset({"pipeline.scoring.x"}),
    }
    assert upward(graph) == ["pipeline.scoring.x (domain) imports pipeline.defs.partitions (wiring)"]


def test_only_the_wiring_and_entry_points_import_dagster():
    offenders = [m for m in modules() if layer(m) in ("domain", "tools") and "dagster" in third_party(m)]
    assert not offenders
