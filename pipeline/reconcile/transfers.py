"""The transfer cross-check: each city→county transfer (资金下拨) paired one to one with a county receipt of channel ``city``."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from pipeline.evaluation import Evaluation
from pipeline.reconcile.edges import make_edges
from pipeline.reconcile.facts import input_table
from pipeline.reconcile.levels import join_keys, ordered, sort_by_orders
from pipeline.tables import columns

DISCREPANCY_TYPES = ["amount_differs", "duplicate_receipt", "unmatched_transfer", "unmatched_receipt"]


PAIR_COLUMNS = columns("transfer_matches")


def transfer_pairs(
    tables: Mapping[str, pd.DataFrame], evaluation: Evaluation, window_days: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Pair each city→county transfer with the county's receipt (channel ``city``), one to one.

    First by document number (equal amounts first, then any amount: ``amount_differs``), then by
    equal amount with dates at most ``window_days`` apart, closest first. A leftover receipt with
    the document number, or the amount and date, of an already paired transfer is a
    ``duplicate_receipt`` of it; what is left is ``unmatched_transfer`` or ``unmatched_receipt``.
    """
    raw_t = input_table(tables, "transfers")
    receipts = input_table(tables, "county_receipts")
    raw_r = receipts[receipts["channel"] == "city"].assign(county_code=lambda d: d["submitter"]).reset_index(drop=True)
    t, t_rows = _side(raw_t, "transfer_id", "transfers")
    r, r_rows = _side(raw_r, "receipt_id", "county_receipts")
    window = pd.Timedelta(days=int(window_days))

    t_doc, r_doc = t[t["doc"] != ""], r[r["doc"] != ""]
    same = _pair_in_order(t_doc, r_doc, ["county_code", "doc", "amount"])
    differs = _pair_in_order(_unpaired(t_doc, same, "t"), _unpaired(r_doc, same, "r"), ["county_code", "doc"])
    by_doc = pd.concat([same.assign(status="matched"), differs.assign(status="amount_differs")], ignore_index=True)
    duplicates_doc = _duplicates_by_doc(_unpaired(r, by_doc, "r"), by_doc, t, r)

    r_left = _unpaired(_unpaired(r, by_doc, "r"), duplicates_doc, "r")
    by_amount = _pair_closest(_unpaired(t, by_doc, "t"), r_left, window).assign(status="matched")
    paired = pd.concat(
        [by_doc.assign(match_method="doc_no"), by_amount.assign(match_method="amount_date")], ignore_index=True
    )
    duplicates_amount = _duplicates_by_amount(_unpaired(r_left, by_amount, "r"), paired, t, window)

    pairs = pd.concat(
        [
            paired,
            duplicates_doc.assign(status="duplicate_receipt", match_method="doc_no"),
            duplicates_amount.assign(status="duplicate_receipt", match_method="amount_date"),
        ],
        ignore_index=True,
    )
    lone_t = _unpaired(t, pairs, "t")[["pos"]].rename(columns={"pos": "t"}).assign(status="unmatched_transfer")
    lone_r = _unpaired(r, pairs, "r")[["pos"]].rename(columns={"pos": "r"}).assign(status="unmatched_receipt")
    pairs = pd.concat([pairs, lone_t, lone_r], ignore_index=True).astype({"t": "Int64", "r": "Int64"})
    method = pairs["match_method"].astype(object)
    pairs["match_method"] = method.where(method.notna(), None)  # type: ignore[call-overload]  # stubs: other=None

    out = pairs.merge(_prefixed(t, "transfer"), left_on="t", right_on="transfer_pos", how="left")
    out = out.merge(_prefixed(r, "receipt"), left_on="r", right_on="receipt_pos", how="left")
    for c in ("county_code", "subproject_code", "source_code"):
        out[c] = out[f"transfer_{c}"].fillna(out[f"receipt_{c}"])
    out["difference"] = (out["receipt_amount"] - out["transfer_amount"]).where(
        out["status"].isin(["matched", "amount_differs"])
    )
    out["key"] = join_keys(
        out.fillna({"transfer_id": "", "receipt_id": ""}), ["transfer_id", "county_code", "receipt_id"]
    )
    # by county, then in the order the rows stand in their files, so a clerk reads them top-down
    out = out.sort_values(["transfer_file", "transfer_row", "receipt_file", "receipt_row"], na_position="last")
    out = sort_by_orders(out, {"county_code": ordered(out["county_code"], evaluation.counties)})

    edge_rows = pd.concat(
        [
            out[["key", "t"]].dropna().merge(t_rows, left_on="t", right_on="pos").assign(measure="transfer_amount"),
            out[["key", "r"]].dropna().merge(r_rows, left_on="r", right_on="pos").assign(measure="receipt_amount"),
        ],
        ignore_index=True,
    )
    edges = make_edges("transfer_pairs", pd.Categorical(edge_rows["key"]), edge_rows)
    return out[PAIR_COLUMNS], edges


def _side(df: pd.DataFrame, id_column: str, kind: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One side of the cross-check, reversals (冲红) folded into the row they reverse.

    Returns the side (one row per booking, ``pos`` numbering it; fully reversed bookings dropped)
    and the input rows behind each ``pos``.
    """
    ids = df[id_column].astype(str)
    reverses = df["reverses"].fillna("").astype(str).str.strip()
    # Each (submitter, id) as one integer, ids and reversed ids numbered together: the same matches as pairs of
    # text (a MultiIndex), at a third of the cost. A row reversing one of its submitter's bookings folds into it.
    submitter = pd.factorize(df["submitter"])[0].astype(np.int64)
    texts = pd.factorize(np.concatenate([ids.to_numpy(dtype=object), reverses.to_numpy(dtype=object)]))[0]
    width = int(texts.max()) + 1 if len(texts) else 1
    own = submitter * width + texts[: len(df)]
    reversed_ = submitter * width + texts[len(df) :]
    folds = (reverses != "").to_numpy() & np.isin(reversed_, own)
    base = df[~folds]
    at = pd.Index(own[~folds]).get_indexer(pd.Index(np.where(folds, reversed_, own)))  # -1: a reversal of a reversal
    pos = at if (at >= 0).all() else np.where(at >= 0, at, np.nan)  # as reindexing gave it: float where missing
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


def _unpaired(side: pd.DataFrame, pairs: pd.DataFrame, which: str) -> pd.DataFrame:
    return side[~side["pos"].isin(pairs[which].dropna())] if which in pairs else side


def _pair_in_order(t: pd.DataFrame, r: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """One-to-one pairs sharing ``keys``: the n-th transfer (by date, id) with the n-th receipt.

    Text keys are matched as integer codes numbered over both sides (equal codes, equal text) and ids
    sorted by their rank among the side's ids (the order of the text): the pairs of sorting and merging
    the text itself, without comparing it row by row.
    """
    text = [k for k in keys if t[k].dtype == object]
    coded = {}
    for k in text:
        codes = pd.factorize(np.concatenate([t[k].to_numpy(), r[k].to_numpy()]))[0]
        coded[k] = (codes[: len(t)], codes[len(t) :])

    def numbered(side: pd.DataFrame, which: int) -> pd.DataFrame:
        side = side.assign(
            id=pd.factorize(side["id"].to_numpy(), sort=True)[0], **{k: coded[k][which] for k in text}
        ).sort_values(["date", "id"])
        return side.assign(nth=side.groupby(keys).cumcount())[keys + ["nth", "pos"]]

    pairs = numbered(t, 0).merge(numbered(r, 1), on=keys + ["nth"], suffixes=("_t", "_r"))
    return _pair_frame(pairs["pos_t"], pairs["pos_r"])


def _pair_closest(t: pd.DataFrame, r: pd.DataFrame, window: pd.Timedelta) -> pd.DataFrame:
    """One-to-one pairs of equal amount within the window, closest dates first (greedy, by rounds)."""
    candidates = t[["pos", "county_code", "amount", "date"]].merge(
        r[["pos", "county_code", "amount", "date"]], on=["county_code", "amount"], suffixes=("_t", "_r")
    )
    candidates["gap"] = (candidates["date_r"] - candidates["date_t"]).abs()
    candidates = candidates[candidates["gap"] <= window].sort_values(["gap", "pos_t", "pos_r"])
    chosen: list[pd.DataFrame] = []
    while len(candidates):  # each round keeps the mutually closest pairs; the closest pair overall always is one
        mutual = candidates[~candidates.duplicated("pos_t") & ~candidates.duplicated("pos_r")]
        chosen.append(mutual)
        candidates = candidates[~candidates["pos_t"].isin(mutual["pos_t"]) & ~candidates["pos_r"].isin(mutual["pos_r"])]
    kept = pd.concat(chosen) if chosen else candidates
    return _pair_frame(kept["pos_t"], kept["pos_r"])


def _duplicates_by_doc(r_left: pd.DataFrame, pairs: pd.DataFrame, t: pd.DataFrame, r: pd.DataFrame) -> pd.DataFrame:
    """Leftover receipts bearing the document number of a paired transfer or of its receipt."""
    docs = pd.concat(
        [
            pairs.merge(t[["pos", "county_code", "doc"]], left_on="t", right_on="pos"),
            pairs.merge(r[["pos", "county_code", "doc"]], left_on="r", right_on="pos"),
        ]
    )[["county_code", "doc", "t"]]
    docs = docs[docs["doc"] != ""].drop_duplicates(["county_code", "doc"])
    found = r_left[r_left["doc"] != ""].merge(docs, on=["county_code", "doc"])
    return _pair_frame(found["t"], found["pos"])


def _duplicates_by_amount(
    r_left: pd.DataFrame, pairs: pd.DataFrame, t: pd.DataFrame, window: pd.Timedelta
) -> pd.DataFrame:
    """Leftover receipts of the amount of a paired transfer and within the window of its date."""
    paired_t = t[t["pos"].isin(pairs["t"])][["pos", "county_code", "amount", "date"]]
    found = r_left[["pos", "county_code", "amount", "date"]].merge(
        paired_t, on=["county_code", "amount"], suffixes=("_r", "_t")
    )
    found["gap"] = (found["date_r"] - found["date_t"]).abs()
    found = found[found["gap"] <= window].sort_values(["gap", "pos_t"]).drop_duplicates("pos_r")
    return _pair_frame(found["pos_t"], found["pos_r"])


def _pair_frame(t: pd.Series, r: pd.Series) -> pd.DataFrame:
    return pd.DataFrame({"t": t.to_numpy(dtype="int64"), "r": r.to_numpy(dtype="int64")})


def _prefixed(side: pd.DataFrame, prefix: str) -> pd.DataFrame:
    out = side.rename(columns={"doc": "doc_no"}).astype({"amount": "Int64", "row": "Int64", "pos": "Int64"})
    out["doc_no"] = out["doc_no"].where(out["doc_no"] != "", None)  # type: ignore[call-overload]  # stubs: other=None
    return out.add_prefix(f"{prefix}_")
