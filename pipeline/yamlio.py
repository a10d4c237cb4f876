"""Strict YAML for configuration files (``evaluation.yaml``, frameworks): plain data or a clear error.

PyYAML's ``safe_load`` still lets the last of two equal keys win silently and expands aliases
without bound (an alias bomb). Configuration here is small, hand-written data, so the loader
refuses both, refuses every tag that is not plain data (``!!python/...``), and reads floats
as ``Decimal`` from their text so that no value passes through a binary float.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

MAX_CONFIG_BYTES = 16 * 1024 * 1024  # far above any real configuration (a national evaluation.yaml is ~100 KB)


class ConfigFileError(ValueError):
    """A configuration file is not plain, unambiguous YAML; the message names the file, line and fix."""


def _refusal(event: Any) -> yaml.MarkedYAMLError:
    """The error for an alias or an anchor: configuration is written out in full."""
    if isinstance(event, yaml.AliasEvent):
        problem = f"不允许使用 YAML 别名（*{event.anchor}）；请直接写出取值 / aliases are not allowed"
    else:
        problem = f"不允许使用 YAML 锚点（&{event.anchor}）；请直接写出取值 / anchors are not allowed"
    return yaml.MarkedYAMLError(None, None, problem, event.start_mark)


def _refused(event: Any) -> bool:
    return isinstance(event, yaml.AliasEvent) or bool(getattr(event, "anchor", None))


class _Strict:
    """What both loaders construct: no duplicate key."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen: dict[Any, Any] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)  # type: ignore[attr-defined]  # the loader's
            if key in seen:
                raise yaml.MarkedYAMLError(
                    None,
                    None,
                    f"键“{key}”重复出现（第 {seen[key].start_mark.line + 1} 行已有）；请删除其中一个 / "
                    f"duplicate key '{key}'",
                    key_node.start_mark,
                )
            seen[key] = key_node
        return super().construct_mapping(node, deep=deep)  # type: ignore[misc]  # SafeConstructor's, next in the MRO


def _decimal(loader: Any, node: yaml.ScalarNode) -> Decimal:
    return Decimal(loader.construct_scalar(node).replace("_", ""))


class StrictLoader(_Strict, yaml.SafeLoader):
    """SafeLoader without aliases or duplicate keys; floats as Decimal (pure Python)."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()
        if _refused(event):
            raise _refusal(event)
        return super().compose_node(parent, index)


StrictLoader.add_constructor("tag:yaml.org,2002:float", _decimal)

# libyaml's parser, when PyYAML was built with it: the same documents and errors about five times faster
# (a national evaluation.yaml of 104 KB: 0.36 s in Python, 0.07 s here, the scan included). Its composer
# is C, which resolves aliases itself, so aliases and anchors are refused by a scan of its events first.
_CLoader: type | None = None
if getattr(yaml, "__with_libyaml__", False):

    class _CStrictLoader(_Strict, yaml.CSafeLoader):
        pass

    _CStrictLoader.add_constructor("tag:yaml.org,2002:float", _decimal)
    _CLoader = _CStrictLoader


def _parse(text: str) -> Any:
    """The document's data: through libyaml when present, else :class:`StrictLoader`."""
    if _CLoader is None:
        return yaml.load(text, Loader=StrictLoader)
    for event in yaml.parse(text, Loader=yaml.CSafeLoader):
        if _refused(event):
            raise _refusal(event)
    return yaml.load(text, Loader=_CLoader)


def load(path: Path, what: str) -> Any:
    """The file's data; any problem raises :class:`ConfigFileError` naming the file (``what`` says which file it is)."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_CONFIG_BYTES:
            raise ConfigFileError(f"{path}: {what}文件过大（{size} 字节，上限 {MAX_CONFIG_BYTES}）/ file too large")
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ConfigFileError(f"{path}: 缺少{what}文件 / file not found") from exc
    except UnicodeDecodeError as exc:
        raise ConfigFileError(f"{path}: {what}文件不是 UTF-8 编码；请另存为 UTF-8 / not UTF-8 ({exc.reason})") from exc
    except OSError as exc:
        raise ConfigFileError(f"{path}: 无法读取{what}文件 / cannot read: {exc.strerror}") from exc
    try:
        return _parse(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"第 {mark.line + 1} 行第 {mark.column + 1} 列：" if mark else ""
        problem = exc.problem or str(exc)
        if "could not determine a constructor" in problem:
            problem = f"不允许的 YAML 标签（{problem.split('tag ')[-1]}）；配置只能是普通数据 / tags are not allowed"
        raise ConfigFileError(f"{path}: {what}格式错误：{where}{problem}") from exc
    except yaml.YAMLError as exc:
        raise ConfigFileError(f"{path}: {what}格式错误 / invalid YAML: {exc}") from exc
