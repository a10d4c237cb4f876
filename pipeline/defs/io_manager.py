"""Tables live in one DuckDB file per evaluation, and are exported as CSV beside ``summary.json``.

``OUT/<evaluation_id>/pipeline.duckdb`` holds every table asset under its asset name, money as
BIGINT 分, so an auditor can query the run with SQL. ``OUT/<evaluation_id>/<name>.csv`` is the same
table, formula-escaped, byte-identical across reruns. Small non-table values (dicts)
are kept as sorted JSON under ``OUT/<evaluation_id>/values/``.
"""


import json
import shutil
from pathlib import Path
from typing import Optional

import dagster as dg
import duckdb
import pandas as pd

from pipeline.defs.resources import PipelinePaths

DB_FILE = "pipeline.duckdb"


def _typed(df: pd.DataFrame) -> pd.DataFrame:
    """Give all-missing object columns a text type, so DuckDB never has to guess from nothing."""
    out = df.copy()
    for c in out.columns:
        if out[c].dtype == object and out[c].isna().all():
            out[c] = out[c].astype("string")
    return out


def write_table(db_path: Path, name: str, df: pd.DataFrame, csv_path: Optional[Path] = None) -> None:
    """Store ``df`` as table ``name``; optionally export it as CSV from DuckDB (fast for millions of rows)."""
    with duckdb.connect(str(db_path)) as con:
        con.execute("SET enable_progress_bar = false")
        con.register("frame", _typed(df))
        con.execute(f'CREATE OR REPLACE TABLE "{name}" AS SELECT * FROM frame')
        con.unregister("frame")
        if csv_path is not None:
            export_csv(con, name, csv_path)


FORMULA_START = r"^[=+\-@\t\r]"  # as report.safe.FORMULA_TRIGGERS


def export_csv(con: duckdb.DuckDBPyConnection, name: str, path: Path) -> None:
    """CSV with the guarantees of ``report.safe.csv_bytes``, written by DuckDB.

    UTF-8 with a BOM, newline line ends, text cells that would start a formula escaped with an
    apostrophe (numbers untouched), dates as YYYY-MM-DD. Rows keep their order, so the same table
    always gives the same bytes.
    """
    columns = con.execute(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = ? ORDER BY ordinal_position",
        [name]).fetchall()
    select = []
    for column, dtype in columns:
        q = '"' + column.replace('"', '""') + '"'
        if dtype == "VARCHAR" or dtype.startswith("ENUM"):
            text = f"CAST({q} AS VARCHAR)"
            select.append(f"CASE WHEN regexp_matches({text}, '{FORMULA_START}') THEN chr(39) || {text} "
                          f"ELSE {text} END AS {q}")
        elif dtype.startswith("TIMESTAMP"):
            select.append(f"CAST({q} AS DATE) AS {q}")
        else:
            select.append(q)
    tmp = path.with_name(path.name + ".tmp")
    con.execute(f"COPY (SELECT {', '.join(select)} FROM \"{name}\") TO '{tmp}' (HEADER, DELIMITER ',')")
    with path.open("wb") as out, tmp.open("rb") as body:
        out.write(b"\xef\xbb\xbf")  # Excel reads UTF-8 Chinese only after a BOM
        shutil.copyfileobj(body, out, 1 << 20)
    tmp.unlink()


def read_table(db_path: Path, name: str) -> pd.DataFrame:
    with duckdb.connect(str(db_path), read_only=True) as con:
        # DuckDB 2 returns BIGINT with NULLs as nullable Int64, never as float.
        return con.execute(f'SELECT * FROM "{name}"').df()


class EvaluationIOManager(dg.ConfigurableIOManager):
    """Stores each partition's (evaluation's) table assets in its DuckDB file and CSV exports."""

    paths: PipelinePaths

    def _where(self, context: dg.OutputContext | dg.InputContext) -> tuple[Path, str]:
        evaluation_id = context.asset_partition_key
        return self.paths.out_dir(evaluation_id), context.asset_key.path[-1]

    def handle_output(self, context: dg.OutputContext, obj) -> None:
        out, name = self._where(context)
        if isinstance(obj, pd.DataFrame):
            # Intermediate tables that a unified table repeats (the stages' lineage) stay in DuckDB only.
            export = (context.definition_metadata or {}).get("csv_export", True)
            write_table(out / DB_FILE, name, obj, out / f"{name}.csv" if export else None)
        else:
            (out / "values").mkdir(exist_ok=True)
            (out / "values" / f"{name}.json").write_text(
                json.dumps(obj, ensure_ascii=False, indent=2, sort_keys=True, default=str) + "\n", encoding="utf-8")

    def load_input(self, context: dg.InputContext):
        out, name = self._where(context)
        json_path = out / "values" / f"{name}.json"
        if json_path.exists() and not (out / f"{name}.csv").exists():
            return json.loads(json_path.read_text(encoding="utf-8"))
        return read_table(out / DB_FILE, name)
