"""Render the submission contract as bilingual Markdown (``docs/contract.md``) from the pandera models.

``python -m pipeline.contract_docs > docs/contract.md`` regenerates it; a test keeps it in sync.
"""

from __future__ import annotations

from pipeline.contract import KINDS
from pipeline.workbooks import column_order, note

SUBMITTERS = {
    "bureau": ("市级单位（市人社局各科室、市财政局）", "bureau/<部门编码>/<表名>.xlsx|csv"),
    "county": ("旗县区", "county/<旗县区编码>.xlsx（一个工作簿，每类一个工作表）"),
    "evaluator": ("评价机构", "evaluator/<表名>.xlsx|csv"),
}

INTRO = """# 报送数据规范 / Submission contract

本文件由 `pipeline/contract.py` 中的 pandera 模型生成（`python -m pipeline.contract_docs`），请勿手工修改。
This file is generated from the pandera models in `pipeline/contract.py`; do not edit it by hand.

## 通用规则 / General rules

- 一个评价是 `raw/<评价编号>/` 目录，内含 `evaluation.yaml`。报送文件按报送单位放在 `bureau/`、`county/`、`evaluator/` 子目录。
  An evaluation is a folder `raw/<evaluation_id>/` holding `evaluation.yaml`; submissions sit in `bureau/`, `county/`, `evaluator/`.
- 接受 XLSX 与 CSV（UTF-8、带 BOM 的 UTF-8、GB18030）。文件类型按内容识别，扩展名不符时给出警告。
  XLSX and CSV (UTF-8, UTF-8 with BOM, GB18030) are accepted; the type is sniffed from content, a wrong extension is a warning.
- 表头使用中文列名，也接受英文规范列名；表头上方可有标题行、说明行。
  Headers are Chinese; the canonical English names are accepted as aliases; title and notes rows above the header are tolerated.
- 金额须声明单位：表头写作“金额（万元）”或“金额（元）”，或在标题行写“单位：万元”。金额最多两位小数，三位小数视为错误而非四舍五入。负数仅用于冲红，并须填写“冲红凭证号”。
  Amounts declare their unit in the header (`金额（万元）` / `金额（元）`) or a title row (`单位：万元`); at most two decimals (three is an error, never rounded); a negative amount must name the voucher it reverses.
- 资金往来（到位、支出、结转、收回、下拨）的日期须在项目实施期内（`evaluation.yaml` 的 `programme_period`）。
  Dates of money movements must fall within the programme period, up to the cut-off.
- 问卷中不得出现身份证号、手机号等个人信息列，受访者只用匿名编号。
  Survey files must not hold 身份证号 or phone numbers; respondents appear only as pseudonymous ids.
- 校验不通过的行进入隔离表（文件、工作表、行号、列、规则、值、修改提示），其余行照常使用。
  Failing rows go to the quarantine (file, sheet, row, column, rule, value, message); the other rows go on.
"""


def render() -> str:
    parts = [INTRO]
    for typ, (who, where) in SUBMITTERS.items():
        parts.append(f"\n## {who} / {typ}\n\n文件位置 / location: `{where}`\n")
        for kind in (k for k in KINDS.values() if k.submitter == typ):
            parts.append(f"\n### {kind.label}（`{kind.name}`）\n\n{kind.description}\n")
            if kind.id_column:
                scope = "同一旗县区内" if kind.county_scoped else "全部文件内"
                parts.append(f"\n编号“{kind.columns[kind.id_column].title}”须{scope}唯一 / ids are unique.\n")
            parts.append("\n| 列名 header | 英文名 alias | 说明 notes | 描述 description |\n|---|---|---|---|\n")
            for name in column_order(kind):
                col = kind.columns[name]
                alias = ", ".join(col.metadata.get("aliases", [])) or name
                header = f"{col.title}（万元/元）" if col.metadata["type"] == "money" else col.title
                parts.append(f"| {header} | `{alias}` | {note(kind, name, '万元')} | {col.description} |\n")
    return "".join(parts)


if __name__ == "__main__":
    print(render(), end="")
