"""Indicator frameworks (指标体系): load one YAML file, check it, and hand back exact values.

A framework lives at ``raw/<evaluation>/frameworks/<name>.yaml``; the file's stem is its name.
It declares its own dimensions (一级指标) with codes and weights, the 二级 groups under them and
the 三级 leaves that are scored. The format is declared once, by the models at the end of this
module (:class:`FrameworkSpec`), which validate a file when it is loaded and generate its
reference in ``docs/evaluation.md``.

Numbers are read as :class:`~decimal.Decimal` straight from the YAML text (never through a
binary float), so ``4.5`` in the file is exactly 4.5.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

from pydantic import Field, StringConstraints, ValidationError, field_validator, model_validator

from pipeline import yamlio
from pipeline.config import Model, explain

METHODS = ("proportional", "banded", "reverse", "deduction", "qualitative")
METHODS_NEEDING_TARGET = ("proportional", "banded", "reverse", "deduction")
SourceType = Literal["bureau", "county_sum", "county_mean", "reconciliation", "survey", "grade"]
Comparator = Literal[">=", "<=", "="]
# What a leaf's value is: a count of people or things (shown as whole numbers where derived), a percentage,
# an amount of money, or a graded (qualitative) judgement. Inferred from the unit when not declared.
ValueKind = Literal["count", "percent", "amount", "grade"]
Form = Literal["third_party", "self_evaluation"]
SOURCES: tuple[str, ...] = get_args(SourceType)
COMPARATORS: tuple[str, ...] = get_args(Comparator)
KINDS: tuple[str, ...] = get_args(ValueKind)
FORMS: tuple[str, ...] = get_args(Form)

# Defaults the ministry's practice suggests (unsourced): a framework may override each.
DEFAULT_GRADE_BANDS = ((Decimal(90), "优"), (Decimal(80), "良"), (Decimal(60), "中"), (Decimal(0), "差"))
DEFAULT_GRADE_SHARES = {"好": Decimal(1), "较好": Decimal("0.8"), "一般": Decimal("0.6"), "差": Decimal(0)}

_CODE = re.compile(r"^[A-Za-z0-9_-]+$")


class FrameworkError(ValueError):
    """The framework file is unusable; the message names the file, the indicator and the fix."""


@dataclasses.dataclass(frozen=True)
class Source:
    """Where a leaf's actual comes from.

    ``type`` is one of :data:`SOURCES`; ``key`` names the reconciliation figure
    (``arrival_rate``, ``execution_rate``); ``satisfied`` lists the survey answers that count as
    satisfied (None: the evaluation's setting).
    """

    type: str
    key: str | None = None
    satisfied: tuple[str, ...] | None = None


@dataclasses.dataclass(frozen=True)
class Leaf:
    """A 三级 indicator: what is measured, against what, scored how, from which source."""

    code: str
    name: str
    dimension: str
    level2: str
    points: Decimal
    unit: str
    decimals: int | None  # places shown for target and actual; None: exact
    kind: str  # one of KINDS
    target: Decimal | None
    comparator: str
    method: str
    params: Mapping[str, Any]
    source: Source


@dataclasses.dataclass(frozen=True)
class Dimension:
    """A 一级 dimension. ``performance``: its leaves are performance targets and carry a status."""

    code: str
    name: str
    weight: Decimal
    performance: bool


@dataclasses.dataclass(frozen=True)
class Framework:
    name: str
    title: str
    dimensions: tuple[Dimension, ...]
    leaves: tuple[Leaf, ...]
    grade_bands: tuple[tuple[Decimal, str], ...]
    grade_shares: Mapping[str, Decimal]
    path: Path | None = None
    form: str = "third_party"  # or "self_evaluation": a unit's 项目支出绩效自评表, written as such when primary

    @property
    def codes(self) -> list[str]:
        """Leaf codes in framework order."""
        return [leaf.code for leaf in self.leaves]

    def leaf(self, code: str) -> Leaf:
        for leaf in self.leaves:
            if leaf.code == code:
                return leaf
        raise KeyError(f"指标编码 {code} 不在指标体系 {self.name} 中 / unknown indicator code")

    def dimension(self, code: str) -> Dimension:
        return next(d for d in self.dimensions if d.code == code)


def read_document(path: Path) -> Any:
    """The framework file as plain data, numbers as Decimal."""
    try:
        return yamlio.load(Path(path), "指标体系")
    except yamlio.ConfigFileError as exc:
        raise FrameworkError(str(exc)) from exc


def load_framework(path: Path) -> Framework:
    """Read and check one framework file; every problem raises :class:`FrameworkError`."""
    return parse_framework(read_document(path), name=Path(path).stem, path=Path(path))


def load_frameworks(evaluation_folder: Path, names: Iterable[str]) -> dict[str, Framework]:
    """The named frameworks of an evaluation, from ``<folder>/frameworks/<name>.yaml``."""
    return {name: load_framework(Path(evaluation_folder) / "frameworks" / f"{name}.yaml") for name in names}


def parse_framework(doc: Any, name: str, path: Path | None = None) -> Framework:
    """Build a :class:`Framework` from an already-parsed document (numbers as Decimal or int)."""
    where = str(path or name)
    if not _CODE.match(name):
        raise FrameworkError(f"{where}: 指标体系名称 '{name}' 只能含字母、数字、- 和 _ / bad framework name")
    if not isinstance(doc, dict):
        raise FrameworkError(f"{where}: 指标体系应为“键: 值”的映射 / the framework must be a mapping")
    try:
        spec = FrameworkSpec.model_validate(doc)
    except ValidationError as exc:
        raise FrameworkError(explain(exc, Path(where), doc)) from exc
    shares = spec.shares()
    dimensions = tuple(
        Dimension(code=d.code, name=d.name, weight=d.weight, performance=d.performance) for d in spec.dimensions
    )
    leaves = tuple(
        leaf.build(dim, group.name, shares)
        for dim, d in zip(dimensions, spec.dimensions)
        for group in d.groups
        for leaf in group.indicators
    )
    bands = (
        tuple(sorted(((b.min, b.grade) for b in spec.grade_bands), reverse=True))
        if spec.grade_bands
        else DEFAULT_GRADE_BANDS
    )
    return Framework(
        name=name,
        title=spec.title or name,
        dimensions=dimensions,
        leaves=leaves,
        grade_bands=bands,
        grade_shares=shares,
        path=path,
        form=spec.form,
    )


# --- the file format, as typed models (validated when the framework is loaded; documented from them) -------

FrameworkCode = Annotated[str, StringConstraints(strict=True, pattern=r"^[A-Za-z0-9_-]+$")]
Share = Annotated[Decimal, Field(ge=0, le=1)]
Number = Annotated[Decimal, Field(strict=False)]


class SourceSpec(Model):
    """Where a leaf's actual comes from: a type, or a mapping with ``type`` and its options."""

    type: str = Field(
        description="bureau 市级报送；county_sum / county_mean 旗县区报送的合计 / 平均；reconciliation 资金核对（需 key）；"
        "survey 满意度问卷；grade 评价机构评分 / where the actual comes from"
    )
    key: str | None = Field(None, description="reconciliation 的指标：arrival_rate 或 execution_rate / the figure")
    satisfied: list[str] | None = Field(None, description="survey：计为满意的回答（缺省用评价设置）/ satisfied answers")

    @field_validator("type")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in SOURCES:
            raise ValueError(f"未知的数据来源 '{value}'，可用 {', '.join(SOURCES)} / unknown source")
        return value


class BandSpec(Model):
    min: Number = Field(description="完成率下限（%） / lower bound of completion, in %")
    share: Share = Field(description="得分比例 0–1 / share of the points")


class ParamsSpec(Model):
    """Options of the scoring method."""

    bands: list[BandSpec] | None = Field(None, description="banded：各区间 / the bands")
    step: Annotated[Decimal, Field(gt=0)] | None = Field(None, description="deduction：每低于目标多少（百分点）/ step")
    deduct: Annotated[Decimal, Field(gt=0)] | None = Field(
        None, description="deduction：每步扣多少分 / points per step"
    )
    partial: bool = Field(False, description="deduction：不足一步按比例扣 / deduct part of a step")
    shares: dict[str, Share] | None = Field(None, description="qualitative：好/较好/一般/差 的得分比例 / grade shares")


class IndicatorSpec(Model):
    """A 三级 leaf: what is measured, against what target, scored how, from which source."""

    code: FrameworkCode = Field(
        description="指标编码（报送文件用它指明指标）/ indicator code", examples=["new_urban_jobs"]
    )
    name: str = Field("", description="指标名称 / name", examples=["新增城镇就业人员规模"])
    points: Number = Field(description="分值 / points", examples=["3"])
    unit: str = Field("", description="单位（% 时默认显示两位小数）/ unit", examples=["万人"])
    decimals: Annotated[int, Field(strict=True, ge=0)] | None = Field(
        None, description="目标值与实际值显示的小数位 / places shown"
    )
    kind: ValueKind | None = Field(
        None,
        description="指标值类型：count 数量（派生值取整显示）、percent 百分比、amount 金额、grade 定性；缺省由单位推断"
        "（% → percent，含“元” → amount，定性 → grade，其余 count）/ what the value is; inferred from the unit",
    )
    target: Number | None = Field(None, description="目标值（定性指标不需要）/ target", examples=["4.5"])
    comparator: Comparator | None = Field(
        None, description="比较方向：>= 越大越好（默认），<= 越小越好（reverse 必须），= / direction"
    )
    method: str = Field(description="计分方法：" + "、".join(METHODS) + " / scoring method", examples=["proportional"])
    params: ParamsSpec = Field(default_factory=ParamsSpec, description="计分方法参数 / method options")
    source: SourceSpec | None = Field(None, description="数据来源：类型名，或含 type 的映射 / source of the actual")

    @field_validator("source", mode="before")
    @classmethod
    def _source_by_name(cls, value: Any) -> Any:
        return {"type": value} if isinstance(value, str) else value

    @property
    def label(self) -> str:
        return f"指标 {self.code}（{self.name}）"

    @model_validator(mode="after")
    def _coherent(self) -> IndicatorSpec:
        label, method = self.label, self.method
        if method not in METHODS:
            raise ValueError(f"{label}: 未知的计分方法 '{method}'，可用 {', '.join(METHODS)} / unknown method")
        if self.source is None:
            raise ValueError(f"{label}: 没有数据来源 source / leaf has no source")
        source = self.source_spec
        if self.target is None and method in METHODS_NEEDING_TARGET:
            raise ValueError(f"{label}: 计分方法 {method} 需要目标值 target / target missing")
        if (method == "reverse") != (self.direction == "<="):
            raise ValueError(f"{label}: 逆向指标（reverse）须用 <=，其他方法不得用 <= / comparator does not fit method")
        if (method == "qualitative") != (source.type == "grade"):
            raise ValueError(
                f"{label}: 定性指标（qualitative）须以评价机构评分（grade）为来源，反之亦然 / method and source do not fit"
            )
        if source.type == "reconciliation" and not source.key:
            raise ValueError(
                f"{label}: 来自资金核对（reconciliation）的指标需要 key，如 arrival_rate / reconciliation source needs a key"
            )
        if method == "banded" and not self.params.bands:
            raise ValueError(f"{label}: 区间法（banded）需要 params.bands / banded needs bands")
        if method == "deduction" and (self.params.step is None or self.params.deduct is None):
            raise ValueError(f"{label}: 扣分法需要正数参数 step 和 deduct / deduction needs a positive step and deduct")
        if self.params.shares is not None and set(self.params.shares) != set(DEFAULT_GRADE_SHARES):
            raise ValueError(f"{label}: params.shares 须为 好/较好/一般/差 各一个比例 / bad grade shares")
        return self

    @property
    def source_spec(self) -> SourceSpec:
        assert self.source is not None  # checked in _coherent
        return self.source

    @property
    def direction(self) -> str:
        return self.comparator or ("<=" if self.method == "reverse" else ">=")

    def build(self, dim: Dimension, level2: str, shares: Mapping[str, Decimal]) -> Leaf:
        source = self.source_spec
        params: dict[str, Any] = {}
        if self.method == "banded":
            params["bands"] = tuple(sorted(((b.min, b.share) for b in self.params.bands or ()), reverse=True))
        elif self.method == "deduction":
            params.update(step=self.params.step, deduct=self.params.deduct, partial=self.params.partial)
        elif self.method == "qualitative":
            params["shares"] = dict(self.params.shares) if self.params.shares else shares
        return Leaf(
            code=self.code,
            name=self.name,
            dimension=dim.code,
            level2=level2,
            points=self.points,
            unit=self.unit,
            decimals=self.decimals if self.decimals is not None else (2 if self.unit == "%" else None),
            kind=self.kind
            or (
                "grade"
                if self.method == "qualitative"
                else "percent"
                if self.unit == "%"
                else "amount"
                if "元" in self.unit
                else "count"
            ),
            target=self.target,
            comparator=self.direction,
            method=self.method,
            params=params,
            source=Source(
                type=source.type, key=source.key, satisfied=tuple(source.satisfied) if source.satisfied else None
            ),
        )


class GroupSpec(Model):
    """A 二级 group of leaves."""

    name: str = Field("", description="二级指标名称 / group name", examples=["产出数量"])
    indicators: list[IndicatorSpec] = Field(default_factory=list, description="三级指标 / leaves")


class DimensionSpec(Model):
    """A 一级 dimension: its weight is the sum of its leaves' points."""

    code: FrameworkCode = Field(description="一级指标编码 / dimension code", examples=["output"])
    name: str = Field("", description="一级指标名称 / name", examples=["产出"])
    weight: Number = Field(description="权重（= 其三级指标分值之和；各一级指标合计 100）/ weight", examples=["40"])
    performance: bool = Field(
        False,
        description="其三级指标是绩效目标（有达成状态：met / unmet / not_collected）/ "
        "its leaves are performance targets",
    )
    groups: list[GroupSpec] = Field(default_factory=list, description="二级指标 / groups")

    @model_validator(mode="after")
    def _adds_up(self) -> DimensionSpec:
        leaves = [leaf for g in self.groups for leaf in g.indicators]
        if not leaves:
            raise ValueError(f"一级指标 {self.code}（{self.name}）下没有三级指标 / dimension has no indicators")
        points = sum((leaf.points for leaf in leaves), Decimal(0))
        if points != self.weight:
            listed = "、".join(f"{leaf.code}（{leaf.name}）{leaf.points}" for leaf in leaves)
            raise ValueError(
                f"一级指标 {self.code}（{self.name}）权重 {self.weight}，但其三级指标分值合计 {points}："
                f"{listed} / points do not add up to the dimension's weight"
            )
        return self


class GradeBandSpec(Model):
    min: Number = Field(description="得分下限（含） / lowest score of the grade")
    grade: str = Field(description="等级 / grade", examples=["良"])


class FrameworkSpec(Model):
    """A framework file, ``frameworks/<name>.yaml``: dimensions → groups → scored leaves, grade bands."""

    title: str | None = Field(None, description="指标体系名称 / title")
    form: Form = Field(
        "third_party",
        description="third_party 第三方评价；self_evaluation 单位自评：作为主指标体系时另出"
        "《项目支出绩效自评表》/ a self-evaluation also writes the self-evaluation form",
    )
    grade_bands: list[GradeBandSpec] | None = Field(
        None, description="等级区间（缺省：90 优、80 良、60 中、0 差）/ grade bands"
    )
    grade_shares: dict[str, Share] | None = Field(
        None,
        description="定性等级得分比例（缺省：好 1、较好 0.8、一般 0.6、差 0）/ "
        "shares of the points per qualitative grade",
    )
    dimensions: list[DimensionSpec] = Field(min_length=1, description="一级指标 / dimensions")

    @model_validator(mode="after")
    def _whole(self) -> FrameworkSpec:
        total = sum((d.weight for d in self.dimensions), Decimal(0))
        if total != 100:
            listed = "、".join(f"{d.code}（{d.name}）{d.weight}" for d in self.dimensions)
            raise ValueError(f"一级指标权重合计 {total}，应为 100：{listed} / weights must add up to 100")
        leaves = [leaf.code for d in self.dimensions for g in d.groups for leaf in g.indicators]
        for kind, codes in (("一级指标", [d.code for d in self.dimensions]), ("三级指标", leaves)):
            dup = sorted({c for c in codes if codes.count(c) > 1})
            if dup:
                raise ValueError(f"{kind}编码重复：{', '.join(dup)} / duplicate codes")
        if self.grade_bands and min(b.min for b in self.grade_bands) > 0:
            raise ValueError("grade_bands 最低一档须从 0 起 / the lowest grade band must start at 0")
        if self.grade_shares is not None and set(self.grade_shares) != set(DEFAULT_GRADE_SHARES):
            raise ValueError("grade_shares 须为 好/较好/一般/差 各一个 0 到 1 之间的比例 / bad grade shares")
        return self

    def shares(self) -> Mapping[str, Decimal]:
        return dict(self.grade_shares) if self.grade_shares is not None else DEFAULT_GRADE_SHARES
