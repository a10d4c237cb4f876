"""``pipeline.duckdb`` loaded table by table during the run (``store.build_early``) equals a fresh build."""

from __future__ import annotations

import time
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from pipeline import store

TABLES = {
    "funds": pd.DataFrame({"county": ["150102", "150103"], "spent_fen": [1250000, 3]}),
    "notes": pd.DataFrame({"text": ["=SUM(A1)", "正常"]}),
    "gone": pd.DataFrame({"x": [1]}),
}


def contents(path) -> dict[str, list[tuple]]:
    with duckdb.connect(str(path), read_only=True) as con:
        names = [n for (n,) in con.execute("SELECT table_name FROM information_schema.tables ORDER BY 1").fetchall()]
        return {n: con.execute(f"SELECT * FROM {store._identifier(n)}").fetchall() for n in names}


def temporaries(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(f".{store.DB_FILE}"))


def test_tables_loaded_early_then_rewritten_carried_over_or_removed_give_the_fresh_build(tmp_path, caplog):
    early, fresh = tmp_path / "early", tmp_path / "fresh"
    for name, df in TABLES.items():
        store.build_early(early, store.write_table(early, name, df))
    # After the early load: one table written again, one arriving without the hook (carried over), one removed.
    changed = TABLES["funds"].assign(spent_fen=[1250000, 4])
    store.write_table(early, "funds", changed)
    store.write_table(early, "carried", pd.DataFrame({"y": ["a", "b", "c"]}))
    (early / store.TABLES / "gone.parquet").unlink()
    store.build_database(early)

    for name, df in {
        "funds": changed,
        "notes": TABLES["notes"],
        "carried": pd.DataFrame({"y": ["a", "b", "c"]}),
    }.items():
        store.write_table(fresh, name, df)
    store.build_database(fresh)

    assert not caplog.records  # finished from the early load, not written again after a failure
    assert contents(early / store.DB_FILE) == contents(fresh / store.DB_FILE)
    assert contents(early / store.DB_FILE)["funds"] == [("150102", 1250000), ("150103", 4)]
    assert temporaries(early) == []


def test_a_table_that_fails_to_load_early_is_loaded_again_at_the_end(tmp_path, caplog):
    folder = tmp_path / "set"
    store.write_table(folder, "funds", TABLES["funds"])
    broken = folder / store.TABLES / "notes.parquet"
    broken.write_bytes(b"not parquet")
    store.build_early(folder, folder / store.TABLES / "funds.parquet")
    store.build_early(folder, broken)  # fails on the background thread
    store.write_table(folder, "notes", TABLES["notes"])  # the real file arrives

    store.build_database(folder)

    assert set(contents(folder / store.DB_FILE)) == {"funds", "notes"}
    assert temporaries(folder) == []
    assert not caplog.records


def test_an_abandoned_early_database_leaves_no_file_and_the_set_builds_fresh(tmp_path):
    folder = tmp_path / "set"
    store.build_early(folder, store.write_table(folder, "funds", TABLES["funds"]))
    assert temporaries(folder)  # the database being loaded, beside the set's tables
    store.abandon_early(folder)
    assert temporaries(folder) == []
    assert not (folder / store.DB_FILE).exists()

    store.build_database(folder)
    assert contents(folder / store.DB_FILE) == {"funds": [("150102", 1250000), ("150103", 3)]}


@pytest.mark.parametrize("name", ['quote"d', "表 一"])
def test_table_names_are_quoted(tmp_path, name):
    folder = tmp_path / "set"
    store.build_early(folder, store.write_table(folder, name, TABLES["funds"]))
    store.build_database(folder)
    assert list(contents(folder / store.DB_FILE)) == [name]


def test_a_set_named_relatively_and_absolutely_is_one_early_database(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    relative = Path("set")
    store.build_early(relative, store.write_table(relative, "funds", TABLES["funds"]))
    store.abandon_early(tmp_path / "set")  # as the next run's clean-up names it
    assert temporaries(tmp_path / "set") == []


def _files(folder) -> dict[str, bytes]:
    """The set's CSVs and its export record, by name."""
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.suffix == ".csv" or p.name == store.EXPORTS}


def _wait_for(path, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} was not exported by the background thread"
        time.sleep(0.02)


def test_csvs_exported_early_are_the_fresh_exports_and_are_not_written_again(tmp_path, monkeypatch):
    # The previous set: its CSV of an unchanged table is reused (hard-linked) by the early export too.
    previous = tmp_path / "previous"
    for name, df in TABLES.items():
        store.write_table(previous, name, df)
    store.write_exports(previous)

    early, fresh = tmp_path / "early", tmp_path / "fresh"
    for name, df in TABLES.items():
        store.build_early(early, store.write_table(early, name, df), previous)
    store.build_early(early, store.write_table(early, "internal", TABLES["funds"], csv_export=False), previous)
    _wait_for(early / "gone.csv")  # the last table handed over: every CSV is written before the run ends
    assert (early / "notes.csv").stat().st_ino == (previous / "notes.csv").stat().st_ino
    # After the early export: one table written again, one no longer exported, one removed.
    changed = TABLES["funds"].assign(spent_fen=[1250000, 4])
    store.write_table(early, "funds", changed)
    store.write_table(early, "notes", TABLES["notes"], csv_export=False)
    (early / store.TABLES / "gone.parquet").unlink()
    (early / "gone.csv").unlink()  # as a run never writes a table it then removes, a CSV is never orphaned

    written = []
    export = store.export_csv
    monkeypatch.setattr(
        store, "export_csv", lambda con, table, path: (written.append(path.name), export(con, table, path))
    )
    hashes = store.write_exports(early, previous)
    assert written == ["funds.csv"]  # only the table written again since its early export

    for name, df in {"funds": changed, "internal": TABLES["funds"]}.items():
        store.write_table(fresh, name, df, csv_export=name != "internal")
    store.write_table(fresh, "notes", TABLES["notes"], csv_export=False)
    assert hashes == store.write_exports(fresh)
    assert _files(early) == _files(fresh)
    assert sorted(p.name for p in early.iterdir() if p.suffix == ".csv") == ["funds.csv"]


def _loads(monkeypatch) -> list[str]:
    """The tables loaded into a database from now on (not those kept from the previous set's)."""
    loaded: list[str] = []
    load = store._load

    def counted(con, path, held=None):
        done = load(con, path, held)
        if done:
            loaded.append(path.stem)
        return done

    monkeypatch.setattr(store, "_load", counted)
    return loaded


def test_the_early_database_starts_from_the_previous_sets_and_loads_only_what_changed(tmp_path, monkeypatch):
    previous, early, fresh = tmp_path / "previous", tmp_path / "early", tmp_path / "fresh"
    for name, df in TABLES.items():
        store.write_table(previous, name, df)
    store.write_exports(previous)
    loaded = _loads(monkeypatch)
    changed = {**TABLES, "funds": TABLES["funds"].assign(spent_fen=[1250000, 4])}
    del changed["gone"]
    for name, df in changed.items():
        store.build_early(early, store.write_table(early, name, df), previous)
    store.build_database(early)
    assert loaded == ["funds"]  # "notes": the same Parquet bytes; "gone": no longer in the set, dropped

    for name, df in changed.items():
        store.write_table(fresh, name, df)
    store.build_database(fresh)
    assert contents(early / store.DB_FILE) == contents(fresh / store.DB_FILE)
    with duckdb.connect(str(early / store.DB_FILE), read_only=True) as con:
        comments = dict(con.execute("SELECT table_name, comment FROM duckdb_tables()").fetchall())
    digest = store.sha256_file(early / store.TABLES / "notes.parquet")
    assert comments["notes"] == f"tables/notes.parquet sha256={digest} loader={store.exporter_version()}"
    assert temporaries(early) == []


@pytest.mark.parametrize("spoil", ["written to", "no record"])
def test_a_previous_database_that_is_not_the_one_recorded_is_not_carried_forward(tmp_path, monkeypatch, spoil):
    previous, early = tmp_path / "previous", tmp_path / "early"
    for name, df in TABLES.items():
        store.write_table(previous, name, df)
    store.write_exports(previous)
    if spoil == "written to":  # as an auditor's UPDATE would
        with duckdb.connect(str(previous / store.DB_FILE)) as con:
            con.execute("UPDATE notes SET text = '改过'")
    else:
        (previous / store.DB_RECORD).unlink()
    loaded = _loads(monkeypatch)
    for name, df in TABLES.items():
        store.build_early(early, store.write_table(early, name, df), previous)
    store.build_database(early)

    assert sorted(loaded) == sorted(TABLES)
    assert contents(early / store.DB_FILE)["notes"] == [("=SUM(A1)",), ("正常",)]
