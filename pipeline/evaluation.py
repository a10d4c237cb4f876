"""Evaluation folders: discovery and the metadata file (``evaluation.yaml``) that defines one.

An evaluation is a direct child of the raw root holding ``evaluation.yaml``; the folder's name
is its id. Submissions sit in ``bureau/<department>/``, ``county/`` and ``evaluator/``; every
other file in the folder is configuration (metadata, frameworks, narrative, history, README).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import hashlib
from pathlib import Path
from typing import Any

import yaml

METADATA_FILE = "evaluation.yaml"
SUBMISSION_DIRS = ("bureau", "county", "evaluator")

DEFAULT_SETTINGS: dict[str, Any] = {
    "execution_denominator": "received",
    "transfer_match_window_days": 30,
    "arrival_rate_threshold": 60,
    "execution_rate_threshold": 60,
    "max_amount_wan": 20000,
    "satisfied_answers": ["满意", "比较满意"],
}


class EvaluationError(ValueError):
    """The evaluation's configuration is unusable; the message names the file and the fix."""


@dataclasses.dataclass(frozen=True)
class Evaluation:
    id: str
    folder: Path
    meta: dict[str, Any]

    @property
    def title(self) -> str:
        return self.meta["title"]

    @functools.cached_property
    def sources(self) -> dict[str, str]:
        """Funding source code → label, in the order the metadata lists them."""
        return {s["code"]: s["label"] for s in self.meta["sources"]}

    @functools.cached_property
    def counties(self) -> dict[str, str]:
        return {c["code"]: c["name"] for c in self.meta["counties"]}

    @property
    def city_code(self) -> str:
        return self.meta["city"]["code"]

    @property
    def city_name(self) -> str:
        return self.meta["city"]["name"]

    @property
    def county_source(self) -> str:
        return self.meta.get("county_source", "county")

    @property
    def departments(self) -> list[dict[str, Any]]:
        return self.meta.get("departments", [])

    @property
    def period_start(self) -> dt.date:
        return _date(self.meta["programme_period"]["start"])

    @property
    def cutoff(self) -> dt.date:
        return _date(self.meta["programme_period"]["cutoff"])

    @property
    def settings(self) -> dict[str, Any]:
        return {**DEFAULT_SETTINGS, **(self.meta.get("settings") or {})}

    @property
    def primary_framework(self) -> str:
        return self.meta.get("primary_framework", "third_party")

    def config_files(self) -> list[Path]:
        """Every configuration file of the evaluation (not submissions), sorted."""
        return sorted(
            p for p in self.folder.rglob("*")
            if p.is_file() and p.relative_to(self.folder).parts[0] not in SUBMISSION_DIRS
        )

    def config_hash(self) -> str:
        """SHA-256 over the configuration files' relative paths and contents."""
        h = hashlib.sha256()
        for p in self.config_files():
            h.update(p.relative_to(self.folder).as_posix().encode() + b"\0")
            h.update(hashlib.sha256(p.read_bytes()).digest())
        return h.hexdigest()

    def expected_submissions(self) -> list[tuple[str, str, str]]:
        """(submitter type, submitter code, kind) for every submission the metadata expects."""
        from pipeline.contract import COUNTY_KINDS

        out = [("bureau", d["code"], kind) for d in self.departments for kind in d["submits"]]
        out += [("county", c, k.name) for c in self.counties for k in COUNTY_KINDS]
        out += [("evaluator", "evaluator", kind) for kind in self.meta.get("evaluator_submits", [])]
        return out

    @functools.cached_property
    def submitter_names(self) -> dict[str, str]:
        names = {**self.counties, self.city_code: self.city_name, "evaluator": "评价机构"}
        names.update({d["code"]: d["name"] for d in self.departments})
        return names

    def submitter_name(self, code: str) -> str:
        return self.submitter_names.get(code, code)


def _date(value: Any) -> dt.date:
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


def load(folder: Path) -> Evaluation:
    path = folder / METADATA_FILE
    try:
        meta = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise EvaluationError(f"{path}: 无法读取评价元数据 / cannot read evaluation metadata: {exc}") from exc
    missing = [k for k in ("title", "programme_period", "sources", "counties", "city") if k not in (meta or {})]
    if missing:
        raise EvaluationError(f"{path}: 缺少字段 {', '.join(missing)} / missing keys")
    for code in [s["code"] for s in meta["sources"]] + [c["code"] for c in meta["counties"]]:
        if "." in str(code):
            raise EvaluationError(f"{path}: 编码 '{code}' 含有 '.'，编码不得含点 / codes must not contain dots")
    return Evaluation(id=folder.name, folder=folder, meta=meta)


def discover(raw_root: Path) -> list[Evaluation]:
    """Every evaluation under the raw root, sorted by id."""
    if not raw_root.is_dir():
        raise EvaluationError(f"{raw_root}: 原始数据目录不存在 / raw root does not exist")
    return [load(p) for p in sorted(raw_root.iterdir()) if (p / METADATA_FILE).is_file()]


def find(raw_root: Path, evaluation_id: str) -> Evaluation:
    folder = raw_root / evaluation_id
    if not (folder / METADATA_FILE).is_file():
        known = ", ".join(e.id for e in discover(raw_root)) or "none"
        raise EvaluationError(
            f"{folder}: 不是评价目录（缺少 {METADATA_FILE}）/ not an evaluation folder; known: {known}"
        )
    return load(folder)
