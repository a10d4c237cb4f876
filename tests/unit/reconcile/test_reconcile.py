"""Fund reconciliation: the seed's figures, the five-level identities and the transfer cross-check."""

from __future__ import annotations

import dataclasses
import random
from decimal import Decimal
from fractions import Fraction

import pandas as pd
import pytest

from pipeline import evaluation as evaluation_module
from pipeline.contract import KINDS
from pipeline.formats import FEN_PER_WAN, percent, rate
from pipeline.reconcile import derived_edges, identity_checks, reconcile
from pipeline.reconcile.levels import rate_percent
from tests.support import HOHHOT as HOHHOT_ID
from tests.support import RAW

HOHHOT = RAW / HOHHOT_ID
CITY = "150100"
COUNTIES = ["150102", "150103", "150104", "150105", "150121", "150122", "150123", "150124", "150125"]


def fen(wan) -> int:
    """万元 → 分, exactly."""
    return int(Decimal(str(wan)) * FEN_PER_WAN)


def table(kind: str, rows: list[dict], *, submitter: str = "finance") -> pd.DataFrame:
    """A frame shaped like the validated table of ``kind``: contract columns plus file/sheet/row/submitter.

    Rows give amounts in 万元 (``amount``); ids default to ``<kind>-<n>``; county kinds are filed per county.
    """
    spec = KINDS[kind]
    county = spec.submitter == "county"
    columns = list(spec.columns)
    records = []
    for i, given in enumerate(rows):
        given = dict(given)
        who = given.pop("submitter", submitter)
        record = dict.fromkeys(columns)
        if spec.id_column:
            record[spec.id_column] = f"{kind}-{i + 1}"
        if "amount" in given:
            record["allocation_fen" if kind == "subprojects" else "amount_fen"] = fen(given.pop("amount"))
        record.update(given)
        records.append(
            {
                "file": f"county/{who}.xlsx" if county else f"bureau/{who}/{spec.label}.xlsx",
                "sheet": spec.label,
                "row": i + 2,  # Excel row: the header is row 1
                "submitter": who,
                **record,
            }
        )
    df = pd.DataFrame(records, columns=["file", "sheet", "row", "submitter"] + columns)
    money = "allocation_fen" if kind == "subprojects" else "amount_fen"
    if money in df:
        df[money] = df[money].astype("int64")
    for c in ("date", "planned_end", "adjusted_end"):
        if c in df:
            df[c] = pd.to_datetime(df[c])
    return df


def hohhot(**settings) -> evaluation_module.Evaluation:
    ev = evaluation_module.load(HOHHOT)
    return dataclasses.replace(
        ev, config=ev.config.model_copy(update={"settings": ev.config.settings.model_copy(update=settings)})
    )


def registry(allocations: dict[str, object], groups: dict[str, str]) -> pd.DataFrame:
    return table(
        "subprojects",
        [
            {
                "subproject_code": code,
                "name": f"子项目{code}",
                "group_code": groups[code],
                "group_name": f"第{groups[code]}组",
                "lead_unit": "市人社局",
                "amount": amount,
                "status_reported": "completed",
                "planned_end": "2023-12-31",
            }
            for code, amount in allocations.items()
        ],
        submitter="project_office",
    )


# --- the seed's figures (a unit fixture: the lead's end-to-end test reads the real raw files) ----

SEED_ALLOCATIONS = {
    "1": 800,
    "2": 3805,
    "3": 125,
    "4": 600,
    "5": 2500,
    "6": 6100,
    "7": 6120,
    "8": 600,
    "9": 1000,
    "10": 600,
    "11": 650,
    "12": 1300,
    "13": 300,
    "14": 300,
    "15": 400,
    "16": 670,
    "17": 520,
    "18": 400,
    "19": 4000,
}
SEED_GROUPS = {code: "1" if int(code) <= 5 else "2" if int(code) <= 18 else "3" for code in SEED_ALLOCATIONS}
# Planned at 150100 (万元), by sub-project × source; county funds are planned per county below.
SEED_CITY_PLAN = [
    ("1", "central", 800),
    ("2", "central", 1540),
    ("2", "self_raised", 2265),
    ("3", "provincial", 125),
    ("4", "provincial", 600),
    ("5", "central", 2500),
    ("6", "municipal", 4885),
    ("7", "municipal", 4120),
    ("9", "provincial", 1000),
    ("10", "provincial", 600),
    ("11", "provincial", 650),
    ("12", "central", 1160),
    ("12", "provincial", 140),
    ("13", "municipal", 35),
    ("13", "provincial", 265),
    ("14", "provincial", 300),
    ("15", "provincial", 400),
    ("16", "municipal", 670),
    ("17", "provincial", 520),
    ("18", "provincial", 400),
    ("19", "central", 4000),
]
# Illustrative spending (万元) that adds up to the seed's totals by source.
SEED_CITY_SPENT = [
    ("1", "central", 800),
    ("2", "central", 1540),
    ("5", "central", 2500),
    ("12", "central", 1160),
    ("19", "central", "606.26"),
    ("2", "self_raised", 2265),
    ("3", "provincial", 125),
    ("4", "provincial", 600),
    ("9", "provincial", 500),
    ("10", "provincial", 200),
    ("11", "provincial", "89.97"),
    ("16", "municipal", 100),
]


def seed_tables() -> dict[str, pd.DataFrame]:
    plan = [
        {"subproject_code": s, "source_code": src, "county_code": CITY, "amount": a} for s, src, a in SEED_CITY_PLAN
    ]
    plan += [{"subproject_code": "6", "source_code": "county", "county_code": c, "amount": 135} for c in COUNTIES]
    plan += [
        {
            "subproject_code": "7",
            "source_code": "county",
            "county_code": c,
            "amount": "222.24" if c == "150125" else "222.22",
        }
        for c in COUNTIES
    ]
    plan += [{"subproject_code": "8", "source_code": "county", "county_code": c, "amount": 100} for c in COUNTIES[3:]]
    received = [
        {"subproject_code": s, "source_code": src, "county_code": CITY, "amount": a, "date": "2023-03-01"}
        for s, src, a in SEED_CITY_PLAN
        if src != "county"
    ]
    paid = [
        {"subproject_code": s, "source_code": src, "county_code": CITY, "amount": a, "date": "2023-09-01"}
        for s, src, a in SEED_CITY_SPENT
    ]
    # a payment booked twice and reversed (冲红): it must sum away
    paid += [
        {
            "payment_id": "P-dup",
            "subproject_code": "1",
            "source_code": "central",
            "county_code": CITY,
            "amount": 50,
            "date": "2023-09-02",
        },
        {
            "payment_id": "P-dup-r",
            "subproject_code": "1",
            "source_code": "central",
            "county_code": CITY,
            "amount": -50,
            "date": "2023-09-03",
            "reverses": "P-dup",
        },
    ]
    movement = {"subproject_code": "19", "source_code": "central", "county_code": CITY, "date": "2023-12-31"}
    own = [("150105", "6", 135), ("150105", "8", 100), ("150121", "6", 135), ("150121", "8", 100), ("150122", "8", 30)]
    county_paid = [
        ("150105", "6", "county", 100),
        ("150105", "8", "county", "73.93"),
        ("150121", "8", "county", 50),
        ("150102", "6", "municipal", "3.60"),
    ]
    return {
        "subprojects": registry(SEED_ALLOCATIONS, SEED_GROUPS),
        "fund_plan": table("fund_plan", plan, submitter="czj"),
        "receipts": table("receipts", received),
        "payments": table("payments", paid),
        "carry_forwards": table("carry_forwards", [{**movement, "amount": "1279.74"}]),
        "recoveries": table("recoveries", [{**movement, "amount": 2114}], submitter="czj"),
        "transfers": table(
            "transfers",
            [
                {
                    "transfer_id": "T1",
                    "subproject_code": "6",
                    "source_code": "municipal",
                    "county_code": "150102",
                    "amount": 50,
                    "date": "2023-04-01",
                    "doc_no": "呼人社发〔2023〕1号",
                }
            ],
        ),
        "county_receipts": pd.concat(
            [
                table(
                    "county_receipts",
                    [
                        {
                            "subproject_code": s,
                            "source_code": "county",
                            "amount": a,
                            "date": "2023-05-01",
                            "channel": "own",
                            "submitter": c,
                        }
                        for c, s, a in own
                    ],
                ),
                table(
                    "county_receipts",
                    [
                        {
                            "receipt_id": "R1",
                            "subproject_code": "6",
                            "source_code": "municipal",
                            "amount": 50,
                            "date": "2023-04-03",
                            "channel": "city",
                            "doc_no": "呼人社发〔2023〕1号",
                        }
                    ],
                    submitter="150102",
                ),
            ],
            ignore_index=True,
        ),
        "county_payments": table(
            "county_payments",
            [
                {"subproject_code": s, "source_code": src, "amount": a, "date": "2023-10-01", "submitter": c}
                for c, s, src, a in county_paid
            ],
        ),
        "county_match_plan": table(
            "county_match_plan", [{"subproject_code": "6", "amount": 135, "submitter": c} for c in COUNTIES]
        ),
    }


@pytest.fixture(scope="module")
def seed():
    tables = seed_tables()
    return tables, reconcile(tables, hohhot())


def test_seed_funds_summary(seed):
    _, rec = seed
    funds = rec.summary["funds"]
    expected = {
        "central": ("10000.00", "10000.00", "6606.26", "1279.74", "2114.00"),
        "provincial": ("5000.00", "5000.00", "1514.97", "0.00", "0.00"),
        "municipal": ("9710.00", "9710.00", "103.60", "0.00", "0.00"),
        "county": ("3815.00", "500.00", "223.93", "0.00", "0.00"),
        "self_raised": ("2265.00", "2265.00", "2265.00", "0.00", "0.00"),
    }
    measures = ("planned", "received", "spent", "carried_forward", "recovered")
    assert list(funds["by_source"]) == list(expected)
    assert {code: tuple(funds["by_source"][code][m] for m in measures) for code in expected} == expected
    assert tuple(funds[m] for m in measures) == ("30790.00", "27475.00", "10713.76", "1279.74", "2114.00")
    assert (funds["arrival_rate"], funds["execution_rate"]) == ("89.23", "38.99")
    assert funds["by_source"]["county"]["arrival_rate"] == "13.11"
    assert {g: b["planned"] for g, b in funds["by_group"].items()} == {"1": "7830.00", "2": "18960.00", "3": "4000.00"}
    assert rec.summary["coverage"] == {"projects_evaluated": 19, "projects_total": 19, "budget_share": "100.00"}
    assert rec.rates == {"arrival_rate": Fraction(27475, 30790), "execution_rate": Fraction(1071376, 2747500)}


def test_seed_identities_hold(seed):
    tables, rec = seed
    checks = identity_checks(rec, tables)
    assert [c.name for c in checks] == [
        "levels_sum_to_same_totals",
        "finest_grain_equals_inputs",
        "transfers_net_to_zero",
        "balance_formula",
        "transfer_crosscheck_complete",
        "lineage_complete",
    ]
    assert all(c.passed for c in checks), [c for c in checks if not c.passed]
    assert checks[0].detail.startswith("planned 30790.00, received 27475.00, spent 10713.76")


def test_seed_by_county_holds_transfers_and_the_city_bucket(seed):
    _, rec = seed
    by_county = rec.by_county.set_index("county_code")
    assert list(by_county.index) == [CITY] + COUNTIES
    assert by_county.loc[CITY, "county_name"] == "市本级"
    assert by_county.loc[CITY, ["transfers_in", "transfers_out"]].tolist() == [0, fen(50)]
    new_town = by_county.loc["150102"]
    assert new_town[["received", "transfers_in", "spent", "balance"]].tolist() == [
        0,
        fen(50),
        fen("3.60"),
        fen("46.40"),
    ]
    assert new_town["execution_rate"] == "7.20"  # spent / (received + transfers in − transfers out)
    assert rec.transfer_discrepancies.empty
    assert rec.transfer_matches[["transfer_id", "receipt_id", "status", "match_method"]].values.tolist() == [
        ["T1", "R1", "matched", "doc_no"]
    ]


def test_seed_findings(seed):
    _, rec = seed
    f = rec.findings.set_index("finding_id")
    low = f.loc["low_arrival:county"]
    assert (low["severity"], low["subject_type"], low["figure"]) == ("medium", "source", "13.11")
    assert low["message"] == "旗县区资金计划 3815.00 万元，实际到位 500.00 万元，到位率 13.11%，低于 60% 的阈值。"
    assert f.loc["funds_recovered:central", "message"] == "中央资金未使用部分被收回 2114.00 万元。"
    assert sorted(f.index[f["code"] == "low_execution_source"]) == [
        "low_execution_source:county",
        "low_execution_source:municipal",
        "low_execution_source:provincial",
    ]
    assert f.loc["low_execution_subproject:19", "figure"] == "15.16"
    assert "allocation_differs" not in set(f["code"])
    short = f.loc["county_matching_short:150105"]
    assert (short["figure"], short["message"]) == (
        "222.22",
        "赛罕区配套资金计划 457.22 万元，实际到位 235.00 万元，缺口 222.22 万元。",
    )
    assert len(f[f["code"] == "county_matching_short"]) == 9
    assert not (f["code"].str.contains("over_100") | (f["code"] == "negative_balance")).any()


def test_seed_matching_table(seed):
    _, rec = seed
    m = rec.matching.set_index("county_code")
    assert list(m.index) == COUNTIES
    assert m.loc["150105", ["planned", "stated_plan", "received", "shortfall"]].tolist() == [
        fen("457.22"),
        fen(135),
        fen(235),
        fen("222.22"),
    ]
    assert m["planned"].sum() == fen(3815) and m["received"].sum() == fen(500)
    assert m.loc["150102", "arrival_rate"] == "0.00"


def level_edges(rec, tables, level, key):
    """A coarser level's edges, derived from the stored cell edges as the trace derives them."""
    registry = tables["subprojects"]
    groups = dict(zip(registry["subproject_code"], registry["group_code"]))
    cells = rec.lineage[rec.lineage["output_table"] == "cells"]
    return derived_edges(level, [key], cells, rec.cells, groups)


def test_lineage_traces_the_county_received_figure_to_county_rows(seed):
    tables, rec = seed
    edges = rec.lineage
    assert not edges["output_table"].isin(["by_source", "by_group", "by_county"]).any()  # derived, not stored
    county_received = level_edges(rec, tables, "by_source", "county")
    county_received = county_received[county_received["measure"] == "received"]
    own = tables["county_receipts"][tables["county_receipts"]["channel"] == "own"]
    assert sorted(map(tuple, county_received[["input_kind", "file", "sheet", "row"]].astype(str).values)) == sorted(
        ("county_receipts", f, s, str(r)) for f, s, r in own[["file", "sheet", "row"]].values
    )
    cell = edges[(edges["output_table"] == "cells") & (edges["output_key"] == "1|central|150100")]
    assert sorted(cell["measure"].astype(str)) == ["planned", "received", "spent", "spent", "spent"]
    finding = edges[(edges["output_table"] == "findings") & (edges["output_key"] == "low_arrival:county")]
    assert set(finding["measure"].astype(str)) == {"planned", "received"} and len(finding) == 24 + 5


# --- hand-made cases --------------------------------------------------------------------------


def small_tables() -> dict[str, pd.DataFrame]:
    """Two sub-projects, a county carrying municipal money by transfer and its own matching funds."""
    return {
        "subprojects": registry({"1": 100, "2": 60}, {"1": "1", "2": "2"}),
        "fund_plan": table(
            "fund_plan",
            [
                {"subproject_code": "1", "source_code": "central", "county_code": CITY, "amount": 100},
                {"subproject_code": "2", "source_code": "municipal", "county_code": CITY, "amount": 40},
                {"subproject_code": "2", "source_code": "county", "county_code": "150102", "amount": 20},
            ],
            submitter="czj",
        ),
        "receipts": table(
            "receipts",
            [
                {
                    "subproject_code": "1",
                    "source_code": "central",
                    "county_code": CITY,
                    "amount": 100,
                    "date": "2023-02-01",
                },
                {
                    "subproject_code": "2",
                    "source_code": "municipal",
                    "county_code": CITY,
                    "amount": 40,
                    "date": "2023-02-01",
                },
            ],
        ),
        "payments": table(
            "payments",
            [
                {
                    "subproject_code": "1",
                    "source_code": "central",
                    "county_code": CITY,
                    "amount": 70,
                    "date": "2023-06-01",
                },
                {
                    "subproject_code": "1",
                    "source_code": "central",
                    "county_code": CITY,
                    "amount": -10,
                    "date": "2023-06-02",
                    "reverses": "payments-1",
                },
            ],
        ),
        "carry_forwards": table(
            "carry_forwards",
            [
                {
                    "subproject_code": "1",
                    "source_code": "central",
                    "county_code": CITY,
                    "amount": 15,
                    "date": "2023-12-31",
                }
            ],
        ),
        "recoveries": table(
            "recoveries",
            [
                {
                    "subproject_code": "1",
                    "source_code": "central",
                    "county_code": CITY,
                    "amount": 5,
                    "date": "2023-12-31",
                }
            ],
        ),
        "transfers": table(
            "transfers",
            [
                {
                    "transfer_id": "T1",
                    "subproject_code": "2",
                    "source_code": "municipal",
                    "county_code": "150102",
                    "amount": 30,
                    "date": "2023-03-01",
                    "doc_no": "D1",
                }
            ],
        ),
        "county_receipts": table(
            "county_receipts",
            [
                {
                    "receipt_id": "R1",
                    "subproject_code": "2",
                    "source_code": "municipal",
                    "amount": 30,
                    "date": "2023-03-05",
                    "channel": "city",
                    "doc_no": "D1",
                },
                {
                    "receipt_id": "R2",
                    "subproject_code": "2",
                    "source_code": "county",
                    "amount": 8,
                    "date": "2023-04-01",
                    "channel": "own",
                },
            ],
            submitter="150102",
        ),
        "county_payments": table(
            "county_payments",
            [
                {"subproject_code": "2", "source_code": "municipal", "amount": 25, "date": "2023-07-01"},
                {"subproject_code": "2", "source_code": "county", "amount": 8, "date": "2023-07-01"},
            ],
            submitter="150102",
        ),
        "county_match_plan": table("county_match_plan", [{"subproject_code": "2", "amount": 25}], submitter="150102"),
    }


MONEY = ["planned", "received", "spent", "carried_forward", "recovered"]


def wan_rows(df: pd.DataFrame, columns: list[str]) -> list[list]:
    return [
        [
            v / FEN_PER_WAN if c in MONEY + ["transfers_in", "transfers_out", "balance"] else v
            for c, v in zip(columns, row)
        ]
        for row in df[columns].values.tolist()
    ]


def test_every_level_of_a_small_case():
    tables = small_tables()
    rec = reconcile(tables, hohhot())
    columns = ["key"] + MONEY + ["transfers_in", "transfers_out", "balance", "arrival_rate", "execution_rate"]
    assert wan_rows(rec.cells, columns) == [
        ["1|central|150100", 100, 100, 60, 15, 5, 0, 0, 20, "100.00", "60.00"],
        ["2|municipal|150100", 40, 40, 0, 0, 0, 0, 30, 10, "100.00", "0.00"],
        ["2|municipal|150102", 0, 0, 25, 0, 0, 30, 0, 5, None, "83.33"],
        ["2|county|150102", 20, 8, 8, 0, 0, 0, 0, 0, "40.00", "100.00"],
    ]
    level = ["key"] + MONEY + ["balance", "arrival_rate", "execution_rate"]
    assert wan_rows(rec.by_source, level) == [
        ["central", 100, 100, 60, 15, 5, 20, "100.00", "60.00"],
        ["provincial", 0, 0, 0, 0, 0, 0, None, None],
        ["municipal", 40, 40, 25, 0, 0, 15, "100.00", "62.50"],
        ["county", 20, 8, 8, 0, 0, 0, "40.00", "100.00"],
        ["self_raised", 0, 0, 0, 0, 0, 0, None, None],
    ]
    assert wan_rows(rec.by_subproject, level) == [
        ["1", 100, 100, 60, 15, 5, 20, "100.00", "60.00"],
        ["2", 60, 48, 33, 0, 0, 15, "80.00", "68.75"],
    ]
    assert wan_rows(rec.by_group, level) == wan_rows(rec.by_subproject, level)
    assert wan_rows(rec.by_county[rec.by_county["key"].isin([CITY, "150102"])], columns) == [
        [CITY, 140, 140, 60, 15, 5, 0, 30, 30, "100.00", "54.55"],
        ["150102", 20, 8, 33, 0, 0, 30, 0, 5, "40.00", "86.84"],
    ]
    assert all(c.passed for c in identity_checks(rec, tables))
    assert rec.summary["funds"]["spent"] == "93.00"  # 70 − 10 (冲红) + 25 + 8
    assert rec.findings.set_index("finding_id").loc["county_plan_differs:150102|2", "message"] == (
        "新城区报送的子项目 2 配套计划 25.00 万元，与资金计划 20.00 万元不一致。"
    )


def test_a_reversal_sums_away():
    tables = small_tables()
    rec = reconcile(tables, hohhot())
    spent = level_edges(rec, tables, "by_source", "central")
    spent = spent[spent["measure"] == "spent"]
    assert sorted(spent["row"]) == [2, 3]  # both the payment and its reversal are behind the figure
    assert rec.by_source.set_index("key").loc["central", "spent"] == fen(60)


def test_execution_denominator_setting():
    tables = small_tables()
    by_planned = reconcile(tables, hohhot(execution_denominator="planned"))
    assert by_planned.by_subproject.set_index("key")["execution_rate"].to_dict() == {"1": "60.00", "2": "55.00"}
    assert by_planned.summary["funds"]["execution_rate"] == "58.13"  # 93 / 160
    assert by_planned.rates["execution_rate"] == Fraction(93, 160)
    by_received = reconcile(tables, hohhot())
    assert by_received.summary["funds"]["execution_rate"] == "62.84"  # 93 / 148
    # Any other denominator is refused when the evaluation is loaded, naming the key and the values allowed.
    from pipeline.config import parse_evaluation

    data = {**hohhot().config.model_dump(), "settings": {"execution_denominator": "budget"}}
    with pytest.raises(ValueError, match=r"settings\.execution_denominator.*'received' or 'planned'"):
        parse_evaluation(data, HOHHOT / "evaluation.yaml")


def test_low_arrival_finding_follows_the_threshold():
    tables = small_tables()
    finding = "low_arrival:county"
    assert finding in set(reconcile(tables, hohhot()).findings["finding_id"])  # 40.00% < 60
    assert finding not in set(
        reconcile(tables, hohhot(arrival_rate_threshold=40)).findings["finding_id"]
    )  # not below 40
    assert finding in set(reconcile(tables, hohhot(arrival_rate_threshold="40.01")).findings["finding_id"])


def test_negative_balance_rate_over_100_and_allocation_findings():
    tables = small_tables()
    tables["payments"] = table(
        "payments",
        [{"subproject_code": "1", "source_code": "central", "county_code": CITY, "amount": 120, "date": "2023-06-01"}],
    )
    tables["subprojects"] = registry({"1": 100, "2": 50}, {"1": "1", "2": "2"})
    f = reconcile(tables, hohhot()).findings.set_index("finding_id")
    assert f.loc["negative_balance:1|central|150100", "figure"] == "-40.00"  # 100 − 120 − 15 − 5
    assert f.loc["execution_over_100_source:central", "figure"] == "120.00"  # shown as it is, never clipped
    assert f.loc["execution_over_100_subproject:1", "severity"] == "medium"
    assert (
        f.loc["allocation_differs:2", "message"]
        == "子项目 2（子项目2）登记资金额 50.00 万元，资金计划合计 60.00 万元，相差 10.00 万元。"
    )


# --- the transfer cross-check -----------------------------------------------------------------

SIDES = [
    "discrepancy_type",
    "transfer_id",
    "transfer_amount",
    "transfer_file",
    "transfer_sheet",
    "transfer_row",
    "receipt_id",
    "receipt_amount",
    "receipt_file",
    "receipt_sheet",
    "receipt_row",
    "difference",
]


def crosscheck(transfers: list[dict], receipts: list[dict], **settings):
    tables = small_tables()
    base = {"subproject_code": "2", "source_code": "municipal", "county_code": "150102"}
    tables["transfers"] = table("transfers", [{**base, **t} for t in transfers])
    tables["county_receipts"] = table(
        "county_receipts", [{**base, "channel": "city", **r} for r in receipts], submitter="150102"
    )
    rec = reconcile(tables, hohhot(**settings))
    assert all(c.passed for c in identity_checks(rec, tables))
    return rec


def rows(df: pd.DataFrame) -> list[list]:
    return [[None if pd.isna(v) else v for v in r] for r in df[SIDES].astype(object).values.tolist()]


T_FILE, R_FILE = "bureau/finance/资金下拨.xlsx", "county/150102.xlsx"


def test_a_transfer_the_county_never_booked():
    rec = crosscheck(
        [
            {"transfer_id": "T1", "amount": 30, "date": "2023-03-01", "doc_no": "D1"},
            {"transfer_id": "T2", "amount": 12, "date": "2023-05-01", "doc_no": "D2"},
        ],
        [{"receipt_id": "R1", "amount": 30, "date": "2023-03-04", "doc_no": "D1"}],
    )
    assert rows(rec.transfer_discrepancies) == [
        ["unmatched_transfer", "T2", fen(12), T_FILE, "资金下拨", 3, None, None, None, None, None, None]
    ]
    assert rec.transfer_discrepancies["key"].tolist() == ["T2|150102|"]
    message = rec.findings.set_index("finding_id").loc["unmatched_transfer:T2|150102|"]
    assert (message["severity"], message["message"]) == (
        "high",
        "市级下拨 T2（新城区，12.00 万元，2023-05-01）在旗县区到位记录中未找到。",
    )


def test_the_same_transfer_booked_twice():
    rec = crosscheck(
        [
            {"transfer_id": "T1", "amount": 30, "date": "2023-03-01", "doc_no": "D1"},
            {"transfer_id": "T2", "amount": 20, "date": "2023-06-01"},
        ],
        [
            {"receipt_id": "R1", "amount": 30, "date": "2023-03-04", "doc_no": "D1"},
            {"receipt_id": "R1b", "amount": 30, "date": "2023-03-09", "doc_no": "D1"},
            {"receipt_id": "R2", "amount": 20, "date": "2023-06-10", "doc_no": "county-77"},
            {"receipt_id": "R2b", "amount": 20, "date": "2023-06-12"},
        ],
    )
    assert rows(rec.transfer_discrepancies) == [
        ["duplicate_receipt", "T1", fen(30), T_FILE, "资金下拨", 2, "R1b", fen(30), R_FILE, "资金到位", 3, None],
        ["duplicate_receipt", "T2", fen(20), T_FILE, "资金下拨", 3, "R2b", fen(20), R_FILE, "资金到位", 5, None],
    ]
    assert rec.transfer_discrepancies["match_method"].tolist() == ["doc_no", "amount_date"]
    assert rec.transfer_matches[["transfer_id", "receipt_id", "match_method"]].values.tolist() == [
        ["T1", "R1", "doc_no"],
        ["T2", "R2", "amount_date"],
    ]


def test_a_wrong_amount():
    rec = crosscheck(
        [{"transfer_id": "T1", "amount": 30, "date": "2023-03-01", "doc_no": "D1"}],
        [{"receipt_id": "R1", "amount": 3, "date": "2023-03-04", "doc_no": "D1"}],
    )
    assert rows(rec.transfer_discrepancies) == [
        ["amount_differs", "T1", fen(30), T_FILE, "资金下拨", 2, "R1", fen(3), R_FILE, "资金到位", 2, -fen(27)]
    ]
    assert rec.transfer_matches["status"].tolist() == ["amount_differs"]
    assert rec.findings.set_index("finding_id").loc["amount_differs:T1|150102|R1", "figure"] == "-27.00"


def test_amount_and_date_matching_respects_the_window():
    transfers = [
        {"transfer_id": "T1", "amount": 30, "date": "2023-03-01"},
        {"transfer_id": "T2", "amount": 30, "date": "2023-05-01"},
    ]
    receipts = [{"receipt_id": "R1", "amount": 30, "date": "2023-04-20"}]
    rec = crosscheck(transfers, receipts)
    assert rec.transfer_matches[["transfer_id", "receipt_id"]].values.tolist() == [["T2", "R1"]]  # closest date wins
    assert rows(rec.transfer_discrepancies)[0][:3] == ["unmatched_transfer", "T1", fen(30)]
    narrow = crosscheck(transfers, receipts, transfer_match_window_days=5)
    assert narrow.transfer_matches.empty
    assert sorted(narrow.transfer_discrepancies["discrepancy_type"]) == [
        "unmatched_receipt",
        "unmatched_transfer",
        "unmatched_transfer",
    ]


def test_a_reversed_transfer_is_no_discrepancy():
    rec = crosscheck(
        [
            {"transfer_id": "T1", "amount": 30, "date": "2023-03-01", "doc_no": "D1"},
            {"transfer_id": "T1-r", "amount": -30, "date": "2023-03-02", "reverses": "T1"},
            {"transfer_id": "T2", "amount": 25, "date": "2023-03-03", "doc_no": "D1"},
            {"transfer_id": "T2-r", "amount": -5, "date": "2023-03-04", "reverses": "T2"},
        ],
        [{"receipt_id": "R1", "amount": 20, "date": "2023-03-05", "doc_no": "D1"}],
    )
    assert rec.transfer_discrepancies.empty
    assert rec.transfer_matches[["transfer_id", "transfer_amount", "receipt_id"]].values.tolist() == [
        ["T2", fen(20), "R1"]
    ]
    pair = rec.lineage[rec.lineage["output_table"] == "transfer_matches"]
    assert sorted(pair["row"][pair["input_kind"] == "transfers"]) == [4, 5]  # the transfer and its reversal


# --- edge cases and helpers ---------------------------------------------------------------------


def test_nothing_submitted():
    rec = reconcile({}, hohhot())
    assert rec.summary["funds"]["planned"] == "0.00" and rec.summary["funds"]["arrival_rate"] is None
    assert rec.summary["coverage"] == {"projects_evaluated": 0, "projects_total": 0, "budget_share": None}
    assert rec.cells.empty and rec.lineage.empty and rec.findings.empty and rec.transfer_discrepancies.empty
    assert list(rec.by_source["key"]) == ["central", "provincial", "municipal", "county", "self_raised"]
    assert all(c.passed for c in identity_checks(rec, {}))


def test_identity_checks_catch_a_dropped_row(seed):
    tables, rec = seed
    broken = dataclasses.replace(rec, by_group=rec.by_group.iloc[1:], cells=rec.cells.iloc[1:])
    failed = {c.name: c.detail for c in identity_checks(broken, tables) if not c.passed}
    assert set(failed) == {"levels_sum_to_same_totals", "finest_grain_equals_inputs"}
    assert failed["levels_sum_to_same_totals"].startswith("planned: cells ")
    rebalanced = rec.by_source.assign(balance=rec.by_source["balance"] + 1)
    assert not identity_checks(dataclasses.replace(rec, by_source=rebalanced), tables)[3].passed


def test_vectorised_percent_equals_formats_percent():
    generator = random.Random(7)
    pairs = [
        (generator.randint(-(10**15), 10**15), generator.choice([0, 1, -3, generator.randint(-(10**13), 10**13)]))
        for _ in range(2000)
    ] + [(5, 10**6 * 2), (-5, 10**6 * 2), (1, -(10**7)), (0, -5), (2**62, 3)]
    n, d = pd.Series([p[0] for p in pairs]), pd.Series([p[1] for p in pairs])
    assert rate_percent(n, d).tolist() == [percent(rate(a, b)) for a, b in pairs]


def test_coverage_counts_subprojects_with_rows():
    tables = small_tables()
    tables["subprojects"] = registry({"1": 100, "2": 60, "3": 40}, {"1": "1", "2": "2", "3": "2"})
    rec = reconcile(tables, hohhot())
    assert rec.summary["coverage"] == {
        "projects_evaluated": 2,
        "projects_total": 3,
        "budget_share": "80.00",
    }  # 160 / 200
    assert rec.by_subproject.set_index("key").loc["3", ["planned", "arrival_rate"]].tolist() == [0, None]
    assert "allocation_differs:3" in set(rec.findings["finding_id"])


@pytest.mark.parametrize(
    "values",
    [
        ["150102", "150103", "150102", "A1"],
        ["b", None, "a"],  # a missing code: "None", as astype(str) has it
        ["1", 1, "2"],  # a code that is not text: its text, one category with "1"
        [float("nan"), "x"],
        [],
    ],
)
def test_text_categorical_is_astype_str_then_category(values):
    import numpy as np

    from pipeline.reconcile.facts import text_categorical

    array = np.array(values, dtype=object)
    expected = pd.Series(array, dtype=object).astype(str).astype("category")
    got = pd.Series(text_categorical(array))
    pd.testing.assert_series_equal(got, expected)


def test_input_table_keeps_the_contract_columns_once_from_any_frame():
    """A county kind carries its county_code beyond the contract and may come with any index: the contract's
    columns come back in order, integers as int64 and the index from zero, the caller's frame untouched."""
    from pipeline.contract import SOURCE_COLUMNS
    from pipeline.reconcile.facts import input_table

    columns = list(SOURCE_COLUMNS) + list(KINDS["county_payments"].columns)
    df = pd.DataFrame({c: [f"{c}1", f"{c}2"] for c in columns})
    df["row"], df["amount_fen"], df["date"] = [7, 8], pd.array([100, 200], dtype="Int64"), ["2023-01-02", "2023-03-04"]
    df["county_code"] = ["150102", "150103"]
    df.index = [5, 3]
    before = df.copy()
    got = input_table({"county_payments": df}, "county_payments")
    assert list(got.columns) == columns and got.index.equals(pd.RangeIndex(2))
    assert got["amount_fen"].dtype == "int64" and got["row"].tolist() == [7, 8]
    assert pd.api.types.is_datetime64_any_dtype(got["date"]) and got["date"].dt.month.tolist() == [1, 3]
    pd.testing.assert_frame_equal(df, before)
    assert input_table({"county_payments": got}, "county_payments") is got  # in shape already: not copied
