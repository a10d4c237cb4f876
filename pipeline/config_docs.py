"""Render the evaluation folder reference (``docs/evaluation.md``) from the configuration models.

``python -m pipeline.config_docs > docs/evaluation.md`` regenerates it; a test keeps it in sync.
Every key, its type, whether it is required or its default, and what it means come from
:mod:`pipeline.config` (``evaluation.yaml``) and :mod:`pipeline.scoring.framework` (framework files).
"""

from __future__ import annotations

import datetime as dt
import types
from decimal import Decimal
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from pipeline.config import EvaluationConfig
from pipeline.scoring.framework import FrameworkSpec

INTRO = """# 评价目录参考 / Evaluation folder reference

本文件由 `pipeline/config.py` 与 `pipeline/scoring/framework.py` 中的模型生成（`python -m pipeline.config_docs`），请勿手工修改。
This file is generated from the configuration models; do not edit it by hand.

一个评价是 `raw/<评价编号>/` 目录 / an evaluation is a folder `raw/<evaluation_id>/`:

| 路径 path | 内容 what |
|---|---|
| `evaluation.yaml` | 评价元数据与设置（下文） / metadata and settings (below) |
| `frameworks/<name>.yaml` | 指标体系（下文） / indicator frameworks (below) |
| `bureau/<科室>/`, `county/`, `evaluator/` | 报送文件（见 `docs/contract.md`） / submissions (see `docs/contract.md`) |
| `narrative.md` | 评价机构撰写的文字（可选）：`## 经验`、`## 综合评价`、`## 问题`（每个 `### 标题` 一个问题，`发现：` 指明发现代码、发现编号或问题类别，其后 `#### 原因分析`、`#### 建议`），格式见 `pipeline/report/narrative.py` / the evaluator's prose (optional) |
| `recommendations.yaml` | 按问题类别（`pipeline/report/causes.yaml`）或发现代码替换生成的建议（可选） / overrides of generated recommendations, by problem category or finding code (optional) |
| `reference.docx` | 评价机构的 Word 参考文档：report.docx 沿用其样式、页面设置与页眉页脚（信头、标志）（可选） / a firm's reference Word file: report.docx keeps its styles, page setup, header and footer (optional) |
| `history.csv` | 以往年度实际值 `indicator_code,year,actual`，用于判断目标是否切实（可选） / earlier years' actuals (optional) |

加载时即按下列定义逐键校验：缺少必填键、未知的键、类型或取值不符，都会在运行前报错，并指出文件与键的路径。
County-only programmes: declare the county as `city` and leave `counties` empty.
Every key is checked when the evaluation is loaded: a missing or unknown key, a wrong type or value fails
before anything runs, naming the file and the key path.
"""


FRAMEWORK_NOTES = """
**Methods** (`pipeline/scoring/methods.py`; completion = actual/target for `>=`, target/actual
for `<=`, smaller/larger for `=`; a met target, including a zero target, is complete):

| method | score | params |
|---|---|---|
| `proportional` | points × min(completion, 1) (按完成比例计算得分，满分为止) | — |
| `reverse` | lower is better: full points at or under the target, else points × target / actual | — (comparator `<=`) |
| `banded` | points × the share of the first band whose lower bound (completion in %, inclusive) is reached; below every band 0 | `bands: [{min: 100, share: 1}, {min: 80, share: 0.8}, …]` |
| `deduction` | points − `deduct` per `step` percentage points of completion short of 100 %, down to 0; whole steps only unless `partial: true` | `step`, `deduct`, `partial` |
| `qualitative` | points × the average over graders of each grade's share | `shares` (optional, overrides `grade_shares`) |

**Sources** (`source:` a name, or a mapping with `type` and options):

| type | actual | submission |
|---|---|---|
| `bureau` | the bureau department's value | kind `indicator_actuals` |
| `county_sum` / `county_mean` | the sum / mean over the counties' values; any county not collected or not reporting makes the figure not collected | kind `county_indicators` |
| `reconciliation` | `{type: reconciliation, key: arrival_rate}` (or `execution_rate`): the reconciled rate | computed |
| `survey` | satisfied / valid responses (无效 excluded); `{type: survey, satisfied: [满意, 比较满意]}` overrides the evaluation's `satisfied_answers` | kind `survey` |
| `grade` | the evaluator's grades, averaged over graders (method `qualitative` only) | kind `grades` |

**Rounding.** Each leaf score is rounded half-up to two decimals; dimension scores and the
total are sums of those rounded leaves, and the grade is read off the printed total.

**Checks on load** (each error names the file and the indicator or dimension): weights not
adding up to 100; leaf points not adding up to their dimension's weight; a leaf with no
source; an unknown method or source; a target missing where the method needs one
(all but `qualitative`); a `reverse` leaf without `<=`; a `qualitative` leaf not sourced from
grades; missing band or deduction parameters; duplicate or dotted codes.
"""


def type_name(annotation: Any) -> str:
    """A field's type in words a configuration writer reads."""
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is Literal:
        return "取值之一 one of: " + "、".join(f"`{a}`" for a in args)
    if origin in (Union, types.UnionType):
        shown = [type_name(a) for a in args if a is not type(None)]
        return " 或 ".join(shown)
    if origin is list:
        return f"列表 list of {type_name(args[0])}"
    if origin is dict:
        return f"映射 mapping {type_name(args[0])} → {type_name(args[1])}"
    if get_origin(annotation) is not None and hasattr(annotation, "__metadata__"):
        return type_name(args[0])
    if hasattr(annotation, "__metadata__"):  # Annotated[...]
        return type_name(get_args(annotation)[0])
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return f"见 [{annotation.__name__}](#{annotation.__name__.lower()})"
    return {
        str: "文本 text",
        int: "整数 integer",
        Decimal: "数值 number",
        dt.date: "日期 date (2023-12-31)",
        bool: "true / false",
    }.get(annotation, getattr(annotation, "__name__", str(annotation)))


def default_text(field: Any) -> str:
    if field.is_required():
        return "**必填 required**"
    if field.default_factory is not None:
        value = field.default_factory()
        if isinstance(value, BaseModel):
            return "（各项默认 / all defaults）"
        return f"`{value!r}`" if value else "（空 / empty）"
    value = field.default
    if value is None or value == "" or value is PydanticUndefined:
        return "（可省略 / optional）"
    return f"`{value}`"


def models_in(model: type[BaseModel]) -> list[type[BaseModel]]:
    """``model`` and every model its fields use, depth first, each once."""
    out: list[type[BaseModel]] = []

    def walk(m: type[BaseModel]) -> None:
        if m in out:
            return
        out.append(m)
        for field in m.model_fields.values():
            for inner in _nested(field.annotation):
                walk(inner)

    walk(model)
    return out


def _nested(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for a in get_args(annotation) for m in _nested(a)]


def table(model: type[BaseModel]) -> str:
    doc = (model.__doc__ or "").strip().splitlines()[0] if model.__doc__ else ""
    lines = [
        f"\n### {model.__name__}\n",
        *([f"\n{doc}\n"] if doc and not doc.startswith("!!!") else []),
        "\n| 键 key | 类型 type | 必填 / 默认 default | 说明 meaning | 示例 example |\n|---|---|---|---|---|\n",
    ]
    for name, field in model.model_fields.items():
        example = " ".join(f"`{e}`" for e in field.examples or [])
        lines.append(
            f"| `{name}` | {type_name(field.annotation)} | {default_text(field)} | "
            f"{(field.description or '').replace('|', '/')} | {example} |\n"
        )
    return "".join(lines)


def render() -> str:
    parts = [INTRO, "\n## evaluation.yaml\n"]
    parts += [table(m) for m in models_in(EvaluationConfig)]
    parts.append(
        "\n## frameworks/<name>.yaml（指标体系 / indicator framework）\n\n"
        "文件名（不含扩展名）即指标体系名称，在 `primary_framework` / `frameworks` 中引用。各一级指标权重合计 100，"
        "每个一级指标的权重等于其三级指标分值之和；三级指标编码在所有指标体系中通用，报送文件用它指明指标。\n"
        "The file's stem is the framework's name; dimension weights add up to 100 and each equals the sum of its "
        "leaves' points; leaf codes are what submissions name.\n"
    )
    parts += [table(m) for m in models_in(FrameworkSpec)]
    parts.append("\n### 计分方法与数据来源 / Methods and sources\n" + FRAMEWORK_NOTES)
    return "".join(parts)


if __name__ == "__main__":
    print(render(), end="")
