"""Render the submission contract as bilingual Markdown (``docs/contract.md``) from the pandera models.

``python -m pipeline.contract_docs > docs/contract.md`` regenerates it; a test keeps it in sync.
"""

from __future__ import annotations

from collections.abc import Mapping

from pipeline import fieldtypes
from pipeline.contract import KINDS, Kind
from pipeline.limits import Limits
from pipeline.workbooks import column_order, note

SUBMITTERS = {
    "bureau": (
        "市级单位（市人社局各科室、市财政局）",
        "bureau/<部门编码>/<表名>.xlsx|csv，同类多个文件可加后缀：<表名>_<后缀>.xlsx|csv（部门及其报送的表须在 evaluation.yaml 的 departments 中登记）",
    ),
    "county": ("旗县区", "county/<旗县区编码>.xlsx（一个工作簿，每类一个工作表；文件名只能是编码本身）"),
    "evaluator": ("评价机构", "evaluator/<表名>.xlsx|csv，同类多个文件可加后缀：<表名>_<后缀>.xlsx|csv"),
}

INTRO = """# 报送数据规范 / Submission contract

本文件由 `pipeline/contract.py` 中的 pandera 模型生成（`python -m pipeline.contract_docs`），请勿手工修改。
This file is generated from the pandera models in `pipeline/contract.py`; do not edit it by hand.

## 通用规则 / General rules

- 一个评价是 `raw/<评价编号>/` 目录，内含 `evaluation.yaml`。报送文件按报送单位放在 `bureau/`、`county/`、`evaluator/` 子目录。
  An evaluation is a folder `raw/<evaluation_id>/` holding `evaluation.yaml`; submissions sit in `bureau/`, `county/`, `evaluator/`.
- 文件名即身份：旗县区文件必须是 `county/<旗县区编码>.xlsx`（或 `.csv`），如 `150102.xlsx`；`150102(1).xlsx`、`150102 新城区.xlsx`、
  `county/旧版/150102.xlsx` 等一律列为“未识别”，不读取。同一旗县区同时报送 `.xlsx` 和 `.csv` 视为重复报送，两份均不读取。
  内容完全相同（SHA-256 相同）的两个文件是同一份报送，后一个不读取。符号链接、管道等非普通文件不读取。
  The name is the identity: a county sends exactly `county/<code>.xlsx` (or `.csv`); any other name, a sub-folder, an undeclared
  department, a link or FIFO is listed as unrecognised or rejected and never read; two files with the same SHA-256 are one submission.
- 模板标题行写有“填报单位代码”：请填写本单位代码（旗县区编码或科室编码）。与文件名不符、或数据行的“旗县区编码”为其他旗县区的，整份拒收；未填写的给出提示。
  Templates carry the submitter's code (填报单位代码) beside the title: a file whose code, or whose rows' county code, names another
  submitter is rejected whole; a file without the code gets a warning.
- 接受 XLSX 与 CSV。CSV 须为逗号（或制表符）分隔，编码为 UTF-8、带 BOM 的 UTF-8 或 GB18030；Big5、UTF-16、分号分隔等给出明确提示后拒收。
  文件类型按内容识别，扩展名不符时给出警告；网页（HTML）、Word 文档、加密工作簿、旧版 .xls 均给出各自的提示。
  XLSX and comma- (or tab-) separated CSV in UTF-8, UTF-8 with BOM or GB18030; Big5, UTF-16 and other delimiters are refused with
  their own message. The type is sniffed from content (a wrong extension is a warning).
- 单元格公式：Excel/WPS 计算并保存过的公式采用其结果，并逐一列为提示；未计算的公式（无缓存值，或由不能计算的软件写出）
  所在行隔离，提示“公式未计算：请在 Excel/WPS 中打开并保存后重新报送”。Excel 错误值（#DIV/0!、#REF! 等）所在行隔离。
  Formulas Excel calculated are used and listed as warnings; uncalculated ones and Excel error values quarantine their row.
- 每一行都有去处：工作表的行数 = 标题/说明行 + 表头 + 空行 + 采用行 + 隔离行。表头之外有内容的列、重复的表头、改了名的工作表、
  引号未闭合而跨越多行的内容都会被报告，不会被悄悄丢弃。
  Every line is accounted for: data beyond the header, a duplicated header, a renamed sheet, a quoted field spilling over lines
  are reported, never dropped silently.
{limits}
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


def limits_rule() -> str:
    """The resource-limits rule, from the defaults themselves (``pipeline.limits.Limits``)."""
    limits = Limits()
    shown = "、".join(f"{label} {getattr(limits, name):,}" for name, label in Limits.LABELS.items())
    names = ", ".join(f"`{name}` {getattr(limits, name):,}" for name in Limits.LABELS)
    return (
        f"- 资源上限（每个评价可在 evaluation.yaml 的 `settings: limits:` 中调整）：{shown}。超出上限的文件整份拒收，提示写明上限与实际值。\n"
        f"  Resource limits per evaluation (`settings: limits:`): {names}; a file over a limit is rejected naming both values."
    )


def render(kinds: Mapping[str, Kind] = KINDS) -> str:
    parts = [INTRO.format(limits=limits_rule())]
    for typ, (who, where) in SUBMITTERS.items():
        parts.append(f"\n## {who} / {typ}\n\n文件位置 / location: `{where}`\n")
        for kind in (k for k in kinds.values() if k.submitter == typ):
            parts.append(f"\n### {kind.label}（`{kind.name}`）\n\n{kind.description}\n")
            if kind.id_column:
                scope = "同一旗县区内" if kind.county_scoped else "全部文件内"
                parts.append(f"\n编号“{kind.columns[kind.id_column].title}”须{scope}唯一 / ids are unique.\n")
            parts.append("\n| 列名 header | 英文名 alias | 说明 notes | 描述 description |\n|---|---|---|---|\n")
            for name in column_order(kind):
                col = kind.columns[name]
                alias = ", ".join(col.metadata.get("aliases", [])) or name
                header = fieldtypes.of(col).header(col, "万元/元")
                parts.append(f"| {header} | `{alias}` | {note(kind, name, '万元')} | {col.description} |\n")
    return "".join(parts)


if __name__ == "__main__":
    print(render(), end="")
