"""Conditions in the data, as findings (never blocking): low arrival or execution, negative balances, matching shortfalls, transfer discrepancies."""

from __future__ import annotations

from fractions import Fraction
from typing import NamedTuple

import pandas as pd

from pipeline import findings as findings_table
from pipeline.config import Settings
from pipeline.evaluation import Evaluation
from pipeline.formats import fen_to_wan_series
from pipeline.reconcile.edges import concat_edges, make_edges
from pipeline.reconcile.facts import TRANSFER_MEASURES
from pipeline.reconcile.levels import county_names
from pipeline.reconcile.transfers import DISCREPANCY_TYPES
from pipeline.tables import MEASURES


class _Found(NamedTuple):
    """Findings of one code, with the output rows (``ref`` keys of ``table``) whose lineage they inherit."""

    rows: pd.DataFrame
    table: str
    measures: list[str]


def _found(
    rows: pd.DataFrame,
    code: str,
    severity: str,
    subject_type: str,
    subject: pd.Series,
    figure: pd.Series,
    message: pd.Series,
    table: str,
    measures: list[str],
    stake: pd.Series,
) -> list[_Found]:
    """``stake``: the money at stake per finding, in 分 (what did not arrive, was not spent, differs…)."""
    frame = pd.DataFrame(
        {
            "code": code,
            "severity": severity,
            "subject_type": subject_type,
            "subject": subject.to_numpy(),
            "figure": figure.to_numpy(),
            "message": message.to_numpy(),
            "ref": rows["key"].to_numpy(),
            "stake_fen": stake.to_numpy(dtype="int64"),
        }
    )
    return [_Found(frame, table, measures)] if len(frame) else []


def reconciliation_findings(
    settings: Settings,
    evaluation: Evaluation,
    edges: dict[str, pd.DataFrame],
    *,
    by_source: pd.DataFrame,
    by_subproject: pd.DataFrame,
    cells: pd.DataFrame,
    matching: pd.DataFrame,
    plan_detail: tuple[pd.DataFrame, pd.DataFrame],
    discrepancies: pd.DataFrame,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Conditions from the data, each a finding with a Chinese sentence; never blocking, never clipped."""
    detail, detail_edges = plan_detail
    found = (
        _level_findings(settings, by_source, by_subproject)
        + _cell_findings(cells, evaluation)
        + _county_findings(matching, detail, evaluation)
        + _transfer_findings(discrepancies, evaluation)
    )
    table = findings_table.frame(
        pd.concat([f.rows for f in found], ignore_index=True).drop(columns="ref").to_dict("records") if found else []
    )
    pool = {**edges, "county_subproject": detail_edges}
    links = []
    for f in found:  # one pass per finding code, not per finding
        ids = f.rows.merge(table[["finding_id", "code", "subject"]], on=["code", "subject"])[["ref", "finding_id"]]
        behind = pool[f.table]
        behind = behind[behind["output_key"].isin(set(ids["ref"])) & behind["measure"].isin(f.measures)]
        linked = behind.astype({"output_key": str}).merge(ids, left_on="output_key", right_on="ref")
        links.append(make_edges("findings", pd.Categorical(linked["finding_id"]), linked))
    return table, concat_edges(links)


def _level_findings(settings: Settings, by_source: pd.DataFrame, by_subproject: pd.DataFrame) -> list[_Found]:
    wan = fen_to_wan_series
    denominator = settings.execution_denominator
    den_label = "计划" if denominator == "planned" else "到位"
    arrival_min, execution_min = settings.arrival_rate_threshold, settings.execution_rate_threshold

    low = by_source[_below(by_source["received"], by_source["planned"], Fraction(str(arrival_min)))]
    found = _found(
        low,
        "low_arrival",
        "medium",
        "source",
        low["key"],
        low["arrival_rate"],
        low["source_label"]
        + "计划 "
        + wan(low["planned"])
        + " 万元，实际到位 "
        + wan(low["received"])
        + " 万元，到位率 "
        + low["arrival_rate"]
        + f"%，低于 {arrival_min}% 的阈值。",
        "by_source",
        ["planned", "received"],
        low["planned"] - low["received"],
    )
    back = by_source[by_source["recovered"] != 0]
    found += _found(
        back,
        "funds_recovered",
        "medium",
        "source",
        back["key"],
        wan(back["recovered"]),
        back["source_label"] + "未使用部分被收回 " + wan(back["recovered"]) + " 万元。",
        "by_source",
        ["recovered"],
        back["recovered"],
    )

    named = by_subproject["subproject_name"] != ""
    subproject_label = (
        "子项目 " + by_subproject["subproject_code"] + ("（" + by_subproject["subproject_name"] + "）").where(named, "")
    )
    for level, t, label in (
        ("source", by_source, by_source["source_label"]),
        ("subproject", by_subproject, subproject_label),
    ):
        t = t.assign(label=label, den=t[denominator])  # at these levels available = received
        table = f"by_{level}"
        low = t[_below(t["spent"], t["den"], Fraction(str(execution_min)))]
        found += _found(
            low,
            f"low_execution_{level}",
            "medium",
            level,
            low["key"],
            low["execution_rate"],
            low["label"]
            + "预算执行率 "
            + low["execution_rate"]
            + "%（支出 "
            + wan(low["spent"])
            + f" 万元 / {den_label} "
            + wan(low["den"])
            + f" 万元），低于 {execution_min}% 的阈值。",
            table,
            ["spent", denominator],
            low["den"] - low["spent"],
        )
        over = t[(t["planned"] > 0) & (t["received"] > t["planned"])]
        found += _found(
            over,
            f"arrival_over_100_{level}",
            "medium",
            level,
            over["key"],
            over["arrival_rate"],
            over["label"]
            + "到位率 "
            + over["arrival_rate"]
            + "%：实际到位 "
            + wan(over["received"])
            + " 万元超过计划 "
            + wan(over["planned"])
            + " 万元。",
            table,
            ["planned", "received"],
            over["received"] - over["planned"],
        )
        over = t[(t["den"] > 0) & (t["spent"] > t["den"])]
        found += _found(
            over,
            f"execution_over_100_{level}",
            "medium",
            level,
            over["key"],
            over["execution_rate"],
            over["label"]
            + "预算执行率 "
            + over["execution_rate"]
            + "%：支出 "
            + wan(over["spent"])
            + f" 万元超过{den_label}资金 "
            + wan(over["den"])
            + " 万元。",
            table,
            ["spent", denominator],
            over["spent"] - over["den"],
        )

    p = by_subproject.assign(label=subproject_label, gap=by_subproject["planned"] - by_subproject["allocation"])
    p = p[p["gap"] != 0]
    found += _found(
        p,
        "allocation_differs",
        "medium",
        "subproject",
        p["key"],
        wan(p["gap"]),
        p["label"]
        + "登记资金额 "
        + wan(p["allocation"])
        + " 万元，资金计划合计 "
        + wan(p["planned"])
        + " 万元，相差 "
        + wan(p["gap"])
        + " 万元。",
        "by_subproject",
        ["allocation", "planned"],
        p["gap"].abs(),
    )
    return found


def _cell_findings(cells: pd.DataFrame, evaluation: Evaluation) -> list[_Found]:
    wan = fen_to_wan_series
    c = cells[cells["balance"] < 0]
    source = c["source_code"].map(evaluation.sources).fillna(c["source_code"])
    return _found(
        c,
        "negative_balance",
        "high",
        "cell",
        c["key"],
        wan(c["balance"]),
        "子项目 "
        + c["subproject_code"]
        + " "
        + source
        + " "
        + county_names(c["county_code"], evaluation)
        + "：结余为负 "
        + wan(c["balance"])
        + " 万元（到位 "
        + wan(c["received"])
        + " + 下拨转入 "
        + wan(c["transfers_in"])
        + " − 下拨转出 "
        + wan(c["transfers_out"])
        + " − 支出 "
        + wan(c["spent"])
        + " − 结转 "
        + wan(c["carried_forward"])
        + " − 收回 "
        + wan(c["recovered"])
        + "），支出超过可用资金。",
        "cells",
        MEASURES + TRANSFER_MEASURES,
        -c["balance"],
    )


def _county_findings(matching: pd.DataFrame, detail: pd.DataFrame, evaluation: Evaluation) -> list[_Found]:
    wan = fen_to_wan_series
    m = matching[matching["shortfall"] > 0]
    found = _found(
        m,
        "county_matching_short",
        "medium",
        "county",
        m["key"],
        wan(m["shortfall"]),
        m["county_name"]
        + "配套资金计划 "
        + wan(m["planned"])
        + " 万元，实际到位 "
        + wan(m["received"])
        + " 万元，缺口 "
        + wan(m["shortfall"])
        + " 万元。",
        "matching",
        ["planned", "received"],
        m["shortfall"],
    )
    d = detail[detail["planned"] != detail["stated_plan"]]
    found += _found(
        d,
        "county_plan_differs",
        "medium",
        "county_subproject",
        d["key"],
        wan(d["stated_plan"] - d["planned"]),
        county_names(d["county_code"], evaluation)
        + "报送的子项目 "
        + d["subproject_code"]
        + " 配套计划 "
        + wan(d["stated_plan"])
        + " 万元，与资金计划 "
        + wan(d["planned"])
        + " 万元不一致。",
        "county_subproject",
        ["planned", "stated_plan"],
        (d["stated_plan"] - d["planned"]).abs(),
    )
    return found


def _transfer_findings(discrepancies: pd.DataFrame, evaluation: Evaluation) -> list[_Found]:
    wan = fen_to_wan_series
    x = discrepancies.fillna({"transfer_id": "", "receipt_id": ""})
    county = county_names(x["county_code"], evaluation)
    t_amount, r_amount = wan(x["transfer_amount"].fillna(0)), wan(x["receipt_amount"].fillna(0))
    t_date, r_date = x["transfer_date"].dt.strftime("%Y-%m-%d"), x["receipt_date"].dt.strftime("%Y-%m-%d")
    stake = {
        "amount_differs": x["difference"].fillna(0).abs(),
        "duplicate_receipt": x["receipt_amount"].fillna(0),
        "unmatched_transfer": x["transfer_amount"].fillna(0),
        "unmatched_receipt": x["receipt_amount"].fillna(0),
    }
    kinds = {  # discrepancy type → (severity, figure, message)
        "amount_differs": (
            "high",
            wan(x["difference"].fillna(0)),
            "市级下拨 "
            + x["transfer_id"]
            + " 金额 "
            + t_amount
            + " 万元，"
            + county
            + "到位记录 "
            + x["receipt_id"]
            + " 金额 "
            + r_amount
            + " 万元，不一致。",
        ),
        "duplicate_receipt": (
            "high",
            r_amount,
            county
            + "将市级下拨 "
            + x["transfer_id"]
            + "（"
            + t_amount
            + " 万元）重复登记为到位记录 "
            + x["receipt_id"]
            + "。",
        ),
        "unmatched_transfer": (
            "high",
            t_amount,
            "市级下拨 "
            + x["transfer_id"]
            + "（"
            + county
            + "，"
            + t_amount
            + " 万元，"
            + t_date
            + "）在旗县区到位记录中未找到。",
        ),
        "unmatched_receipt": (
            "medium",
            r_amount,
            county
            + "到位记录 "
            + x["receipt_id"]
            + "（市级下拨，"
            + r_amount
            + " 万元，"
            + r_date
            + "）没有对应的市级下拨记录。",
        ),
    }
    found = []
    for kind in DISCREPANCY_TYPES:
        severity, figure, message = kinds[kind]
        is_kind = x["discrepancy_type"] == kind
        found += _found(
            x[is_kind],
            kind,
            severity,
            "transfer",
            x.loc[is_kind, "key"],
            figure[is_kind],
            message[is_kind],
            "transfer_discrepancies",
            ["transfer_amount", "receipt_amount"],
            stake[kind][is_kind],
        )
    return found


def _below(numerator: pd.Series, denominator: pd.Series, threshold: Fraction) -> pd.Series:
    """numerator / denominator × 100 < threshold, exactly; False where the denominator is not positive."""
    n = numerator.to_numpy(dtype=object)
    d = denominator.to_numpy(dtype=object)
    defined = denominator.to_numpy() > 0
    return pd.Series(
        defined & (n * 100 * threshold.denominator < threshold.numerator * d), index=numerator.index, dtype=bool
    )
