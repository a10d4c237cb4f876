"""The transfer cross-check matches text keys as integer codes: the same sides and pairs as matching the text.

``_side`` folds reversals (冲红) by (submitter, id) and ``_pair_in_order`` pairs by county, document number
and amount; both number the text instead of comparing it. Here they are held to the plain pandas versions
(MultiIndex lookups, sorting and merging the text) on random sides with reversals, reversals of reversals,
blank and odd ids and missing document numbers.
"""

import numpy as np
import pandas as pd
import pytest

from pipeline.reconcile import transfers


def _side_by_text(df: pd.DataFrame, id_column: str, kind: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The reference: reversals folded by MultiIndex lookups of (submitter, id) text."""
    ids = df[id_column].astype(str)
    reverses = df["reverses"].fillna("").astype(str).str.strip()
    booked = pd.MultiIndex.from_arrays([df["submitter"], ids])
    folds = (reverses != "") & pd.MultiIndex.from_arrays([df["submitter"], reverses]).isin(booked)
    base = df[~folds]
    position = pd.Series(np.arange(len(base)), index=pd.MultiIndex.from_arrays([base["submitter"], ids[~folds]]))
    pos = position.reindex(pd.MultiIndex.from_arrays([df["submitter"], ids.where(~folds, reverses)])).to_numpy()
    net = df["amount_fen"].groupby(pos).sum()
    side = pd.DataFrame(
        {
            "pos": np.arange(len(base)),
            "county_code": base["county_code"].astype(str).to_numpy(),
            "id": ids[~folds].to_numpy(),
            "doc": base["doc_no"].fillna("").astype(str).str.strip().to_numpy(),
            "amount": net.reindex(np.arange(len(base))).to_numpy(dtype="int64"),
            "date": base["date"].to_numpy(),
            "subproject_code": base["subproject_code"].to_numpy(),
            "source_code": base["source_code"].to_numpy(),
            "file": base["file"].to_numpy(),
            "sheet": base["sheet"].to_numpy(),
            "row": base["row"].to_numpy(dtype="int64"),
        }
    )
    rows = pd.DataFrame(
        {
            "pos": pos,
            "input_kind": kind,
            "file": df["file"].to_numpy(),
            "sheet": df["sheet"].to_numpy(),
            "row": df["row"].to_numpy(dtype="int64"),
        }
    )
    return side[side["amount"] != 0].reset_index(drop=True), rows


def _pairs_by_text(t: pd.DataFrame, r: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    def numbered(side: pd.DataFrame) -> pd.DataFrame:
        side = side.sort_values(["date", "id"])
        return side.assign(nth=side.groupby(keys).cumcount())[keys + ["nth", "pos"]]

    pairs = numbered(t).merge(numbered(r), on=keys + ["nth"], suffixes=("_t", "_r"))
    return pd.DataFrame({"t": pairs["pos_t"].to_numpy(dtype="int64"), "r": pairs["pos_r"].to_numpy(dtype="int64")})


def _random_side(rng: np.random.Generator) -> pd.DataFrame:
    n = int(rng.integers(0, 40))
    submitters = rng.choice(["150102", "150103", "150100"], n)
    df = pd.DataFrame(
        {
            "submitter": submitters,
            "transfer_id": rng.choice([f"T{i}" for i in range(12)] + ["", "x\x1fy"], n),
            "reverses": rng.choice(np.array(["", "", "", None, " T1 ", "T2", "T3", "T0", "zz"], dtype=object), n),
            "amount_fen": rng.integers(-5, 5, n),
            "county_code": submitters,
            "doc_no": rng.choice(np.array(["D1", "D2", None, " D3"], dtype=object), n),
            "date": pd.Timestamp("2023-01-01") + pd.to_timedelta(rng.integers(0, 5, n), "D"),
            "subproject_code": "1",
            "source_code": "a",
            "file": "f.csv",
            "sheet": "",
            "row": np.arange(n),
        }
    )
    return df.drop_duplicates(["submitter", "transfer_id"]).reset_index(drop=True)  # ids are unique per submitter


@pytest.mark.parametrize("seed", range(4))
def test_sides_and_pairs_match_the_text_versions(seed: int) -> None:
    rng = np.random.default_rng(seed)
    chains = 0
    for _ in range(60):
        df = _random_side(rng)
        side, rows = transfers._side(df, "transfer_id", "transfers")
        want_side, want_rows = _side_by_text(df, "transfer_id", "transfers")
        pd.testing.assert_frame_equal(side, want_side)
        pd.testing.assert_frame_equal(rows, want_rows)  # pos is float (NaN) exactly when a reversal reverses a reversal
        chains += bool(want_rows["pos"].isna().any())
        half = len(side) // 2
        for keys in (["county_code", "doc", "amount"], ["county_code", "doc"]):
            got = transfers._pair_in_order(side.iloc[:half], side.iloc[half:], keys)
            pd.testing.assert_frame_equal(got, _pairs_by_text(side.iloc[:half], side.iloc[half:], keys))
    assert chains > 0  # the reversal-of-a-reversal case was exercised
