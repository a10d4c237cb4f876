"""CSV exports: a table whose Parquet bytes did not change since the published set keeps that set's CSV."""

import json

import pandas as pd

from pipeline import store


def _set(folder, tables):
    for name, df in tables.items():
        store.write_table(folder, name, df)
    store.build_database(folder)
    return folder


TABLES = {
    "funds": pd.DataFrame({"county": ["150102", "150103"], "spent_fen": [1250000, 3]}),
    "notes": pd.DataFrame({"text": ["=SUM(A1)", "正常"]}),
}


def test_an_unchanged_table_links_the_previous_csv_and_a_changed_one_is_written(tmp_path):
    old = _set(tmp_path / "old", TABLES)
    first = store.export_csvs(old)
    changed = {**TABLES, "funds": TABLES["funds"].assign(spent_fen=[1250000, 4])}
    new = _set(tmp_path / "new", changed)
    second = store.export_csvs(new, previous=old)

    assert (new / "notes.csv").stat().st_ino == (old / "notes.csv").stat().st_ino
    assert (new / "funds.csv").stat().st_ino != (old / "funds.csv").stat().st_ino
    assert second["notes.csv"] == first["notes.csv"] and second["funds.csv"] != first["funds.csv"]
    # The same bytes as an export from nothing, and the hashes returned are the files' own.
    fresh = _set(tmp_path / "fresh", changed)
    assert store.export_csvs(fresh) == second
    for name in ("funds.csv", "notes.csv"):
        assert (new / name).read_bytes() == (fresh / name).read_bytes()
    assert (new / "notes.csv").read_bytes().startswith("\ufefftext\n'=SUM(A1)".encode())


def test_a_previous_csv_changed_after_publishing_is_not_carried_forward(tmp_path):
    old = _set(tmp_path / "old", TABLES)
    store.export_csvs(old)
    (old / "notes.csv").write_bytes((old / "notes.csv").read_bytes() + b"tampered\n")
    new = _set(tmp_path / "new", TABLES)
    hashes = store.export_csvs(new, previous=old)
    assert (new / "notes.csv").stat().st_ino != (old / "notes.csv").stat().st_ino
    assert b"tampered" not in (new / "notes.csv").read_bytes()
    assert (new / "funds.csv").stat().st_ino == (old / "funds.csv").stat().st_ino
    assert set(hashes) == {"funds.csv", "notes.csv", "tables/funds.parquet", "tables/notes.parquet"}


def test_another_exporter_version_writes_every_csv_again(tmp_path):
    old = _set(tmp_path / "old", TABLES)
    store.export_csvs(old)
    record = json.loads((old / store.EXPORTS).read_text())
    assert record["exporter"] == store.exporter_version()
    (old / store.EXPORTS).write_text(json.dumps({**record, "exporter": "older-code"}))
    new = _set(tmp_path / "new", TABLES)
    store.export_csvs(new, previous=old)
    for name in ("funds.csv", "notes.csv"):
        assert (new / name).stat().st_ino != (old / name).stat().st_ino
        assert (new / name).read_bytes() == (old / name).read_bytes()
