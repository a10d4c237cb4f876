"""Indicator frameworks (指标体系): load one YAML file, check it, and hand back exact values.

A framework lives at ``raw/<evaluation>/frameworks/<name>.yaml``; the file's stem is its name.
It declares its own dimensions (一级指标) with codes and weights, the 二级 groups under them and
the 三级 leaves that are scored. The format is documented in
``raw/2023-hohhot-pes/frameworks/README.md``.

Numbers are read as :class:`~decimal.Decimal` straight from the YAML text (never through a
binary float), so ``4.5`` in the file is exactly 4.5.
"""

from __future__ import annotations

import dataclasses
import re
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterable, Mapping, Optional

from pipeline import yamlio

METHODS = ("proportional", "banded", "reverse", "deduction", "qualitative")
METHODS_NEEDING_TARGET = ("proportional", "banded", "reverse", "deduction")
SOURCES = ("bureau", "county_sum", "county_mean", "reconciliation", "survey", "grade")
COMPARATORS = (">=", "<=", "=")
# What a leaf's value is: a count of people or things (shown as whole numbers where derived), a percentage,
# an amount of money, or a graded (qualitative) judgement. Inferred from the unit when not declared.
KINDS = ("count", "percent", "amount", "grade")
FORMS = ("third_party", "self_evaluation")

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
    key: Optional[str] = None
    satisfied: Optional[tuple[str, ...]] = None


@dataclasses.dataclass(frozen=True)
class Leaf:
    """A 三级 indicator: what is measured, against what, scored how, from which source."""

    code: str
    name: str
    dimension: str
    level2: str
    points: Decimal
    unit: str
    decimals: Optional[int]  # places shown for target and actual; None: exact
    kind: str  # one of KINDS
    target: Optional[Decimal]
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
    path: Optional[Path] = None
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


def parse_framework(doc: Any, name: str, path: Optional[Path] = None) -> Framework:
    """Build a :class:`Framework` from an already-parsed document (numbers as Decimal or int)."""
    where = str(path or name)
    if not isinstance(doc, dict) or not doc.get("dimensions"):
        raise FrameworkError(f"{where}: 指标体系缺少 dimensions / the framework declares no dimensions")
    if not _CODE.match(name):
        raise FrameworkError(f"{where}: 指标体系名称 '{name}' 只能含字母、数字、- 和 _ / bad framework name")
    shares = _grade_shares(doc.get("grade_shares"), where, "grade_shares")
    form = str(doc.get("form", "third_party"))
    if form not in FORMS:
        raise FrameworkError(f"{where}: form 应为 {' 或 '.join(FORMS)} / unknown form '{form}'")
    bands = _grade_bands(doc.get("grade_bands"), where)

    dimensions: list[Dimension] = []
    leaves: list[Leaf] = []
    for d in doc["dimensions"]:
        dim = Dimension(
            code=_code(d.get("code"), where, "dimension"),
            name=str(d.get("name", "")),
            weight=_number(d.get("weight"), where, f"一级指标 {d.get('code')} 的 weight"),
            performance=bool(d.get("performance", False)),
        )
        dimensions.append(dim)
        dim_leaves = [
            _leaf(raw, dim, str(group.get("name", "")), shares, where)
            for group in d.get("groups") or []
            for raw in group.get("indicators") or []
        ]
        if not dim_leaves:
            raise FrameworkError(f"{where}: 一级指标 {dim.code}（{dim.name}）下没有三级指标 / dimension has no indicators")
        points = sum((leaf.points for leaf in dim_leaves), Decimal(0))
        if points != dim.weight:
            listed = "、".join(f"{leaf.code}（{leaf.name}）{leaf.points}" for leaf in dim_leaves)
            raise FrameworkError(
                f"{where}: 一级指标 {dim.code}（{dim.name}）权重 {dim.weight}，但其三级指标分值合计 {points}："
                f"{listed} / points do not add up to the dimension's weight"
            )
        leaves.extend(dim_leaves)

    total = sum((dim.weight for dim in dimensions), Decimal(0))
    if total != 100:
        listed = "、".join(f"{dim.code}（{dim.name}）{dim.weight}" for dim in dimensions)
        raise FrameworkError(f"{where}: 一级指标权重合计 {total}，应为 100：{listed} / weights must add up to 100")
    for kind, codes in (("一级指标", [d.code for d in dimensions]), ("三级指标", [leaf.code for leaf in leaves])):
        dup = sorted({c for c in codes if codes.count(c) > 1})
        if dup:
            raise FrameworkError(f"{where}: {kind}编码重复：{', '.join(dup)} / duplicate codes")
    return Framework(
        name=name,
        title=str(doc.get("title", name)),
        dimensions=tuple(dimensions),
        leaves=tuple(leaves),
        grade_bands=bands,
        grade_shares=shares,
        path=path,
        form=form,
    )


def _leaf(raw: Mapping[str, Any], dim: Dimension, level2: str, shares: Mapping[str, Decimal], where: str) -> Leaf:
    code = _code(raw.get("code"), where, "indicator")
    name = str(raw.get("name", ""))
    label = f"{where}: 指标 {code}（{name}）"
    method = raw.get("method")
    if method not in METHODS:
        raise FrameworkError(f"{label}: 未知的计分方法 '{method}'，可用 {', '.join(METHODS)} / unknown method")
    source = _source(raw.get("source"), label)
    target = raw.get("target")
    if target is None and method in METHODS_NEEDING_TARGET:
        raise FrameworkError(f"{label}: 计分方法 {method} 需要目标值 target / target missing")
    comparator = str(raw.get("comparator", "<=" if method == "reverse" else ">="))
    if comparator not in COMPARATORS:
        raise FrameworkError(f"{label}: 比较符 '{comparator}' 应为 >=、<= 或 = / unknown comparator")
    if (method == "reverse") != (comparator == "<="):
        raise FrameworkError(f"{label}: 逆向指标（reverse）须用 <=，其他方法不得用 <= / comparator does not fit method")
    if (method == "qualitative") != (source.type == "grade"):
        raise FrameworkError(f"{label}: 定性指标（qualitative）须以评价机构评分（grade）为来源，反之亦然 / method and source do not fit")
    unit = str(raw.get("unit", ""))
    kind = str(raw.get("kind") or ("grade" if method == "qualitative" else "percent" if unit == "%"
                                   else "amount" if "元" in unit else "count"))
    if kind not in KINDS:
        raise FrameworkError(f"{label}: 指标类型 kind '{kind}' 应为 {'、'.join(KINDS)} / unknown kind")
    decimals = raw.get("decimals", 2 if unit == "%" else None)
    if decimals is not None and (isinstance(decimals, bool) or not isinstance(decimals, int) or decimals < 0):
        raise FrameworkError(f"{label}: decimals 应为非负整数 / decimals must be a non-negative integer")
    params = dict(raw.get("params") or {})
    if method == "banded":
        params["bands"] = _bands(params.get("bands"), label)
    elif method == "deduction":
        for key in ("step", "deduct"):
            if not isinstance(params.get(key), (int, Decimal)) or params[key] <= 0:
                raise FrameworkError(f"{label}: 扣分法需要正数参数 {key} / deduction needs a positive '{key}'")
        params["partial"] = bool(params.get("partial", False))
    elif method == "qualitative":
        params["shares"] = _grade_shares(params.get("shares"), label, "params.shares") if params.get("shares") else shares
    return Leaf(
        code=code,
        name=name,
        dimension=dim.code,
        level2=level2,
        points=_number(raw.get("points"), where, f"指标 {code}（{name}）的 points"),
        unit=unit,
        decimals=decimals,
        kind=kind,
        target=None if target is None else _number(target, where, f"指标 {code}（{name}）的 target"),
        comparator=comparator,
        method=method,
        params=params,
        source=source,
    )


def _source(raw: Any, label: str) -> Source:
    if raw is None:
        raise FrameworkError(f"{label}: 没有数据来源 source / leaf has no source")
    spec = {"type": raw} if isinstance(raw, str) else dict(raw)
    if spec.get("type") not in SOURCES:
        raise FrameworkError(f"{label}: 未知的数据来源 '{spec.get('type')}'，可用 {', '.join(SOURCES)} / unknown source")
    if spec["type"] == "reconciliation" and not spec.get("key"):
        raise FrameworkError(f"{label}: 来自资金核对（reconciliation）的指标需要 key，如 arrival_rate / reconciliation source needs a key")
    satisfied = spec.get("satisfied")
    return Source(type=spec["type"], key=spec.get("key"), satisfied=tuple(satisfied) if satisfied else None)


def _bands(raw: Any, label: str) -> tuple[tuple[Decimal, Decimal], ...]:
    """Bands as (lower bound in % of completion, share of points), highest bound first."""
    if not raw:
        raise FrameworkError(f"{label}: 区间法（banded）需要 params.bands / banded needs bands")
    bands = tuple(sorted(((Decimal(b["min"]), Decimal(b["share"])) for b in raw), reverse=True))
    if any(not 0 <= share <= 1 for _, share in bands):
        raise FrameworkError(f"{label}: 区间得分比例须在 0 到 1 之间 / band shares must lie in [0, 1]")
    return bands


def _grade_shares(raw: Any, where: str, key: str) -> Mapping[str, Decimal]:
    if raw is None:
        return DEFAULT_GRADE_SHARES
    shares = {str(k): Decimal(v) for k, v in dict(raw).items()}
    if set(shares) != set(DEFAULT_GRADE_SHARES) or any(not 0 <= v <= 1 for v in shares.values()):
        raise FrameworkError(f"{where}: {key} 须为 好/较好/一般/差 各一个 0 到 1 之间的比例 / bad grade shares")
    return shares


def _grade_bands(raw: Any, where: str) -> tuple[tuple[Decimal, str], ...]:
    if raw is None:
        return DEFAULT_GRADE_BANDS
    bands = tuple(sorted(((Decimal(b["min"]), str(b["grade"])) for b in raw), reverse=True))
    if bands[-1][0] > 0:
        raise FrameworkError(f"{where}: grade_bands 最低一档须从 0 起 / the lowest grade band must start at 0")
    return bands


def _code(value: Any, where: str, what: str) -> str:
    code = "" if value is None else str(value)
    if not _CODE.match(code):
        raise FrameworkError(f"{where}: {what} 编码 '{code}' 只能含字母、数字、- 和 _（不得含点）/ bad code")
    return code


def _number(value: Any, where: str, what: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
        raise FrameworkError(f"{where}: {what} 应为数值，实为 '{value}' / not a number")
    return Decimal(value)
