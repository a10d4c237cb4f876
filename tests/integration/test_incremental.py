"""A nightly run that re-reads and re-validates only what changed gives the same bytes as a cold run.

The read cache (``OUT/.cache/<id>/read/``) keeps each file's parsed tables by content, limits and
reader version; the validation partials (``OUT/.cache/<id>/validated/``) keep each file's results
under the per-row rules, by the same and by code, configuration and registry. These tests change one
county workbook as a clerk's resubmission would, damage cache entries, change the settings and the
registry, and compare every hashed output with a run that starts from nothing.
"""

import json
import shutil

import pytest

from pipeline.ingest import partials
from pipeline.ingest.sealed import unseal
from pipeline.manifest import MANIFEST
from pipeline.materialize import materialize_evaluation
from pipeline.tools import bench, synth

EVALUATION = "2023-incremental-small"


@pytest.fixture(scope="module")
def raw(tmp_path_factory):
    root = tmp_path_factory.mktemp("incremental") / "raw"
    synth.generate(root / EVALUATION, counties=12, subprojects=6, indicators=8, seed=11, evaluation_id=EVALUATION)
    return root


def _outputs(out_root):
    return json.loads((out_root / EVALUATION / MANIFEST).read_text(encoding="utf-8"))["outputs"]


def _entries(out_root, cache="read"):
    return {p.name: p.stat().st_mtime_ns for p in (out_root / ".cache" / EVALUATION / cache).iterdir()}


def _partials(out_root):
    return _entries(out_root, "validated")


def _run(raw_root, out_root):
    outcome = materialize_evaluation(EVALUATION, raw_root=str(raw_root), out_root=str(out_root))
    assert outcome.success, (outcome.failed_steps, outcome.failed_checks)


@pytest.fixture(scope="module")
def nightly(raw, tmp_path_factory):
    """A warm out folder run before and after one county's change, and a cold run on the changed inputs."""
    base = tmp_path_factory.mktemp("nightly")
    warm, cold = base / "warm", base / "cold"
    _run(raw, warm)
    before, partials_before, csv_before = _entries(warm), _partials(warm), _csv_inodes(warm)
    tables_before = _table_inodes(warm)
    changed = bench._touch_one_county(raw / EVALUATION)  # one payment +0.01 万元
    _run(raw, warm)
    after, partials_after, csv_after = _entries(warm), _partials(warm), _csv_inodes(warm)
    tables_after = _table_inodes(warm)
    _run(raw, cold)
    return {
        "warm": warm,
        "cold": cold,
        "before": before,
        "after": after,
        "partials_before": partials_before,
        "partials_after": partials_after,
        "changed": changed,
        "csv_before": csv_before,
        "csv_after": csv_after,
        "tables_before": tables_before,
        "tables_after": tables_after,
    }


def _table_inodes(out_root):
    return {p.name: p.stat().st_ino for p in (out_root / EVALUATION / "tables").glob("*.parquet")}


def test_a_kind_whose_rows_did_not_change_is_the_published_table_linked(nightly):
    """The changed workbook's other sheets are validated again, hold the same rows, and keep their content ids."""
    before, after = nightly["tables_before"], nightly["tables_after"]
    assert set(before) == set(after)
    kept = {name for name in after if after[name] == before[name]}
    assert "county_payments.parquet" not in kept, "the changed payment's kind is written again"
    assert {"county_indicators.parquet", "county_receipts.parquet", "payments.parquet", "survey.parquet"} <= kept
    assert "funds_cells.parquet" not in kept, "only the ingest's kinds carry a content key"


def test_a_damaged_published_table_is_written_again_not_linked(raw, nightly, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(nightly["cold"], out, symlinks=True)
    table = out / EVALUATION / "tables" / "county_indicators.parquet"
    data = bytearray(table.read_bytes())
    data[len(data) // 2] ^= 0x01  # one flipped bit, in a file of its own (the copy shares no inode)
    table.unlink()
    table.write_bytes(bytes(data))
    damaged = table.stat().st_ino
    intact = _table_inodes(out)["county_receipts.parquet"]
    _run(raw, out)
    fresh = out / EVALUATION / "tables" / "county_indicators.parquet"
    assert fresh.stat().st_ino != damaged
    assert _table_inodes(out)["county_receipts.parquet"] == intact, "an intact table of the same key is linked"
    assert _outputs(out) == _outputs(nightly["cold"])


def _csv_inodes(out_root):
    return {p.name: p.stat().st_ino for p in (out_root / EVALUATION).glob("*.csv")}


def test_the_csv_of_a_table_that_did_not_change_is_the_published_file_linked(nightly):
    before, after = nightly["csv_before"], nightly["csv_after"]
    assert set(before) == set(after)
    kept = {name for name in after if after[name] == before[name]}
    assert "county_payments.csv" not in kept, "the changed payment's table is exported again"
    assert {"county_indicators.csv", "county_receipts.csv", "survey.csv"} <= kept
    assert len(kept) < len(after)


def test_one_changed_county_rereads_that_file_alone_and_matches_a_cold_run(nightly):
    before, after, warm, cold = nightly["before"], nightly["after"], nightly["warm"], nightly["cold"]
    assert len(after) == len(before)
    new = set(after) - set(before)
    assert len(new) == 1, "only the changed workbook is read again"
    assert all(after[name] == before[name] for name in set(after) & set(before)), "unchanged entries are reused"
    assert _outputs(warm) == _outputs(cold)
    assert (warm / EVALUATION / "summary.json").read_bytes() == (cold / EVALUATION / "summary.json").read_bytes()
    assert nightly["changed"].name in (warm / EVALUATION / "submission_inventory.csv").read_text(encoding="utf-8-sig")


def _pack_files(path):
    """The files whose partials a pack holds."""
    meta, _ = unseal(partials.MAGIC, path.read_bytes())
    return {entry["file"] for entry in meta["entries"].values()}


def test_one_changed_county_is_validated_again_alone(nightly):
    before, after, warm = nightly["partials_before"], nightly["partials_after"], nightly["warm"]
    assert len(before) >= 5, "one pack per kind with rows"
    assert set(before) <= set(after) and all(after[n] == before[n] for n in before), "the packs are kept as they are"
    new = set(after) - set(before)
    assert 4 <= len(new) <= 6, "one new pack per kind of the changed workbook"
    changed = nightly["changed"].relative_to(nightly["changed"].parents[2]).as_posix()
    store = warm / ".cache" / EVALUATION / "validated"
    assert all(_pack_files(store / name) == {changed} for name in new), "holding the changed workbook alone"


def test_a_damaged_cache_entry_is_detected_and_the_file_read_again(raw, nightly):
    """An entry's head (the file's account) is verified when it is loaded, its tables when their cells are asked for.

    Damaged tables of a file whose partials are kept are never read, so they change nothing; once the file
    is validated again they fail their hash, and the file is read again and its entry rewritten.
    """
    warm, cold = nightly["warm"], nightly["cold"]
    cache = warm / ".cache" / EVALUATION / "read"
    victims = sorted(cache.glob("*.read"))[:3]
    victims[0].write_bytes(victims[0].read_bytes()[:-100])  # tables truncated
    data = bytearray(victims[1].read_bytes())
    data[-200] ^= 0xFF  # one flipped byte in the tables
    victims[1].write_bytes(bytes(data))
    data = bytearray(victims[2].read_bytes())
    data[20] ^= 0x01  # one flipped bit in the head's metadata
    victims[2].write_bytes(bytes(data))
    cold_entry = {v: (cold / ".cache" / EVALUATION / "read" / v.name).read_bytes() for v in victims}
    _run(raw, warm)
    assert _outputs(warm) == _outputs(cold)
    assert victims[2].read_bytes() == cold_entry[victims[2]], "a damaged head: read again at once"
    assert [v.read_bytes() == cold_entry[v] for v in victims[:2]] == [False, False], "kept partials: tables unread"
    shutil.rmtree(warm / ".cache" / EVALUATION / "validated")  # every file validated again: every cell asked for
    _run(raw, warm)
    assert _outputs(warm) == _outputs(cold)
    for v in victims:  # rewritten from a fresh read: identical to the cold run's entry
        assert v.read_bytes() == cold_entry[v]


def test_changed_limits_invalidate_every_entry(raw, nightly, tmp_path):
    out = nightly["cold"]
    before = set(_entries(out))
    folder = tmp_path / "raw"
    shutil.copytree(raw, folder)
    config = folder / EVALUATION / "evaluation.yaml"
    text = config.read_text(encoding="utf-8")
    assert "\nsettings:\n" in text and "limits:" not in text
    config.write_text(text.replace("\nsettings:\n", "\nsettings:\n  limits:\n    max_rows: 500000\n"), encoding="utf-8")
    _run(folder, out)
    after = set(_entries(out))
    assert len(after) == len(before) and before.isdisjoint(after), "an entry read under other limits is never reused"


def test_damaged_partials_are_recomputed(raw, nightly):
    warm, cold = nightly["warm"], nightly["cold"]
    store = warm / ".cache" / EVALUATION / "validated"
    victims = sorted(store.glob("*.pack"))[:3]
    intact = {v: v.read_bytes() for v in victims}
    victims[0].write_bytes(victims[0].read_bytes()[:-7])  # truncated
    data = bytearray(victims[1].read_bytes())
    data[len(data) // 3] ^= 0x01  # one flipped bit
    victims[1].write_bytes(bytes(data))
    victims[2].write_bytes(b"")
    _run(raw, warm)
    assert _outputs(warm) == _outputs(cold)
    # Their partials were recomputed into new packs (or the same one, byte for byte); no damaged pack is left.
    assert all(not v.exists() or v.read_bytes() == intact[v] for v in victims)
    for path in store.glob("*.pack"):
        unseal(partials.MAGIC, path.read_bytes())


def _copy_with(raw, tmp_path, change):
    folder = tmp_path / "raw"
    shutil.copytree(raw, folder)
    change(folder / EVALUATION)
    return folder


def test_changed_settings_invalidate_every_partial(raw, nightly, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(nightly["cold"], out)
    before = set(_partials(out))

    def settings(folder):
        config = folder / "evaluation.yaml"
        text = config.read_text(encoding="utf-8")
        assert "\nsettings:\n" in text and "transfer_match_window_days: 30" in text
        config.write_text(text.replace("transfer_match_window_days: 30", "transfer_match_window_days: 31"), "utf-8")

    _run(_copy_with(raw, tmp_path, settings), out)
    after = set(_partials(out))
    assert len(after) == len(before) and before.isdisjoint(after), "no partial survives a change of the settings"


def test_a_changed_registry_invalidates_every_partial_and_matches_a_cold_run(raw, nightly, tmp_path):
    import openpyxl

    out = tmp_path / "warm"
    shutil.copytree(nightly["cold"], out)
    before = set(_partials(out))

    def registry(folder):  # the project office withdraws its last sub-project
        path = folder / "bureau" / "project_office" / "subprojects.xlsx"
        wb = openpyxl.load_workbook(path)
        ws = wb.worksheets[0]
        ws.delete_rows(ws.max_row)
        wb.save(path)

    folder = _copy_with(raw, tmp_path, registry)
    _run(folder, out)
    after = set(_partials(out))
    assert len(after) == len(before) and before.isdisjoint(after), "no partial survives a change of the registry codes"
    cold = tmp_path / "cold"
    _run(folder, cold)
    assert _outputs(out) == _outputs(cold)


def test_a_duplicate_id_across_files_is_found_when_only_one_file_changed(raw, nightly, tmp_path):
    """The rule across files runs over kept partials too: a resubmitted file that repeats an id is caught."""
    import openpyxl

    out = tmp_path / "warm"
    shutil.copytree(nightly["cold"], out)
    county = sorted((raw / EVALUATION / "county").glob("*.xlsx"))

    def duplicate(folder):  # the first county's first payment id, typed twice into its own sheet
        path = folder / "county" / county[0].name
        wb = openpyxl.load_workbook(path)
        ws = wb["资金支出"]
        header = [c.value for c in ws[3]]
        col = next(i for i, h in enumerate(header, start=1) if str(h).startswith("支付单号"))
        ws.cell(row=5, column=col).value = ws.cell(row=4, column=col).value
        wb.save(path)

    folder = _copy_with(raw, tmp_path, duplicate)
    _run(folder, out)
    cold = tmp_path / "cold"
    _run(folder, cold)
    assert _outputs(out) == _outputs(cold)
    quarantine = (out / EVALUATION / "quarantine.csv").read_text(encoding="utf-8-sig")
    assert quarantine.count("duplicate_id") == 2


def test_a_changed_bureau_ledger_links_every_county_kind_and_matches_a_cold_run(raw, tmp_path):
    """The finance bureau's ledger changes daily during the year: the million-row county kinds are linked."""
    folder = _copy_with(raw, tmp_path, lambda folder: None)  # other tests run the shared sets with other settings
    out = tmp_path / "warm"
    _run(folder, out)
    before = _table_inodes(out)
    path = folder / EVALUATION / "bureau" / "finance" / "payments.csv"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    cells = lines[2].split(",")
    cells[5] = f"{float(cells[5]) + 0.01:.2f}"  # one payment of the bureau's ledger, 0.01 万元 more
    lines[2] = ",".join(cells)
    path.write_text("".join(lines), encoding="utf-8")
    _run(folder, out)
    after = _table_inodes(out)
    kept = {name for name in after if after[name] == before[name]}
    assert {"county_payments.parquet", "county_indicators.parquet", "county_receipts.parquet"} <= kept
    assert "payments.parquet" not in kept
    cold = tmp_path / "cold"
    _run(folder, cold)
    assert _outputs(out) == _outputs(cold)
